#include "daemon/http/message.hpp"

#include <gtest/gtest.h>

namespace otpd::http {
namespace {

TEST(http_message, reason_phrases_of_the_codes_otpd_sends) {
  EXPECT_EQ(reason_phrase(100), "Continue");
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");  // RFC 9110 §15.5.14, not 7231's name
  EXPECT_EQ(reason_phrase(422), "Unprocessable Content");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
}

TEST(http_message, an_unknown_code_has_no_reason_phrase) {
  for (const unsigned code : {0u, 99u, 101u, 418u, 506u, 999u}) {
    EXPECT_EQ(reason_phrase(code), "") << code;
  }
}

}  // namespace
}  // namespace otpd::http
