// kill -9 and restart on the same SQLite database: every accepted verification is still there
// and checkable, and receipts that the SMSC delivers only after the restart (held back with
// --receipt-delay-ms, queued while otpd is gone and sent on its next bind) find their attempts.
#include <gtest/gtest.h>

#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

TEST(e2e_restart, kill9_loses_nothing_and_late_receipts_match) {
  temp_dir dir;
  // Receipts leave the SMSC 4 s after each submit_sm_resp: otpd is killed well before.
  smsc_process smsc(smsc_flags({"--receipt-delay-ms", "4000"}));
  otpd_options opts;
  opts.carriers = {vietnam_carrier(smsc.port())};

  const std::vector<std::string> numbers = {"0912000001", "0913000002", "0914000003"};
  std::vector<std::string> ids;
  std::map<std::string, std::string> code_by_dest;  // 849... -> code
  {
    otpd_process first(opts, dir.path());
    ASSERT_TRUE(first.wait_ready()) << first.output();
    for (const auto& n : numbers) {
      ids.push_back(create(first, {{"to", n}}));
      ASSERT_FALSE(ids.back().empty());
    }
    ASSERT_TRUE(smsc.wait_for(nth_event("submit", numbers.size()), 15s)) << first.output();
    // Every verification is submitted (its message id and correlation are stored).
    for (const auto& id : ids) {
      json::object v = first.poll_verification(
          id, [](const json::object& b) { return attempt_status_is(b, 0, "submitted"); });
      ASSERT_EQ(str(attempt(v, 0), "status"), "submitted") << json::serialize(v);
    }
    first.kill9();
  }
  code_by_dest = codes_by_destination(smsc);
  ASSERT_EQ(code_by_dest.size(), numbers.size());
  ASSERT_EQ(smsc.count("receipt_sent"), 0u) << "a receipt left before the kill: the test is void";

  // With otpd gone, the SMSC holds the receipts for the account's next bind.
  ASSERT_TRUE(smsc.wait_for(nth_event("receipt_queued", numbers.size()), 15s))
      << "the receipts were not queued";

  otpd_process second(opts, dir.path());
  ASSERT_TRUE(second.wait_ready()) << second.output();

  // The late receipts reach the new process and find their attempts.
  for (const auto& id : ids) {
    json::object v = second.poll_verification(
        id, [](const json::object& b) { return attempt_status_is(b, 0, "delivered"); });
    EXPECT_EQ(str(attempt(v, 0), "status"), "delivered") << json::serialize(v) << second.output();
    EXPECT_EQ(str(v, "status"), "pending");
  }
  smsc.sync();
  EXPECT_EQ(smsc.count("receipt_sent"), numbers.size());
  for (const auto& line : second.lines()) {
    EXPECT_EQ(line.find("receipt_unmatched"), std::string::npos) << line;
  }

  // Every code still approves.
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::string dest = "84" + numbers[i].substr(1);
    http_response r = check(second, ids[i], code_by_dest[dest]);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(str(r.obj(), "status"), "approved");
  }
}

}  // namespace
}  // namespace otpd::test::e2e
