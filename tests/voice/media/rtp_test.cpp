#include "voice/media/rtp.hpp"

#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace otpd::media {
namespace {

using bytes = std::vector<std::uint8_t>;

// V=2 P=0 X=0 CC=0 | M=1 PT=0 | seq 0x1234 | ts 0x000000A0 | SSRC 0xDEADBEEF | 3 payload bytes
const bytes golden_simple = {0x80, 0x80, 0x12, 0x34, 0x00, 0x00, 0x00, 0xA0,
                             0xDE, 0xAD, 0xBE, 0xEF, 0xFF, 0xFE, 0xFD};

// V=2 P=1 X=1 CC=2 | M=0 PT=8 | seq 0xFFFF | ts 0xFFFFFF60 | SSRC 1 | CSRC 2, 3 |
// extension profile 0xBEDE, 1 word | payload 2 bytes | 3 padding bytes
const bytes golden_full = {0xB2, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x60, 0x00, 0x00, 0x00,
                           0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0xBE, 0xDE,
                           0x00, 0x01, 0x10, 0x20, 0x30, 0x40, 0xAB, 0xCD, 0x00, 0x00, 0x03};

TEST(rtp, parses_fixed_header) {
  rtp_packet p;
  ASSERT_FALSE(parse(golden_simple, p));
  EXPECT_TRUE(p.header.marker);
  EXPECT_EQ(p.header.payload_type, 0);
  EXPECT_EQ(p.header.sequence, 0x1234);
  EXPECT_EQ(p.header.timestamp, 0xA0u);
  EXPECT_EQ(p.header.ssrc, 0xDEADBEEFu);
  EXPECT_EQ(p.header.csrc_count, 0);
  EXPECT_FALSE(p.header.extension);
  EXPECT_EQ(p.padding, 0);
  EXPECT_EQ(bytes(p.payload.begin(), p.payload.end()), (bytes{0xFF, 0xFE, 0xFD}));
}

TEST(rtp, parses_csrc_extension_and_padding) {
  rtp_packet p;
  ASSERT_FALSE(parse(golden_full, p));
  EXPECT_FALSE(p.header.marker);
  EXPECT_EQ(p.header.payload_type, 8);
  EXPECT_EQ(p.header.sequence, 0xFFFF);
  EXPECT_EQ(p.header.timestamp, 0xFFFFFF60u);
  EXPECT_EQ(p.header.ssrc, 1u);
  ASSERT_EQ(p.header.csrc_count, 2);
  EXPECT_EQ(p.header.csrc[0], 2u);
  EXPECT_EQ(p.header.csrc[1], 3u);
  EXPECT_TRUE(p.header.extension);
  EXPECT_EQ(p.header.extension_profile, 0xBEDE);
  EXPECT_EQ(bytes(p.extension.begin(), p.extension.end()), (bytes{0x10, 0x20, 0x30, 0x40}));
  EXPECT_EQ(bytes(p.payload.begin(), p.payload.end()), (bytes{0xAB, 0xCD}));
  EXPECT_EQ(p.padding, 3);
}

TEST(rtp, encode_reproduces_golden_bytes) {
  for (const bytes& golden : {golden_simple, golden_full}) {
    rtp_packet p;
    ASSERT_FALSE(parse(golden, p));
    EXPECT_EQ(encoded_size(p), golden.size());
    bytes out(golden.size());
    std::size_t written = 0;
    ASSERT_FALSE(encode(p, out, written));
    EXPECT_EQ(written, golden.size());
    EXPECT_EQ(out, golden);
  }
}

TEST(rtp, rejects_short_packets) {
  for (std::size_t n = 0; n < rtp_fixed_header_size; ++n) {
    rtp_packet p;
    EXPECT_EQ(parse(std::span(golden_simple).first(n), p), errc::truncated_header) << n;
  }
  rtp_packet p;
  EXPECT_FALSE(parse(std::span(golden_simple).first(12), p));  // header only: empty payload
  EXPECT_TRUE(p.payload.empty());
}

TEST(rtp, rejects_version_other_than_two) {
  for (std::uint8_t v : {0, 1, 3}) {
    bytes b = golden_simple;
    b[0] = static_cast<std::uint8_t>((b[0] & 0x3F) | (v << 6));
    rtp_packet p;
    EXPECT_EQ(parse(b, p), errc::bad_version);
  }
}

TEST(rtp, rejects_truncated_csrc_and_extension) {
  rtp_packet p;
  // CC=2 needs 8 bytes after the fixed header.
  EXPECT_EQ(parse(std::span(golden_full).first(19), p), errc::truncated_header);
  // Extension header cut, then extension data cut.
  EXPECT_EQ(parse(std::span(golden_full).first(22), p), errc::truncated_extension);
  EXPECT_EQ(parse(std::span(golden_full).first(27), p), errc::truncated_extension);
  // Extension length far past the end.
  bytes b = golden_full;
  b[22] = 0xFF;
  EXPECT_EQ(parse(b, p), errc::truncated_extension);
}

TEST(rtp, rejects_bad_padding) {
  rtp_packet p;
  bytes b = golden_full;
  b.back() = 0;  // a pad count of 0 cannot count itself
  EXPECT_EQ(parse(b, p), errc::bad_padding);
  b.back() = 6;  // 2 payload + 3 padding bytes follow the header: 6 is too many
  EXPECT_EQ(parse(b, p), errc::bad_padding);
  b.back() = 5;  // all of it is padding: allowed, empty payload
  ASSERT_FALSE(parse(b, p));
  EXPECT_TRUE(p.payload.empty());
  // P set on a header-only packet: the count byte would be inside the header.
  bytes h(golden_simple.begin(), golden_simple.begin() + 12);
  h[0] |= 0x20;
  EXPECT_EQ(parse(h, p), errc::bad_padding);
}

TEST(rtp, encode_errors_write_nothing) {
  rtp_packet p;
  ASSERT_FALSE(parse(golden_full, p));
  bytes out(golden_full.size() - 1, 0x77);
  std::size_t written = 99;
  EXPECT_EQ(encode(p, out, written), errc::buffer_too_small);
  EXPECT_EQ(written, 0u);
  EXPECT_EQ(out, bytes(golden_full.size() - 1, 0x77));

  out.resize(64);
  rtp_packet bad = p;
  bad.header.payload_type = 128;
  EXPECT_EQ(encode(bad, out, written), errc::invalid_field);
  bad = p;
  bad.header.csrc_count = 16;
  EXPECT_EQ(encode(bad, out, written), errc::invalid_field);
  bad = p;
  bad.extension = bad.extension.first(3);
  EXPECT_EQ(encode(bad, out, written), errc::invalid_field);
  bad = p;
  bad.header.extension = false;
  EXPECT_EQ(encode(bad, out, written), errc::invalid_field);
}

TEST(rtp, round_trips_random_headers) {
  std::mt19937 gen(42);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 2000; ++i) {
    rtp_packet p;
    p.header.marker = (byte(gen) & 1) != 0;
    p.header.payload_type = static_cast<std::uint8_t>(byte(gen) & 0x7F);
    p.header.sequence = static_cast<std::uint16_t>(gen());
    p.header.timestamp = static_cast<std::uint32_t>(gen());
    p.header.ssrc = static_cast<std::uint32_t>(gen());
    p.header.csrc_count = static_cast<std::uint8_t>(byte(gen) % 16);
    for (int c = 0; c < p.header.csrc_count; ++c) p.header.csrc[c] = gen();
    p.header.extension = (byte(gen) & 1) != 0;
    bytes ext(p.header.extension ? 4 * static_cast<std::size_t>(byte(gen) % 4) : 0);
    for (auto& e : ext) e = static_cast<std::uint8_t>(byte(gen));
    p.header.extension_profile = p.header.extension ? static_cast<std::uint16_t>(gen()) : 0;
    p.extension = ext;
    bytes payload(static_cast<std::size_t>(byte(gen)));
    for (auto& e : payload) e = static_cast<std::uint8_t>(byte(gen));
    p.payload = payload;
    p.padding = static_cast<std::uint8_t>(byte(gen) % 5);

    bytes out(encoded_size(p));
    std::size_t written = 0;
    ASSERT_FALSE(encode(p, out, written));
    rtp_packet q;
    ASSERT_FALSE(parse(out, q));
    EXPECT_EQ(q.header.marker, p.header.marker);
    EXPECT_EQ(q.header.payload_type, p.header.payload_type);
    EXPECT_EQ(q.header.sequence, p.header.sequence);
    EXPECT_EQ(q.header.timestamp, p.header.timestamp);
    EXPECT_EQ(q.header.ssrc, p.header.ssrc);
    EXPECT_EQ(q.header.csrc, p.header.csrc);
    EXPECT_EQ(q.header.csrc_count, p.header.csrc_count);
    EXPECT_EQ(q.header.extension, p.header.extension);
    EXPECT_EQ(q.header.extension_profile, p.header.extension_profile);
    EXPECT_EQ(bytes(q.extension.begin(), q.extension.end()), ext);
    EXPECT_EQ(bytes(q.payload.begin(), q.payload.end()), payload);
    EXPECT_EQ(q.padding, p.padding);
  }
}

