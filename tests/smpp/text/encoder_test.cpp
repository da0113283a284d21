#include "smpp/text/encoder.hpp"

#include <gtest/gtest.h>

#include <string>

#include "test_util.hpp"

namespace otpd::smpp::text {
namespace {

using test::bytes;
using test::hex;

encode_options with(coding_policy p, unencodable_policy u = unencodable_policy::fail) {
  encode_options o;
  o.policy = p;
  o.on_unencodable = u;
  return o;
}

TEST(text_encoder, auto_picks_gsm7_when_everything_fits) {
  encoded_text out;
  error_info info;
  ASSERT_FALSE(encode("Your code is 1234 {valid 5 min} \u20AC@", {}, out, info));
  EXPECT_EQ(out.coding, coding::gsm7);
  EXPECT_EQ(out.data_coding(), 0x00);
  EXPECT_EQ(out.unit_count(), 37u);  // 34 characters, three of them ESC pairs
  EXPECT_TRUE(out.replaced.empty());
}

TEST(text_encoder, auto_falls_back_to_ucs2) {
  encoded_text out;
  error_info info;
  ASSERT_FALSE(encode("M\u00E3", {}, out, info));
  EXPECT_EQ(out.coding, coding::ucs2);
  EXPECT_EQ(out.data_coding(), 0x08);
  EXPECT_EQ(out.units, bytes({0x00, 0x4D, 0x00, 0xE3}));
  EXPECT_EQ(out.unit_count(), 2u);
}

// Auto never replaces, even when replacement is allowed: UCS2 carries everything.
TEST(text_encoder, auto_ignores_the_replacement_policy) {
  encoded_text out;
  error_info info;
  ASSERT_FALSE(
      encode("\u00E7", with(coding_policy::auto_select, unencodable_policy::replace), out, info));
  EXPECT_EQ(out.coding, coding::ucs2);
  EXPECT_TRUE(out.replaced.empty());
}

TEST(text_encoder, emoji_is_a_surrogate_pair) {
  encoded_text out;
  error_info info;
  ASSERT_FALSE(encode("\U0001F600", {}, out, info));
  EXPECT_EQ(hex(out.units), "D8 3D DE 00");
  EXPECT_EQ(out.unit_count(), 2u);
  ASSERT_FALSE(encode("\U0010FFFF\U00010000", with(coding_policy::ucs2), out, info));
  EXPECT_EQ(hex(out.units), "DB FF DF FF D8 00 DC 00");
}

TEST(text_encoder, forced_gsm7_names_the_first_bad_character) {
  encoded_text out;
  error_info info;
  EXPECT_EQ(encode("M\u00E3 x\u00E1c", with(coding_policy::gsm7), out, info),
            errc::unencodable_character);
  EXPECT_EQ(info.offset, 1u);
  EXPECT_EQ(info.code_point, U'\u00E3');
}

TEST(text_encoder, forced_gsm7_replacement_is_listed) {
  encoded_text out;
  error_info info;
  ASSERT_FALSE(encode("M\u00E3 x\u00E1c\U0001F600",
                      with(coding_policy::gsm7, unencodable_policy::replace), out, info));
  EXPECT_EQ(out.coding, coding::gsm7);
  EXPECT_EQ(out.units, "M? x?c?");
  const std::vector<replacement> expected = {{1, U'\u00E3'}, {5, U'\u00E1'}, {8, U'\U0001F600'}};
  EXPECT_EQ(out.replaced, expected);
}

TEST(text_encoder, forced_latin1) {
  encoded_text out;
  error_info info;
  ASSERT_FALSE(encode("M\u00E3 \u00FF\u00A0", with(coding_policy::latin1), out, info));
  EXPECT_EQ(out.coding, coding::latin1);
  EXPECT_EQ(out.data_coding(), 0x03);
  EXPECT_EQ(out.units, bytes({0x4D, 0xE3, 0x20, 0xFF, 0xA0}));
  EXPECT_EQ(encode("5\u20AC", with(coding_policy::latin1), out, info), errc::unencodable_character);
  EXPECT_EQ(info.offset, 1u);
  EXPECT_EQ(info.code_point, U'\u20AC');
  ASSERT_FALSE(
      encode("5\u20AC", with(coding_policy::latin1, unencodable_policy::replace), out, info));
  EXPECT_EQ(out.units, "5?");
  ASSERT_EQ(out.replaced.size(), 1u);
}

TEST(text_encoder, forced_ucs2_for_ascii) {
  encoded_text out;
  error_info info;
  ASSERT_FALSE(encode("A1", with(coding_policy::ucs2), out, info));
  EXPECT_EQ(out.units, bytes({0x00, 0x41, 0x00, 0x31}));
}

TEST(text_encoder, empty_text) {
  encoded_text out;
  error_info info;
  ASSERT_FALSE(encode("", {}, out, info));
  EXPECT_EQ(out.coding, coding::gsm7);
  EXPECT_TRUE(out.units.empty());
}

TEST(text_encoder, error_category_names_the_errors) {
  const boost::system::error_code ec = errc::unencodable_character;
  EXPECT_STREQ(ec.category().name(), "otpd.smpp.text");
  EXPECT_FALSE(ec.message().empty());
  EXPECT_NE(ec, make_error_code(errc::invalid_utf8));
}

}  // namespace
}  // namespace otpd::smpp::text
