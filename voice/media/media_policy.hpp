// Where a call's RTP may go. The SDP answer names the address and port; a compromised or
// spoofed trunk could name a third party's (diverting the code read aloud) or use otpd as a
// reflector. The answer's target is checked against the trunk's allow-list (its resolved next
// hop by default, or its configured media networks) and special-use ranges are refused always.
// Pure: text and bytes in, a verdict out; no socket, no resolver.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_class.hpp"

namespace otpd::media {

// Addresses and their special-use ranges are common/ip_class.hpp's (the webhook URL check
// uses the same classification).
using otpd::ip_address;

// "192.0.2.1", "2001:db8::1" (no brackets, no zone); nullopt for anything else (a host name).
// An IPv4-mapped address is read as IPv4. to_string(ip_address) is common/ip_class.hpp's.
inline std::optional<ip_address> parse_address(std::string_view text) {
  return parse_ip_address(text);
}

struct ip_network {
  ip_address base;
  unsigned prefix = 0;  // 0..32 or 0..128
  friend bool operator==(const ip_network&, const ip_network&) = default;
};

// "10.0.0.0/8", "2001:db8::/32", or a single address ("192.0.2.7" is 192.0.2.7/32). Refused,
// with `why` saying what is wrong: a prefix out of range or not a decimal number, bits set
// past the prefix (10.1.0.0/8 is probably a typo: the network meant is unclear), text that is
// not an address.
std::optional<ip_network> parse_network(std::string_view text, std::string& why);
bool contains(const ip_network& n, const ip_address& a) noexcept;

// Where media may go for one trunk.
struct media_allow_list {
  // The trunk's media networks, or (none configured) its resolved next hop(s) as /32 or /128.
  std::vector<ip_network> networks;
  // Loopback targets are allowed (when listed) only when the trunk's next hop is itself on
  // loopback: a test or sandbox trunk. A real trunk never has media on our own host.
  bool loopback_allowed = false;
};

enum class media_refusal {
  none,         // allowed
  not_an_ip,    // a host name or garbage in c=: we never resolve what a peer names
  bad_port,     // 0
  unspecified,  // 0.0.0.0/8, ::
  broadcast,    // 255.255.255.255
  multicast,    // 224.0.0.0/4, ff00::/8
  link_local,   // 169.254.0.0/16, fe80::/10 (cloud metadata lives there)
  loopback,     // 127.0.0.0/8, ::1, while the trunk's next hop is not loopback
  not_allowed,  // outside the trunk's allow-list
};
const char* to_string(media_refusal r) noexcept;

// The special-use range `a` is in that media may never go to (loopback included), or none.
media_refusal special_use(const ip_address& a) noexcept;

// Whether RTP may be sent to `address`:`port` for a trunk with `allow`.
media_refusal check_media_target(std::string_view address, std::uint16_t port,
                                 const media_allow_list& allow);

// A hard ceiling on the RTP packets one call may send: a call lasts at most `max_call`, one
// packet per `ptime`, and a margin for a late start and the last partial packet. A bug or a
// peer's trick can then never make a call send more than its length's worth.
std::uint64_t rtp_packet_limit(std::chrono::milliseconds max_call,
                               std::chrono::milliseconds ptime) noexcept;

}  // namespace otpd::media
