// why_unsendable: the words an operator (configuration check) and an API client (an attempt's
// error) get for a text a bind cannot send.
#include <gtest/gtest.h>

#include "smpp/text/explain.hpp"

namespace otpd::smpp::text {
namespace {

encode_options forced(coding_policy p, bool transliterate = false) {
  encode_options o;
  o.policy = p;
  o.transliterate = transliterate;
  return o;
}

split_options parts(std::size_t max) {
  split_options s;
  s.max_parts = max;
  return s;
}

TEST(why_unsendable, names_the_character_and_the_coding) {
  const std::string vi =
      "M\xc3\xa3 x\xc3\xa1"
      "c th\xe1\xbb\xb1"
      "c: 123456";  // "Mã xác thực"
  EXPECT_EQ(why_unsendable(vi, forced(coding_policy::gsm7), parts(10)),
            "character not representable in gsm7: '\xc3\xa3' (U+00E3)");
  EXPECT_EQ(why_unsendable("th\xe1\xbb\xb1"
                           "c 1234",
                           forced(coding_policy::latin1), parts(10)),
            "character not representable in latin1: '\xe1\xbb\xb1' (U+1EF1)");
  // Transliteration first, UCS2 or automatic coding: it goes out.
  EXPECT_EQ(why_unsendable(vi, forced(coding_policy::gsm7, true), parts(10)), "");
  EXPECT_EQ(why_unsendable(vi, forced(coding_policy::ucs2), parts(10)), "");
  EXPECT_EQ(why_unsendable(vi, forced(coding_policy::auto_select), parts(10)), "");
  // Replacement ('?') was asked for: nothing is refused.
  encode_options replace = forced(coding_policy::gsm7);
  replace.on_unencodable = unencodable_policy::replace;
  EXPECT_EQ(why_unsendable(vi, replace, parts(10)), "");
}

TEST(why_unsendable, a_control_character_is_named_by_its_number) {
  EXPECT_EQ(why_unsendable(std::string("a\x01"
                                       "b"),
                           forced(coding_policy::gsm7), parts(10)),
            "character not representable in gsm7: U+0001");
}

TEST(why_unsendable, names_the_parts_needed_and_allowed) {
  const std::string long_text(161, 'a');  // one septet more than a single part
  EXPECT_EQ(why_unsendable(long_text, forced(coding_policy::gsm7), parts(1)),
            "text needs 2 parts, max_parts is 1");
  EXPECT_EQ(why_unsendable(std::string(320, 'a'), forced(coding_policy::gsm7), parts(2)),
            "text needs 3 parts, max_parts is 2");
  EXPECT_EQ(why_unsendable(long_text, forced(coding_policy::gsm7), parts(2)), "");
  EXPECT_EQ(why_unsendable(std::string(160, 'a'), forced(coding_policy::gsm7), parts(1)), "");
}

TEST(why_unsendable, invalid_utf8_says_where) {
  EXPECT_EQ(why_unsendable("ab\xff", forced(coding_policy::ucs2), parts(10)),
            "text is not valid UTF-8 at byte 2");
}

}  // namespace
}  // namespace otpd::smpp::text
