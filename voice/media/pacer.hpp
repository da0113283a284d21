// The send schedule of an RTP stream on a monotonic timeline (DESIGN §6: 20 ms packets, no
// drift). Sans-I/O: the caller reads the clock, passes `now`, and sleeps until `wake_at`.
//
// Packet n is due at t0 + n * interval, computed from the start every time, so rounding or
// late wake-ups never accumulate: after 10 minutes packet 30,000 is due exactly 600 s after t0.
//
// Being late. A wake-up that finds several packets due sends them back to back; more than
// late_threshold at once counts as late. Policy late_policy::send_late (the default) still
// sends every packet: a prompt reads a code aloud, and dropping audio would drop digits, while
// the receiver's jitter buffer absorbs a burst. late_policy::skip drops all but the newest
// due packet instead (for live audio); the caller then calls rtp_sender::skip(action.skip)
// so that RTP timestamps keep following the sample count either way.
#pragma once

#include <chrono>
#include <cstdint>

namespace otpd::media {

enum class late_policy {
  send_late,  // send every overdue packet, back to back
  skip,       // drop overdue packets but the newest; their timestamps are still consumed
};

struct pacer_config {
  std::chrono::nanoseconds interval = std::chrono::milliseconds(20);  // ptime
  std::uint32_t late_threshold = 3;  // more than this many packets due at once: late
  late_policy policy = late_policy::send_late;
  std::uint32_t max_burst = 0;  // cap on packets sent per poll(); 0: no cap
};

class pacer {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  struct action {
    std::uint64_t send = 0;   // packets to send now, back to back
    std::uint64_t skip = 0;   // packets to drop (late_policy::skip): rtp_sender::skip(skip)
    std::uint64_t first = 0;  // schedule index of the first packet sent or skipped
    bool late = false;        // more than late_threshold packets were due
    time_point wake_at;       // call poll() again at (or after) this time; may be <= now
  };

  // Throws std::invalid_argument for a non-positive interval (configuration error).
  explicit pacer(pacer_config config = {});

  // Packet 0 is due at t0.
  void start(time_point t0) noexcept;

  // The due time of packet n, from the start: never accumulates per-packet error.
  time_point due(std::uint64_t n) const noexcept {
    return t0_ + config_.interval * static_cast<std::int64_t>(n);
  }
  // The due time of the first packet not yet handed out by poll().
  time_point next_due() const noexcept { return due(next_); }
  // Packets handed out by poll() so far (sent or skipped).
  std::uint64_t next_index() const noexcept { return next_; }
  // Packets due at `now` that poll() has not handed out yet.
  std::uint64_t overdue(time_point now) const noexcept;

  // What to do at `now`. The packets returned are taken as handled.
  action poll(time_point now) noexcept;

  // Wake-ups that were late, and the packets skipped because of them.
  std::uint64_t late_wakeups() const noexcept { return late_wakeups_; }
  std::uint64_t skipped() const noexcept { return skipped_; }

  const pacer_config& config() const noexcept { return config_; }

 private:
  pacer_config config_;
  time_point t0_{};
  std::uint64_t next_ = 0;
  std::uint64_t late_wakeups_ = 0;
  std::uint64_t skipped_ = 0;
};

}  // namespace otpd::media
