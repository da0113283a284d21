// Link-local destinations (RFC 3927 169.254.0.0/16, RFC 4291 §2.4 fe80::/10): where cloud
// metadata services answer (169.254.169.254, fd00:ec2::254 aside), so a webhook URL must never
// reach them. Used by the loader on a URL whose host is a literal address and by the webhook
// sender on every address a name resolves to. The ranges are common/ip_class.hpp's, which the
// media policy uses too.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace otpd::config {

bool is_link_local(const std::array<std::uint8_t, 4>& v4) noexcept;
// IPv6 link-local, or an IPv4-mapped (::ffff:169.254.x.y) link-local address.
bool is_link_local(const std::array<std::uint8_t, 16>& v6) noexcept;

// The host of an http:// or https:// URL as written: without user-info, port or path, an IPv6
// literal without its brackets; "" when there is none.
std::string_view url_host(std::string_view url) noexcept;

// Whether `host` (from url_host) is a literal address in a link-local range. IPv4 in every
// form the resolver takes as a number (inet_aton: "2852039166", "0xa9.0xfe.0xa9.0xfe") and
// IPv6 with or without a zone ("fe80::1%eth0"); a name is not literal: false.
bool literal_is_link_local(std::string_view host) noexcept;

}  // namespace otpd::config
