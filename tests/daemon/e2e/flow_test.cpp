// The verification flow end to end: otpd as built, real HTTP on 127.0.0.1, the node-smpp SMSC
// stand-in as the carrier. Create, SMS, receipt, checks, expiry, resend cooldown, idempotency.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

TEST(e2e_flow, create_sms_receipt_then_checks) {
  single_world w;
  otpd_process& o = *w.otpd;

  http_response created = o.post("/v1/verifications", json::object{{"to", "0912 345 678"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = str(created.obj(), "id");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(str(created.obj(), "status"), "pending");
  EXPECT_EQ(str(created.obj(), "to"), "+8491****678");
  EXPECT_FALSE(str(created.obj(), "next_resend_at").empty());
  EXPECT_EQ(str(attempt(created.obj(), 0), "channel"), "sms");

  // The SMSC receives the submit_sm: international destination, the code in the text, a
  // validity period (the remaining TTL) and a receipt asked for.
  auto submit = w.smsc.wait_for_event("submit", 15s);
  ASSERT_TRUE(submit) << o.output();
  EXPECT_EQ(dest_of(*submit), "84912345678");
  EXPECT_EQ(num(*submit, "registered_delivery") & 1, 1);
  // validity_period: the remaining TTL (5 min), in SMPP's relative form YYMMDDhhmmss000R.
  const std::string vp = str(*submit, "validity_period");
  ASSERT_EQ(vp.size(), 16u) << vp;
  EXPECT_EQ(vp.back(), 'R') << vp;
  const int vp_seconds = std::atoi(vp.substr(6, 2).c_str()) * 3600 +
                         std::atoi(vp.substr(8, 2).c_str()) * 60 +
                         std::atoi(vp.substr(10, 2).c_str());
  EXPECT_EQ(vp.substr(0, 6), "000000") << vp;
  EXPECT_GE(vp_seconds, 290) << vp;
  EXPECT_LE(vp_seconds, 300) << vp;
  const std::string code = code_in(sms_text(*submit));
  ASSERT_EQ(code.size(), 6u) << sms_text(*submit);

  // The receipt (DELIVRD) comes back on the transceiver and moves the attempt to delivered.
  ASSERT_TRUE(
      w.smsc.wait_for(event_with("deliver_sm_resp", {{"kind", "receipt"}, {"status", 0}}), 15s));
  json::object v = o.poll_verification(
      id, [](const json::object& b) { return attempt_status_is(b, 0, "delivered"); });
  EXPECT_EQ(str(attempt(v, 0), "status"), "delivered") << json::serialize(v);
  EXPECT_EQ(str(attempt(v, 0), "dlr_stat"), "DELIVRD");
  EXPECT_EQ(str(attempt(v, 0), "carrier"), "vn");
  EXPECT_EQ(str(v, "status"), "pending");

  // A wrong code: 422 with the checks left.
  http_response wrong = check(o, id, wrong_code(code));
  EXPECT_EQ(wrong.status, 422) << wrong.body;
  EXPECT_EQ(wrong.problem_slug(), "incorrect_code");
  EXPECT_EQ(num(wrong.obj(), "checks_remaining"), 4);
  EXPECT_EQ(wrong.header("content-type").value_or(""), "application/problem+json");

  // The right code approves.
  http_response right = check(o, id, code);
  EXPECT_EQ(right.status, 200) << right.body;
  EXPECT_EQ(str(right.obj(), "status"), "approved");

  // Single use: the same code again is a conflict.
  http_response again = check(o, id, code);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(again.problem_slug(), "already_approved");

  http_response got = o.get("/v1/verifications/" + id);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(str(got.obj(), "status"), "approved");
}

TEST(e2e_flow, wrong_codes_until_max_checks) {
  otpd_options opts;
  opts.policy["max_checks"] = "3";
  single_world w(opts);
  otpd_process& o = *w.otpd;

  const std::string id = create(o, {{"to", "0912345678"}});
  ASSERT_FALSE(id.empty());
  const std::string code = next_code(w.smsc, 0);
  ASSERT_FALSE(code.empty());
  const std::string bad = wrong_code(code);

  for (int remaining = 2; remaining >= 0; --remaining) {
    http_response r = check(o, id, bad);
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(r.problem_slug(), "incorrect_code");
    EXPECT_EQ(num(r.obj(), "checks_remaining"), remaining);
  }
  // No checks left: even the right code is refused.
  http_response r = check(o, id, code);
  EXPECT_EQ(r.status, 410) << r.body;
  EXPECT_EQ(r.problem_slug(), "max_attempts_reached");
  EXPECT_EQ(str(o.get("/v1/verifications/" + id).obj(), "status"), "max_attempts_reached");
}

TEST(e2e_flow, expiry_with_the_controllable_clock) {
  otpd_options opts;
  opts.policy["ttl"] = "5m";
  single_world w(opts);
  otpd_process& o = *w.otpd;

  const std::string id = create(o, {{"to", "0912345678"}});
  ASSERT_FALSE(id.empty());
  const std::string code = next_code(w.smsc, 0);
  ASSERT_FALSE(code.empty());

  o.advance_clock(301s);
  http_response r = check(o, id, code);
  EXPECT_EQ(r.status, 410) << r.body;
  EXPECT_EQ(r.problem_slug(), "expired");
  http_response got = o.get("/v1/verifications/" + id);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(str(got.obj(), "status"), "expired");
  // An expired verification cannot be sent again either.
  http_response resend =
      o.post("/v1/verifications/" + id + "/resend", json::object{{"channel", "sms"}});
  EXPECT_EQ(resend.status, 410) << resend.body;
}

TEST(e2e_flow, resend_cooldown_then_new_code) {
  single_world w;  // resend_cooldown: 30s (the default)
  otpd_process& o = *w.otpd;

  const std::string id = create(o, {{"to", "0912345678"}});
  ASSERT_FALSE(id.empty());
  const std::string first = next_code(w.smsc, 0);
  ASSERT_FALSE(first.empty());
  w.smsc.sync();
  const std::size_t mark = w.smsc.size();

  // Too early: 429 with Retry-After close to the 30 s countdown.
  http_response early =
      o.post("/v1/verifications/" + id + "/resend", json::object{{"channel", "sms"}});
  EXPECT_EQ(early.status, 429) << early.body;
  EXPECT_EQ(early.problem_slug(), "resend_cooldown");
  const int retry_after = std::atoi(early.header("retry-after").value_or("0").c_str());
  EXPECT_GE(retry_after, 28);
  EXPECT_LE(retry_after, 30);

  // After the countdown: 202 and a second SMS with a new code.
  o.advance_clock(std::chrono::seconds(retry_after + 1));
  http_response resent =
      o.post("/v1/verifications/" + id + "/resend", json::object{{"channel", "sms"}});
  EXPECT_EQ(resent.status, 202) << resent.body;
  EXPECT_EQ(attempt_count(resent.obj()), 2u);
  const std::string second = next_code(w.smsc, mark, 6, "84912345678");
  ASSERT_FALSE(second.empty());
  w.smsc.sync();
  EXPECT_EQ(w.smsc.count("submit"), 2u);

  // A call is not available in this build: a clear 501, not a fake success.
  http_response voice =
      o.post("/v1/verifications/" + id + "/resend", json::object{{"channel", "voice"}});
  EXPECT_EQ(voice.status, 501) << voice.body;
  EXPECT_EQ(voice.problem_slug(), "channel_unavailable");

  // The first code was replaced (when the new one differs, which is all but certain).
  if (second != first) {
    http_response old = check(o, id, first);
    EXPECT_EQ(old.status, 422) << old.body;
  }
  http_response ok = check(o, id, second);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(str(ok.obj(), "status"), "approved");
}

TEST(e2e_flow, idempotency_key) {
  single_world w;
  otpd_process& o = *w.otpd;
  const std::vector<std::pair<std::string, std::string>> key = {{"Idempotency-Key", "order-7781"}};

  http_response first = o.post("/v1/verifications", json::object{{"to", "0912345678"}}, key);
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string id = str(first.obj(), "id");
  ASSERT_TRUE(w.smsc.wait_for_event("submit", 15s));
  w.smsc.sync();
  const std::size_t mark = w.smsc.size();

  // The same key and body: the same verification, 200, and no second SMS.
  http_response replay = o.post("/v1/verifications", json::object{{"to", "0912345678"}}, key);
  EXPECT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(str(replay.obj(), "id"), id);

  // The same key with another body: 422.
  http_response other = o.post("/v1/verifications", json::object{{"to", "0912345679"}}, key);
  EXPECT_EQ(other.status, 422) << other.body;
  EXPECT_EQ(other.problem_slug(), "idempotency_key_reused");

  // Another key: a new verification.
  const std::string id2 = create(o, {{"to", "0912345678"}}, {{"Idempotency-Key", "order-7782"}});
  EXPECT_NE(id2, id);
  ASSERT_TRUE(w.smsc.wait_for_event("submit", 15s, mark));
  w.smsc.sync();
  EXPECT_EQ(w.smsc.count("submit"), 2u) << "one SMS per verification, none for the replay";
}

}  // namespace
}  // namespace otpd::test::e2e
