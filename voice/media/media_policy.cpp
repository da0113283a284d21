#include "voice/media/media_policy.hpp"

#include <algorithm>
#include <charconv>

#include <arpa/inet.h>

namespace otpd::media {

namespace {

// RFC 4291 §2.5.5.2: ::ffff:0:0/96.
bool is_v4_mapped(const std::array<std::uint8_t, 16>& b) noexcept {
  return std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; }) &&
         b[10] == 0xff && b[11] == 0xff;
}

bool prefix_matches(const ip_address& a, const std::array<std::uint8_t, 16>& net,
                    unsigned prefix) noexcept {
  for (unsigned i = 0; i < prefix; ++i) {
    const unsigned byte = i / 8;
    const auto mask = static_cast<std::uint8_t>(0x80u >> (i % 8));
    if ((a.bytes[byte] & mask) != (net[byte] & mask)) return false;
  }
  return true;
}

bool in_v4(const ip_address& a, std::uint8_t b0, std::uint8_t b1, unsigned prefix) noexcept {
  return !a.v6 && prefix_matches(a, {b0, b1}, prefix);
}

bool in_v6(const ip_address& a, std::uint8_t b0, std::uint8_t b1, unsigned prefix) noexcept {
  return a.v6 && prefix_matches(a, {b0, b1}, prefix);
}

}  // namespace

std::optional<ip_address> parse_address(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
  const std::string s(text);
  ip_address a;
  if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  std::array<std::uint8_t, 16> b{};
  if (::inet_pton(AF_INET6, s.c_str(), b.data()) != 1) return std::nullopt;
  if (is_v4_mapped(b)) {
    std::copy(b.begin() + 12, b.end(), a.bytes.begin());
    return a;
  }
  a.v6 = true;
  a.bytes = b;
  return a;
}

std::string to_string(const ip_address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<ip_network> parse_network(std::string_view text, std::string& why) {
  const std::size_t slash = text.find('/');
  const auto addr = parse_address(text.substr(0, slash));
  if (!addr) {
    why = "not an IPv4 or IPv6 address";
    return std::nullopt;
  }
  ip_network n{*addr, addr->v6 ? 128u : 32u};
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    unsigned prefix = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || p.size() > 3 || ec != std::errc() || end != p.data() + p.size() ||
        prefix > n.prefix) {
      why = "the prefix length must be 0 to " + std::to_string(n.prefix);
      return std::nullopt;
    }
    n.prefix = prefix;
  }
  // Bits past the prefix: 10.1.0.0/8 means 10.0.0.0/8 or 10.1.0.0/16, and a typo in an
  // allow-list is better refused than guessed.
  ip_network masked = n;
  for (unsigned i = n.prefix; i < (n.base.v6 ? 128u : 32u); ++i) {
    masked.base.bytes[i / 8] &= static_cast<std::uint8_t>(~(0x80u >> (i % 8)));
  }
  if (masked.base != n.base) {
    why = "bits are set past the prefix length (the network is " + to_string(masked.base) + "/" +
          std::to_string(n.prefix) + ")";
    return std::nullopt;
  }
  return n;
}

bool contains(const ip_network& n, const ip_address& a) noexcept {
  return n.base.v6 == a.v6 && prefix_matches(a, n.base.bytes, n.prefix);
}

const char* to_string(media_refusal r) noexcept {
  switch (r) {
    case media_refusal::none:
      return "allowed";
    case media_refusal::not_an_ip:
      return "not an IP address";
    case media_refusal::bad_port:
      return "port 0";
    case media_refusal::unspecified:
      return "unspecified address";
    case media_refusal::broadcast:
      return "broadcast address";
    case media_refusal::multicast:
      return "multicast address";
    case media_refusal::link_local:
      return "link-local address";
    case media_refusal::loopback:
      return "loopback address";
    case media_refusal::not_allowed:
      return "not in the trunk's media networks";
  }
  return "?";
}

media_refusal special_use(const ip_address& a) noexcept {
  if (!a.v6) {
    // RFC 1122 §3.2.1.3: 0/8 is "this network", never a destination.
    if (in_v4(a, 0, 0, 8)) return media_refusal::unspecified;
    if (std::all_of(a.bytes.begin(), a.bytes.begin() + 4, [](std::uint8_t x) { return x == 255; }))
      return media_refusal::broadcast;
    if (in_v4(a, 224, 0, 4)) return media_refusal::multicast;      // RFC 5771
    if (in_v4(a, 169, 254, 16)) return media_refusal::link_local;  // RFC 3927
    if (in_v4(a, 127, 0, 8)) return media_refusal::loopback;       // RFC 1122
    return media_refusal::none;
  }
  const bool zero_to_15 =
      std::all_of(a.bytes.begin(), a.bytes.begin() + 15, [](std::uint8_t x) { return x == 0; });
  if (zero_to_15 && a.bytes[15] == 0) return media_refusal::unspecified;  // RFC 4291 §2.5.2
  if (zero_to_15 && a.bytes[15] == 1) return media_refusal::loopback;     // RFC 4291 §2.5.3
  if (in_v6(a, 0xff, 0, 8)) return media_refusal::multicast;              // RFC 4291 §2.7
  if (in_v6(a, 0xfe, 0x80, 10)) return media_refusal::link_local;         // RFC 4291 §2.5.6
  return media_refusal::none;
}

media_refusal check_media_target(std::string_view address, std::uint16_t port,
                                 const media_allow_list& allow) {
  const auto a = parse_address(address);
  if (!a) return media_refusal::not_an_ip;
  if (port == 0) return media_refusal::bad_port;
  const media_refusal special = special_use(*a);
  if (special == media_refusal::loopback && !allow.loopback_allowed) return special;
  if (special != media_refusal::none && special != media_refusal::loopback) return special;
  const bool listed = std::any_of(allow.networks.begin(), allow.networks.end(),
                                  [&](const ip_network& n) { return contains(n, *a); });
  return listed ? media_refusal::none : media_refusal::not_allowed;
}

std::uint64_t rtp_packet_limit(std::chrono::milliseconds max_call,
                               std::chrono::milliseconds ptime) noexcept {
  if (ptime.count() <= 0 || max_call.count() <= 0) return 0;
  const auto packets =
      static_cast<std::uint64_t>((max_call.count() + ptime.count() - 1) / ptime.count());
  // 5 % and a second's worth more: a prompt sent late catches up in bursts (pacer send_late),
  // and that must not hit the ceiling; a reflector's worth of traffic still does.
  return packets + packets / 20 + static_cast<std::uint64_t>(1000 / ptime.count());
}

}  // namespace otpd::media
