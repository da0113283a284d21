// host[:port] scanning shared by the URI and Via parsers (RFC 3261 §25.1 hostport). Internal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otpd::sip::detail {

// The length of the hostname / IPv4address / IPv6reference at the start of `s`, 0 if none.
std::size_t host_length(std::string_view s) noexcept;
// Parses host[:port] at the start of `s`; returns the bytes consumed, 0 on error.
std::size_t parse_hostport(std::string_view s, std::string& host,
                           std::optional<std::uint16_t>& port);

}  // namespace otpd::sip::detail
