// kill -9 and restart on the same SQLite database: every accepted verification is still there
// and checkable, receipts that the SMSC delivers only after the restart (held back with
// --receipt-delay-ms, queued while otpd is gone and sent on its next bind) find their attempts,
// and webhook events that could not be delivered before the kill go out after the restart.
#include <gtest/gtest.h>

#include <set>

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

// The events are in the store with the changes they report: an approval whose webhook could
// not be delivered (nothing listens at the URL) is delivered by the next process, once each.
TEST(e2e_restart, webhook_events_outlive_a_kill9) {
  temp_dir dir;
  smsc_process smsc(smsc_flags({}));
  otpd_options opts;
  opts.carriers = {vietnam_carrier(smsc.port())};
  opts.webhook_url = "http://127.0.0.1:9/hook";  // discard: nothing listens, connect is refused
  std::vector<std::string> ids;
  {
    otpd_process first(opts, dir.path());
    ASSERT_TRUE(first.wait_ready()) << first.output();
    const std::vector<std::string> numbers = {"0912000001", "0913000002"};
    for (const auto& n : numbers) {
      ids.push_back(create(first, {{"to", n}}));
      ASSERT_FALSE(ids.back().empty());
    }
    ASSERT_TRUE(smsc.wait_for(nth_event("submit", numbers.size()), 15s)) << first.output();
    auto codes = codes_by_destination(smsc);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      http_response r = check(first, ids[i], codes["84" + numbers[i].substr(1)]);
      ASSERT_EQ(r.status, 200) << r.body;
      // Acknowledged: the approval and its event are committed together.
      ASSERT_EQ(str(r.obj(), "status"), "approved");
    }
    first.kill9();
  }
  webhook_receiver hooks;
  opts.webhook_url = "http://127.0.0.1:" + std::to_string(hooks.port()) + "/hook";
  otpd_process second(opts, dir.path());
  ASSERT_TRUE(second.wait_ready()) << second.output();
  for (const auto& id : ids) {
    auto approved = hooks.wait_for(
        [&](const received_request& r) {
          return r.body.find("\"" + id + "\"") != std::string::npos &&
                 r.body.find("\"approved\"") != std::string::npos;
        },
        20s);
    EXPECT_TRUE(approved) << id << "\n" << second.output();
  }
  // Once each: every event reports a different state, so a body seen twice is an event sent
  // twice.
  std::set<std::string> bodies;
  for (const auto& r : hooks.requests()) EXPECT_TRUE(bodies.insert(r.body).second) << r.body;
}

}  // namespace
}  // namespace otpd::test::e2e
