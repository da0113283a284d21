// SIP and SIPS URIs (RFC 3261 §19.1): sip:user:password@host:port;uri-parameters?headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "voice/sip/params.hpp"

namespace otpd::sip {

struct uri {
  std::string scheme = "sip";  // "sip" or "sips", lower case
  std::string user;            // as written (escapes kept); empty when absent
  std::string password;        // rarely used and NOT RECOMMENDED (§19.1.1)
  std::string host;            // hostname, IPv4, or IPv6 reference with its brackets
  std::optional<std::uint16_t> port;
  param_list params;    // transport, lr, user, maddr, ...
  std::string headers;  // after '?', as written, without the '?'

  // Loose routing (RFC 3261 §19.1.1 "lr"): kamailio writes ";lr=on".
  bool lr() const noexcept { return find_param(params, "lr") != nullptr; }
  // The value of "transport", or empty.
  std::string transport() const;

  friend bool operator==(const uri&, const uri&) = default;
};

// errc::malformed_uri for anything else than a sip/sips URI with a valid host and port.
boost::system::error_code parse_uri(std::string_view text, uri& out);
std::string to_string(const uri& u);

}  // namespace otpd::sip
