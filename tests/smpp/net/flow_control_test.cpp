#include "smpp/net/flow_control.hpp"

#include <gtest/gtest.h>

namespace otpd::smpp {
namespace {

using namespace std::chrono_literals;

// Sends as fast as the limiter allows from `t` for `span`; returns how many parts went out.
int send_for(flow_control& f, time_point& t, duration span, bool accept = true) {
  const time_point end = t + span;
  int sent = 0;
  while (true) {
    const time_point next = f.next_send_time(t);
    if (next >= end) break;
    t = next;
    f.on_sent(t);
    if (accept) f.on_accepted(t);
    ++sent;
  }
  t = end;
  return sent;
}

TEST(flow_control, a_configured_tps_counts_every_part) {
  flow_control_config cfg;
  cfg.max_tps = 50;
  time_point t = time_point{} + 100s;
  flow_control f(cfg, t);
  const int sent = send_for(f, t, 10s);
  // 50 per second for 10 s, plus at most the initial burst (100 ms worth).
  EXPECT_GE(sent, 495);
  EXPECT_LE(sent, 506);
}

TEST(flow_control, unlimited_by_default) {
  flow_control f(flow_control_config{}, time_point{});
  const time_point t = time_point{} + 5s;
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(f.next_send_time(t), t);
    f.on_sent(t);
  }
  EXPECT_EQ(f.current_tps(), 0);
}

TEST(flow_control, throttling_halves_the_rate_pauses_briefly_and_recovers) {
  flow_control_config cfg;
  cfg.max_tps = 200;
  time_point t = time_point{} + 100s;
  flow_control f(cfg, t);
  send_for(f, t, 1s);
  f.on_throttled(t);
  EXPECT_TRUE(f.throttled());
  EXPECT_DOUBLE_EQ(f.current_tps(), 100);
  const time_point resume = f.next_send_time(t);
  EXPECT_GE(resume, t + 100ms);  // the initial pause
  EXPECT_LT(resume, t + 1s);     // not a long parking
  // Refusals of parts already in flight during the pause count as the same event.
  f.on_throttled(t + 10ms);
  EXPECT_DOUBLE_EQ(f.current_tps(), 100);
  EXPECT_EQ(f.throttle_count(), 2u);
  // A refusal after the pause, with nothing accepted between: the pause doubles.
  t = resume;
  f.on_throttled(t);
  EXPECT_DOUBLE_EQ(f.current_tps(), 50);
  EXPECT_GE(f.next_send_time(t), t + 200ms);
  for (int i = 0; i < 20; ++i) {
    t = f.next_send_time(t);
    f.on_throttled(t);
  }
  EXPECT_LE(f.next_send_time(t), t + cfg.max_pause + 1s);  // capped
  EXPECT_GE(f.current_tps(), cfg.min_tps);
  // Accepted parts raise the rate back to the configured limit within seconds.
  t += 10s;
  send_for(f, t, 10s);
  EXPECT_FALSE(f.throttled());
  EXPECT_DOUBLE_EQ(f.current_tps(), 200);
}

TEST(flow_control, an_unlimited_bind_slows_to_half_of_what_it_sent_when_throttled) {
  flow_control f(flow_control_config{}, time_point{});
  time_point t = time_point{} + 100s;
  for (int i = 0; i < 1000; ++i) {
    f.on_sent(t);
    t += 1ms;
  }
  f.on_throttled(t);
  EXPECT_NEAR(f.current_tps(), 500, 60);
}

}  // namespace
}  // namespace otpd::smpp
