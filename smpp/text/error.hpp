// Errors of the text layer (encoding, segmentation, decoding), as their own
// boost::system category: none of them is something an SMSC reported, and none
// of them is ever thrown.
#pragma once

#include <cstddef>
#include <type_traits>

#include <boost/system/error_code.hpp>

namespace otpd::smpp::text {

enum class errc {
  invalid_utf8 = 1,         // input is not well-formed UTF-8 (RFC 3629 §3, Unicode Table 3-7)
  unencodable_character,    // a forced coding cannot carry a character, no replacement allowed
  too_many_parts,           // the text needs more parts than the configured maximum
  invalid_options,          // max_parts outside 1..255 (the UDH/SAR counters are one octet)
  invalid_gsm7,             // an unpacked GSM septet above 0x7F
  invalid_ucs2,             // UCS2 data of odd length
  invalid_udh,              // UDHI set but the UDH length runs past the data (TS 23.040 §9.2.3.24)
  unsupported_data_coding,  // a data_coding we do not turn into text (and hex was not asked for)
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

// Where an error was found: error_code cannot carry it.
struct error_info {
  std::size_t offset = 0;  // byte offset into the input (UTF-8 when encoding, octets when decoding)
  char32_t code_point = 0;  // the character a coding could not carry (unencodable_character)
};

}  // namespace otpd::smpp::text

namespace boost::system {
template <>
struct is_error_code_enum<otpd::smpp::text::errc> : std::true_type {};
}  // namespace boost::system
