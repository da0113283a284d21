// Shared by the SMS text fuzz targets.
#pragma once

#include <string_view>

#include "smpp/text/utf8.hpp"

namespace otpd::fuzz {

// True when every byte of s belongs to a well-formed UTF-8 sequence (RFC 3629 §4).
inline bool valid_utf8(std::string_view s) {
  std::size_t pos = 0;
  char32_t cp = 0;
  while (pos < s.size()) {
    if (!otpd::smpp::text::next_code_point(s, pos, cp)) return false;
  }
  return true;
}

}  // namespace otpd::fuzz
