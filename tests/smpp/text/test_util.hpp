// Helpers shared by the text-layer tests.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

namespace otpd::smpp::text::test {

// Octets from a list of byte values, for golden vectors.
inline std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (const int v : values) s.push_back(static_cast<char>(static_cast<std::uint8_t>(v)));
  return s;
}

inline std::string hex(const std::string& s) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto b = static_cast<std::uint8_t>(c);
    if (!out.empty()) out.push_back(' ');
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0x0F]);
  }
  return out;
}

}  // namespace otpd::smpp::text::test
