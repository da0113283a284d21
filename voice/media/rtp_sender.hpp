// The RTP packetiser of one outgoing stream (RFC 3550 §5.1, RFC 3551 §4.1): sequence numbers,
// timestamps and the marker bit. Sans-I/O: it writes bytes, the caller sends them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include <boost/system/error_code.hpp>

#include "voice/media/rtp.hpp"

namespace otpd::media {

// Random starting values (RFC 3550 §5.1: sequence and timestamp start random; §8.1: SSRC
// random). They must come from a cryptographically strong source.
struct rtp_start {
  std::uint32_t ssrc = 0;
  std::uint16_t sequence = 0;
  std::uint32_t timestamp = 0;
};

// Draws the starting values from a caller-supplied UniformRandomBitGenerator.
template <class Generator>
rtp_start random_rtp_start(Generator& gen) {
  std::uniform_int_distribution<std::uint32_t> u32;
  std::uniform_int_distribution<std::uint16_t> u16;
  rtp_start s;
  s.ssrc = u32(gen);
  s.sequence = u16(gen);
  s.timestamp = u32(gen);
  return s;
}

// Draws them from std::random_device (the OS entropy source or the CPU's DRNG with
// libstdc++ on Linux). Throws std::system_error only if no entropy source exists.
rtp_start random_rtp_start();

struct rtp_sender_config {
  std::uint8_t payload_type = 0;        // 0 PCMU, 8 PCMA, as negotiated
  std::uint32_t clock_rate = 8000;      // RFC 3551 §4.5.14: 8000 Hz for G.711
  std::chrono::milliseconds ptime{20};  // 20 ms: 160 samples at 8 kHz
  rtp_start start;                      // from random_rtp_start()
};

class rtp_sender {
 public:
  // Throws std::invalid_argument for a payload type above 127 or a ptime of less than one
  // sample (configuration errors, never input from the network).
  explicit rtp_sender(const rtp_sender_config& config);

  // Writes header + payload into an internal buffer and returns it (valid until the next
  // call). Advances sequence by 1 (mod 2^16) and timestamp by samples_per_packet()
  // (mod 2^32). The marker is set on the first packet and on the first after mark_next() or
  // skip() (RFC 3551 §4.1: the first packet of a talkspurt).
  std::span<const std::uint8_t> packet(std::span<const std::uint8_t> payload);

  // The same into a caller's buffer; buffer_too_small leaves the sender unchanged.
  boost::system::error_code packet(std::span<const std::uint8_t> payload,
                                   std::span<std::uint8_t> out, std::size_t& written) noexcept;

  // Sets the marker on the next packet (audio resumes after silence that was not sent).
  void mark_next() noexcept { mark_ = true; }

  // Accounts for `packets` intervals that are not sent: the timestamp still follows the
  // sample clock (RFC 3550 §5.1) while the sequence number does not move; marks the next one.
  void skip(std::uint32_t packets = 1) noexcept;

  std::uint32_t samples_per_packet() const noexcept { return samples_; }
  std::uint32_t ssrc() const noexcept { return ssrc_; }
  std::uint8_t payload_type() const noexcept { return payload_type_; }
  std::uint16_t next_sequence() const noexcept { return sequence_; }
  std::uint32_t next_timestamp() const noexcept { return timestamp_; }
  std::uint64_t packets_sent() const noexcept { return sent_; }
  std::uint64_t octets_sent() const noexcept { return octets_; }  // payload octets (RTCP SR)

 private:
  rtp_header next_header() const noexcept;
  void advance(std::size_t payload_size) noexcept;

  std::uint8_t payload_type_;
  std::uint32_t samples_;
  std::uint32_t ssrc_;
  std::uint16_t sequence_;
  std::uint32_t timestamp_;
  bool mark_ = true;
  std::uint64_t sent_ = 0;
  std::uint64_t octets_ = 0;
  std::vector<std::uint8_t> buffer_;
};

}  // namespace otpd::media
