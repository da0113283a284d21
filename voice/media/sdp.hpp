// SDP (RFC 4566) for one audio stream, and the offerer's side of offer/answer (RFC 3264):
// build the offer, parse the answer, pick what to send. Pure: strings in, values out; the
// parser never throws on bad input (only std::bad_alloc can escape).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>

#include "voice/media/error.hpp"

namespace otpd::media {

enum class direction { sendrecv, sendonly, recvonly, inactive };  // RFC 4566 §6

const char* to_string(direction d) noexcept;

struct codec {
  std::uint8_t payload_type = 0;
  std::string name;  // encoding name as in a=rtpmap, e.g. "PCMU"
  std::uint32_t clock_rate = 8000;
};

// RFC 3551 §6 static types we offer: PCMU = 0, PCMA = 8.
codec pcmu();
codec pcma();

struct offer_params {
  std::string username = "-";    // o= username ("-": none)
  std::uint64_t session_id = 0;  // o= sess-id (RFC 4566 §5.2: NTP time or random)
  std::uint64_t session_version = 0;
  std::string session_name = "otpd";                  // s=
  std::string address;                                // c= and o=; "IP6" is used if it contains ':'
  std::uint16_t port = 0;                             // m=audio port; RTCP on port + 1
  std::vector<codec> codecs = {pcmu(), pcma()};       // in order of preference
  std::optional<std::uint8_t> telephone_event = 101;  // RFC 4733 dynamic type; none: no DTMF
  std::string telephone_events = "0-16";              // a=fmtp: the events we understand
  std::uint32_t ptime_ms = 20;                        // a=ptime; 0: not sent
  direction dir = direction::sendrecv;
};

// The offer, CRLF line ends (RFC 4566 §5).
std::string build_offer(const offer_params& params);

struct connection_data {     // c= (RFC 4566 §5.7)
  std::string address_type;  // "IP4" / "IP6"
  std::string address;       // without any "/ttl" or "/count" suffix
};

struct rtpmap {  // a=rtpmap (RFC 4566 §6)
  std::uint8_t payload_type = 0;
  std::string encoding;  // as written, e.g. "telephone-event"
  std::uint32_t clock_rate = 0;
  std::string parameters;  // channels, if any
};

struct fmtp {  // a=fmtp
  std::uint8_t payload_type = 0;
  std::string parameters;
};

struct media_description {
  std::string media;  // "audio"
  std::uint16_t port = 0;
  std::string proto;                        // "RTP/AVP"
  std::vector<std::uint8_t> payload_types;  // m= formats, in order; non-numeric ones dropped
  std::optional<connection_data> connection;
  std::vector<rtpmap> rtpmaps;
  std::vector<fmtp> fmtps;
  std::optional<direction> dir;
  std::optional<std::uint32_t> ptime;
  const rtpmap* find_rtpmap(std::uint8_t pt) const noexcept;
};

struct origin {  // o= (RFC 4566 §5.2), fields as written
  std::string username, session_id, session_version, address_type, address;
};

struct session_description {
  origin o;
  std::string session_name;
  std::optional<connection_data> connection;
  std::optional<direction> dir;
  std::vector<media_description> media;
};

// Parses an SDP body. Lines may end in CRLF or LF; lines of unknown type and unknown or
// malformed attributes are ignored. Errors: sdp_malformed (no "v=0" first, or an m= / c= line
// that cannot be read).
boost::system::error_code parse(std::string_view text, session_description& out);

// What to do after the answer (RFC 3264 §5 / §6).
struct negotiated_media {
  connection_data remote;         // media-level c= if present, else session-level
  std::uint16_t remote_port = 0;  // RTP; RTCP is remote_port + 1 (no rtcp-mux offered)
  codec send_codec;               // with the payload type of the answer
  std::optional<std::uint8_t> telephone_event;  // the answer's type, if it kept DTMF
  direction dir = direction::sendrecv;          // the answerer's view: recvonly means we send
  std::optional<std::uint32_t> ptime;
};

// Reads the answer to `offer`: the first m=audio line, the connection address (media level
// wins), and the first payload type of the answer's m= line that we offered (static 0 / 8
// known without rtpmap, others matched by rtpmap encoding name and clock rate). Errors:
// no_audio_stream, stream_rejected (port 0), unsupported_transport, no_connection_address,
// no_common_codec.
boost::system::error_code negotiate(const offer_params& offer, const session_description& answer,
                                    negotiated_media& out);

// parse() then negotiate().
boost::system::error_code negotiate(const offer_params& offer, std::string_view answer,
                                    negotiated_media& out);

}  // namespace otpd::media
