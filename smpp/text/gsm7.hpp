// The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1 and
// §6.2.1.1), and septet packing (§6.1.2.1.1).
//
// A septet string here is one septet per octet ("unpacked", what most SMSCs expect with
// data_coding 0x00); an extension character is the pair ESC (0x1B) + code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace otpd::smpp::text {

// 3GPP TS 23.038 §6.2.1: 0x1B escapes to the extension table.
inline constexpr std::uint8_t gsm7_escape = 0x1B;

// The septets that carry one character: length 1 (basic table), 2 (ESC + extension code),
// or 0 when the alphabet has no such character.
struct gsm7_code {
  std::uint8_t length = 0;
  std::uint8_t septets[2] = {0, 0};
};
gsm7_code gsm7_encode_char(char32_t cp) noexcept;

// The character of a basic-table septet (septet < 0x80). 0x1B (ESC) yields U+0020: a receiver
// that does not understand the escape shows a space (TS 23.038 §6.2.1 note).
char32_t gsm7_basic_char(std::uint8_t septet) noexcept;

// The character of an extension-table code (after ESC), or 0 when the table has none there.
char32_t gsm7_extension_char(std::uint8_t code) noexcept;

// Packs septets (each < 0x80) and appends the octets to out. fill_bits (0..6) zero bits come
// first so that the text starts on a septet boundary after a UDH (TS 23.040 §9.2.3.24). When
// the last octet would end with 7 spare bits, they carry <CR> rather than zeros, so that a
// receiver does not read a spurious '@' (TS 23.038 §6.1.2.3.1).
void gsm7_pack(std::string_view septets, unsigned fill_bits, std::string& out);

// Unpacks the septets that follow start_bit (bits counted from the least significant bit of
// octets[0], as packed). A final <CR> that exactly fills the last octet is taken to be the
// padding gsm7_pack adds and is dropped; this is the ambiguity §6.1.2.3.1 accepts.
std::string gsm7_unpack(std::string_view octets, std::size_t start_bit);

// Fill bits needed after a UDH of udh_octets octets (UDHL included) so that the first
// septet starts on a septet boundary (TS 23.040 §9.2.3.24).
// Appends the UTF-8 text of unpacked septets. Codes with no character of their own are shown
// as TS 23.038 §6.2.1.1 says (ESC + undefined code: the basic character of the code; ESC ESC
// and a lone final ESC: a space) and counted in *substituted. Returns false, with *bad_index
// set, on an octet above 0x7F: that is not a septet.
bool gsm7_to_utf8(std::string_view septets, std::string& out, std::size_t* substituted,
                  std::size_t* bad_index);

constexpr unsigned gsm7_fill_bits(std::size_t udh_octets) noexcept {
  return static_cast<unsigned>((7 - (udh_octets * 8) % 7) % 7);
}

}  // namespace otpd::smpp::text
