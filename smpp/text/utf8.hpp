// Strict UTF-8 reading and writing. Only the well-formed byte sequences of the Unicode
// Standard (Table 3-7, RFC 3629 §4) are accepted: no overlong forms, no encoded surrogates,
// nothing above U+10FFFF, no truncated sequences.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace otpd::smpp::text {

// Reads the code point starting at s[pos]. On success stores it in cp, advances pos past it
// and returns true; on a malformed or truncated sequence returns false and leaves pos alone.
// Precondition: pos < s.size().
bool next_code_point(std::string_view s, std::size_t& pos, char32_t& cp) noexcept;

// Appends cp as UTF-8. Precondition: cp is a Unicode scalar value (not a surrogate, at most
// U+10FFFF); callers pass only values they decoded or mapped from a table.
void append_utf8(std::string& out, char32_t cp);

}  // namespace otpd::smpp::text
