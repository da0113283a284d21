#include "voice/media/g711.hpp"

#include <array>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace otpd::media {
namespace {

// Reference encoders written from the G.711 segment tables, the way the classic Sun g711.c
// does it (a linear search of segment end points), independently of the implementation.
int reference_ulaw(int pcm) {
  constexpr int seg_end[8] = {0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF};
  int mask = 0xFF;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7F;
  }
  if (pcm > 32635) pcm = 32635;  // clip
  pcm += 0x84;                   // bias
  int seg = 0;
  while (seg < 8 && pcm > seg_end[seg]) ++seg;
  if (seg >= 8) return 0x7F ^ mask;
  return ((seg << 4) | ((pcm >> (seg + 3)) & 0x0F)) ^ mask;
}

int reference_alaw(int pcm) {
  constexpr int seg_end[8] = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
  pcm >>= 3;
  int mask = 0xD5;
  if (pcm < 0) {
    pcm = -pcm - 1;
    mask = 0x55;
  }
  int seg = 0;
  while (seg < 8 && pcm > seg_end[seg]) ++seg;
  if (seg >= 8) return 0x7F ^ mask;
  const int step = seg < 2 ? (pcm >> 1) & 0x0F : (pcm >> seg) & 0x0F;
  return ((seg << 4) | step) ^ mask;
}

// Reconstruction values from the G.711 tables: mu-law Table 2 in 14-bit units
// ((2q + 33) * 2^seg - 33), A-law Table 1 in 13-bit units (2q + 1 in segment 0,
// (2q + 33) * 2^(seg-1) above), scaled to 16 bits.
int reference_ulaw_value(int code) {
  const int u = ~code & 0xFF;
  const int seg = (u >> 4) & 7;
  const int q = u & 0x0F;
  const int mag = (((2 * q + 33) << seg) - 33) * 4;
  return (u & 0x80) != 0 ? -mag : mag;
}

int reference_alaw_value(int code) {
  const int a = code ^ 0x55;
  const int seg = (a >> 4) & 7;
  const int q = a & 0x0F;
  const int mag = seg == 0 ? (2 * q + 1) * 8 : ((2 * q + 33) << (seg - 1)) * 8;
  return (a & 0x80) != 0 ? mag : -mag;
}

TEST(g711, ulaw_encode_matches_reference_for_all_inputs) {
  for (int x = -32768; x <= 32767; ++x) {
    ASSERT_EQ(encode_ulaw(static_cast<std::int16_t>(x)), reference_ulaw(x)) << "x=" << x;
  }
}

TEST(g711, alaw_encode_matches_reference_for_all_inputs) {
  for (int x = -32768; x <= 32767; ++x) {
    ASSERT_EQ(encode_alaw(static_cast<std::int16_t>(x)), reference_alaw(x)) << "x=" << x;
  }
}

TEST(g711, decode_matches_tables_for_all_codes) {
  for (int c = 0; c < 256; ++c) {
    EXPECT_EQ(decode_ulaw(static_cast<std::uint8_t>(c)), reference_ulaw_value(c)) << "c=" << c;
    EXPECT_EQ(decode_alaw(static_cast<std::uint8_t>(c)), reference_alaw_value(c)) << "c=" << c;
  }
}

TEST(g711, decode_golden_values) {
  // G.191 values.
  EXPECT_EQ(decode_ulaw(0x00), -32124);
  EXPECT_EQ(decode_ulaw(0x7F), 0);  // negative zero
  EXPECT_EQ(decode_ulaw(0xFF), 0);
  EXPECT_EQ(decode_ulaw(0x80), 32124);
  EXPECT_EQ(decode_ulaw(0x7E), -8);
  EXPECT_EQ(decode_ulaw(0xFE), 8);
  EXPECT_EQ(decode_ulaw(0x70), -120);
  EXPECT_EQ(decode_alaw(0xD5), 8);
  EXPECT_EQ(decode_alaw(0x55), -8);
  EXPECT_EQ(decode_alaw(0xAA), 32256);  // 0xAA ^ 0x55 = 0xFF: positive, segment 7, step 15
  EXPECT_EQ(decode_alaw(0x2A), -32256);
  EXPECT_EQ(decode_alaw(0x80), 5504);
  EXPECT_EQ(decode_alaw(0x00), -5504);
}

TEST(g711, encode_of_decode_is_identity_except_ulaw_negative_zero) {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    EXPECT_EQ(encode_alaw(decode_alaw(code)), code) << "c=" << c;
    if (c == 0x7F) {
      EXPECT_EQ(encode_ulaw(decode_ulaw(code)), 0xFF);
    } else {
      EXPECT_EQ(encode_ulaw(decode_ulaw(code)), code) << "c=" << c;
    }
  }
}

TEST(g711, quantisation_is_monotonic) {
  int prev_u = decode_ulaw(encode_ulaw(-32768));
  int prev_a = decode_alaw(encode_alaw(-32768));
  for (int x = -32767; x <= 32767; ++x) {
    const int u = decode_ulaw(encode_ulaw(static_cast<std::int16_t>(x)));
    const int a = decode_alaw(encode_alaw(static_cast<std::int16_t>(x)));
    ASSERT_GE(u, prev_u) << "x=" << x;
    ASSERT_GE(a, prev_a) << "x=" << x;
    prev_u = u;
    prev_a = a;
  }
}

TEST(g711, extremes) {
  EXPECT_EQ(encode_ulaw(32767), 0x80);
  EXPECT_EQ(encode_ulaw(-32768), 0x00);
  EXPECT_EQ(encode_ulaw(0), ulaw_silence);
  EXPECT_EQ(encode_alaw(32767), 0xAA);
  EXPECT_EQ(encode_alaw(-32768), 0x2A);
  EXPECT_EQ(encode_alaw(0), alaw_silence);
}

TEST(g711, span_versions_match_scalar_and_clamp_to_shorter) {
  std::vector<std::int16_t> pcm(160);
  for (std::size_t i = 0; i < pcm.size(); ++i) {
    pcm[i] = static_cast<std::int16_t>(static_cast<int>(i) * 409 - 32768);
  }
  std::array<std::uint8_t, 160> u{};
  std::array<std::uint8_t, 160> a{};
  ASSERT_EQ(encode_ulaw(pcm, u), 160u);
  ASSERT_EQ(encode_alaw(pcm, a), 160u);
  std::array<std::int16_t, 160> du{};
  std::array<std::int16_t, 160> da{};
  ASSERT_EQ(decode_ulaw(u, du), 160u);
  ASSERT_EQ(decode_alaw(a, da), 160u);
  for (std::size_t i = 0; i < pcm.size(); ++i) {
    EXPECT_EQ(u[i], encode_ulaw(pcm[i]));
    EXPECT_EQ(a[i], encode_alaw(pcm[i]));
    EXPECT_EQ(du[i], decode_ulaw(u[i]));
    EXPECT_EQ(da[i], decode_alaw(a[i]));
  }
  std::array<std::uint8_t, 10> small{};
  EXPECT_EQ(encode_ulaw(pcm, small), 10u);
  EXPECT_EQ(decode_alaw(std::span<const std::uint8_t>(a).first(5), da), 5u);
}

}  // namespace
}  // namespace otpd::media
