#include "voice/sip/status.hpp"

#include <gtest/gtest.h>

namespace otpd::sip {
namespace {

using boost::system::error_code;

TEST(sip_status, a_peer_status_reads_as_code_and_reason) {
  EXPECT_EQ(error_code(486, status_category()).message(), "486 Busy Here");
  EXPECT_EQ(make_error_code(status::decline).message(), "603 Decline");
  EXPECT_EQ(status_error(499).message(), "499 Client Error");  // RFC 3261 §21: x00 of its class
  EXPECT_STREQ(status_category().name(), "sip.status");
  EXPECT_FALSE(status_error(200));  // a 2xx is success
  EXPECT_TRUE(status_error(486));
}

TEST(sip_status, local_errors_have_their_own_category) {
  const error_code a = errc::missing_content_length;
  const error_code b = status::busy_here;
  EXPECT_EQ(&a.category(), &error_category());
  EXPECT_EQ(&b.category(), &status_category());
  EXPECT_NE(a, b);
  EXPECT_EQ(a.message(), "Content-Length required on a stream transport");
  EXPECT_EQ(error_code(999, error_category()).message(), "unknown sip error 999");
}

TEST(sip_status, outcomes_follow_the_design) {
  EXPECT_EQ(outcome_for(status_error(200)), call_outcome::answered);
  EXPECT_EQ(outcome_for(status_error(486)), call_outcome::busy);
  EXPECT_EQ(outcome_for(status_error(600)), call_outcome::busy);
  EXPECT_EQ(outcome_for(status_error(408)), call_outcome::no_answer);
  EXPECT_EQ(outcome_for(status_error(480)), call_outcome::no_answer);
  EXPECT_EQ(outcome_for(status_error(487)), call_outcome::no_answer);
  EXPECT_EQ(outcome_for(errc::transaction_timeout), call_outcome::no_answer);
  EXPECT_EQ(outcome_for(status_error(603)), call_outcome::rejected);
  EXPECT_EQ(outcome_for(status_error(404)), call_outcome::failed);
  EXPECT_EQ(outcome_for(status_error(503)), call_outcome::failed);
  EXPECT_EQ(outcome_for(errc::transport_error), call_outcome::failed);
  EXPECT_TRUE(is_auth_challenge(status_error(407)));
  EXPECT_TRUE(is_auth_challenge(status_error(401)));
  EXPECT_FALSE(is_auth_challenge(status_error(403)));
}

}  // namespace
}  // namespace otpd::sip
