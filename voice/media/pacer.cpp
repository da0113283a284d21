#include "voice/media/pacer.hpp"

#include <algorithm>
#include <stdexcept>

namespace otpd::media {

pacer::pacer(pacer_config config) : config_(config) {
  if (config_.interval.count() <= 0) throw std::invalid_argument("pacer: interval must be > 0");
}

void pacer::start(time_point t0) noexcept {
  t0_ = t0;
  next_ = 0;
  late_wakeups_ = 0;
  skipped_ = 0;
}

std::uint64_t pacer::overdue(time_point now) const noexcept {
  if (now < next_due()) return 0;
  // Packets 0..k are due, k = floor((now - t0) / interval); now >= t0 here.
  const auto k = static_cast<std::uint64_t>((now - t0_) / config_.interval);
  return k + 1 - next_;
}

pacer::action pacer::poll(time_point now) noexcept {
  action a;
  a.first = next_;
  const std::uint64_t due_now = overdue(now);
  if (due_now > config_.late_threshold) {
    a.late = true;
    ++late_wakeups_;
  }
  if (a.late && config_.policy == late_policy::skip) {
    a.skip = due_now - 1;
    a.send = 1;
    skipped_ += a.skip;
  } else {
    a.send = due_now;
    if (config_.max_burst != 0) a.send = std::min<std::uint64_t>(a.send, config_.max_burst);
  }
  next_ += a.skip + a.send;
  a.wake_at = next_due();
  return a;
}

}  // namespace otpd::media
