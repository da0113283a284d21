// What leaves otpd besides the SMS: its log lines (at debug, the most verbose level, which
// holds every line of the others) and its metrics never carry a code or an unmasked number,
// and its webhooks are signed (Otpd-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t.body)>)
// and mask the number.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <ctime>

#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

TEST(e2e_privacy, logs_never_hold_a_code_or_a_number) {
  otpd_options opts;
  opts.log_level = "debug";           // every line otpd can write
  opts.policy["code_length"] = "10";  // long codes: no chance match with other digits
  single_world w(opts);
  otpd_process& o = *w.otpd;
  std::vector<std::string> codes;

  // The whole flow, the number typed without '+': SMS, receipt, a wrong code, a resend with a
  // new code, the right code.
  const std::string id = create(o, {{"to", "84912345678"}});
  ASSERT_FALSE(id.empty());
  codes.push_back(next_code(w.smsc, 0, 10, "84912345678"));
  ASSERT_TRUE(w.smsc.wait_for(event_with("deliver_sm_resp", {{"kind", "receipt"}}), 15s));
  o.poll_verification(id,
                      [](const json::object& b) { return attempt_status_is(b, 0, "delivered"); });
  EXPECT_EQ(check(o, id, wrong_code(codes[0])).status, 422);
  w.smsc.sync();
  const std::size_t mark = w.smsc.size();
  o.advance_clock(31s);
  EXPECT_EQ(o.post("/v1/verifications/" + id + "/resend", json::object{{"channel", "sms"}}).status,
            202);
  codes.push_back(next_code(w.smsc, mark, 10));
  EXPECT_EQ(check(o, id, codes[1]).status, 200);

  // A second verification, typed with '+', approved at once.
  w.smsc.sync();
  const std::size_t mark2 = w.smsc.size();
  const std::string id2 = create(o, {{"to", "+84912345678"}});
  codes.push_back(next_code(w.smsc, mark2, 10));
  EXPECT_EQ(check(o, id2, codes[2]).status, 200);
  o.get("/v1/verifications/" + id2);

  // The metrics carry neither (series labels are carriers, binds, routes and outcomes).
  const std::string metrics = o.ops_get("/metrics").body;
  ASSERT_NE(metrics.find("otpd_sms_submits_total"), std::string::npos) << metrics;
  for (const std::string& code : codes) {
    EXPECT_EQ(metrics.find(code), std::string::npos) << "a code in /metrics";
  }
  EXPECT_EQ(metrics.find("912345678"), std::string::npos) << "a number in /metrics";
  EXPECT_EQ(metrics.find(api_key), std::string::npos) << "the API key in /metrics";

  // Stop otpd: every line it wrote has been read when stop() returns.
  const int status = o.stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe_wait_status(status);

  const std::vector<std::string> lines = o.lines();
  ASSERT_FALSE(lines.empty());
  bool saw_created = false, saw_submitted = false, saw_receipt = false, saw_masked = false;
  for (const std::string& line : lines) {
    for (const std::string& code : codes) {
      ASSERT_FALSE(code.empty());
      EXPECT_EQ(line.find(code), std::string::npos) << "a code in the log: " << line;
    }
    EXPECT_EQ(line.find("84912345678"), std::string::npos) << "a number in the log: " << line;
    EXPECT_EQ(line.find("912345678"), std::string::npos) << "a number in the log: " << line;
    EXPECT_EQ(line.find("Your otpd code"), std::string::npos) << "SMS text in the log: " << line;
    EXPECT_EQ(line.find(api_key), std::string::npos) << "the API key in the log: " << line;
    EXPECT_EQ(line.find(smsc_password), std::string::npos) << "a password in the log: " << line;
    EXPECT_EQ(line.find(mac_key), std::string::npos) << "the MAC key in the log: " << line;
    saw_created |= line.find("verification_created") != std::string::npos;
    saw_submitted |= line.find("sms_submitted") != std::string::npos;
    saw_receipt |= line.find("receipt") != std::string::npos;
    saw_masked |= line.find("+8491****678") != std::string::npos;
  }
  // The log did describe the flow (so the scan above looked at real lines).
  EXPECT_TRUE(saw_created && saw_submitted && saw_receipt) << o.output();
  EXPECT_TRUE(saw_masked) << "the masked number is logged with verification_created";
}

TEST(e2e_privacy, webhooks_are_signed_and_mask_the_number) {
  webhook_receiver hooks;
  otpd_options opts;
  opts.webhook_url = "http://127.0.0.1:" + std::to_string(hooks.port()) + "/hooks/otpd";
  single_world w(opts);
  otpd_process& o = *w.otpd;

  const std::string id = create(o, {{"to", "0912345678"}});
  ASSERT_FALSE(id.empty());
  const std::string code = next_code(w.smsc, 0);

  const auto verification_of = [](const received_request& r) -> json::object {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (ec || !v.is_object()) return {};
    const auto* ver = v.get_object().if_contains("verification");
    return ver && ver->is_object() ? ver->get_object() : json::object{};
  };
  // The receipt's event: the attempt delivered.
  auto delivered = hooks.wait_for(
      [&](const received_request& r) {
        const json::object v = verification_of(r);
        return str(v, "id") == id && attempt_status_is(v, 0, "delivered");
      },
      20s);
  ASSERT_TRUE(delivered) << o.output();
  // The approval's event.
  EXPECT_EQ(check(o, id, code).status, 200);
  auto approved = hooks.wait_for(
      [&](const received_request& r) {
        const json::object v = verification_of(r);
        return str(v, "id") == id && str(v, "status") == "approved";
      },
      20s);
  ASSERT_TRUE(approved) << o.output();

  const auto now = static_cast<long long>(std::time(nullptr));
  for (const received_request& r : hooks.requests()) {
    SCOPED_TRACE(r.body);
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/hooks/otpd");
    EXPECT_EQ(r.headers.count("content-type") ? r.headers.at("content-type") : "",
              "application/json");
    // Otpd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t "." body)>
    const std::string sig = r.headers.count("otpd-signature") ? r.headers.at("otpd-signature") : "";
    ASSERT_TRUE(sig.starts_with("t=")) << sig;
    const auto comma = sig.find(",v1=");
    ASSERT_NE(comma, std::string::npos) << sig;
    const std::string t = sig.substr(2, comma - 2);
    const std::string v1 = sig.substr(comma + 4);
    EXPECT_EQ(v1, hmac_sha256_hex(webhook_secret, t + "." + r.body)) << sig;
    EXPECT_NE(v1, hmac_sha256_hex("another-secret-of-the-same-size", t + "." + r.body));
    EXPECT_LE(std::llabs(std::atoll(t.c_str()) - now), 300) << "stale timestamp " << t;

    json::value body = json::parse(r.body);
    EXPECT_EQ(str(body.as_object(), "event"), "verification.updated");
    EXPECT_EQ(str(verification_of(r), "to"), "+8491****678");
    EXPECT_EQ(r.body.find("912345678"), std::string::npos) << "unmasked number in a webhook";
    EXPECT_EQ(r.body.find(code), std::string::npos) << "the code in a webhook";
  }
}

}  // namespace
}  // namespace otpd::test::e2e
