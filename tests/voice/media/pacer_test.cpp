#include "voice/media/pacer.hpp"

#include <random>
#include <stdexcept>

#include <gtest/gtest.h>

#include "voice/media/rtp_sender.hpp"

namespace otpd::media {
namespace {

using namespace std::chrono_literals;
using time_point = pacer::time_point;

// A fake monotonic clock: any origin will do, the pacer never reads a clock.
const time_point t0 = time_point{} + 123456s + 789ns;

TEST(pacer, ten_minutes_without_drift) {
  pacer p;
  p.start(t0);
  time_point now = t0;
  for (std::uint64_t n = 0; n < 30000; ++n) {
    const pacer::action a = p.poll(now);
    ASSERT_EQ(a.send, 1u);
    ASSERT_EQ(a.first, n);
    ASSERT_FALSE(a.late);
    ASSERT_EQ(a.wake_at, t0 + (n + 1) * 20ms);
    now = a.wake_at;
  }
  EXPECT_EQ(p.next_due() - t0, 600s);
  EXPECT_EQ(p.due(30000), t0 + 600s);
  EXPECT_EQ(p.late_wakeups(), 0u);
}

TEST(pacer, jittery_wakeups_do_not_accumulate) {
  // Every wake-up is 0-15 ms late (a busy machine): each packet still goes out once, and the
  // schedule stays anchored at t0.
  pacer p;
  p.start(t0);
  std::mt19937 gen(1);
  std::uniform_int_distribution<int> late_us(0, 15000);
  time_point now = t0;
  std::uint64_t sent = 0;
  while (sent < 30000) {
    const pacer::action a = p.poll(now);
    ASSERT_EQ(a.first, sent);
    ASSERT_LE(a.send, 1u);
    ASSERT_FALSE(a.late);
    sent += a.send;
    ASSERT_EQ(a.wake_at, t0 + sent * 20ms);
    now = std::max(now, a.wake_at) + std::chrono::microseconds(late_us(gen));
  }
  EXPECT_EQ(p.next_due(), t0 + 600s);
}

TEST(pacer, nothing_due_before_the_schedule) {
  pacer p;
  p.start(t0);
  EXPECT_EQ(p.overdue(t0 - 1ns), 0u);
  pacer::action a = p.poll(t0 - 5ms);
  EXPECT_EQ(a.send, 0u);
  EXPECT_EQ(a.wake_at, t0);
  a = p.poll(t0);
  EXPECT_EQ(a.send, 1u);
  a = p.poll(t0 + 19ms);  // packet 1 is due at 20 ms
  EXPECT_EQ(a.send, 0u);
  EXPECT_EQ(a.wake_at, t0 + 20ms);
  EXPECT_EQ(p.overdue(t0 + 20ms - 1ns), 0u);
  EXPECT_EQ(p.overdue(t0 + 20ms), 1u);
}

TEST(pacer, small_delay_is_caught_up_back_to_back) {
  pacer p;  // late_threshold 3
  p.start(t0);
  (void)p.poll(t0);
  const pacer::action a = p.poll(t0 + 61ms);  // packets 1, 2, 3 due
  EXPECT_EQ(a.send, 3u);
  EXPECT_EQ(a.first, 1u);
  EXPECT_FALSE(a.late);
  EXPECT_EQ(a.wake_at, t0 + 80ms);
}

TEST(pacer, late_wakeup_sends_everything_late_by_default) {
  pacer p;
  p.start(t0);
  (void)p.poll(t0);
  EXPECT_EQ(p.overdue(t0 + 101ms), 5u);  // packets 1..5
  const pacer::action a = p.poll(t0 + 101ms);
  EXPECT_TRUE(a.late);
  EXPECT_EQ(a.send, 5u);
  EXPECT_EQ(a.skip, 0u);
  EXPECT_EQ(a.wake_at, t0 + 120ms);  // back on the original schedule
  EXPECT_EQ(p.late_wakeups(), 1u);
  const pacer::action b = p.poll(t0 + 120ms);
  EXPECT_EQ(b.send, 1u);
  EXPECT_EQ(b.first, 6u);
  EXPECT_FALSE(b.late);
}

TEST(pacer, skip_policy_drops_stale_audio_but_keeps_timestamps) {
  pacer_config c;
  c.policy = late_policy::skip;
  pacer p(c);
  rtp_sender_config sc;
  sc.start = {9, 100, 1000};
  rtp_sender s(sc);
  const std::array<std::uint8_t, 160> payload{};

  p.start(t0);
  pacer::action a = p.poll(t0);
  ASSERT_EQ(a.send, 1u);
  (void)s.packet(payload);

  a = p.poll(t0 + 101ms);  // 5 due: skip 4, send the newest (index 5)
  EXPECT_TRUE(a.late);
  EXPECT_EQ(a.skip, 4u);
  EXPECT_EQ(a.send, 1u);
  EXPECT_EQ(a.first, 1u);
  EXPECT_EQ(p.skipped(), 4u);
  s.skip(static_cast<std::uint32_t>(a.skip));
  rtp_packet pkt;
  ASSERT_FALSE(parse(s.packet(payload), pkt));
  EXPECT_EQ(pkt.header.sequence, 101);               // sequence counts packets sent
  EXPECT_EQ(pkt.header.timestamp, 1000u + 5 * 160);  // timestamp counts samples
  EXPECT_TRUE(pkt.header.marker);
  EXPECT_EQ(a.wake_at, t0 + 120ms);

  // Within the threshold the skip policy still sends everything.
  a = p.poll(t0 + 160ms);  // packets 6, 7, 8
  EXPECT_FALSE(a.late);
  EXPECT_EQ(a.send, 3u);
  EXPECT_EQ(a.skip, 0u);
}

TEST(pacer, max_burst_spreads_a_long_stall) {
  pacer_config c;
  c.max_burst = 10;
  pacer p(c);
  p.start(t0);
  const time_point now = t0 + 1s;  // 51 packets due (0..50)
  std::uint64_t total = 0;
  int polls = 0;
  for (;;) {
    const pacer::action a = p.poll(now);
    if (a.send == 0) break;
    EXPECT_LE(a.send, 10u);
    total += a.send;
    ++polls;
  }
  EXPECT_EQ(total, 51u);
  EXPECT_EQ(polls, 6);
  EXPECT_EQ(p.next_due(), t0 + 1020ms);
}

TEST(pacer, restart_and_other_intervals) {
  pacer_config c;
  c.interval = 30ms;
  pacer p(c);
  p.start(t0);
  (void)p.poll(t0 + 95ms);  // packets 0..3
  EXPECT_EQ(p.next_index(), 4u);
  EXPECT_EQ(p.next_due(), t0 + 120ms);
  p.start(t0 + 1s);
  EXPECT_EQ(p.next_index(), 0u);
  EXPECT_EQ(p.next_due(), t0 + 1s);
  c.interval = 0ms;
  EXPECT_THROW(pacer{c}, std::invalid_argument);
}

}  // namespace
}  // namespace otpd::media
