#include "daemon/routing/number.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace otpd::routing {
namespace {

struct good_case {
  const char* input;
  const char* e164;
};

class normalise_vietnam : public ::testing::TestWithParam<good_case> {};

TEST_P(normalise_vietnam, to_e164) {
  const config::number_plan plan;  // +84, trunk prefix 0, NSN 8..11 digits
  const auto r = normalise_number(GetParam().input, plan);
  ASSERT_TRUE(r) << GetParam().input << ": " << to_string(*r.error);
  EXPECT_EQ(r.e164, GetParam().e164) << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    typed, normalise_vietnam,
    ::testing::Values(
        good_case{"0912 345 678", "+84912345678"}, good_case{"84912345678", "+84912345678"},
        good_case{"+84 912-345-678", "+84912345678"},
        good_case{"(+84) 912.345.678", "+84912345678"}, good_case{"0084912345678", "+84912345678"},
        good_case{"00 84 912 345 678", "+84912345678"}, good_case{"+84912345678", "+84912345678"},
        good_case{"912345678", "+84912345678"}, good_case{"+84 (0) 912 345 678", "+84912345678"},
        good_case{"840912345678", "+84912345678"}, good_case{"  0912/345/678\t", "+84912345678"},
        good_case{"0243 825 3456", "+842438253456"},  // Hanoi fixed line
        good_case{"+1 (650) 253-0000", "+16502530000"},
        good_case{"001 650 253 0000", "+16502530000"},
        good_case{"+6837001", "+6837001"},                    // 7 digits: Niue
        good_case{"+123456789012345", "+123456789012345"}));  // 15: the max

struct bad_case {
  const char* input;
  number_error error;
  std::size_t position = 0;
};

class normalise_invalid : public ::testing::TestWithParam<bad_case> {};

TEST_P(normalise_invalid, precise_reason) {
  const config::number_plan plan;
  const auto r = normalise_number(GetParam().input, plan);
  ASSERT_FALSE(r) << GetParam().input << " -> " << r.e164;
  EXPECT_EQ(*r.error, GetParam().error)
      << GetParam().input << ": " << to_string(*r.error) << " != " << to_string(GetParam().error);
  if (GetParam().error == number_error::invalid_character ||
      GetParam().error == number_error::misplaced_plus) {
    EXPECT_EQ(r.position, GetParam().position) << GetParam().input;
  }
  EXPECT_TRUE(r.e164.empty());
}

INSTANTIATE_TEST_SUITE_P(
    typed, normalise_invalid,
    ::testing::Values(
        bad_case{"", number_error::empty}, bad_case{"   ", number_error::empty},
        bad_case{" - ( ) ", number_error::empty}, bad_case{"+", number_error::too_short},
        bad_case{"0912a45678", number_error::invalid_character, 4},
        bad_case{"0912_345_678", number_error::invalid_character, 4},
        bad_case{"tel:0912345678", number_error::invalid_character, 0},
        bad_case{"\xef\xbc\x90\x39\x31\x32", number_error::invalid_character, 0},
        bad_case{"0912345678\n", number_error::invalid_character, 10},
        bad_case{"09123+45678", number_error::misplaced_plus, 5},
        bad_case{"++84912345678", number_error::misplaced_plus, 1},
        bad_case{"+84+912345678", number_error::misplaced_plus, 3},
        bad_case{"+0912345678", number_error::invalid_country_code},
        bad_case{"000912345678", number_error::invalid_country_code},
        bad_case{"0", number_error::too_short}, bad_case{"00", number_error::too_short},
        bad_case{"0912345", number_error::too_short},  // NSN of 6 digits
        bad_case{"+84912", number_error::too_short}, bad_case{"1234", number_error::too_short},
        bad_case{"+123456", number_error::too_short},           // 6 digits abroad
        bad_case{"0912345678901", number_error::too_long},      // NSN of 12
        bad_case{"+1234567890123456", number_error::too_long},  // 16 digits
        bad_case{"0084912345678901", number_error::too_long}));

TEST(normalise, overlong_input_is_refused_unread) {
  const config::number_plan plan;
  const std::string padded = std::string(max_input_length - 10, ' ') + "0912345678";
  EXPECT_TRUE(normalise_number(padded, plan));
  EXPECT_EQ(normalise_number(" " + padded, plan).error, number_error::too_long);
}

TEST(normalise, boundaries_of_the_national_number) {
  const config::number_plan plan;                         // NSN 8..11
  EXPECT_TRUE(normalise_number("012345678", plan));       // 8 digits
  EXPECT_FALSE(normalise_number("01234567", plan));       // 7
  EXPECT_TRUE(normalise_number("012345678901", plan));    // 11
  EXPECT_FALSE(normalise_number("0123456789012", plan));  // 12
  EXPECT_EQ(normalise_number("0123456789012", plan).error, number_error::too_long);
}

TEST(normalise, plan_without_trunk_prefix) {
  // Italy-like: no trunk prefix, NSNs may start with 0 and keep it.
  config::number_plan plan;
  plan.default_country_code = "39";
  plan.national_prefix = "";
  plan.min_digits = 6;
  plan.max_digits = 11;
  auto r = normalise_number("06 1234 5678", plan);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.e164, "+390612345678");
  r = normalise_number("+39 06 1234 5678", plan);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.e164, "+390612345678");
  r = normalise_number("0039 06 1234 5678", plan);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.e164, "+390612345678");
}

TEST(normalise, reasons_have_distinct_names_and_no_digits) {
  std::set<std::string> names, texts;
  for (auto e :
       {number_error::empty, number_error::invalid_character, number_error::misplaced_plus,
        number_error::invalid_country_code, number_error::too_short, number_error::too_long}) {
    names.insert(to_string(e));
    const std::string text = describe(e);
    texts.insert(text);
    EXPECT_EQ(text.find_first_of("123456789"), std::string::npos) << text;
  }
  EXPECT_EQ(names.size(), 6u);
  EXPECT_EQ(texts.size(), 6u);
}

}  // namespace
}  // namespace otpd::routing
