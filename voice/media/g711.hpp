// ITU-T G.711 mu-law (PCMU, RTP payload type 0) and A-law (PCMA, type 8) companding between
// 16-bit linear PCM and 8-bit codes. Pure functions, no state, no allocation.
//
// The encoders follow the classic Sun Microsystems g711.c (public domain), which is bit-exact
// with ITU-T G.191 for A-law. For mu-law it uses the magnitude of the 16-bit sample (bias
// 0x84, clip 32635); G.191 uses the one's complement of negative samples, so the two may
// differ by one code at a decision threshold for negative input (below G.711's 14-bit
// resolution). The decoders are exactly the G.711 tables: decode(encode(x)) is the G.711
// reconstruction value of x's quantisation interval.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace otpd::media {

std::uint8_t encode_ulaw(std::int16_t sample) noexcept;
std::int16_t decode_ulaw(std::uint8_t code) noexcept;
std::uint8_t encode_alaw(std::int16_t sample) noexcept;
std::int16_t decode_alaw(std::uint8_t code) noexcept;

// Span versions: convert min(in.size(), out.size()) samples and return that count (the caller
// sizes `out` like `in`; 160 samples = one 20 ms packet at 8 kHz).
std::size_t encode_ulaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept;
std::size_t decode_ulaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out) noexcept;
std::size_t encode_alaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept;
std::size_t decode_alaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out) noexcept;

// The code of digital silence: what a sender puts in a packet with nothing to say.
inline constexpr std::uint8_t ulaw_silence = 0xFF;
inline constexpr std::uint8_t alaw_silence = 0xD5;

}  // namespace otpd::media
