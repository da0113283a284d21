// RFC 4733 telephone-events: the 4-byte event payload, and a receiver that turns the stream of
// event packets into one digit per key press. Pure: packets in, digits out.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include <boost/system/error_code.hpp>

#include "voice/media/error.hpp"

namespace otpd::media {

inline constexpr std::size_t telephone_event_size = 4;

// RFC 4733 §2.3: event (8) | E (1) R (1) volume (6) | duration (16)
struct telephone_event {
  std::uint8_t event = 0;      // §3.2 Table 7: 0-9, 10 '*', 11 '#', 12-15 A-D, 16 flash
  bool end = false;            // E: the last packets of the event
  std::uint8_t volume = 0;     // 0..63, in -dBm0
  std::uint16_t duration = 0;  // in timestamp units since the event's RTP timestamp
};

// Reads the first event of a payload (further events of a §2.5.1.5 multi-event packet and
// RFC 2198 redundancy are not read). Errors: truncated_event.
boost::system::error_code parse(std::span<const std::uint8_t> payload,
                                telephone_event& out) noexcept;

// Writes 4 bytes (volume above 63 is clamped, R is 0). Errors: buffer_too_small.
boost::system::error_code encode(const telephone_event& e, std::span<std::uint8_t> out) noexcept;

// '0'-'9', '*', '#', 'A'-'D' for the DTMF events 0..15; '\0' for others.
char dtmf_symbol(std::uint8_t event) noexcept;

struct dtmf_digit {
  std::uint8_t event = 0;
  char symbol = '\0';           // dtmf_symbol(event)
  std::uint32_t timestamp = 0;  // RTP timestamp of the key press
};

// One digit per key press. A press is identified by its RTP timestamp (RFC 4733 §2.5.1.1: all
// packets of an event carry its start time): the repeated updates and the three retransmitted
// end packets (§2.5.1.4) share it and are dropped. The digit is reported at the first packet
// of a new timestamp, so a press whose end packets are all lost still counts. A new
// timestamp without the marker, for the same event still running, is the next segment of a
// long event (§2.5.1.3), not a new press. Packets older than the current press are dropped.
class dtmf_receiver {
 public:
  // Feeds the payload of one packet of the negotiated telephone-event payload type.
  std::optional<dtmf_digit> on_packet(std::uint32_t rtp_timestamp, bool marker,
                                      std::span<const std::uint8_t> payload,
                                      boost::system::error_code& ec);

  // The current (last seen) event has ended: its end packet arrived.
  bool ended() const noexcept { return ended_; }
  // Duration of the current event so far, in timestamp units (of its last segment).
  std::uint16_t duration() const noexcept { return duration_; }

  void reset() noexcept { *this = dtmf_receiver{}; }

 private:
  bool have_ = false;
  std::uint32_t timestamp_ = 0;
  std::uint8_t event_ = 0;
  bool ended_ = false;
  std::uint16_t duration_ = 0;
};

}  // namespace otpd::media
