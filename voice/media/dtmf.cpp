#include "voice/media/dtmf.hpp"

#include <algorithm>

#include "voice/media/rtp.hpp"

namespace otpd::media {

boost::system::error_code parse(std::span<const std::uint8_t> payload,
                                telephone_event& out) noexcept {
  out = telephone_event{};
  if (payload.size() < telephone_event_size) return errc::truncated_event;
  out.event = payload[0];
  out.end = (payload[1] & 0x80) != 0;
  out.volume = payload[1] & 0x3F;
  out.duration = static_cast<std::uint16_t>((payload[2] << 8) | payload[3]);
  return {};
}

boost::system::error_code encode(const telephone_event& e, std::span<std::uint8_t> out) noexcept {
  if (out.size() < telephone_event_size) return errc::buffer_too_small;
  out[0] = e.event;
  out[1] = static_cast<std::uint8_t>((e.end ? 0x80 : 0) | std::min<std::uint8_t>(e.volume, 63));
  out[2] = static_cast<std::uint8_t>(e.duration >> 8);
  out[3] = static_cast<std::uint8_t>(e.duration);
  return {};
}

char dtmf_symbol(std::uint8_t event) noexcept {
  constexpr char symbols[] = "0123456789*#ABCD";
  return event < 16 ? symbols[event] : '\0';
}

std::optional<dtmf_digit> dtmf_receiver::on_packet(std::uint32_t rtp_timestamp, bool marker,
                                                   std::span<const std::uint8_t> payload,
                                                   boost::system::error_code& ec) {
  telephone_event e;
  ec = parse(payload, e);
  if (ec) return std::nullopt;

  if (have_ && rtp_timestamp == timestamp_) {
    // An update or a retransmitted end of the current press (§2.5.1.4).
    if (e.event == event_) {
      ended_ = ended_ || e.end;
      duration_ = std::max(duration_, e.duration);
    }
    return std::nullopt;
  }
  if (have_ && !timestamp_newer(rtp_timestamp, timestamp_)) return std::nullopt;  // stale

  const bool continuation = have_ && !marker && !ended_ && e.event == event_;
  have_ = true;
  timestamp_ = rtp_timestamp;
  event_ = e.event;
  ended_ = e.end;
  duration_ = e.duration;
  if (continuation) return std::nullopt;  // §2.5.1.3: next segment of a long event
  return dtmf_digit{e.event, dtmf_symbol(e.event), rtp_timestamp};
}

}  // namespace otpd::media
