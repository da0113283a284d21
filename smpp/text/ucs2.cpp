#include "smpp/text/ucs2.hpp"

#include <cstdint>

#include "smpp/text/utf8.hpp"

namespace otpd::smpp::text {
namespace {

void put_unit(std::string& out, unsigned unit) {
  out.push_back(static_cast<char>((unit >> 8) & 0xFF));
  out.push_back(static_cast<char>(unit & 0xFF));
}

}  // namespace

std::size_t append_utf16be(char32_t cp, std::string& out) {
  if (cp < 0x10000) {
    put_unit(out, static_cast<unsigned>(cp));
    return 1;
  }
  // RFC 2781 §2.1: U' = U - 0x10000 split into two 10-bit halves.
  const auto v = static_cast<unsigned>(cp - 0x10000);
  put_unit(out, 0xD800 | (v >> 10));
  put_unit(out, 0xDC00 | (v & 0x3FF));
  return 2;
}

bool utf16be_to_utf8(std::string_view octets, std::string& out, std::size_t* substituted) {
  if (octets.size() % 2 != 0) return false;
  const auto unit_at = [&](std::size_t i) {
    return (static_cast<unsigned>(static_cast<std::uint8_t>(octets[i])) << 8) |
           static_cast<std::uint8_t>(octets[i + 1]);
  };
  std::size_t subs = 0;
  for (std::size_t i = 0; i < octets.size(); i += 2) {
    const unsigned u = unit_at(i);
    if (is_high_surrogate(u) && i + 2 < octets.size() && is_low_surrogate(unit_at(i + 2))) {
      const unsigned lo = unit_at(i + 2);
      append_utf8(out, 0x10000 + ((static_cast<char32_t>(u) - 0xD800) << 10) + (lo - 0xDC00));
      i += 2;
    } else if (is_high_surrogate(u) || is_low_surrogate(u)) {
      append_utf8(out, U'\uFFFD');
      ++subs;
    } else {
      append_utf8(out, u);
    }
  }
  if (substituted) *substituted += subs;
  return true;
}

}  // namespace otpd::smpp::text
