// What an IP address is, for the places that must refuse some destinations: the special-use
// ranges (RFC 6890) written once. The webhook URL check (config/link_local.hpp, the webhook
// sender) refuses link-local destinations, where cloud metadata services answer; the media
// policy (voice/media/media_policy.hpp) refuses every range below as an RTP target. Without
// Asio or sockets: an address is its bytes in network order.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otpd {

// An IPv4 or IPv6 address as bytes in network order (IPv4: the first 4). An IPv4-mapped IPv6
// address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is held as the IPv4 address it maps: a
// dual-stack socket sends to that IPv4 address, so it is classified as one.
struct ip_address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
  friend bool operator==(const ip_address&, const ip_address&) = default;
};

ip_address ip_address_of(const std::array<std::uint8_t, 4>& v4) noexcept;
// IPv4-mapped addresses are read as IPv4.
ip_address ip_address_of(const std::array<std::uint8_t, 16>& v6) noexcept;

// Strict text: "192.0.2.1", "2001:db8::1" (no brackets, no zone, no other IPv4 form); nullopt
// for anything else (a host name).
std::optional<ip_address> parse_ip_address(std::string_view text);
// A URL's host as the resolver reads it when it is a literal: IPv4 in every form getaddrinfo
// takes as a number (inet_aton: "2852039166", "0xa9.0xfe.0xa9.0xfe"), IPv6 with or without a
// zone ("fe80::1%eth0"); nullopt for a name.
std::optional<ip_address> parse_ip_literal(std::string_view host);

std::string to_string(const ip_address& a);

// Whether the first `prefix` bits of `a` are those of `net`.
bool prefix_matches(const ip_address& a, const std::array<std::uint8_t, 16>& net,
                    unsigned prefix) noexcept;

enum class ip_range {
  none,         // none of these: an ordinary unicast address
  unspecified,  // 0.0.0.0/8 (RFC 1122 §3.2.1.3: "this network"), :: (RFC 4291 §2.5.2)
  broadcast,    // 255.255.255.255
  multicast,    // 224.0.0.0/4 (RFC 5771), ff00::/8 (RFC 4291 §2.7)
  link_local,   // 169.254.0.0/16 (RFC 3927), fe80::/10 (RFC 4291 §2.5.6)
  loopback,     // 127.0.0.0/8 (RFC 1122), ::1 (RFC 4291 §2.5.3)
};

// The special-use range `a` is in, or none.
ip_range special_range(const ip_address& a) noexcept;

}  // namespace otpd
