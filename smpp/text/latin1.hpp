// ISO 8859-1 (data_coding 0x03, SMPP 3.4 §5.2.19): one octet per character, U+0000..U+00FF.
#pragma once

#include <string>
#include <string_view>

namespace otpd::smpp::text {

constexpr bool latin1_encodable(char32_t cp) noexcept { return cp <= 0xFF; }

// Appends the UTF-8 text of Latin-1 octets (every octet is a character).
void latin1_to_utf8(std::string_view octets, std::string& out);

}  // namespace otpd::smpp::text
