#include "daemon/voice/call_rate.hpp"

#include <algorithm>
#include <cmath>

namespace otpd::service {

call_rate::call_rate(double per_second)
    : rate_(per_second > 0 && std::isfinite(per_second) ? per_second : 1.0),
      burst_(std::max(1.0, rate_)),
      tokens_(burst_) {}

double call_rate::level_at(clock::time_point now) const noexcept {
  if (last_ == clock::time_point{} || now <= last_) return tokens_;
  const double refilled = std::chrono::duration<double>(now - last_).count() * rate_;
  return std::min(burst_, tokens_ + refilled);
}

call_rate::clock::duration call_rate::wait(clock::time_point now) const noexcept {
  const double level = level_at(now);
  if (level >= 1.0) return clock::duration::zero();
  // Rounded up, so that the token is there when the wait is over.
  return std::chrono::ceil<clock::duration>(std::chrono::duration<double>((1.0 - level) / rate_));
}

call_rate::clock::duration call_rate::take(clock::time_point now) noexcept {
  const clock::duration w = wait(now);
  tokens_ = level_at(now) - 1.0;
  if (now > last_) last_ = now;
  return w;
}

}  // namespace otpd::service
