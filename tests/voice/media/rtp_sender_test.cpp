#include "voice/media/rtp_sender.hpp"

#include <array>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace otpd::media {
namespace {

rtp_sender_config config_with(rtp_start start, std::uint8_t pt = 0) {
  rtp_sender_config c;
  c.payload_type = pt;
  c.start = start;
  return c;
}

rtp_packet parse_ok(std::span<const std::uint8_t> b) {
  rtp_packet p;
  EXPECT_FALSE(parse(b, p));
  return p;
}

TEST(rtp_sender, first_packet_is_marked_and_carries_the_start_values) {
  rtp_sender s(config_with({0x11223344, 1000, 5000}, 8));
  EXPECT_EQ(s.samples_per_packet(), 160u);
  const std::array<std::uint8_t, 160> payload{};
  const auto b = s.packet(payload);
  ASSERT_EQ(b.size(), 12u + 160u);
  const rtp_packet p = parse_ok(b);
  EXPECT_TRUE(p.header.marker);
  EXPECT_EQ(p.header.payload_type, 8);
  EXPECT_EQ(p.header.sequence, 1000);
  EXPECT_EQ(p.header.timestamp, 5000u);
  EXPECT_EQ(p.header.ssrc, 0x11223344u);
  EXPECT_EQ(p.payload.size(), 160u);

  const rtp_packet q = parse_ok(s.packet(payload));
  EXPECT_FALSE(q.header.marker);
  EXPECT_EQ(q.header.sequence, 1001);
  EXPECT_EQ(q.header.timestamp, 5160u);
  EXPECT_EQ(s.packets_sent(), 2u);
  EXPECT_EQ(s.octets_sent(), 320u);
}

TEST(rtp_sender, sequence_and_timestamp_wrap) {
  rtp_sender s(config_with({7, 0xFFFF, 0xFFFFFFFFu - 159}));
  const std::array<std::uint8_t, 160> payload{};
  rtp_packet p = parse_ok(s.packet(payload));
  EXPECT_EQ(p.header.sequence, 0xFFFF);
  EXPECT_EQ(p.header.timestamp, 0xFFFFFF60u);
  p = parse_ok(s.packet(payload));
  EXPECT_EQ(p.header.sequence, 0);
  EXPECT_EQ(p.header.timestamp, 0u);
  EXPECT_FALSE(p.header.marker);  // a wrap is not a new talkspurt
}

TEST(rtp_sender, ten_minutes_of_packets_follow_the_sample_clock) {
  const rtp_start start{1, 60000, 0xFFF00000u};
  rtp_sender s(config_with(start));
  const std::array<std::uint8_t, 160> payload{};
  for (std::uint32_t n = 0; n < 30000; ++n) {
    const rtp_packet p = parse_ok(s.packet(payload));
    ASSERT_EQ(p.header.sequence, static_cast<std::uint16_t>(start.sequence + n));
    ASSERT_EQ(p.header.timestamp, static_cast<std::uint32_t>(start.timestamp + n * 160u));
    ASSERT_EQ(p.header.marker, n == 0);
  }
}

TEST(rtp_sender, mark_next_and_skip) {
  rtp_sender s(config_with({1, 10, 100}));
  const std::array<std::uint8_t, 4> payload{};
  (void)s.packet(payload);
  (void)s.packet(payload);
  s.mark_next();
  rtp_packet p = parse_ok(s.packet(payload));
  EXPECT_TRUE(p.header.marker);
  EXPECT_EQ(p.header.sequence, 12);
  EXPECT_FALSE(parse_ok(s.packet(payload)).header.marker);
  // Three intervals not sent: timestamp moves by 3 * 160, the sequence does not.
  s.skip(3);
  p = parse_ok(s.packet(payload));
  EXPECT_TRUE(p.header.marker);
  EXPECT_EQ(p.header.sequence, 14);
  EXPECT_EQ(p.header.timestamp, 100u + 4 * 160 + 3 * 160);
  s.skip(0);  // no-op
  EXPECT_FALSE(parse_ok(s.packet(payload)).header.marker);
}

TEST(rtp_sender, caller_buffer_too_small_leaves_state_unchanged) {
  rtp_sender s(config_with({1, 10, 100}));
  const std::array<std::uint8_t, 160> payload{};
  std::array<std::uint8_t, 171> small{};
  std::size_t written = 0;
  EXPECT_EQ(s.packet(payload, small, written), errc::buffer_too_small);
  EXPECT_EQ(s.next_sequence(), 10);
  EXPECT_EQ(s.next_timestamp(), 100u);
  std::array<std::uint8_t, 172> fits{};
  ASSERT_FALSE(s.packet(payload, fits, written));
  EXPECT_EQ(written, 172u);
  const rtp_packet p = parse_ok(std::span(fits).first(written));
  EXPECT_TRUE(p.header.marker);
  EXPECT_EQ(s.next_sequence(), 11);
}

TEST(rtp_sender, other_ptimes) {
  rtp_sender_config c = config_with({1, 2, 3});
  c.ptime = std::chrono::milliseconds(30);
  EXPECT_EQ(rtp_sender(c).samples_per_packet(), 240u);
  c.ptime = std::chrono::milliseconds(0);
  EXPECT_THROW(rtp_sender{c}, std::invalid_argument);
  EXPECT_THROW(rtp_sender(config_with({}, 128)), std::invalid_argument);
}

TEST(rtp_sender, random_start) {
  std::mt19937 a(123);
  std::mt19937 b(123);
  const rtp_start x = random_rtp_start(a);
  const rtp_start y = random_rtp_start(b);
  EXPECT_EQ(x.ssrc, y.ssrc);  // deterministic for a given generator
  EXPECT_EQ(x.sequence, y.sequence);
  EXPECT_EQ(x.timestamp, y.timestamp);
  // From the OS: eight draws are not all the same SSRC (probability 2^-224).
  const rtp_start first = random_rtp_start();
  bool differs = false;
  for (int i = 0; i < 8; ++i) differs = differs || random_rtp_start().ssrc != first.ssrc;
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace otpd::media
