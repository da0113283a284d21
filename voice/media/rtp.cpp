#include "voice/media/rtp.hpp"

#include <cstring>

namespace otpd::media {
namespace {

std::uint16_t get16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint32_t get32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

void put16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

void put32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

}  // namespace

boost::system::error_code parse(std::span<const std::uint8_t> bytes, rtp_packet& out) noexcept {
  out = rtp_packet{};
  if (bytes.size() < rtp_fixed_header_size) return errc::truncated_header;
  const std::uint8_t* p = bytes.data();
  // RFC 3550 §5.1: V(2) P(1) X(1) CC(4) | M(1) PT(7) | sequence | timestamp | SSRC
  if ((p[0] >> 6) != rtp_version) return errc::bad_version;
  const bool has_padding = (p[0] & 0x20) != 0;
  rtp_header& h = out.header;
  h.extension = (p[0] & 0x10) != 0;
  h.csrc_count = p[0] & 0x0F;
  h.marker = (p[1] & 0x80) != 0;
  h.payload_type = p[1] & 0x7F;
  h.sequence = get16(p + 2);
  h.timestamp = get32(p + 4);
  h.ssrc = get32(p + 8);

  std::size_t pos = rtp_fixed_header_size;
  if (bytes.size() - pos < std::size_t{h.csrc_count} * 4) return errc::truncated_header;
  for (std::size_t i = 0; i < h.csrc_count; ++i, pos += 4) h.csrc[i] = get32(p + pos);

  if (h.extension) {
    // RFC 3550 §5.3.1: profile-defined 16 bits, length in 32-bit words (excluding this word).
    if (bytes.size() - pos < 4) return errc::truncated_extension;
    h.extension_profile = get16(p + pos);
    const std::size_t len = std::size_t{get16(p + pos + 2)} * 4;
    pos += 4;
    if (bytes.size() - pos < len) return errc::truncated_extension;
    out.extension = bytes.subspan(pos, len);
    pos += len;
  }

  std::size_t end = bytes.size();
  if (has_padding) {
    const std::uint8_t count = p[end - 1];
    if (count == 0 || count > end - pos) return errc::bad_padding;
    out.padding = count;
    end -= count;
  }
  out.payload = bytes.subspan(pos, end - pos);
  return {};
}

std::size_t encoded_size(const rtp_packet& p) noexcept {
  std::size_t n = rtp_fixed_header_size + std::size_t{p.header.csrc_count} * 4;
  if (p.header.extension) n += 4 + p.extension.size();
  return n + p.payload.size() + p.padding;
}

boost::system::error_code encode(const rtp_packet& pkt, std::span<std::uint8_t> out,
                                 std::size_t& written) noexcept {
  written = 0;
  const rtp_header& h = pkt.header;
  if (h.payload_type > 127 || h.csrc_count > 15) return errc::invalid_field;
  if (!h.extension && !pkt.extension.empty()) return errc::invalid_field;
  if (pkt.extension.size() % 4 != 0 || pkt.extension.size() / 4 > 0xFFFF) {
    return errc::invalid_field;
  }
  const std::size_t n = encoded_size(pkt);
  if (out.size() < n) return errc::buffer_too_small;

  std::uint8_t* p = out.data();
  p[0] = static_cast<std::uint8_t>((rtp_version << 6) | (pkt.padding > 0 ? 0x20 : 0) |
                                   (h.extension ? 0x10 : 0) | h.csrc_count);
  p[1] = static_cast<std::uint8_t>((h.marker ? 0x80 : 0) | h.payload_type);
  put16(p + 2, h.sequence);
  put32(p + 4, h.timestamp);
  put32(p + 8, h.ssrc);
  std::size_t pos = rtp_fixed_header_size;
  for (std::size_t i = 0; i < h.csrc_count; ++i, pos += 4) put32(p + pos, h.csrc[i]);
  if (h.extension) {
    put16(p + pos, h.extension_profile);
    put16(p + pos + 2, static_cast<std::uint16_t>(pkt.extension.size() / 4));
    pos += 4;
    if (!pkt.extension.empty()) std::memcpy(p + pos, pkt.extension.data(), pkt.extension.size());
    pos += pkt.extension.size();
  }
  if (!pkt.payload.empty()) std::memcpy(p + pos, pkt.payload.data(), pkt.payload.size());
  pos += pkt.payload.size();
  if (pkt.padding > 0) {
    std::memset(p + pos, 0, pkt.padding - 1u);
    pos += pkt.padding;
    p[pos - 1] = pkt.padding;
  }
  written = pos;
  return {};
}

}  // namespace otpd::media
