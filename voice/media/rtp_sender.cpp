#include "voice/media/rtp_sender.hpp"

#include <stdexcept>

namespace otpd::media {

rtp_start random_rtp_start() {
  std::random_device rd;
  return random_rtp_start(rd);
}

rtp_sender::rtp_sender(const rtp_sender_config& config)
    : payload_type_(config.payload_type),
      samples_(static_cast<std::uint32_t>(std::uint64_t{config.clock_rate} *
                                          static_cast<std::uint64_t>(config.ptime.count()) / 1000)),
      ssrc_(config.start.ssrc),
      sequence_(config.start.sequence),
      timestamp_(config.start.timestamp) {
  if (payload_type_ > 127) throw std::invalid_argument("rtp_sender: payload type above 127");
  if (config.ptime.count() <= 0 || samples_ == 0) {
    throw std::invalid_argument("rtp_sender: ptime shorter than one sample");
  }
}

rtp_header rtp_sender::next_header() const noexcept {
  rtp_header h;
  h.marker = mark_;
  h.payload_type = payload_type_;
  h.sequence = sequence_;
  h.timestamp = timestamp_;
  h.ssrc = ssrc_;
  return h;
}

void rtp_sender::advance(std::size_t payload_size) noexcept {
  mark_ = false;
  ++sequence_;             // wraps at 2^16 (unsigned arithmetic)
  timestamp_ += samples_;  // wraps at 2^32
  ++sent_;
  octets_ += payload_size;
}

std::span<const std::uint8_t> rtp_sender::packet(std::span<const std::uint8_t> payload) {
  rtp_packet p;
  p.header = next_header();
  p.payload = payload;
  buffer_.resize(encoded_size(p));
  std::size_t written = 0;
  // Cannot fail: the header fields were validated at construction and the buffer fits.
  (void)encode(p, buffer_, written);
  advance(payload.size());
  return {buffer_.data(), written};
}

boost::system::error_code rtp_sender::packet(std::span<const std::uint8_t> payload,
                                             std::span<std::uint8_t> out,
                                             std::size_t& written) noexcept {
  rtp_packet p;
  p.header = next_header();
  p.payload = payload;
  if (auto ec = encode(p, out, written)) return ec;
  advance(payload.size());
  return {};
}

void rtp_sender::skip(std::uint32_t packets) noexcept {
  if (packets == 0) return;
  timestamp_ += static_cast<std::uint32_t>(std::uint64_t{samples_} * packets);
  mark_ = true;
}

}  // namespace otpd::media