TEST(rtp, every_prefix_and_random_garbage_is_handled) {
  for (std::size_t n = 0; n <= golden_full.size(); ++n) {
    rtp_packet p;
    const auto ec = parse(std::span(golden_full).first(n), p);
    if (!ec) {
      EXPECT_LE(p.payload.size() + p.padding, n);  // views stay inside the input
    }
  }
  std::mt19937 gen(7);
  for (int i = 0; i < 20000; ++i) {
    bytes b(gen() % 40);
    for (auto& e : b) e = static_cast<std::uint8_t>(gen());
    if (!b.empty()) b[0] = static_cast<std::uint8_t>(0x80 | (b[0] & 0x3F));
    rtp_packet p;
    if (!parse(b, p)) {
      ASSERT_GE(p.payload.data(), b.data());
      ASSERT_LE(p.payload.data() + p.payload.size(), b.data() + b.size());
    }
  }
}

TEST(rtp, serial_number_comparison) {
  EXPECT_TRUE(sequence_newer(1, 0));
  EXPECT_TRUE(sequence_newer(0, 0xFFFF));
  EXPECT_FALSE(sequence_newer(0xFFFF, 0));
  EXPECT_FALSE(sequence_newer(5, 5));
  EXPECT_TRUE(timestamp_newer(100, 0xFFFFFF00u));
  EXPECT_FALSE(timestamp_newer(0xFFFFFF00u, 100));
}

TEST(rtp, error_category_names_every_code) {
  const boost::system::error_code ec = errc::bad_padding;
  EXPECT_STREQ(ec.category().name(), "media");
  EXPECT_EQ(ec.message(), "RTP padding count invalid");
  for (int v = 1; v <= static_cast<int>(errc::packet_limit); ++v) {
    EXPECT_EQ(make_error_code(static_cast<errc>(v)).message().find("unknown"), std::string::npos);
  }
}

}  // namespace
}  // namespace otpd::media
