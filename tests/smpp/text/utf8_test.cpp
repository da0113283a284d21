#include "smpp/text/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

#include "smpp/text/encoder.hpp"

namespace otpd::smpp::text {
namespace {

struct bad_case {
  const char* name;
  std::string input;
  std::size_t offset;  // where the bad sequence starts
};

class text_invalid_utf8 : public ::testing::TestWithParam<bad_case> {};

TEST_P(text_invalid_utf8, is_rejected_with_its_offset) {
  const bad_case& c = GetParam();
  for (const auto policy : {coding_policy::auto_select, coding_policy::gsm7, coding_policy::latin1,
                            coding_policy::ucs2}) {
    encoded_text out;
    error_info info;
    encode_options opts;
    opts.policy = policy;
    opts.on_unencodable = unencodable_policy::replace;
    EXPECT_EQ(encode(c.input, opts, out, info), errc::invalid_utf8) << c.name;
    EXPECT_EQ(info.offset, c.offset) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    text, text_invalid_utf8,
    ::testing::Values(bad_case{"overlong_2byte_slash", "ab\xC0\xAF", 2},
                      bad_case{"overlong_2byte_c1", "\xC1\xBF", 0},
                      bad_case{"overlong_3byte", "x\xE0\x80\xAF", 1},
                      bad_case{"overlong_3byte_max", "\xE0\x9F\xBF", 0},
                      bad_case{"overlong_4byte", "\xF0\x80\x80\xAF", 0},
                      bad_case{"overlong_4byte_max", "\xF0\x8F\xBF\xBF", 0},
                      bad_case{"surrogate_high", "ok\xED\xA0\x80", 2},
                      bad_case{"surrogate_low", "\xED\xBF\xBF", 0},
                      bad_case{"surrogate_pair_as_cesu8", "\xED\xA0\xBD\xED\xB8\x80", 0},
                      bad_case{"above_10ffff", "\xF4\x90\x80\x80", 0},
                      bad_case{"lead_f5", "\xF5\x80\x80\x80", 0}, bad_case{"byte_fe", "a\xFE", 1},
                      bad_case{"byte_ff", "\xFF", 0}, bad_case{"lone_continuation", "a\x80z", 1},
                      bad_case{"truncated_2byte_at_end", "abc\xC3", 3},
                      bad_case{"truncated_3byte_at_end", "abc\xE2\x82", 3},
                      bad_case{"truncated_4byte_at_end", "\xF0\x9F\x98", 0},
                      bad_case{"truncated_3byte_midway", "\xE2\x82z", 0},
                      bad_case{"after_non_gsm_character", "\xE4\xB8\xAD\xC3", 3}),
    [](const auto& param) { return std::string(param.param.name); });

TEST(text_utf8, boundary_code_points_decode) {
  struct good {
    std::string in;
    char32_t cp;
  };
  const good cases[] = {
      {"\x7F", 0x7F},
      {"\xC2\x80", 0x80},
      {"\xDF\xBF", 0x7FF},
      {"\xE0\xA0\x80", 0x800},
      {"\xED\x9F\xBF", 0xD7FF},
      {"\xEE\x80\x80", 0xE000},
      {"\xEF\xBF\xBF", 0xFFFF},
      {"\xF0\x90\x80\x80", 0x10000},
      {"\xF4\x8F\xBF\xBF", 0x10FFFF},
  };
  for (const auto& c : cases) {
    std::size_t pos = 0;
    char32_t cp = 0;
    ASSERT_TRUE(next_code_point(c.in, pos, cp)) << std::hex << static_cast<unsigned>(c.cp);
    EXPECT_EQ(cp, c.cp);
    EXPECT_EQ(pos, c.in.size());
    std::string back;
    append_utf8(back, cp);
    EXPECT_EQ(back, c.in);
  }
}

TEST(text_utf8, failure_leaves_position_alone) {
  const std::string s = "\xE2\x82";
  std::size_t pos = 0;
  char32_t cp = 0;
  EXPECT_FALSE(next_code_point(s, pos, cp));
  EXPECT_EQ(pos, 0u);
}

TEST(text_utf8, nul_is_a_character_not_an_end) {
  encoded_text out;
  error_info info;
  encode_options opts;
  opts.policy = coding_policy::ucs2;
  ASSERT_FALSE(encode(std::string("a\0b", 3), opts, out, info));
  EXPECT_EQ(out.units, std::string("\0a\0\0\0b", 6));
}

}  // namespace
}  // namespace otpd::smpp::text
