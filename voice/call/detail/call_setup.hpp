// What one call is made of before any socket exists: the trunk as configured (next hop,
// transport, local address) and the SIP and SDP parameters the state machine is built with.
// Pure: the caller (caller.cpp) opens the sockets and fills in the ports they got.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

#include "voice/call/caller.hpp"
#include "voice/media/sdp.hpp"
#include "voice/sip/uac_call_fsm.hpp"
#include "voice/sip/uri.hpp"

namespace otpd::voice::detail {

inline constexpr std::uint16_t default_sip_port = 5060;

// The trunk as configured, checked.
struct trunk_target {
  sip::uri hop;  // the next hop
  std::uint16_t hop_port = default_sip_port;
  std::string hop_name;  // "host:port" as written, for the resolved map and error messages
  bool tcp = false;
  boost::asio::ip::address local;  // where the SIP and RTP sockets bind
};

// The reason the trunk cannot be used as configured ("invalid trunk uri", "unsupported
// transport", "invalid local address"), or empty with `out` filled in. The URI's transport
// parameter wins over the configured transport.
std::string parse_trunk(const trunk_config& cfg, trunk_target& out);

// An IPv6 host without its URI brackets ("[::1]" -> "::1"), for the resolver.
std::string unbracket(std::string host);

// The SDP offer's parameters for RTP on `local`:`rtp_port`, with a random session id.
media::offer_params media_offer(const boost::asio::ip::address& local, std::uint16_t rtp_port);

// The call's SIP parameters: the Request-URI for `to` at the trunk's domain (else its next
// hop), From and Contact with the caller id (else "otpd") at our address and `sip_port`, the
// trunk as outbound proxy, its credentials and timers.
sip::uac_call_params call_params(const trunk_config& cfg, const trunk_target& t,
                                 std::uint16_t sip_port, std::string_view to,
                                 std::string sdp_offer);

}  // namespace otpd::voice::detail
