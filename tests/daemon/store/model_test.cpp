// The model's string forms (API and database spellings) and the number mask used in logs.
#include "daemon/model.hpp"

#include <gtest/gtest.h>

namespace otpd::service {
namespace {

TEST(model, verification_status_spellings_round_trip) {
  const verification_status all[] = {verification_status::pending,
                                     verification_status::approved,
                                     verification_status::canceled,
                                     verification_status::expired,
                                     verification_status::max_attempts_reached,
                                     verification_status::blocked,
                                     verification_status::undeliverable};
  for (auto s : all) EXPECT_EQ(verification_status_from(to_string(s)), s) << to_string(s);
  EXPECT_STREQ(to_string(verification_status::max_attempts_reached), "max_attempts_reached");
  EXPECT_EQ(verification_status_from("Pending"), std::nullopt);
  EXPECT_EQ(verification_status_from(""), std::nullopt);
}

TEST(model, attempt_status_spellings_round_trip) {
  for (int i = 0; i <= static_cast<int>(attempt_status::rejected); ++i) {
    auto s = static_cast<attempt_status>(i);
    EXPECT_EQ(attempt_status_from(to_string(s)), s) << to_string(s);
  }
  EXPECT_STREQ(to_string(attempt_status::no_answer), "no_answer");
  EXPECT_EQ(attempt_status_from("delivered "), std::nullopt);
}

TEST(model, channel_spellings_round_trip) {
  EXPECT_STREQ(to_string(channel::sms), "sms");
  EXPECT_STREQ(to_string(channel::voice), "voice");
  EXPECT_EQ(channel_from("voice"), channel::voice);
  EXPECT_EQ(channel_from("sms"), channel::sms);
  EXPECT_EQ(channel_from("fax"), std::nullopt);
}

TEST(model, mask_keeps_four_leading_and_three_trailing_digits) {
  EXPECT_EQ(mask_number("+84912345678"), "+8491****678");
  EXPECT_EQ(mask_number("+84901234567"), "+8490****567");  // docs/architecture.md §3's example
  EXPECT_EQ(mask_number("+14155552671"), "+1415****671");
  EXPECT_EQ(mask_number("+442071838750"), "+4420*****750");
  // Ten digits: the shortest with three hidden.
  EXPECT_EQ(mask_number("+4712345678"), "+4712***678");
}

TEST(model, mask_hides_short_or_malformed_numbers_entirely) {
  EXPECT_EQ(mask_number("+358123456"), "+*********");  // nine digits
  EXPECT_EQ(mask_number("+1"), "+*");
  EXPECT_EQ(mask_number("+"), "+");
  EXPECT_EQ(mask_number(""), "");
  EXPECT_EQ(mask_number("84912345678"), "***********");          // no '+'
  EXPECT_EQ(mask_number("+84 912 345 678"), "+**************");  // not E.164
  EXPECT_EQ(mask_number("+8491234567a"), "+***********");
}

}  // namespace
}  // namespace otpd::service
