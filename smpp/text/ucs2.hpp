// UCS2 as SMSCs use it today: UTF-16 big-endian without a byte order mark, characters outside
// the BMP as surrogate pairs (data_coding 0x08, SMPP 3.4 §5.2.19; RFC 2781 §2.1).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace otpd::smpp::text {

// Appends cp (a Unicode scalar value) as UTF-16BE and returns the number of 16-bit code
// units written: 1, or 2 for a surrogate pair.
std::size_t append_utf16be(char32_t cp, std::string& out);

// Code units for cp (1 or 2), without writing anything.
constexpr std::size_t utf16_units(char32_t cp) noexcept { return cp >= 0x10000 ? 2 : 1; }

// UTF-16 surrogate ranges (RFC 2781 §2): high (leading) D800..DBFF, low DC00..DFFF.
constexpr bool is_high_surrogate(unsigned unit) noexcept {
  return unit >= 0xD800 && unit <= 0xDBFF;
}
constexpr bool is_low_surrogate(unsigned unit) noexcept { return unit >= 0xDC00 && unit <= 0xDFFF; }

// Appends the UTF-8 text of UTF-16BE octets. A surrogate without its partner (another sender
// may have split a pair across parts) becomes U+FFFD and is counted in *substituted.
// Returns false on an odd number of octets.
bool utf16be_to_utf8(std::string_view octets, std::string& out, std::size_t* substituted);

}  // namespace otpd::smpp::text
