// A carrier's message_ids (the mapping otpd-smpp reports) reaches the carrier's id mapper. The
// SMSC answers submit_sm with hex ids and writes them in decimal in its receipts: a fixed
// decimal_to_hex matches the first receipt; a fixed `same` cannot, so the receipt is unmatched.
#include <gtest/gtest.h>

#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

struct outcome {
  bool delivered = false;
  bool unmatched = false;
};

outcome send_one_with(std::string_view mapping) {
  temp_dir dir;
  smsc_process smsc(smsc_flags({"--receipt-id-format", "decimal"}));
  otpd_options opts;
  carrier_spec vn = vietnam_carrier(smsc.port());
  vn.extra_yaml = "message_ids: " + std::string(mapping);
  opts.carriers = {vn};
  otpd_process o(opts, dir.path());
  outcome out;
  if (!o.wait_ready()) {
    ADD_FAILURE() << o.output();
    return out;
  }
  const std::string id = create(o, json::object{{"to", "+84912345678"}});
  if (id.empty()) return out;
  if (mapping == "same") {
    // Refused by the mapping: the receipt is logged unmatched and the attempt stays submitted.
    out.unmatched = o.wait_for_line(
                         [](std::string_view l) {
                           return l.find("receipt_unmatched") != std::string_view::npos;
                         },
                         15s)
                        .has_value();
    out.delivered = attempt_status_is(o.get("/v1/verifications/" + id).obj(), 0, "delivered");
  } else {
    const json::object v = o.poll_verification(
        id, [](const json::object& b) { return attempt_status_is(b, 0, "delivered"); });
    out.delivered = attempt_status_is(v, 0, "delivered");
    out.unmatched = o.output().find("receipt_unmatched") != std::string::npos;
  }
  return out;
}

TEST(e2e_message_ids, the_configured_mapping_matches_receipts) {
  const outcome fixed = send_one_with("decimal_to_hex");
  EXPECT_TRUE(fixed.delivered);
  EXPECT_FALSE(fixed.unmatched);
  const outcome same = send_one_with("same");
  EXPECT_FALSE(same.delivered);
  EXPECT_TRUE(same.unmatched);
}

}  // namespace
}  // namespace otpd::test::e2e
