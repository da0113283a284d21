// Send-rate control for one bind: a token bucket counting message parts (segments), with
// additive-increase / multiplicative-decrease on the SMSC's throttling replies. Pure: the
// caller passes the time in.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace otpd::smpp {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;
using duration = clock_type::duration;

struct flow_control_config {
  double max_tps = 0;  // parts per second the carrier allows; 0 = no configured limit
  double min_tps = 1;  // never slow below this after throttling
  // After ESME_RTHROTTLED / ESME_RMSGQFUL: pause, doubling on consecutive throttles.
  duration initial_pause = std::chrono::milliseconds(100);
  duration max_pause = std::chrono::seconds(5);
  // Recovery: while the SMSC accepts, the rate doubles every `recovery_doubling`, so that it
  // regains its level within seconds instead of after a fixed long parking.
  duration recovery_doubling = std::chrono::seconds(1);
  friend bool operator==(const flow_control_config&, const flow_control_config&) = default;
};

class flow_control {
 public:
  explicit flow_control(const flow_control_config& cfg, time_point now);

  // When the next part may be written (<= now: at once).
  time_point next_send_time(time_point now) const noexcept;
  // Consumes one token; call when a part is written.
  void on_sent(time_point now);
  // The SMSC accepted a part.
  void on_accepted(time_point now);
  // The SMSC asked us to slow down.
  void on_throttled(time_point now);

  // The current limit in parts per second; 0 when unlimited.
  double current_tps() const noexcept { return rate_; }
  bool throttled() const noexcept { return consecutive_throttles_ > 0; }
  std::size_t throttle_count() const noexcept { return throttle_count_; }

 private:
  double observed_rate(time_point now) const noexcept;

  flow_control_config cfg_;
  double rate_;  // 0 = unlimited
  double tokens_;
  time_point last_refill_;
  time_point paused_until_{};
  time_point last_increase_{};
  unsigned consecutive_throttles_ = 0;
  std::size_t throttle_count_ = 0;
  // Sends per 100 ms slot over the last second, to estimate the rate actually used.
  struct slot {
    std::int64_t epoch = -1;  // time in 100 ms units
    std::uint32_t sends = 0;
  };
  std::array<slot, 10> slots_{};
};

}  // namespace otpd::smpp
