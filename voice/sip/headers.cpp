#include "voice/sip/headers.hpp"

#include "voice/sip/detail/hostport.hpp"
#include "voice/sip/detail/syntax.hpp"
#include "voice/sip/status.hpp"

namespace otpd::sip {
namespace {

std::string param_text(const param_list& ps, std::string_view name) {
  const param* p = find_param(ps, name);
  if (!p || !p->value) return {};
  const std::string& v = *p->value;
  return !v.empty() && v.front() == '"' ? detail::unquote(v) : v;
}

// Takes a token followed by optional whitespace and `sep` from the front of `s`.
bool take_token(std::string_view& s, std::string_view& tok) {
  std::size_t n = 0;
  while (n < s.size() && detail::is_token_char(s[n])) ++n;
  if (n == 0) return false;
  tok = s.substr(0, n);
  s = detail::trim_left(s.substr(n));
  return true;
}

bool take_char(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s = detail::trim_left(s.substr(1));
  return true;
}

}  // namespace

std::string via::branch() const { return param_text(params, "branch"); }

std::string via::received() const { return param_text(params, "received"); }

std::optional<std::uint16_t> via::rport() const noexcept {
  const param* p = find_param(params, "rport");
  std::uint64_t v = 0;
  if (!p || !p->value || !detail::parse_uint(*p->value, 65535, v)) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

boost::system::error_code parse_via(std::string_view value, via& out) {
  using namespace detail;
  const boost::system::error_code bad = errc::malformed_via;
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport, where SLASH allows
  // whitespace on either side (RFC 4475 §3.1.1.1 writes "SIP  /   2.0   /   UDP").
  std::string_view s = trim(value);
  std::string_view name, version, transport;
  if (!take_token(s, name) || !take_char(s, '/') || !take_token(s, version) || !take_char(s, '/') ||
      !take_token(s, transport)) {
    return bad;
  }
  via v;
  v.protocol = to_upper(name) + "/" + std::string(version);
  v.transport = to_upper(transport);
  const std::size_t hp = parse_hostport(s, v.host, v.port);
  if (hp == 0) return bad;
  s = s.substr(hp);
  // A via-param list follows; a comment or other junk does not parse as one.
  if (!parse_params(s, v.params)) return bad;
  out = std::move(v);
  return {};
}

std::string to_string(const via& v) {
  std::string r = v.protocol + "/" + v.transport + " " + v.host;
  if (v.port) r += ":" + std::to_string(*v.port);
  r += to_string(v.params);
  return r;
}

std::string name_addr::tag() const { return param_text(params, "tag"); }

boost::system::error_code parse_name_addr(std::string_view value, name_addr& out) {
  using namespace detail;
  const boost::system::error_code bad = errc::malformed_name_addr;
  std::string_view s = trim(value);
  if (s.empty()) return bad;
  name_addr n;
  const bool quoted = s.front() == '"';
  std::size_t lt = std::string_view::npos;
  if (quoted) {
    const std::size_t q = quoted_length(s);
    if (q == std::string_view::npos) return bad;
    n.display_name = unquote(s.substr(0, q));
    s = trim_left(s.substr(q));
    if (s.empty() || s.front() != '<') return bad;
    lt = 0;
  } else {
    lt = s.find('<');
    // An unquoted display name is a run of tokens and spaces (§25.1 display-name).
    if (lt != std::string_view::npos) {
      const std::string_view dn = trim(s.substr(0, lt));
      for (const char c : dn) {
        if (!is_token_char(c) && c != ' ' && c != '\t') return bad;
      }
      n.display_name.assign(dn);
      s = s.substr(lt);
      lt = 0;
    }
  }
  if (lt != std::string_view::npos) {
    const std::size_t gt = s.find('>');
    if (gt == std::string_view::npos) return bad;
    n.uri.assign(trim(s.substr(1, gt - 1)));
    s = s.substr(gt + 1);
  } else {
    // addr-spec: the URI ends at the first ';' (§20.10) or whitespace.
    std::size_t e = 0;
    while (e < s.size() && s[e] != ';' && !is_ws(s[e])) ++e;
    n.uri.assign(s.substr(0, e));
    s = s.substr(e);
  }
  if (n.uri.empty() || n.uri.find(':') == std::string::npos) return bad;
  for (const char c : n.uri) {
    if (is_ws(c) || c == '<' || c == '>' || c == '"') return bad;
  }
  if (!parse_params(s, n.params)) return bad;
  out = std::move(n);
  return {};
}

std::string to_string(const name_addr& n) {
  std::string r;
  if (!n.display_name.empty()) r = detail::quote(n.display_name) + " ";
  r += "<" + n.uri + ">";
  r += to_string(n.params);
  return r;
}

boost::system::error_code parse_cseq(std::string_view value, cseq& out) {
  using namespace detail;
  const std::string_view s = trim(value);
  std::size_t d = 0;
  while (d < s.size() && is_digit(s[d])) ++d;
  std::uint64_t n = 0;
  // RFC 3261 §8.1.1.5: the sequence number MUST be below 2^31.
  if (!parse_uint(s.substr(0, d), 0x7FFFFFFF, n)) return errc::malformed_cseq;
  const std::string_view rest = s.substr(d);
  if (rest.empty() || !is_ws(rest.front())) return errc::malformed_cseq;
  const std::string_view method = trim(rest);
  if (!is_token(method)) return errc::malformed_cseq;
  out.number = static_cast<std::uint32_t>(n);
  out.method.assign(method);
  return {};
}

std::string to_string(const cseq& c) { return std::to_string(c.number) + " " + c.method; }

}  // namespace otpd::sip
