#include "smpp/text/decoder.hpp"

#include <gtest/gtest.h>

#include <string>

#include "test_util.hpp"

namespace otpd::smpp::text {
namespace {

using test::bytes;

decoded_text dec(const std::string& octets, std::uint8_t dc, bool udhi = false,
                 decode_options opts = {}) {
  decoded_text out;
  error_info info;
  EXPECT_FALSE(decode(octets, dc, udhi, opts, out, info));
  return out;
}

TEST(text_decoder, gsm7_unpacked) {
  EXPECT_EQ(dec(bytes({0x48, 0x69, 0x20, 0x00, 0x1B, 0x65, 0x7F, 0x10}), 0x00).utf8,
            "Hi @\u20AC\u00E0\u0394");
}

TEST(text_decoder, gsm7_packed) {
  decode_options o;
  o.packing = gsm7_packing::packed;
  EXPECT_EQ(dec(bytes({0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37}), 0x00, false, o).utf8,
            "hellohello");
}

TEST(text_decoder, gsm7_packed_after_udh_skips_fill_bits) {
  decode_options o;
  o.packing = gsm7_packing::packed;
  const auto d =
      dec(bytes({0x05, 0x00, 0x03, 0x07, 0x02, 0x02, 0xD0, 0x65, 0x36, 0xFB, 0x0D}), 0x00, true, o);
  EXPECT_EQ(d.utf8, "hello");
  ASSERT_TRUE(d.concat.has_value());
  EXPECT_EQ(*d.concat, (concat_info{7, 2, 2, false}));
}

TEST(text_decoder, ucs2_with_surrogates) {
  EXPECT_EQ(dec(bytes({0x00, 0x4D, 0x00, 0xE3, 0xD8, 0x3D, 0xDE, 0x00}), 0x08).utf8,
            "M\u00E3\U0001F600");
}

TEST(text_decoder, ucs2_lone_surrogates_are_marked_not_dropped) {
  const auto d = dec(bytes({0x00, 0x41, 0xD8, 0x3D, 0x00, 0x42, 0xDE, 0x00}), 0x08);
  EXPECT_EQ(d.utf8, "A\uFFFDB\uFFFD");
  EXPECT_EQ(d.substituted, 2u);
  const auto end = dec(bytes({0xD8, 0x3D}), 0x08);
  EXPECT_EQ(end.utf8, "\uFFFD");
}

TEST(text_decoder, ucs2_odd_length_is_an_error) {
  decoded_text out;
  error_info info;
  EXPECT_EQ(decode(bytes({0x00, 0x41, 0x00}), 0x08, false, {}, out, info), errc::invalid_ucs2);
  EXPECT_EQ(info.offset, 2u);
}

TEST(text_decoder, latin1_and_ia5) {
  EXPECT_EQ(dec(bytes({0x63, 0x61, 0x66, 0xE9}), 0x03).utf8, "caf\u00E9");
  EXPECT_EQ(dec("code 42", 0x01).utf8, "code 42");
}

TEST(text_decoder, binary_and_unknown_codings_as_hex) {
  auto d = dec(bytes({0xDE, 0xAD, 0xBE, 0xEF}), 0x04);
  EXPECT_TRUE(d.is_hex);
  EXPECT_EQ(d.utf8, "DEADBEEF");
  d = dec(bytes({0x01, 0xAB}), 0x06);  // ISO 8859-5: not decoded
  EXPECT_TRUE(d.is_hex);
  EXPECT_EQ(d.utf8, "01AB");
  // With a UDH, only the data after it.
  d = dec(bytes({0x05, 0x00, 0x03, 0x01, 0x01, 0x01, 0xFF}), 0xF5, true);
  EXPECT_TRUE(d.is_hex);
  EXPECT_EQ(d.utf8, "FF");
}

TEST(text_decoder, unknown_coding_as_error_when_asked) {
  decoded_text out;
  error_info info;
  decode_options o;
  o.hex_for_unsupported = false;
  EXPECT_EQ(decode("x", 0x0E, false, o, out, info), errc::unsupported_data_coding);
  EXPECT_EQ(decode("x", 0x02, false, o, out, info), errc::unsupported_data_coding);
  EXPECT_FALSE(decode("x", 0x00, false, o, out, info));
}

TEST(text_decoder, udh_is_stripped_and_concat_found_among_other_ies) {
  // UDH: port addressing (IEI 05, 4 octets) then a 16-bit-ref concat IE.
  const std::string udh =
      bytes({0x0C, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x08, 0x04, 0xAB, 0xCD, 0x03, 0x02});
  const auto d = dec(udh + "hi", 0x00, true);
  EXPECT_EQ(d.utf8, "hi");
  EXPECT_EQ(d.udh, udh);
  ASSERT_TRUE(d.concat.has_value());
  EXPECT_EQ(*d.concat, (concat_info{0xABCD, 3, 2, true}));
}

TEST(text_decoder, udh_without_concat) {
  const auto d = dec(bytes({0x04, 0x05, 0x02, 0x0B, 0x84, 0x00, 0x41}), 0x08, true);
  EXPECT_EQ(d.utf8, "A");
  EXPECT_FALSE(d.concat.has_value());
  // A malformed IE list inside a well-sized UDH: text still decoded, no concat info.
  const auto m = dec(bytes({0x02, 0x00, 0x09, 0x41}), 0x00, true);
  EXPECT_EQ(m.utf8, "A");
  EXPECT_FALSE(m.concat.has_value());
}

TEST(text_decoder, udh_length_past_the_data_is_an_error) {
  decoded_text out;
  error_info info;
  EXPECT_EQ(decode(bytes({0x05, 0x00, 0x03}), 0x00, true, {}, out, info), errc::invalid_udh);
  EXPECT_EQ(decode("", 0x08, true, {}, out, info), errc::invalid_udh);
  // UDH filling the whole message: valid, empty text.
  EXPECT_FALSE(decode(bytes({0x05, 0x00, 0x03, 0x01, 0x02, 0x01}), 0x08, true, {}, out, info));
  EXPECT_TRUE(out.utf8.empty());
}

TEST(text_decoder, gsm_message_class_and_flash_codings) {
  EXPECT_EQ(dec("hi", 0xF0).utf8, "hi");                // TS 23.038 §4 group 1111, class 0
  EXPECT_EQ(dec("hi", 0x10).utf8, "hi");                // general group, class 0
  EXPECT_EQ(dec(bytes({0x00, 0x41}), 0x18).utf8, "A");  // UCS2, class 0
}

TEST(text_decoder, alphabet_of_data_coding) {
  const struct {
    std::uint8_t dc;
    alphabet a;
  } cases[] = {
      {0x00, alphabet::gsm7},        {0x01, alphabet::ascii},       {0x02, alphabet::binary},
      {0x03, alphabet::latin1},      {0x04, alphabet::binary},      {0x05, alphabet::unsupported},
      {0x06, alphabet::unsupported}, {0x07, alphabet::unsupported}, {0x08, alphabet::ucs2},
      {0x09, alphabet::unsupported}, {0x0E, alphabet::unsupported}, {0x0F, alphabet::unsupported},
      {0x10, alphabet::gsm7},        {0x14, alphabet::binary},      {0x18, alphabet::ucs2},
      {0x1C, alphabet::unsupported}, {0x30, alphabet::unsupported}, {0x48, alphabet::ucs2},
      {0x80, alphabet::unsupported}, {0xBF, alphabet::unsupported}, {0xC0, alphabet::gsm7},
      {0xD8, alphabet::gsm7},        {0xE0, alphabet::ucs2},        {0xF0, alphabet::gsm7},
      {0xF3, alphabet::gsm7},        {0xF4, alphabet::binary},      {0xF7, alphabet::binary},
      {0xFB, alphabet::gsm7},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(alphabet_of(c.dc), c.a) << std::hex << static_cast<int>(c.dc);
  }
  EXPECT_EQ(data_coding_of(coding::gsm7), 0x00);
  EXPECT_EQ(data_coding_of(coding::latin1), 0x03);
  EXPECT_EQ(data_coding_of(coding::ucs2), 0x08);
}

}  // namespace
}  // namespace otpd::smpp::text
