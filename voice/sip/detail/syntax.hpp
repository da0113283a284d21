// Lexical helpers shared by the SIP parsers (RFC 3261 §25.1). Internal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/ascii.hpp"

namespace otpd::sip::detail {

using ascii::iequals;
using ascii::is_alnum;
using ascii::is_digit;
using ascii::to_lower;
using ascii::to_upper;

constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" /
// "~").
constexpr bool is_token_char(char c) noexcept {
  switch (c) {
    case '-':
    case '.':
    case '!':
    case '%':
    case '*':
    case '_':
    case '+':
    case '`':
    case '\'':
    case '~':
      return true;
    default:
      return is_alnum(c);
  }
}

constexpr bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

constexpr std::string_view trim(std::string_view s) noexcept { return ascii::trim(s, " \t\r\n"); }

constexpr std::string_view trim_left(std::string_view s) noexcept {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  return s;
}

// Decimal digits only, at most `max`; no sign, no spaces.
constexpr bool parse_uint(std::string_view s, std::uint64_t max, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 20) return false;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (!is_digit(c)) return false;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

// The length of the quoted-string at the start of `s` (which starts with '"'), quotes
// included, honouring quoted-pair escapes; npos when unterminated.
constexpr std::size_t quoted_length(std::string_view s) noexcept {
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// The contents of a quoted-string (quotes removed, quoted-pairs resolved). `s` must be a
// whole quoted-string as measured by quoted_length().
inline std::string unquote(std::string_view s) {
  std::string r;
  if (s.size() < 2) return r;
  s = s.substr(1, s.size() - 2);
  r.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    r.push_back(s[i]);
  }
  return r;
}

// A quoted-string for `s` (RFC 3261 §25.1: '"' and '\' escaped).
inline std::string quote(std::string_view s) {
  std::string r;
  r.reserve(s.size() + 2);
  r.push_back('"');
  for (const char c : s) {
    if (c == '"' || c == '\\') r.push_back('\\');
    r.push_back(c);
  }
  r.push_back('"');
  return r;
}

// Splits a header value at the commas that separate list elements (RFC 3261 §7.3.1): commas
// inside quoted strings and <...> do not count. Elements are trimmed; empty ones dropped.
// Returns false on an unterminated quote or angle bracket.
inline bool split_list(std::string_view s, std::vector<std::string_view>& out) {
  std::size_t start = 0;
  bool in_angle = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      const std::size_t n = quoted_length(s.substr(i));
      if (n == std::string_view::npos) return false;
      i += n - 1;
    } else if (c == '<') {
      in_angle = true;
    } else if (c == '>') {
      in_angle = false;
    } else if (c == ',' && !in_angle) {
      const std::string_view e = trim(s.substr(start, i - start));
      if (!e.empty()) out.push_back(e);
      start = i + 1;
    }
  }
  if (in_angle) return false;
  const std::string_view e = trim(s.substr(start));
  if (!e.empty()) out.push_back(e);
  return true;
}

}  // namespace otpd::sip::detail
