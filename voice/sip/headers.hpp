// Typed views of the header values the UAC needs: Via (RFC 3261 §20.42, RFC 3581 rport),
// name-addr / addr-spec (From, To, Contact, Route, Record-Route: §20.10, §25.1) and CSeq
// (§20.16). Parsers never throw on bad input; to_string() writes the canonical form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "voice/sip/params.hpp"

namespace otpd::sip {

// RFC 3261 §8.1.1.7: the magic cookie that starts every RFC 3261 branch.
inline constexpr std::string_view branch_cookie = "z9hG4bK";

struct via {
  std::string protocol = "SIP/2.0";  // protocol-name "/" protocol-version
  std::string transport = "UDP";     // upper case: UDP, TCP, TLS, SCTP, WS, ...
  std::string host;                  // sent-by host (IPv6 with brackets)
  std::optional<std::uint16_t> port;
  param_list params;  // every via-param in order: branch, rport, received, maddr, ttl, ...

  // The branch, or empty.
  std::string branch() const;
  // The "received" address a server added (RFC 3261 §18.2.1), or empty.
  std::string received() const;
  // RFC 3581: ";rport" without value in requests; ";rport=5062" in responses.
  bool has_rport() const noexcept { return find_param(params, "rport") != nullptr; }
  std::optional<std::uint16_t> rport() const noexcept;

  friend bool operator==(const via&, const via&) = default;
};

boost::system::error_code parse_via(std::string_view value, via& out);
std::string to_string(const via& v);

struct name_addr {
  std::string display_name;  // unquoted; empty when absent
  std::string uri;           // as written, without the angle brackets: parse_uri() reads it
  param_list params;         // header parameters: tag, expires, ... (outside the brackets)

  // The "tag" parameter (RFC 3261 §19.3), or empty.
  std::string tag() const;

  friend bool operator==(const name_addr&, const name_addr&) = default;
};

// Reads both forms: `"Bob" <sip:bob@b.example;transport=tcp>;tag=x` and
// `sip:bob@b.example;tag=x`. In the addr-spec form every ';' parameter is a header parameter
// (§20.10).
boost::system::error_code parse_name_addr(std::string_view value, name_addr& out);
// Always the name-addr form (with angle brackets), display name quoted when present.
std::string to_string(const name_addr& n);

struct cseq {
  std::uint32_t number = 0;  // below 2^31 (§8.1.1.5)
  std::string method;
  friend bool operator==(const cseq&, const cseq&) = default;
};

boost::system::error_code parse_cseq(std::string_view value, cseq& out);
std::string to_string(const cseq& c);

}  // namespace otpd::sip
