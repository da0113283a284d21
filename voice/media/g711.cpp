#include "voice/media/g711.hpp"

#include <algorithm>
#include <array>
#include <bit>

namespace otpd::media {
namespace {

// G.711 Table 2 (mu-law): codes are stored inverted; segment in bits 4-6, step in bits 0-3.
constexpr std::int16_t ulaw_value(std::uint8_t code) {
  const unsigned u = static_cast<std::uint8_t>(~code);
  int t = (static_cast<int>(u & 0x0Fu) << 3) + 0x84;
  t <<= (u & 0x70u) >> 4;
  return static_cast<std::int16_t>((u & 0x80u) != 0 ? 0x84 - t : t - 0x84);
}

// G.711 Table 1 (A-law): even bits inverted (XOR 0x55); sign bit 1 means positive.
constexpr std::int16_t alaw_value(std::uint8_t code) {
  const unsigned a = code ^ 0x55u;
  int t = static_cast<int>(a & 0x0Fu) << 4;
  const unsigned seg = (a & 0x70u) >> 4;
  if (seg == 0) {
    t += 8;
  } else {
    t += 0x108;
    t <<= seg - 1;
  }
  return static_cast<std::int16_t>((a & 0x80u) != 0 ? t : -t);
}

template <std::int16_t (*F)(std::uint8_t)>
constexpr std::array<std::int16_t, 256> make_table() {
  std::array<std::int16_t, 256> t{};
  for (unsigned c = 0; c < 256; ++c) t[c] = F(static_cast<std::uint8_t>(c));
  return t;
}

constexpr auto ulaw_table = make_table<ulaw_value>();
constexpr auto alaw_table = make_table<alaw_value>();

}  // namespace

std::uint8_t encode_ulaw(std::int16_t sample) noexcept {
  int mag = sample;
  unsigned mask = 0xFF;
  if (mag < 0) {
    mag = -mag;
    mask = 0x7F;
  }
  mag = std::min(mag, 32635) + 0x84;  // 132..32767: bit 7..14 set, one per segment
  // The segment is the position of the leading one above bit 7 (Sun's seg_end search).
  const int seg = std::bit_width(static_cast<unsigned>(mag)) - 8;
  const unsigned u =
      static_cast<unsigned>(seg << 4) | ((static_cast<unsigned>(mag) >> (seg + 3)) & 0x0Fu);
  return static_cast<std::uint8_t>(u ^ mask);
}

std::int16_t decode_ulaw(std::uint8_t code) noexcept { return ulaw_table[code]; }

std::uint8_t encode_alaw(std::int16_t sample) noexcept {
  int p = sample >> 3;  // A-law works on 13 bits
  unsigned mask = 0xD5;
  if (p < 0) {
    p = -p - 1;  // one's complement magnitude, 0..4095
    mask = 0x55;
  }
  // Segments 0 and 1 share the step size; from 2 on each doubles it.
  const int seg = p < 32 ? 0 : std::bit_width(static_cast<unsigned>(p)) - 5;
  const unsigned step = (static_cast<unsigned>(p) >> (seg < 2 ? 1 : seg)) & 0x0Fu;
  return static_cast<std::uint8_t>((static_cast<unsigned>(seg << 4) | step) ^ mask);
}

std::int16_t decode_alaw(std::uint8_t code) noexcept { return alaw_table[code]; }

std::size_t encode_ulaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept {
  const std::size_t n = std::min(in.size(), out.size());
  for (std::size_t i = 0; i < n; ++i) out[i] = encode_ulaw(in[i]);
  return n;
}

std::size_t decode_ulaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out) noexcept {
  const std::size_t n = std::min(in.size(), out.size());
  for (std::size_t i = 0; i < n; ++i) out[i] = ulaw_table[in[i]];
  return n;
}

std::size_t encode_alaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept {
  const std::size_t n = std::min(in.size(), out.size());
  for (std::size_t i = 0; i < n; ++i) out[i] = encode_alaw(in[i]);
  return n;
}

std::size_t decode_alaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out) noexcept {
  const std::size_t n = std::min(in.size(), out.size());
  for (std::size_t i = 0; i < n; ++i) out[i] = alaw_table[in[i]];
  return n;
}

}  // namespace otpd::media
