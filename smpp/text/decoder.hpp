// Received short_message / message_payload octets -> UTF-8, for MO messages and for display
// in integrator tools.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "smpp/text/coding.hpp"
#include "smpp/text/error.hpp"

namespace otpd::smpp::text {

struct decode_options {
  gsm7_packing packing = gsm7_packing::unpacked;  // for GSM 7-bit data: the bind's agreement
  // Binary (8-bit data) and codings we do not decode (JIS, Cyrillic, Hebrew, KS C 5601,
  // compressed, reserved values): true gives the octets after any UDH as uppercase hex with
  // decoded_text::is_hex set; false gives errc::unsupported_data_coding.
  bool hex_for_unsupported = true;
};

// A concatenation IE found in the UDH (TS 23.040 §9.2.3.24.1 / §9.2.3.24.8).
struct concat_info {
  std::uint16_t reference = 0;
  std::uint8_t total = 0;
  std::uint8_t seqnum = 0;
  bool reference_16bit = false;
  friend bool operator==(const concat_info&, const concat_info&) = default;
};

struct decoded_text {
  std::string utf8;             // the text (or hex digits, see is_hex)
  bool is_hex = false;          // utf8 holds the octets in hex, not text
  std::size_t substituted = 0;  // units shown as a stand-in (lone surrogate -> U+FFFD, GSM
                                // ESC + undefined code -> its basic character, TS 23.038 §6.2.1.1)
  std::string udh;              // the raw UDH (UDHL first) when udhi was set
  std::optional<concat_info> concat;
};

// Decodes octets sent with data_coding; udhi = esm_class & 0x40 (SMPP 3.4 §5.2.12), in which
// case the UDH is stripped and returned separately. Errors (info.offset into octets):
// errc::invalid_udh (UDHL runs past the data), errc::invalid_gsm7 (unpacked octet above
// 0x7F), errc::invalid_ucs2 (odd octet count), errc::unsupported_data_coding. out is
// replaced.
boost::system::error_code decode(std::string_view octets, std::uint8_t data_coding, bool udhi,
                                 const decode_options& opts, decoded_text& out, error_info& info);

}  // namespace otpd::smpp::text
