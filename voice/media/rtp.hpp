// RTP packets (RFC 3550 §5.1): the fixed header, CSRC list, header extension and padding.
// Pure functions: no I/O, never throw, never read past the input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <boost/system/error_code.hpp>

#include "voice/media/error.hpp"

namespace otpd::media {

inline constexpr std::size_t rtp_fixed_header_size = 12;
inline constexpr std::uint8_t rtp_version = 2;

struct rtp_header {
  bool marker = false;            // M
  std::uint8_t payload_type = 0;  // PT, 0..127
  std::uint16_t sequence = 0;     // wraps at 65536
  std::uint32_t timestamp = 0;    // sampling instant, in clock-rate units; wraps at 2^32
  std::uint32_t ssrc = 0;         // synchronisation source
  std::uint8_t csrc_count = 0;    // CC, 0..15
  std::array<std::uint32_t, 15> csrc{};
  bool extension = false;               // X: a header extension follows the CSRC list
  std::uint16_t extension_profile = 0;  // "defined by profile" (RFC 3550 §5.3.1)
};

// A parsed packet. The spans point into the buffer given to parse().
struct rtp_packet {
  rtp_header header;
  std::span<const std::uint8_t> extension;  // extension data (multiple of 4 bytes), X set
  std::span<const std::uint8_t> payload;    // without padding
  std::uint8_t padding = 0;                 // pad bytes, including the count byte; P set if > 0
};

// Parses one RTP packet (a whole UDP datagram). Errors: truncated_header, bad_version,
// truncated_extension, bad_padding (RFC 3550 §5.1: the last octet counts the padding and
// itself, so 0 or more than what follows the header is invalid).
boost::system::error_code parse(std::span<const std::uint8_t> bytes, rtp_packet& out) noexcept;

// The size encode() writes for `p`.
std::size_t encoded_size(const rtp_packet& p) noexcept;

// Writes the packet into `out` and sets `written`. P is set when p.padding > 0 (the pad bytes
// are zeros, the last one the count); X when p.header.extension. Errors, with nothing
// written: invalid_field (PT > 127, CC > 15, extension not a multiple of 4 bytes or above
// 65535 words, extension data without X), buffer_too_small.
boost::system::error_code encode(const rtp_packet& p, std::span<std::uint8_t> out,
                                 std::size_t& written) noexcept;

// RFC 3550 Appendix A.1: sequence numbers compare modulo 2^16. True if `a` comes after `b`.
constexpr bool sequence_newer(std::uint16_t a, std::uint16_t b) noexcept {
  return a != b && static_cast<std::uint16_t>(a - b) < 0x8000;
}
// Timestamps compare modulo 2^32 the same way.
constexpr bool timestamp_newer(std::uint32_t a, std::uint32_t b) noexcept {
  return a != b && static_cast<std::uint32_t>(a - b) < 0x80000000u;
}

}  // namespace otpd::media
