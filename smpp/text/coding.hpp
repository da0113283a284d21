// The codings the text layer produces, and what a received data_coding means.
#pragma once

#include <cstdint>

namespace otpd::smpp::text {

enum class coding : std::uint8_t {
  gsm7,    // GSM 7-bit default alphabet + extension table (3GPP TS 23.038 §6.2.1)
  latin1,  // ISO 8859-1
  ucs2,    // UTF-16BE, no BOM, surrogate pairs
};

// The data_coding value sent with each coding (SMPP 3.4 §5.2.19): 0x00 "SMSC default
// alphabet" (taken to be GSM 03.38), 0x03 Latin 1, 0x08 UCS2.
constexpr std::uint8_t data_coding_of(coding c) noexcept {
  switch (c) {
    case coding::gsm7:
      return 0x00;
    case coding::latin1:
      return 0x03;
    case coding::ucs2:
      return 0x08;
  }
  return 0x00;
}

// How GSM 7-bit text is laid out in short_message / message_payload. SMPP carries no septet
// count, so this is a per-bind agreement; unpacked is what most SMSCs expect.
enum class gsm7_packing : std::uint8_t {
  unpacked,  // one septet per octet
  packed,    // 8 septets in 7 octets (TS 23.038 §6.1.2.1.1)
};

// What a received data_coding carries, as far as turning it into text goes.
enum class alphabet : std::uint8_t {
  gsm7,         // SMPP 0x00; TS 23.038 general/MWI/class groups with the default alphabet
  ascii,        // SMPP 0x01 IA5 (decoded as Latin-1, its superset, rather than rejected)
  latin1,       // SMPP 0x03
  ucs2,         // SMPP 0x08; TS 23.038 groups with UCS2
  binary,       // SMPP 0x02 / 0x04; TS 23.038 8-bit data
  unsupported,  // JIS, Cyrillic, Hebrew, KS C 5601, compressed, reserved values
};

// SMPP 3.4 §5.2.19 for 0x00..0x0F; above that, the 3GPP TS 23.038 §4 coding groups, which
// SMSCs pass through unchanged (0x10 / 0x18 flash messages, 0xF0..0xF7 message classes, ...).
constexpr alphabet alphabet_of(std::uint8_t dc) noexcept {
  switch (dc) {
    case 0x00:
      return alphabet::gsm7;
    case 0x01:
      return alphabet::ascii;
    case 0x02:
    case 0x04:
      return alphabet::binary;
    case 0x03:
      return alphabet::latin1;
    case 0x08:
      return alphabet::ucs2;
    default:
      break;
  }
  if (dc < 0x10) return alphabet::unsupported;
  if (dc < 0x80) {
    // 00xx xxxx general data coding, 01xx xxxx automatic deletion: bit 5 = compressed,
    // bits 3..2 = alphabet.
    if (dc & 0x20) return alphabet::unsupported;
    switch ((dc >> 2) & 0x03) {
      case 0:
        return alphabet::gsm7;
      case 1:
        return alphabet::binary;
      case 2:
        return alphabet::ucs2;
      default:
        return alphabet::unsupported;
    }
  }
  if (dc < 0xC0) return alphabet::unsupported;             // 1000..1011: reserved
  if (dc < 0xE0) return alphabet::gsm7;                    // 1100, 1101: MWI, default alphabet
  if (dc < 0xF0) return alphabet::ucs2;                    // 1110: MWI store, UCS2
  return (dc & 0x04) ? alphabet::binary : alphabet::gsm7;  // 1111: message class
}

}  // namespace otpd::smpp::text
