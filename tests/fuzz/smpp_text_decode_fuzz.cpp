// Received SMS octets -> UTF-8 (smpp/text/decoder, gsm7, ucs2): the GSM 7-bit (packed and
// unpacked) and UCS2 decoders and the UDH reader. Byte 0 is data_coding, byte 1 the flags
// (bit 0 UDHI, bit 1 packed GSM 7-bit, bit 2 hex for unsupported codings), the rest the
// octets. Whatever the input, the text produced is well-formed UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "smpp/text/decoder.hpp"
#include "smpp/text/gsm7.hpp"
#include "smpp/text/ucs2.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/text_util.hpp"

namespace text = otpd::smpp::text;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t data_coding = data[0];
  const std::uint8_t flags = data[1];
  const std::string_view octets(reinterpret_cast<const char*>(data + 2), size - 2);

  text::decode_options opts;
  opts.packing = flags & 2 ? text::gsm7_packing::packed : text::gsm7_packing::unpacked;
  opts.hex_for_unsupported = flags & 4;
  text::decoded_text out;
  text::error_info info;
  if (!text::decode(octets, data_coding, flags & 1, opts, out, info)) {
    if (!out.is_hex) FUZZ_CHECK(otpd::fuzz::valid_utf8(out.utf8));
    FUZZ_CHECK(out.udh.size() <= octets.size());
    if (out.concat) FUZZ_CHECK(!out.udh.empty());
  } else {
    FUZZ_CHECK(info.offset <= octets.size());
  }

  // The building blocks on their own.
  std::string s;
  std::size_t substituted = 0;
  if (text::utf16be_to_utf8(octets, s, &substituted)) FUZZ_CHECK(otpd::fuzz::valid_utf8(s));

  const std::string septets = text::gsm7_unpack(octets, flags % 7);
  for (unsigned char c : septets) FUZZ_CHECK(c < 0x80);
  s.clear();
  std::size_t bad = 0;
  FUZZ_CHECK(text::gsm7_to_utf8(septets, s, &substituted, &bad));
  FUZZ_CHECK(otpd::fuzz::valid_utf8(s));

  // Packing the unpacked septets again gives them back (up to the CR padding rule of
  // TS 23.038 §6.1.2.3.1).
  std::string packed;
  text::gsm7_pack(septets, 0, packed);
  std::string back = text::gsm7_unpack(packed, 0);
  if (back.size() + 1 == septets.size() && septets.back() == '\r') back.push_back('\r');
  FUZZ_CHECK(back == septets);
  return 0;
}
