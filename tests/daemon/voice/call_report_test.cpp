#include "daemon/voice/call_report.hpp"

#include <gtest/gtest.h>

#include <map>

namespace otpd::service {
namespace {

using voice::call_state;
using counts = std::vector<std::pair<std::string, std::string>>;

TEST(call_report, the_only_trunk_refusing_counts_failed_once) {
  // A 403 on the only trunk: one call, one count, and no failed_over.
  EXPECT_EQ(calls_counted({}, "only", call_state::failed), (counts{{"only", "failed"}}));
}

TEST(call_report, failed_over_is_for_the_trunks_that_passed_the_call_on) {
  EXPECT_EQ(calls_counted({"first", "second"}, "third", call_state::completed),
            (counts{{"first", "failed_over"}, {"second", "failed_over"}, {"third", "completed"}}));
  // Every trunk given the call counts it once: the sum over outcomes is the calls placed.
  const counts c = calls_counted({"a"}, "b", call_state::failed);
  std::map<std::string, int> per_trunk;
  for (const auto& [t, o] : c) ++per_trunk[t];
  EXPECT_EQ(per_trunk, (std::map<std::string, int>{{"a", 1}, {"b", 1}}));
}

TEST(call_report, no_trunk_is_counted_as_none) {
  EXPECT_EQ(calls_counted({}, "", call_state::failed), (counts{{"none", "failed"}}));
}

TEST(call_report, attempt_statuses) {
  EXPECT_EQ(attempt_status_for(call_state::completed), attempt_status::completed);
  EXPECT_EQ(attempt_status_for(call_state::hung_up_early), attempt_status::hung_up_early);
  EXPECT_EQ(attempt_status_for(call_state::busy), attempt_status::busy);
  EXPECT_EQ(attempt_status_for(call_state::no_answer), attempt_status::no_answer);
  EXPECT_EQ(attempt_status_for(call_state::rejected), attempt_status::rejected);
  EXPECT_EQ(attempt_status_for(call_state::failed), attempt_status::failed);
  EXPECT_EQ(attempt_status_for(call_state::answered), attempt_status::failed);  // not final
  EXPECT_STREQ(to_string(attempt_status::hung_up_early), "hung_up_early");
  EXPECT_EQ(attempt_status_from("hung_up_early"), attempt_status::hung_up_early);
}

}  // namespace
}  // namespace otpd::service
