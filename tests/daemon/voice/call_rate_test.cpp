#include "daemon/voice/call_rate.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace otpd::service {
namespace {

using namespace std::chrono_literals;
using clock_type = call_rate::clock;

const clock_type::time_point t0 = clock_type::time_point{} + 1000s;

TEST(call_rate, a_burst_beyond_the_bucket_waits_at_the_rate_in_order) {
  // 10 per second: a burst of 20 calls at once; the first 10 go at once, the next 10 each
  // 100 ms after the one before (none refused, none in the same slot).
  call_rate r(10);
  std::vector<clock_type::duration> waits;
  for (int i = 0; i < 20; ++i) waits.push_back(r.take(t0));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(waits[i], 0s) << i;
  for (int i = 10; i < 20; ++i) {
    const auto expected = std::chrono::duration_cast<clock_type::duration>((i - 9) * 100ms);
    EXPECT_GE(waits[i], expected) << i;
    EXPECT_LT(waits[i], expected + 1ms) << i;
  }
}

TEST(call_rate, wait_tells_without_taking) {
  call_rate r(2);  // a bucket of 2
  EXPECT_EQ(r.wait(t0), 0s);
  EXPECT_EQ(r.wait(t0), 0s);
  r.take(t0);
  r.take(t0);
  const auto w = r.wait(t0);
  EXPECT_GE(w, 500ms);
  EXPECT_LT(w, 501ms);
  EXPECT_EQ(r.wait(t0), w);  // asking again changes nothing
  // Half a second later the token is there.
  EXPECT_EQ(r.wait(t0 + 500ms), 0s);
  EXPECT_EQ(r.take(t0 + 500ms), 0s);
  EXPECT_GT(r.wait(t0 + 500ms), 0s);
}

TEST(call_rate, tokens_refill_up_to_one_second_worth) {
  call_rate r(5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.take(t0), 0s);
  EXPECT_GT(r.take(t0), 0s);  // owes one
  // An hour later the bucket is full again, and holds no more than 5.
  const auto later = t0 + 3600s;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.take(later), 0s) << i;
  EXPECT_GT(r.wait(later), 0s);
}

TEST(call_rate, slow_trunks_hold_one_call) {
  call_rate r(0.5);  // one call every 2 s, a bucket of one
  EXPECT_EQ(r.take(t0), 0s);
  const auto w = r.take(t0);
  EXPECT_GE(w, 2s);
  EXPECT_LT(w, 2001ms);
}

TEST(call_rate, nonsense_rates_do_not_divide_by_zero) {
  for (const double bad : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN()}) {
    call_rate r(bad);
    EXPECT_EQ(r.take(t0), 0s);
    EXPECT_GT(r.take(t0), 0s);
    EXPECT_LE(r.wait(t0), 2s);
  }
}

}  // namespace
}  // namespace otpd::service
