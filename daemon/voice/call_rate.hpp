// A trunk's calls_per_second (docs/architecture.md §6) as a token bucket whose tokens can be taken
// ahead of time: a call that finds none takes the next one to come and waits for it, so that a
// burst of calls goes out at the trunk's rate, in the order asked, instead of failing. Pure: the
// time is passed in.
#pragma once

#include <chrono>

namespace otpd::service {

class call_rate {
 public:
  using clock = std::chrono::steady_clock;

  // `per_second` > 0; the bucket holds one second's worth, at least one call.
  explicit call_rate(double per_second);

  // How long a call asked for at `now` would wait for its token: zero when one is there.
  clock::duration wait(clock::time_point now) const noexcept;
  // Takes the next token and returns how long to wait for it (wait(now) before the call).
  // Tokens taken ahead are owed: each later call waits 1 / per_second longer.
  clock::duration take(clock::time_point now) noexcept;

 private:
  double level_at(clock::time_point now) const noexcept;

  double rate_;
  double burst_;
  double tokens_;  // may be negative: tokens taken ahead
  clock::time_point last_{};
};

}  // namespace otpd::service
