#include "smpp/net/flow_control.hpp"

#include <algorithm>
#include <cmath>

namespace otpd::smpp {
namespace {

std::int64_t epoch_of(time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() / 100;
}

// A burst of at most 100 ms worth of parts, and at least one.
double bucket_capacity(double rate) { return std::max(1.0, rate / 10.0); }

}  // namespace

flow_control::flow_control(const flow_control_config& cfg, time_point now)
    : cfg_(cfg), rate_(cfg.max_tps), tokens_(bucket_capacity(cfg.max_tps)), last_refill_(now) {}

time_point flow_control::next_send_time(time_point now) const noexcept {
  time_point t = std::max(now, paused_until_);
  if (rate_ <= 0) return t;
  const double elapsed = std::chrono::duration<double>(t - last_refill_).count();
  const double tokens = std::min(bucket_capacity(rate_), tokens_ + elapsed * rate_);
  if (tokens >= 1.0 - 1e-9) return t;
  // Round up: a wake-up a hair early would find the token not yet there.
  return t + std::chrono::ceil<duration>(std::chrono::duration<double>((1.0 - tokens) / rate_));
}

void flow_control::on_sent(time_point now) {
  if (rate_ > 0) {
    const double elapsed = std::chrono::duration<double>(now - last_refill_).count();
    tokens_ = std::max(
        0.0, std::min(bucket_capacity(rate_), tokens_ + std::max(0.0, elapsed) * rate_) - 1.0);
  }
  last_refill_ = now;
  const std::int64_t e = epoch_of(now);
  slot& s = slots_[static_cast<std::size_t>(e % static_cast<std::int64_t>(slots_.size()))];
  if (s.epoch != e) s = slot{e, 0};
  ++s.sends;
}

double flow_control::observed_rate(time_point now) const noexcept {
  const std::int64_t e = epoch_of(now);
  std::uint64_t sum = 0;
  for (const slot& s : slots_) {
    if (s.epoch > e - static_cast<std::int64_t>(slots_.size())) sum += s.sends;
  }
  return static_cast<double>(sum);  // sends over the last second
}

void flow_control::on_throttled(time_point now) {
  ++throttle_count_;
  // Refusals of parts that were already in flight when we reacted belong to the same event:
  // slow down once per pause, as TCP halves once per window.
  if (now < paused_until_) return;
  ++consecutive_throttles_;
  // Pause briefly, doubling on consecutive refusals (capped): the SMSC's queue drains in
  // milliseconds to seconds, so a fixed long parking only loses throughput.
  duration pause = cfg_.initial_pause;
  for (unsigned i = 1; i < consecutive_throttles_ && pause < cfg_.max_pause; ++i) pause *= 2;
  paused_until_ = now + std::min(pause, cfg_.max_pause);
  // Multiplicative decrease of the rate; an unlimited bind starts from what it really sent.
  const double base = rate_ > 0 ? rate_ : observed_rate(now);
  rate_ = std::max(cfg_.min_tps, base / 2.0);
  tokens_ = 0;
  last_refill_ = now;
  last_increase_ = paused_until_;  // recovery starts when sending may resume
}

void flow_control::on_accepted(time_point now) {
  consecutive_throttles_ = 0;
  if (rate_ <= 0) return;
  const double elapsed = std::chrono::duration<double>(now - last_increase_).count();
  const double period = std::chrono::duration<double>(cfg_.recovery_doubling).count();
  if (elapsed <= 0 || period <= 0) return;
  rate_ *= std::exp2(std::min(elapsed / period, 16.0));
  last_increase_ = now;
  if (cfg_.max_tps > 0) {
    rate_ = std::min(rate_, cfg_.max_tps);
  } else if (rate_ > 2.0 * std::max(1.0, observed_rate(now)) && rate_ > 2.0 * cfg_.min_tps) {
    rate_ = 0;  // the limit no longer binds: back to unlimited
  }
}

}  // namespace otpd::smpp
