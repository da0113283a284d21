#include "smpp/text/gsm7.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "smpp/text/decoder.hpp"
#include "smpp/text/encoder.hpp"
#include "smpp/text/utf8.hpp"
#include "test_util.hpp"

namespace otpd::smpp::text {
namespace {

using test::bytes;
using test::hex;

encoded_text encode_gsm7(const std::string& utf8) {
  encoded_text out;
  error_info info;
  encode_options opts;
  opts.policy = coding_policy::gsm7;
  EXPECT_FALSE(encode(utf8, opts, out, info)) << utf8;
  return out;
}

std::string decode_gsm7(const std::string& octets, gsm7_packing packing = gsm7_packing::unpacked) {
  decoded_text out;
  error_info info;
  decode_options opts;
  opts.packing = packing;
  EXPECT_FALSE(decode(octets, 0x00, false, opts, out, info));
  return out.utf8;
}

// 3GPP TS 23.038 §6.2.1: '@' is septet 0x00, not 0x40.
TEST(text_gsm7, at_sign_is_zero) {
  EXPECT_EQ(encode_gsm7("@").units, bytes({0x00}));
  EXPECT_EQ(encode_gsm7("a@b").units, bytes({0x61, 0x00, 0x62}));
}

// TS 23.038 §6.2.1.1: € is ESC 0x65.
TEST(text_gsm7, euro_is_an_escape_pair) {
  EXPECT_EQ(encode_gsm7("\u20AC").units, bytes({0x1B, 0x65}));
}

TEST(text_gsm7, golden_basic_characters) {
  EXPECT_EQ(encode_gsm7("$\u00A3\u00A5\u00E8\u00E9\u00F9\u00EC\u00F2\u00C7").units,
            bytes({0x02, 0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09}));
  EXPECT_EQ(encode_gsm7("\u0394_\u03A6\u0393\u039B\u03A9\u03A0\u03A8\u03A3\u0398\u039E").units,
            bytes({0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A}));
  EXPECT_EQ(encode_gsm7("\u00A1\u00BF\u00A7\u00A4\u00E0\u00FC").units,
            bytes({0x40, 0x60, 0x5F, 0x24, 0x7F, 0x7E}));
  EXPECT_EQ(encode_gsm7("\n\r").units, bytes({0x0A, 0x0D}));
}

TEST(text_gsm7, every_basic_character_round_trips) {
  int checked = 0;
  for (int s = 0; s < 128; ++s) {
    if (s == gsm7_escape) continue;
    const char32_t cp = gsm7_basic_char(static_cast<std::uint8_t>(s));
    std::string utf8;
    append_utf8(utf8, cp);
    const auto code = gsm7_encode_char(cp);
    ASSERT_EQ(code.length, 1) << "septet " << s;
    EXPECT_EQ(code.septets[0], s);
    EXPECT_EQ(encode_gsm7(utf8).units, std::string(1, static_cast<char>(s)));
    EXPECT_EQ(decode_gsm7(std::string(1, static_cast<char>(s))), utf8);
    ++checked;
  }
  EXPECT_EQ(checked, 127);
}

TEST(text_gsm7, every_extension_character_round_trips) {
  // TS 23.038 §6.2.1.1, Figure 2.
  const struct {
    std::uint8_t code;
    const char* utf8;
  } table[] = {{0x0A, "\f"}, {0x14, "^"}, {0x28, "{"}, {0x29, "}"}, {0x2F, "\\"},
               {0x3C, "["},  {0x3D, "~"}, {0x3E, "]"}, {0x40, "|"}, {0x65, "\u20AC"}};
  for (const auto& e : table) {
    const std::string septets = bytes({0x1B, e.code});
    EXPECT_EQ(encode_gsm7(e.utf8).units, septets) << e.utf8;
    EXPECT_EQ(decode_gsm7(septets), e.utf8);
  }
}

TEST(text_gsm7, characters_outside_the_alphabet) {
  for (const char32_t cp : {U'`', U'\u00E7', U'\u00E1', U'\u0000', U'\u20AD', U'\U0001F600'}) {
    EXPECT_EQ(gsm7_encode_char(cp).length, 0) << static_cast<unsigned>(cp);
  }
}

// The classic packing example (TS 23.038 §6.1.2.1.1).
TEST(text_gsm7, packed_hellohello) {
  std::string out;
  gsm7_pack("hellohello", 0, out);
  EXPECT_EQ(hex(out), "E8 32 9B FD 46 97 D9 EC 37");
  EXPECT_EQ(gsm7_unpack(out, 0), "hellohello");
}

// Seven septets leave 7 spare bits: they hold <CR>, not zeros that would read as '@'
// (TS 23.038 §6.1.2.3.1).
TEST(text_gsm7, seven_septets_are_padded_with_cr) {
  std::string out;
  gsm7_pack("1234567", 0, out);
  EXPECT_EQ(hex(out), "31 D9 8C 56 B3 DD 1A");
  EXPECT_EQ(gsm7_unpack(out, 0), "1234567");
  // Eight septets fill 7 octets exactly: no padding.
  out.clear();
  gsm7_pack("12345678", 0, out);
  EXPECT_EQ(hex(out), "31 D9 8C 56 B3 DD 70");
  EXPECT_EQ(gsm7_unpack(out, 0), "12345678");
}

// Zero bits in the spare space (as some senders pack) do read as '@': the reason for <CR>.
TEST(text_gsm7, zero_padding_from_other_senders_reads_as_at) {
  EXPECT_EQ(decode_gsm7(bytes({0x31, 0xD9, 0x8C, 0x56, 0xB3, 0xDD, 0x00}), gsm7_packing::packed),
            "1234567@");
}

TEST(text_gsm7, fill_bits_shift_the_text) {
  std::string out;
  gsm7_pack("hello", 1, out);
  EXPECT_EQ(hex(out), "D0 65 36 FB 0D");
  EXPECT_EQ(gsm7_unpack(out, 1), "hello");
  EXPECT_EQ(gsm7_fill_bits(6), 1u);  // 8-bit-ref UDH
  EXPECT_EQ(gsm7_fill_bits(7), 0u);  // 16-bit-ref UDH
  EXPECT_EQ(gsm7_fill_bits(1), 6u);
}

TEST(text_gsm7, pack_unpack_round_trips_every_length_and_fill) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> septet(0, 127);
  for (unsigned fill = 0; fill < 7; ++fill) {
    for (std::size_t len = 0; len <= 40; ++len) {
      std::string s;
      for (std::size_t i = 0; i < len; ++i) s.push_back(static_cast<char>(septet(rng)));
      if (!s.empty() && s.back() == '\r') s.back() = 'x';  // the documented ambiguity
      std::string packed;
      gsm7_pack(s, fill, packed);
      EXPECT_EQ(packed.size(), (fill + 7 * len + 7) / 8);
      EXPECT_EQ(gsm7_unpack(packed, fill), s) << "fill " << fill << " len " << len;
    }
  }
}

TEST(text_gsm7, decoding_undefined_escapes_follows_the_spec) {
  decoded_text out;
  error_info info;
  // ESC + a code with no extension character shows the basic character (§6.2.1.1).
  ASSERT_FALSE(decode(bytes({0x1B, 0x41}), 0x00, false, {}, out, info));
  EXPECT_EQ(out.utf8, "A");
  EXPECT_EQ(out.substituted, 1u);
  // ESC ESC and a lone final ESC show a space.
  ASSERT_FALSE(decode(bytes({0x61, 0x1B, 0x1B, 0x62, 0x1B}), 0x00, false, {}, out, info));
  EXPECT_EQ(out.utf8, "a b ");
  EXPECT_EQ(out.substituted, 2u);
}

TEST(text_gsm7, unpacked_octet_above_7f_is_an_error) {
  decoded_text out;
  error_info info;
  EXPECT_EQ(decode(bytes({0x61, 0x62, 0xE9}), 0x00, false, {}, out, info), errc::invalid_gsm7);
  EXPECT_EQ(info.offset, 2u);
  EXPECT_EQ(decode(bytes({0x1B, 0x80}), 0x00, false, {}, out, info), errc::invalid_gsm7);
  EXPECT_EQ(info.offset, 1u);
}

}  // namespace
}  // namespace otpd::smpp::text
