#include "voice/media/jitter_stats.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace otpd::media {
namespace {

using namespace std::chrono_literals;
using time_point = pacer::time_point;

const time_point t0 = time_point{} + 1000s;

TEST(jitter_stats, perfect_schedule_has_no_jitter) {
  std::vector<time_point> sends;
  for (int n = 0; n < 30000; ++n) sends.push_back(t0 + n * 20ms);
  const jitter_summary s = schedule_jitter(sends);
  EXPECT_EQ(s.count, 30000u);
  EXPECT_EQ(s.p50, 0ns);
  EXPECT_EQ(s.p99, 0ns);
  EXPECT_EQ(s.max, 0ns);
  EXPECT_EQ(s.mean, 0ns);
  EXPECT_EQ(s.early, 0ns);
}

TEST(jitter_stats, percentiles_of_known_deviations) {
  // 100 packets: packet n is n microseconds late, except packet 50 which is 5 ms late.
  std::vector<time_point> sends;
  for (int n = 0; n < 100; ++n) {
    sends.push_back(t0 + n * 20ms +
                    (n == 50 ? std::chrono::nanoseconds(5ms) : std::chrono::nanoseconds(n * 1us)));
  }
  const auto dev = schedule_deviation(sends, t0, 20ms);
  ASSERT_EQ(dev.size(), 100u);
  EXPECT_EQ(dev[3], 3us);
  EXPECT_EQ(dev[50], 5ms);
  const jitter_summary s = summarize(dev);
  // Sorted: 0..49, 51..99 us, then 5 ms. Nearest rank 50 -> 49 us; rank 99 -> 99 us.
  EXPECT_EQ(s.p50, 49us);
  EXPECT_EQ(s.p99, 99us);
  EXPECT_EQ(s.max, 5ms);
}

TEST(jitter_stats, early_sends_count_by_magnitude) {
  const std::vector<time_point> sends = {t0, t0 + 20ms - 300us, t0 + 40ms + 100us};
  const jitter_summary s = summarize(schedule_deviation(sends, t0, 20ms));
  EXPECT_EQ(s.early, -300us);
  EXPECT_EQ(s.max, 300us);
  EXPECT_EQ(s.p50, 100us);
  EXPECT_EQ(s.mean, std::chrono::nanoseconds(-66666));  // truncated toward zero
}

TEST(jitter_stats, interval_deviation) {
  const std::vector<time_point> sends = {t0, t0 + 25ms, t0 + 40ms, t0 + 60ms};
  const auto gaps = interval_deviation(sends, 20ms);
  ASSERT_EQ(gaps.size(), 3u);
  EXPECT_EQ(gaps[0], 5ms);
  EXPECT_EQ(gaps[1], -5ms);
  EXPECT_EQ(gaps[2], 0ms);
  EXPECT_TRUE(interval_deviation(std::span<const time_point>(sends).first(1), 20ms).empty());
}

TEST(jitter_stats, driven_by_the_pacer_with_late_wakeups) {
  // The pacer's due times replayed with a 2 ms late wake-up every 10th packet: deviations
  // never grow (no drift), max is the wake-up delay.
  pacer p;
  p.start(t0);
  std::vector<time_point> sends;
  time_point now = t0;
  while (sends.size() < 3000) {
    const pacer::action a = p.poll(now);
    for (std::uint64_t i = 0; i < a.send; ++i) sends.push_back(now);
    now = a.wake_at + (p.next_index() % 10 == 0 ? 2ms : 0ms);
  }
  const jitter_summary s = summarize(schedule_deviation(sends, t0, 20ms));
  EXPECT_EQ(s.max, 2ms);
  EXPECT_EQ(s.p50, 0ns);
  EXPECT_EQ(s.p99, 2ms);
}

TEST(jitter_stats, empty) {
  EXPECT_EQ(summarize({}).count, 0u);
  EXPECT_EQ(schedule_jitter({}).count, 0u);
}

}  // namespace
}  // namespace otpd::media
