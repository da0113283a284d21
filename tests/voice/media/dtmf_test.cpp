#include "voice/media/dtmf.hpp"

#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace otpd::media {
namespace {

std::array<std::uint8_t, 4> payload(std::uint8_t event, bool end, std::uint16_t duration,
                                    std::uint8_t volume = 10) {
  std::array<std::uint8_t, 4> b{};
  EXPECT_FALSE(encode(telephone_event{event, end, volume, duration}, b));
  return b;
}

struct event_packet {
  std::uint32_t timestamp;
  bool marker;
  std::array<std::uint8_t, 4> payload;
};

// One key press the way RFC 4733 §2.5.1 sends it: the first packet with M set, updates every
// 50 ms (400 samples at 8 kHz) with a growing duration and the same timestamp, and the final
// packet sent three times with E set (§2.5.1.4).
std::vector<event_packet> key_press(std::uint8_t event, std::uint32_t ts, std::uint16_t duration) {
  std::vector<event_packet> v;
  for (std::uint16_t d = 400; d < duration; d += 400) {
    v.push_back({ts, d == 400, payload(event, false, d)});
  }
  for (int i = 0; i < 3; ++i)
    v.push_back({ts, v.empty() && i == 0, payload(event, true, duration)});
  return v;
}

std::string feed(dtmf_receiver& r, const std::vector<event_packet>& packets) {
  std::string digits;
  for (const event_packet& p : packets) {
    boost::system::error_code ec;
    if (auto d = r.on_packet(p.timestamp, p.marker, p.payload, ec)) digits += d->symbol;
    EXPECT_FALSE(ec);
  }
  return digits;
}

TEST(telephone_event, parses_the_payload) {
  // Event 1, E set, volume 10 (-10 dBm0), duration 1600 (200 ms at 8 kHz).
  const std::array<std::uint8_t, 4> b = {0x01, 0x8A, 0x06, 0x40};
  telephone_event e;
  ASSERT_FALSE(parse(b, e));
  EXPECT_EQ(e.event, 1);
  EXPECT_TRUE(e.end);
  EXPECT_EQ(e.volume, 10);
  EXPECT_EQ(e.duration, 1600);
  // R bit ignored, volume 6 bits.
  const std::array<std::uint8_t, 5> c = {0x0B, 0x7F, 0xFF, 0xFF, 0x00};
  ASSERT_FALSE(parse(c, e));
  EXPECT_EQ(e.event, 11);
  EXPECT_FALSE(e.end);
  EXPECT_EQ(e.volume, 63);
  EXPECT_EQ(e.duration, 0xFFFF);
  std::array<std::uint8_t, 4> out{};
  ASSERT_FALSE(encode(telephone_event{1, true, 10, 1600}, out));
  EXPECT_EQ(out, b);
}

TEST(telephone_event, errors) {
  telephone_event e;
  const std::array<std::uint8_t, 3> short_payload = {1, 2, 3};
  EXPECT_EQ(parse(short_payload, e), errc::truncated_event);
  EXPECT_EQ(parse({}, e), errc::truncated_event);
  std::array<std::uint8_t, 3> small{};
  EXPECT_EQ(encode(telephone_event{}, small), errc::buffer_too_small);
}

TEST(telephone_event, symbols) {
  EXPECT_EQ(dtmf_symbol(0), '0');
  EXPECT_EQ(dtmf_symbol(9), '9');
  EXPECT_EQ(dtmf_symbol(10), '*');
  EXPECT_EQ(dtmf_symbol(11), '#');
  EXPECT_EQ(dtmf_symbol(12), 'A');
  EXPECT_EQ(dtmf_symbol(15), 'D');
  EXPECT_EQ(dtmf_symbol(16), '\0');  // flash
}

TEST(dtmf_receiver, one_digit_per_key_press) {
  dtmf_receiver r;
  std::vector<event_packet> all;
  std::uint32_t ts = 0x12345678;
  for (std::uint8_t ev : {1, 9, 1, 1, 11, 12}) {
    const auto press = key_press(ev, ts, 1600);
    all.insert(all.end(), press.begin(), press.end());
    ts += 3200;  // 400 ms apart
  }
  EXPECT_EQ(feed(r, all), "1911#A");
  EXPECT_TRUE(r.ended());
  EXPECT_EQ(r.duration(), 1600);
}

TEST(dtmf_receiver, short_press_is_only_end_packets) {
  // A press shorter than one update interval: only the three end packets, first with M.
  dtmf_receiver r;
  EXPECT_EQ(feed(r, key_press(5, 800, 320)), "5");
  EXPECT_EQ(feed(r, key_press(5, 800, 320)), "");  // the same press again: duplicates
}

TEST(dtmf_receiver, lost_start_reordering_and_duplicates) {
  dtmf_receiver r;
  auto press = key_press(7, 1000, 2000);
  press.erase(press.begin());                 // the M packet is lost
  std::swap(press[0], press[1]);              // reordered updates
  press.insert(press.begin() + 2, press[2]);  // duplicated packet
  EXPECT_EQ(feed(r, press), "7");
  // All end packets of the next press lost, then a third press of the same digit.
  auto second = key_press(7, 5000, 1600);
  second.resize(3);  // 400, 800, 1200: no end
  EXPECT_EQ(feed(r, second), "7");
  EXPECT_FALSE(r.ended());
  EXPECT_EQ(feed(r, key_press(7, 9000, 1600)), "7");  // M set: a new press
}

TEST(dtmf_receiver, stale_packets_are_dropped) {
  dtmf_receiver r;
  EXPECT_EQ(feed(r, key_press(2, 10000, 800)), "2");
  EXPECT_EQ(feed(r, key_press(3, 14000, 800)), "3");
  EXPECT_EQ(feed(r, key_press(2, 10000, 800)), "");  // late copy of the first press
}

TEST(dtmf_receiver, long_event_segments_are_one_press) {
  // §2.5.1.3: an event longer than 0xFFFF units goes on with a new timestamp, M not set.
  dtmf_receiver r;
  std::vector<event_packet> v = {{1000, true, payload(0, false, 400)},
                                 {1000, false, payload(0, false, 0xFFFF)},
                                 {1000 + 0xFFFF, false, payload(0, false, 400)},
                                 {1000 + 0xFFFF, false, payload(0, true, 800)},
                                 {1000 + 0xFFFF, false, payload(0, true, 800)}};
  EXPECT_EQ(feed(r, v), "0");
  EXPECT_TRUE(r.ended());
}

TEST(dtmf_receiver, timestamp_wrap) {
  dtmf_receiver r;
  EXPECT_EQ(feed(r, key_press(4, 0xFFFFFF00u, 800)), "4");
  EXPECT_EQ(feed(r, key_press(6, 0x00000A00u, 800)), "6");  // after the wrap: newer
}

TEST(dtmf_receiver, truncated_payload_is_an_error_and_changes_nothing) {
  dtmf_receiver r;
  EXPECT_EQ(feed(r, key_press(8, 100, 800)), "8");
  boost::system::error_code ec;
  const std::array<std::uint8_t, 2> bad = {0x09, 0x80};
  EXPECT_FALSE(r.on_packet(500, true, bad, ec));
  EXPECT_EQ(ec, errc::truncated_event);
  EXPECT_EQ(feed(r, key_press(9, 500, 800)), "9");
  r.reset();
  EXPECT_EQ(feed(r, key_press(8, 100, 800)), "8");  // after reset the old press is new again
}

}  // namespace
}  // namespace otpd::media
