// ASCII character helpers for protocol text (HTTP and SIP field names, SDP, SMPP receipts, the
// configuration). Protocol tokens compare case-insensitively in ASCII only (RFC 9110 §5.1,
// RFC 3261 §7.3.1, RFC 4566 §5), whatever the process locale: nothing here consults it, unlike
// std::tolower. Header-only and free of any library, so that every layer may use it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace otpd::ascii {

constexpr char to_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr char to_upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

inline std::string to_lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = to_lower(c);
  return r;
}

inline std::string to_upper(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = to_upper(c);
  return r;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

constexpr bool iends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

constexpr bool is_alnum(char c) noexcept { return is_digit(c) || is_alpha(c); }

// The value of a hex digit of either case, or -1.
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr bool is_hex_digit(char c) noexcept { return hex_value(c) >= 0; }

// `s` without the characters of `blanks` at either end. Which characters are blank is the
// caller's protocol's (HTTP OWS is space and tab, RFC 9110 §5.6.3; SIP adds CR and LF).
constexpr std::string_view trim(std::string_view s, std::string_view blanks = " \t") noexcept {
  const std::size_t b = s.find_first_not_of(blanks);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(blanks) - b + 1);
}

}  // namespace otpd::ascii
