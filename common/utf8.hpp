// UTF-8 validation shared by the code that takes bytes from peers into text (log lines, the
// PostgreSQL store's text columns).
#pragma once

#include <cstddef>
#include <string_view>

namespace otpd::utf8 {

// The length of the valid multi-byte UTF-8 sequence at s[i], or 0 when there is none there
// (ASCII included; RFC 3629 §4: no overlongs, no surrogates, nothing above U+10FFFF).
inline std::size_t multibyte_length(std::string_view s, std::size_t i) noexcept {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace otpd::utf8
