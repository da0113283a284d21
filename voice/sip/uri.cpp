#include "voice/sip/uri.hpp"

#include "voice/sip/detail/hostport.hpp"
#include "voice/sip/detail/syntax.hpp"
#include "voice/sip/status.hpp"

namespace otpd::sip {
namespace detail {

// RFC 3261 §25.1 hostname / IPv4address / IPv6reference. Returns the length of the host at
// the start of `s`, 0 when there is none.
std::size_t host_length(std::string_view s) noexcept {
  if (!s.empty() && s.front() == '[') {
    std::size_t i = 1;
    while (i < s.size() && (is_alnum(s[i]) || s[i] == ':' || s[i] == '.')) ++i;
    return i < s.size() && s[i] == ']' && i > 1 ? i + 1 : 0;
  }
  std::size_t i = 0;
  while (i < s.size() && (is_alnum(s[i]) || s[i] == '-' || s[i] == '.')) ++i;
  return i;
}

// Parses host[:port] from the start of `s`; returns the bytes consumed, 0 on error.
std::size_t parse_hostport(std::string_view s, std::string& host,
                           std::optional<std::uint16_t>& port) {
  const std::size_t h = host_length(s);
  if (h == 0) return 0;
  host.assign(s.substr(0, h));
  port.reset();
  std::size_t i = h;
  if (i < s.size() && s[i] == ':') {
    ++i;
    std::size_t d = i;
    while (d < s.size() && is_digit(s[d])) ++d;
    std::uint64_t v = 0;
    if (!parse_uint(s.substr(i, d - i), 65535, v)) return 0;
    port = static_cast<std::uint16_t>(v);
    i = d;
  }
  return i;
}

}  // namespace detail

std::string uri::transport() const {
  const param* p = find_param(params, "transport");
  return p && p->value ? *p->value : std::string();
}

boost::system::error_code parse_uri(std::string_view text, uri& out) {
  using namespace detail;
  const boost::system::error_code bad = errc::malformed_uri;
  uri u;
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) return bad;
  u.scheme = to_lower(text.substr(0, colon));
  if (u.scheme != "sip" && u.scheme != "sips") return bad;
  std::string_view rest = text.substr(colon + 1);
  // userinfo: neither user nor password may hold an unescaped '@' (§25.1), so the first one
  // ends it even when the user part carries ';' or '?' (RFC 4475 §3.1.1.6).
  if (const std::size_t at = rest.find('@'); at != std::string_view::npos) {
    const std::string_view info = rest.substr(0, at);
    const std::size_t pc = info.find(':');
    u.user.assign(info.substr(0, pc));
    if (pc != std::string_view::npos) u.password.assign(info.substr(pc + 1));
    if (u.user.empty()) return bad;
    for (const char c : info) {
      if (is_ws(c) || c == '<' || c == '>' || c == '"') return bad;
    }
    rest = rest.substr(at + 1);
  }
  const std::size_t hp = parse_hostport(rest, u.host, u.port);
  if (hp == 0) return bad;
  rest = rest.substr(hp);
  const std::size_t q = rest.find('?');
  if (q != std::string_view::npos) {
    u.headers.assign(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  for (const char c : rest) {
    if (is_ws(c)) return bad;
  }
  if (!parse_params(rest, u.params)) return bad;
  out = std::move(u);
  return {};
}

std::string to_string(const uri& u) {
  std::string r = u.scheme;
  r += ':';
  if (!u.user.empty()) {
    r += u.user;
    if (!u.password.empty()) {
      r += ':';
      r += u.password;
    }
    r += '@';
  }
  r += u.host;
  if (u.port) {
    r += ':';
    r += std::to_string(*u.port);
  }
  r += to_string(u.params);
  if (!u.headers.empty()) {
    r += '?';
    r += u.headers;
  }
  return r;
}

}  // namespace otpd::sip
