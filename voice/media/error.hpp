// Errors of the media layer (RTP, SDP, RFC 4733 events), as their own boost::system category.
// None of them is ever thrown: parsers and encoders return them.
#pragma once

#include <type_traits>

#include <boost/system/error_code.hpp>

namespace otpd::media {

enum class errc {
  // RTP (RFC 3550 §5.1)
  truncated_header = 1,  // fewer than 12 bytes, or the CSRC list runs past the packet
  bad_version,           // V is not 2
  truncated_extension,   // the header extension runs past the packet
  bad_padding,           // P set but the pad count is 0 or larger than what follows the header
  buffer_too_small,      // encode: the output buffer cannot hold the packet
  invalid_field,         // encode: a value the wire cannot carry (PT > 127, > 15 CSRCs, ...)
  // RFC 4733 telephone-event
  truncated_event,  // a telephone-event payload shorter than 4 bytes
  // SDP (RFC 4566) and offer/answer (RFC 3264)
  sdp_malformed,          // no "v=0" first, or an m= / c= line that cannot be read
  no_audio_stream,        // the answer has no m=audio line
  stream_rejected,        // the answer's m=audio port is 0 (RFC 3264 §6)
  unsupported_transport,  // the answer's audio stream is not RTP/AVP
  no_connection_address,  // no c= line at session or media level
  no_common_codec,        // nothing in the answer's m=audio line is a codec we offered
  // A call's RTP (media_policy.hpp)
  packet_limit,  // the call sent as many packets as its maximum duration allows
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace otpd::media

namespace boost::system {
template <>
struct is_error_code_enum<otpd::media::errc> : std::true_type {};
}  // namespace boost::system
