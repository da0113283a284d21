#include "voice/sip/params.hpp"

#include "voice/sip/detail/syntax.hpp"

namespace otpd::sip {

const param* find_param(const param_list& ps, std::string_view name) noexcept {
  for (const param& p : ps) {
    if (detail::iequals(p.name, name)) return &p;
  }
  return nullptr;
}

void set_param(param_list& ps, std::string_view name, std::optional<std::string_view> value) {
  for (param& p : ps) {
    if (detail::iequals(p.name, name)) {
      p.value = value ? std::optional<std::string>(*value) : std::nullopt;
      return;
    }
  }
  ps.push_back({std::string(name), value ? std::optional<std::string>(*value) : std::nullopt});
}

std::string to_string(const param_list& ps) {
  std::string r;
  for (const param& p : ps) {
    r += ';';
    r += p.name;
    if (p.value) {
      r += '=';
      r += *p.value;
    }
  }
  return r;
}

namespace detail {
namespace {

// Characters allowed in a parameter name or unquoted value: token characters plus those a
// host (IPv6 reference) or uri-parameter may carry (RFC 3261 §19.1.1 paramchar).
constexpr bool is_param_char(char c) noexcept {
  switch (c) {
    case '[':
    case ']':
    case '/':
    case ':':
    case '&':
    case '$':
      return true;
    default:
      return is_token_char(c);
  }
}

}  // namespace

bool parse_params(std::string_view s, param_list& out) {
  s = trim_left(s);
  while (!s.empty()) {
    if (s.front() != ';') return false;
    s = trim_left(s.substr(1));
    std::size_t n = 0;
    while (n < s.size() && is_param_char(s[n])) ++n;
    if (n == 0) return false;
    param p{std::string(s.substr(0, n)), std::nullopt};
    s = trim_left(s.substr(n));
    if (!s.empty() && s.front() == '=') {
      s = trim_left(s.substr(1));
      if (!s.empty() && s.front() == '"') {
        const std::size_t q = quoted_length(s);
        if (q == std::string_view::npos) return false;
        p.value = std::string(s.substr(0, q));
        s = s.substr(q);
      } else {
        std::size_t v = 0;
        while (v < s.size() && is_param_char(s[v])) ++v;
        if (v == 0) return false;
        p.value = std::string(s.substr(0, v));
        s = s.substr(v);
      }
      s = trim_left(s);
    }
    out.push_back(std::move(p));
  }
  return true;
}

}  // namespace detail
}  // namespace otpd::sip
