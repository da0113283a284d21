// Optional transliteration of Vietnamese text (and of typographic characters that OTP
// templates pick up from word processors) to plain ASCII, so that a message fits the GSM
// 7-bit alphabet: "Mã xác thực của bạn" -> "Ma xac thuc cua ban".
//
// Table-driven: every precomposed Vietnamese letter (the vowels a ă â e ê i o ô ơ u ư y with
// each of the five tones, both cases, and đ/Đ: 134 letters) maps to its base ASCII letter;
// the combining marks of decomposed input (U+0300 U+0301 U+0302 U+0303 U+0306 U+0309 U+031B
// U+0323) are dropped; curly quotes, dashes, no-break and thin spaces and the ellipsis map to
// ASCII. When enabled it applies to the whole text, also to letters such as 'é' that GSM-7
// could carry, so that a Vietnamese message reads consistently.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "smpp/text/error.hpp"

namespace otpd::smpp::text {

// The ASCII replacement of cp ("" for a dropped combining mark), or nullopt when the table
// leaves cp as it is.
std::optional<std::string_view> transliteration_of(char32_t cp) noexcept;

// Transliterates UTF-8 text into out (replacing its contents). Fails with errc::invalid_utf8,
// info.offset at the start of the bad sequence.
boost::system::error_code transliterate(std::string_view utf8, std::string& out, error_info& info);

}  // namespace otpd::smpp::text
