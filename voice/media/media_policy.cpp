#include "voice/media/media_policy.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <iterator>

namespace otpd::media {

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
  // Indexed by ip_range (common/ip_class.hpp), in its order.
  static constexpr media_refusal refusal_of[] = {
      media_refusal::none,      media_refusal::unspecified, media_refusal::broadcast,
      media_refusal::multicast, media_refusal::link_local,  media_refusal::loopback};
  static_assert(static_cast<std::size_t>(ip_range::loopback) + 1 == std::size(refusal_of));
  return refusal_of[static_cast<std::size_t>(special_range(a))];
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
