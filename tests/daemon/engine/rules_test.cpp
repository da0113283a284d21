#include "daemon/engine/rules.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace otpd::engine {
namespace {

using namespace std::chrono_literals;
using config::channel;
using smpp::dlr::message_state;

const sys_time t0{std::chrono::seconds{1'700'000'000}};
constexpr std::string_view code1 = "482917";
constexpr std::string_view code2 = "105533";

config::secrets keys() {
  config::secrets s;
  s.code_mac_key = secret(std::string(32, 'm'));
  s.code_seal_key = secret(std::string(32, 's'));
  return s;
}

class rules_test : public ::testing::Test {
 protected:
  rules_test() : protector_(keys()) { v_.id = "abcdefghijklmnopqrstuvwxyz"; }

  // A started verification (at t0, default ttl, first code code1).
  void start_default() {
    ASSERT_EQ(start(v_, policy_, t0, {}, protector_, code1), start_outcome::started);
  }
  check_result check_at(sys_time now, std::string_view code) {
    return check(v_, now, code, protector_);
  }
  resend_result resend_at(sys_time now, channel via = channel::sms, std::string_view fresh = code2,
                          resend_trigger trigger = resend_trigger::user) {
    return resend(v_, policy_, now, via, protector_, fresh, trigger);
  }

  config::otp_policy policy_;
  code_protector protector_;
  verification v_;
};

// --- start -----------------------------------------------------------------------------------

TEST_F(rules_test, start_sets_lifetime_attempt_and_cooldown) {
  start_default();
  EXPECT_EQ(v_.status, verification_status::pending);
  EXPECT_EQ(v_.created_at, t0);
  EXPECT_EQ(v_.expires_at, t0 + 300s);
  EXPECT_EQ(v_.next_resend_at, t0 + 30s);
  EXPECT_EQ(v_.sends, 1);
  EXPECT_EQ(v_.checks, 0);
  EXPECT_EQ(v_.max_checks, 5);
  EXPECT_EQ(v_.code_length, 6);
  EXPECT_FALSE(v_.completed_at.has_value());
  ASSERT_EQ(v_.attempts.size(), 1u);
  EXPECT_EQ(v_.attempts[0].number, 1);
  EXPECT_EQ(v_.attempts[0].via, channel::sms);
  EXPECT_EQ(v_.attempts[0].status, attempt_status::queued);
  EXPECT_EQ(v_.attempts[0].created_at, t0);
}

TEST_F(rules_test, start_keeps_only_the_mac_by_default) {
  start_default();
  EXPECT_TRUE(protector_.verify(v_.id, code1, v_.code_mac));
  EXPECT_TRUE(v_.code_sealed.empty());
  EXPECT_EQ(v_.code_mac.find(code1), std::string::npos);
}

TEST_F(rules_test, start_seals_when_the_same_code_is_read_again) {
  policy_.new_code_on_resend = false;
  ASSERT_TRUE(must_seal(policy_));
  start_default();
  EXPECT_EQ(protector_.unseal(v_.id, v_.code_sealed), std::optional<std::string>(code1));
  EXPECT_TRUE(protector_.verify(v_.id, code1, v_.code_mac));
}

TEST_F(rules_test, start_throws_when_sealing_is_needed_but_no_key) {
  policy_.new_code_on_resend = false;
  config::secrets s = keys();
  s.code_seal_key = secret();
  const code_protector no_seal{s};
  EXPECT_THROW(start(v_, policy_, t0, {}, no_seal, code1), std::logic_error);
}

TEST_F(rules_test, start_ttl_is_requested_or_policy_capped_at_max) {
  EXPECT_EQ(start(v_, policy_, t0, {.ttl = 120s}, protector_, code1), start_outcome::started);
  EXPECT_EQ(v_.expires_at, t0 + 120s);
  EXPECT_EQ(start(v_, policy_, t0, {.ttl = 600s}, protector_, code1), start_outcome::started);
  EXPECT_EQ(v_.expires_at, t0 + 600s);
  EXPECT_EQ(start(v_, policy_, t0, {.ttl = 601s}, protector_, code1), start_outcome::started);
  EXPECT_EQ(v_.expires_at, t0 + 600s);
  policy_.ttl = 900s;  // a policy default above the maximum is capped too
  EXPECT_EQ(start(v_, policy_, t0, {}, protector_, code1), start_outcome::started);
  EXPECT_EQ(v_.expires_at, t0 + 600s);
}

TEST_F(rules_test, start_refuses_a_non_positive_ttl) {
  EXPECT_EQ(start(v_, policy_, t0, {.ttl = 0s}, protector_, code1), start_outcome::invalid_ttl);
  EXPECT_EQ(start(v_, policy_, t0, {.ttl = -5s}, protector_, code1), start_outcome::invalid_ttl);
  EXPECT_TRUE(v_.attempts.empty());
}

TEST_F(rules_test, start_over_voice) {
  ASSERT_EQ(start(v_, policy_, t0, {.via = channel::voice}, protector_, code1),
            start_outcome::started);
  EXPECT_EQ(v_.attempts.at(0).via, channel::voice);
}

// --- check -----------------------------------------------------------------------------------

TEST_F(rules_test, check_approves_the_right_code_once) {
  start_default();
  const auto r = check_at(t0 + 10s, code1);
  EXPECT_EQ(r.outcome, check_outcome::approved);
  EXPECT_EQ(r.checks_remaining, 4);
  EXPECT_EQ(v_.status, verification_status::approved);
  EXPECT_EQ(v_.completed_at, t0 + 10s);
  EXPECT_EQ(v_.checks, 1);
  // Single use (NIST SP 800-63B-4 §3.1.3).
  EXPECT_EQ(check_at(t0 + 11s, code1).outcome, check_outcome::already_approved);
  EXPECT_EQ(v_.checks, 1);
  EXPECT_EQ(v_.completed_at, t0 + 10s);
}

TEST_F(rules_test, check_counts_down_incorrect_codes) {
  start_default();
  for (int i = 1; i <= 4; ++i) {
    const auto r = check_at(t0 + 1s, "000000");
    EXPECT_EQ(r.outcome, check_outcome::incorrect);
    EXPECT_EQ(r.checks_remaining, 5 - i);
    EXPECT_EQ(v_.status, verification_status::pending);
  }
  // The fifth wrong code is still "incorrect" (it was compared), with nothing left.
  const auto last = check_at(t0 + 2s, "000000");
  EXPECT_EQ(last.outcome, check_outcome::incorrect);
  EXPECT_EQ(last.checks_remaining, 0);
  EXPECT_EQ(v_.status, verification_status::max_attempts_reached);
  EXPECT_EQ(v_.completed_at, t0 + 2s);
  // Now even the right code is refused and nothing more is counted.
  EXPECT_EQ(check_at(t0 + 3s, code1).outcome, check_outcome::max_attempts_reached);
  EXPECT_EQ(v_.checks, 5);
}

TEST_F(rules_test, check_last_allowed_check_can_approve) {
  start_default();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(check_at(t0, "111111").outcome, check_outcome::incorrect);
  const auto r = check_at(t0, code1);
  EXPECT_EQ(r.outcome, check_outcome::approved);
  EXPECT_EQ(r.checks_remaining, 0);
  EXPECT_EQ(v_.status, verification_status::approved);
}

TEST_F(rules_test, check_uses_max_checks_of_the_verification_not_the_policy) {
  policy_.max_checks = 2;
  start_default();
  policy_.max_checks = 10;  // a later policy change does not apply to this verification
  EXPECT_EQ(check_at(t0, "1").checks_remaining, 1);
  EXPECT_EQ(check_at(t0, "2").checks_remaining, 0);
  EXPECT_EQ(v_.status, verification_status::max_attempts_reached);
}

TEST_F(rules_test, check_just_before_expiry_still_compares) {
  start_default();
  EXPECT_EQ(check_at(t0 + 300s - 1ns, code1).outcome, check_outcome::approved);
}

TEST_F(rules_test, check_exactly_at_expiry_is_expired) {
  start_default();
  const auto r = check_at(t0 + 300s, code1);
  EXPECT_EQ(r.outcome, check_outcome::expired);
  EXPECT_EQ(v_.status, verification_status::expired);
  EXPECT_EQ(v_.completed_at, t0 + 300s);  // when it ended, not when it was noticed
  EXPECT_EQ(v_.checks, 0);                // nothing compared, nothing counted
  EXPECT_EQ(check_at(t0 + 400s, code1).outcome, check_outcome::expired);
  EXPECT_EQ(v_.completed_at, t0 + 300s);
}

TEST_F(rules_test, check_refusals_of_other_final_states) {
  start_default();
  v_.status = verification_status::canceled;
  EXPECT_EQ(check_at(t0, code1).outcome, check_outcome::canceled);
  v_.status = verification_status::blocked;
  EXPECT_EQ(check_at(t0, code1).outcome, check_outcome::not_checkable);
  v_.status = verification_status::undeliverable;
  EXPECT_EQ(check_at(t0, code1).outcome, check_outcome::not_checkable);
  EXPECT_EQ(v_.checks, 0);
}

TEST_F(rules_test, check_with_an_empty_or_foreign_mac_never_approves) {
  start_default();
  v_.code_mac.clear();
  EXPECT_EQ(check_at(t0, code1).outcome, check_outcome::incorrect);
  v_.code_mac = protector_.mac("another-id", code1);  // a MAC copied from another row
  EXPECT_EQ(check_at(t0, code1).outcome, check_outcome::incorrect);
}

TEST(well_formed_code, digits_of_the_right_length) {
  EXPECT_TRUE(well_formed_code("012345", 6));
  EXPECT_FALSE(well_formed_code("01234", 6));
  EXPECT_FALSE(well_formed_code("0123456", 6));
  EXPECT_FALSE(well_formed_code("01234a", 6));
  EXPECT_FALSE(well_formed_code(" 12345", 6));
  EXPECT_FALSE(well_formed_code("", 6));
}

// --- resend ----------------------------------------------------------------------------------

TEST(cooldown, grows_geometrically_and_is_capped) {
  config::otp_policy p;
  EXPECT_EQ(cooldown_after(p, 1), 30s);
  EXPECT_EQ(cooldown_after(p, 2), 60s);
  EXPECT_EQ(cooldown_after(p, 3), 120s);
  EXPECT_EQ(cooldown_after(p, 4), 240s);
  EXPECT_EQ(cooldown_after(p, 5), 480s);
  EXPECT_EQ(cooldown_after(p, 6), 600s);  // capped at max_ttl
  EXPECT_EQ(cooldown_after(p, 1000), 600s);
  EXPECT_EQ(cooldown_after(p, 0), 30s);
  p.cooldown_growth = 1.5;
  EXPECT_EQ(cooldown_after(p, 3), 68s);  // 67.5 rounded up
  p.cooldown_growth = 1.0;
  EXPECT_EQ(cooldown_after(p, 4), 30s);
  p.cooldown_growth = 1e300;  // overflow to infinity is capped, not undefined
  EXPECT_EQ(cooldown_after(p, 10), 600s);
}

TEST_F(rules_test, resend_before_cooldown_is_refused_with_retry_after_rounded_up) {
  start_default();
  auto r = resend_at(t0);
  EXPECT_EQ(r.outcome, resend_outcome::cooldown);
  EXPECT_EQ(r.retry_after, 30s);
  r = resend_at(t0 + 29s);
  EXPECT_EQ(r.outcome, resend_outcome::cooldown);
  EXPECT_EQ(r.retry_after, 1s);
  r = resend_at(t0 + 29'001ms);
  EXPECT_EQ(r.outcome, resend_outcome::cooldown);
  EXPECT_EQ(r.retry_after, 1s);  // 0.999 s rounds up: never "Retry-After: 0" while refusing
  r = resend_at(t0 + 30s - 1ns);
  EXPECT_EQ(r.outcome, resend_outcome::cooldown);
  EXPECT_EQ(r.retry_after, 1s);
  EXPECT_TRUE(r.code.empty());
  EXPECT_EQ(v_.sends, 1);
  EXPECT_EQ(v_.attempts.size(), 1u);
}

TEST_F(rules_test, resend_exactly_at_cooldown_is_accepted) {
  start_default();
  const auto r = resend_at(t0 + 30s, channel::voice);
  ASSERT_EQ(r.outcome, resend_outcome::accepted);
  EXPECT_EQ(r.attempt_number, 2);
  EXPECT_EQ(r.code, code2);
  EXPECT_EQ(v_.sends, 2);
  ASSERT_EQ(v_.attempts.size(), 2u);
  EXPECT_EQ(v_.attempts[1].number, 2);
  EXPECT_EQ(v_.attempts[1].via, channel::voice);
  EXPECT_EQ(v_.attempts[1].status, attempt_status::queued);
  EXPECT_EQ(v_.attempts[1].created_at, t0 + 30s);
}

TEST_F(rules_test, resend_cooldowns_grow) {
  start_default();
  ASSERT_EQ(resend_at(t0 + 30s).outcome, resend_outcome::accepted);
  EXPECT_EQ(v_.next_resend_at, t0 + 30s + 60s);
  auto r = resend_at(t0 + 89s);
  EXPECT_EQ(r.outcome, resend_outcome::cooldown);
  EXPECT_EQ(r.retry_after, 1s);
  ASSERT_EQ(resend_at(t0 + 90s).outcome, resend_outcome::accepted);
  EXPECT_EQ(v_.next_resend_at, t0 + 90s + 120s);
  r = resend_at(t0 + 100s);
  EXPECT_EQ(r.outcome, resend_outcome::cooldown);
  EXPECT_EQ(r.retry_after, 110s);
}

TEST_F(rules_test, resend_never_extends_the_lifetime) {
  start_default();
  ASSERT_EQ(resend_at(t0 + 290s).outcome, resend_outcome::accepted);
  EXPECT_EQ(v_.expires_at, t0 + 300s);
}

TEST_F(rules_test, resend_with_a_new_code_replaces_the_mac_but_keeps_the_failure_count) {
  start_default();
  ASSERT_EQ(check_at(t0 + 5s, "000000").outcome, check_outcome::incorrect);
  ASSERT_EQ(check_at(t0 + 6s, "000000").outcome, check_outcome::incorrect);
  ASSERT_EQ(resend_at(t0 + 30s).outcome, resend_outcome::accepted);
  EXPECT_EQ(v_.checks, 2);  // ASVS V6: a new code does not reset the count
  EXPECT_TRUE(v_.code_sealed.empty());
  auto r = check_at(t0 + 31s, code1);  // the old code no longer works
  EXPECT_EQ(r.outcome, check_outcome::incorrect);
  EXPECT_EQ(r.checks_remaining, 2);
  r = check_at(t0 + 32s, code2);
  EXPECT_EQ(r.outcome, check_outcome::approved);
  EXPECT_EQ(r.checks_remaining, 1);
}

TEST_F(rules_test, resend_with_the_same_code_reads_the_sealed_copy) {
  policy_.new_code_on_resend = false;
  start_default();
  const std::string mac = v_.code_mac;
  const auto r = resend_at(t0 + 30s, channel::voice, "");
  ASSERT_EQ(r.outcome, resend_outcome::accepted);
  EXPECT_EQ(r.code, code1);
  EXPECT_EQ(v_.code_mac, mac);
  EXPECT_EQ(check_at(t0 + 40s, code1).outcome, check_outcome::approved);
}

TEST_F(rules_test, resend_with_the_same_code_but_no_readable_copy) {
  policy_.new_code_on_resend = false;
  start_default();
  v_.code_sealed.back() = v_.code_sealed.back() == '0' ? '1' : '0';
  const auto r = resend_at(t0 + 30s, channel::voice, "");
  EXPECT_EQ(r.outcome, resend_outcome::code_unavailable);
  EXPECT_TRUE(r.code.empty());
  EXPECT_EQ(v_.sends, 1);
  EXPECT_EQ(v_.attempts.size(), 1u);
}

TEST_F(rules_test, resend_needs_a_well_formed_fresh_code) {
  start_default();
  EXPECT_THROW(resend_at(t0 + 30s, channel::sms, "12345"), std::invalid_argument);
  EXPECT_THROW(resend_at(t0 + 30s, channel::sms, ""), std::invalid_argument);
  EXPECT_EQ(v_.sends, 1);
}

TEST_F(rules_test, resend_stops_at_max_sends) {
  policy_.max_sends = 3;
  start_default();
  ASSERT_EQ(resend_at(t0 + 30s).outcome, resend_outcome::accepted);
  ASSERT_EQ(resend_at(t0 + 90s).outcome, resend_outcome::accepted);
  EXPECT_EQ(v_.sends, 3);
  auto r = resend_at(t0 + 250s);  // after the cooldown
  EXPECT_EQ(r.outcome, resend_outcome::max_sends_reached);
  EXPECT_EQ(r.retry_after, 0s);
  r = resend_at(t0 + 91s);  // during the cooldown: max sends wins, no pointless Retry-After
  EXPECT_EQ(r.outcome, resend_outcome::max_sends_reached);
  EXPECT_EQ(v_.sends, 3);
  EXPECT_EQ(v_.status, verification_status::pending);
}

TEST_F(rules_test, resend_at_or_after_expiry_is_expired) {
  start_default();
  const auto r = resend_at(t0 + 300s);
  EXPECT_EQ(r.outcome, resend_outcome::expired);
  EXPECT_EQ(v_.status, verification_status::expired);
  EXPECT_EQ(resend_at(t0 + 301s).outcome, resend_outcome::expired);
  EXPECT_EQ(v_.sends, 1);
}

TEST_F(rules_test, resend_of_a_finished_verification_is_a_conflict) {
  start_default();
  ASSERT_EQ(check_at(t0 + 1s, code1).outcome, check_outcome::approved);
  EXPECT_EQ(resend_at(t0 + 30s).outcome, resend_outcome::final_state);
  v_.status = verification_status::canceled;
  EXPECT_EQ(resend_at(t0 + 30s).outcome, resend_outcome::final_state);
  v_.status = verification_status::max_attempts_reached;
  EXPECT_EQ(resend_at(t0 + 30s).outcome, resend_outcome::final_state);
  EXPECT_EQ(v_.sends, 1);
}

TEST_F(rules_test, fallback_ignores_the_cooldown_but_not_the_limits) {
  policy_.max_sends = 2;
  start_default();
  auto r = resend_at(t0 + 1s, channel::voice, code2, resend_trigger::fallback);
  ASSERT_EQ(r.outcome, resend_outcome::accepted);
  EXPECT_EQ(v_.next_resend_at, t0 + 1s + 60s);
  r = resend_at(t0 + 2s, channel::voice, code2, resend_trigger::fallback);
  EXPECT_EQ(r.outcome, resend_outcome::max_sends_reached);
}

// --- cancel ----------------------------------------------------------------------------------

TEST_F(rules_test, cancel_pending_then_conflict) {
  start_default();
  EXPECT_EQ(cancel(v_, t0 + 5s), cancel_outcome::canceled);
  EXPECT_EQ(v_.status, verification_status::canceled);
  EXPECT_EQ(v_.completed_at, t0 + 5s);
  EXPECT_EQ(cancel(v_, t0 + 6s), cancel_outcome::already_final);
  EXPECT_EQ(v_.completed_at, t0 + 5s);
  EXPECT_EQ(check_at(t0 + 7s, code1).outcome, check_outcome::canceled);
}

TEST_F(rules_test, cancel_approved_is_a_conflict) {
  start_default();
  ASSERT_EQ(check_at(t0, code1).outcome, check_outcome::approved);
  EXPECT_EQ(cancel(v_, t0 + 1s), cancel_outcome::already_final);
  EXPECT_EQ(v_.status, verification_status::approved);
}

TEST_F(rules_test, cancel_at_expiry) {
  start_default();
  EXPECT_EQ(cancel(v_, t0 + 300s), cancel_outcome::expired);
  EXPECT_EQ(v_.status, verification_status::expired);
  EXPECT_EQ(cancel(v_, t0 + 301s), cancel_outcome::already_final);
}

TEST_F(rules_test, expire_if_due) {
  start_default();
  EXPECT_FALSE(expire_if_due(v_, t0 + 300s - 1ns));
  EXPECT_EQ(v_.status, verification_status::pending);
  EXPECT_TRUE(expire_if_due(v_, t0 + 300s));
  EXPECT_EQ(v_.status, verification_status::expired);
  EXPECT_FALSE(expire_if_due(v_, t0 + 301s));  // already
}

// --- attempt outcomes ------------------------------------------------------------------------

TEST_F(rules_test, submitted_records_ids_carrier_and_time) {
  start_default();
  const auto e = on_submitted(v_, 1, t0 + 1s, "viettel", "vt-1", {"a1", "a2"});
  EXPECT_TRUE(e.updated);
  EXPECT_FALSE(e.start_fallback);
  const attempt& a = v_.attempts[0];
  EXPECT_EQ(a.status, attempt_status::submitted);
  EXPECT_EQ(a.submitted_at, t0 + 1s);
  EXPECT_EQ(a.carrier, "viettel");
  EXPECT_EQ(a.bind, "vt-1");
  EXPECT_EQ(a.message_ids, (std::vector<std::string>{"a1", "a2"}));
  EXPECT_FALSE(a.outcome_unknown);
}

TEST_F(rules_test, unknown_attempt_is_not_updated) {
  start_default();
  EXPECT_FALSE(on_submitted(v_, 7, t0, "c", "b", {"x"}).updated);
  EXPECT_FALSE(on_receipt(v_, policy_, 0, t0, message_state::delivered, "").updated);
  EXPECT_FALSE(on_submit_failed(v_, policy_, 2, t0, 8u, "").updated);
  EXPECT_EQ(v_.attempts[0].status, attempt_status::queued);
}

TEST_F(rules_test, submit_without_response_is_an_unknown_outcome) {
  start_default();
  const auto e = on_submit_unknown(v_, 1, t0 + 1s, "viettel", "vt-1");
  EXPECT_TRUE(e.updated);
  EXPECT_EQ(v_.attempts[0].status, attempt_status::submitted);
  EXPECT_TRUE(v_.attempts[0].outcome_unknown);
  EXPECT_EQ(v_.status, verification_status::pending);
}

TEST_F(rules_test, receipt_delivered_and_stat) {
  start_default();
  on_submitted(v_, 1, t0 + 1s, "viettel", "vt-1", {"a1"});
  auto e = on_receipt(v_, policy_, 1, t0 + 3s, message_state::enroute, "000");
  EXPECT_TRUE(e.updated);
  EXPECT_EQ(v_.attempts[0].status, attempt_status::submitted);
  EXPECT_EQ(v_.attempts[0].dlr_stat, "ENROUTE");
  e = on_receipt(v_, policy_, 1, t0 + 4s, message_state::delivered, "000");
  EXPECT_EQ(v_.attempts[0].status, attempt_status::delivered);
  EXPECT_EQ(v_.attempts[0].dlr_stat, "DELIVRD");
  EXPECT_EQ(v_.attempts[0].dlr_err, "000");
  EXPECT_EQ(v_.attempts[0].completed_at, t0 + 4s);
  EXPECT_FALSE(e.start_fallback);
}

TEST_F(rules_test, receipt_before_submit_response_is_not_undone) {
  start_default();
  on_receipt(v_, policy_, 1, t0 + 1s, message_state::delivered, "000");
  on_submitted(v_, 1, t0 + 2s, "viettel", "vt-1", {"a1"});
  EXPECT_EQ(v_.attempts[0].status, attempt_status::delivered);
  EXPECT_EQ(v_.attempts[0].message_ids, std::vector<std::string>{"a1"});
}

TEST_F(rules_test, undelivered_wins_over_delivered_across_parts) {
  start_default();
  on_submitted(v_, 1, t0 + 1s, "viettel", "vt-1", {"p1", "p2"});
  on_receipt(v_, policy_, 1, t0 + 2s, message_state::delivered, "000");
  on_receipt(v_, policy_, 1, t0 + 3s, message_state::undeliverable, "001");
  EXPECT_EQ(v_.attempts[0].status, attempt_status::undelivered);
  on_receipt(v_, policy_, 1, t0 + 4s, message_state::delivered, "000");
  EXPECT_EQ(v_.attempts[0].status, attempt_status::undelivered);
}

TEST_F(rules_test, every_rejection_stat_is_undelivered) {
  for (auto s : {message_state::undeliverable, message_state::expired, message_state::deleted,
                 message_state::rejected}) {
    start_default();
    on_receipt(v_, policy_, 1, t0 + 2s, s, "");
    EXPECT_EQ(v_.attempts[0].status, attempt_status::undelivered) << static_cast<int>(s);
  }
  for (auto s : {message_state::accepted, message_state::unknown, message_state::enroute}) {
    start_default();
    on_submitted(v_, 1, t0 + 1s, "viettel", "vt-1", {"a1"});
    on_receipt(v_, policy_, 1, t0 + 2s, s, "");
    EXPECT_EQ(v_.attempts[0].status, attempt_status::submitted) << static_cast<int>(s);
  }
}

TEST_F(rules_test, sms_failure_starts_the_fallback_when_the_policy_says_so) {
  policy_.fallback_on_sms_failure = true;
  start_default();
  const auto e = on_submit_failed(v_, policy_, 1, t0 + 1s, 0x58u, "");
  EXPECT_TRUE(e.updated);
  EXPECT_TRUE(e.start_fallback);
  EXPECT_FALSE(e.became_undeliverable);
  EXPECT_EQ(v_.attempts[0].status, attempt_status::failed);
  EXPECT_EQ(v_.attempts[0].smpp_status, 0x58u);
  EXPECT_EQ(v_.status, verification_status::pending);
  // ... and the fallback resend is accepted at once, before the cooldown.
  const auto r = resend_at(t0 + 1s, channel::voice, code2, resend_trigger::fallback);
  EXPECT_EQ(r.outcome, resend_outcome::accepted);
}

TEST_F(rules_test, undelivered_receipt_starts_the_fallback_once) {
  policy_.fallback_on_sms_failure = true;
  start_default();
  on_submitted(v_, 1, t0 + 1s, "viettel", "vt-1", {"a1"});
  EXPECT_TRUE(on_receipt(v_, policy_, 1, t0 + 5s, message_state::rejected, "").start_fallback);
  // A duplicate receipt must not start a second call.
  EXPECT_FALSE(on_receipt(v_, policy_, 1, t0 + 6s, message_state::rejected, "").start_fallback);
}

TEST_F(rules_test, no_fallback_without_the_policy) {
  start_default();
  const auto e = on_submit_failed(v_, policy_, 1, t0 + 1s, std::nullopt, "no_route");
  EXPECT_FALSE(e.start_fallback);
  EXPECT_FALSE(e.became_undeliverable);  // sends are left: the user may ask again
  EXPECT_EQ(v_.status, verification_status::pending);
  EXPECT_EQ(v_.attempts[0].error, "no_route");
  EXPECT_FALSE(v_.attempts[0].smpp_status.has_value());
}

TEST_F(rules_test, no_fallback_for_an_older_attempt) {
  policy_.fallback_on_sms_failure = true;
  start_default();
  ASSERT_EQ(resend_at(t0 + 30s, channel::sms).outcome, resend_outcome::accepted);
  const auto e = on_receipt(v_, policy_, 1, t0 + 31s, message_state::undeliverable, "");
  EXPECT_FALSE(e.start_fallback);
}

TEST_F(rules_test, no_fallback_after_expiry_or_approval) {
  policy_.fallback_on_sms_failure = true;
  start_default();
  EXPECT_FALSE(on_submit_failed(v_, policy_, 1, t0 + 300s, 8u, "").start_fallback);
  start_default();
  ASSERT_EQ(check_at(t0 + 1s, code1).outcome, check_outcome::approved);
  const auto e = on_receipt(v_, policy_, 1, t0 + 2s, message_state::undeliverable, "");
  EXPECT_TRUE(e.updated);
  EXPECT_FALSE(e.start_fallback);
  EXPECT_EQ(v_.status, verification_status::approved);
}

TEST_F(rules_test, undeliverable_when_every_attempt_failed_and_no_send_is_left) {
  policy_.max_sends = 1;
  policy_.fallback_on_sms_failure = true;  // no send left: no fallback either
  start_default();
  const auto e = on_submit_failed(v_, policy_, 1, t0 + 1s, 0x0bu, "");
  EXPECT_FALSE(e.start_fallback);
  EXPECT_TRUE(e.became_undeliverable);
  EXPECT_EQ(v_.status, verification_status::undeliverable);
  EXPECT_EQ(v_.completed_at, t0 + 1s);
  EXPECT_EQ(check_at(t0 + 2s, code1).outcome, check_outcome::not_checkable);
}

TEST_F(rules_test, not_undeliverable_while_an_attempt_may_still_arrive) {
  policy_.max_sends = 2;
  start_default();
  on_submitted(v_, 1, t0 + 1s, "viettel", "vt-1", {"a1"});
  ASSERT_EQ(resend_at(t0 + 30s, channel::voice).outcome, resend_outcome::accepted);
  // The call fails, the SMS is still under way: not undeliverable.
  auto e = on_call_outcome(v_, policy_, 2, t0 + 60s, attempt_status::busy, 486, "Busy Here");
  EXPECT_FALSE(e.became_undeliverable);
  EXPECT_EQ(v_.status, verification_status::pending);
  EXPECT_EQ(v_.attempts[1].sip_code, 486);
  EXPECT_EQ(v_.attempts[1].sip_reason, "Busy Here");
  // The SMS fails too: now nothing can reach the user.
  e = on_receipt(v_, policy_, 1, t0 + 70s, message_state::expired, "");
  EXPECT_TRUE(e.became_undeliverable);
  EXPECT_EQ(v_.status, verification_status::undeliverable);
}

TEST_F(rules_test, call_failure_never_starts_a_fallback) {
  policy_.fallback_on_sms_failure = true;
  ASSERT_EQ(start(v_, policy_, t0, {.via = channel::voice}, protector_, code1),
            start_outcome::started);
  const auto e = on_call_outcome(v_, policy_, 1, t0 + 20s, attempt_status::no_answer, 480, "");
  EXPECT_FALSE(e.start_fallback);
  EXPECT_EQ(v_.attempts[0].status, attempt_status::no_answer);
  EXPECT_EQ(v_.attempts[0].completed_at, t0 + 20s);
}

TEST_F(rules_test, call_progress) {
  ASSERT_EQ(start(v_, policy_, t0, {.via = channel::voice}, protector_, code1),
            start_outcome::started);
  on_call_outcome(v_, policy_, 1, t0 + 1s, attempt_status::ringing, 180, "Ringing");
  EXPECT_EQ(v_.attempts[0].status, attempt_status::ringing);
  EXPECT_FALSE(v_.attempts[0].completed_at.has_value());
  on_call_outcome(v_, policy_, 1, t0 + 30s, attempt_status::completed, std::nullopt, "");
  EXPECT_EQ(v_.attempts[0].status, attempt_status::completed);
  EXPECT_EQ(v_.attempts[0].sip_code, 180);  // kept when the end has none
  EXPECT_EQ(v_.attempts[0].completed_at, t0 + 30s);
}

TEST_F(rules_test, a_call_hung_up_before_the_code_was_read_is_a_failure) {
  policy_.max_sends = 1;
  ASSERT_EQ(start(v_, policy_, t0, {.via = channel::voice}, protector_, code1),
            start_outcome::started);
  on_call_outcome(v_, policy_, 1, t0 + 2s, attempt_status::answered, 200, "OK");
  const auto e =
      on_call_outcome(v_, policy_, 1, t0 + 6s, attempt_status::hung_up_early, 200, "remote hangup");
  EXPECT_EQ(v_.attempts[0].status, attempt_status::hung_up_early);
  EXPECT_EQ(v_.attempts[0].completed_at, t0 + 6s);
  EXPECT_EQ(v_.attempts[0].sip_code, 200);
  // The only send, and the code was not heard: nothing can reach the user any more.
  EXPECT_TRUE(e.became_undeliverable);
  EXPECT_EQ(v_.status, verification_status::undeliverable);
}

TEST_F(rules_test, a_call_that_was_never_placed_gives_its_send_back) {
  policy_.max_sends = 2;
  start_default();
  ASSERT_EQ(resend_at(t0 + 30s, channel::voice).outcome, resend_outcome::accepted);
  ASSERT_EQ(v_.sends, 2);
  const sys_time next = v_.next_resend_at;
  const auto e = on_call_not_placed(v_, policy_, 2, t0 + 31s, "no_trunk_available");
  EXPECT_TRUE(e.updated);
  EXPECT_FALSE(e.became_undeliverable);
  EXPECT_EQ(v_.attempts[1].status, attempt_status::failed);
  EXPECT_EQ(v_.attempts[1].error, "no_trunk_available");
  EXPECT_EQ(v_.attempts[1].completed_at, t0 + 31s);
  EXPECT_FALSE(v_.attempts[1].submitted_at.has_value());
  EXPECT_EQ(v_.sends, 1);              // not counted against max_sends
  EXPECT_EQ(v_.next_resend_at, next);  // the cooldown still paces the asking
  // Given back once only: a second report changes nothing.
  EXPECT_FALSE(on_call_not_placed(v_, policy_, 2, t0 + 32s, "no_trunk_available").updated);
  EXPECT_EQ(v_.sends, 1);
  // So the user can still ask, and get a call, within max_sends.
  EXPECT_EQ(resend_at(next, channel::voice).outcome, resend_outcome::accepted);
  EXPECT_EQ(v_.sends, 2);
}

TEST_F(rules_test, only_a_queued_call_can_be_given_back) {
  ASSERT_EQ(start(v_, policy_, t0, {.via = channel::voice}, protector_, code1),
            start_outcome::started);
  on_call_outcome(v_, policy_, 1, t0 + 1s, attempt_status::ringing, 180, "Ringing");
  EXPECT_FALSE(on_call_not_placed(v_, policy_, 1, t0 + 2s, "no_trunk_available").updated);
  EXPECT_EQ(v_.sends, 1);
  EXPECT_EQ(v_.attempts[0].status, attempt_status::ringing);
  // Nor an SMS.
  verification sms;
  sms.id = v_.id;
  v_ = sms;
  start_default();
  EXPECT_FALSE(on_call_not_placed(v_, policy_, 1, t0 + 2s, "no_trunk_available").updated);
  EXPECT_EQ(v_.sends, 1);
}

// --- idempotency -----------------------------------------------------------------------------

TEST(idempotency, request_hash_is_sha256_hex) {
  // FIPS 180-4 example "abc".
  EXPECT_EQ(request_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(request_hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(idempotency, same_or_different_body) {
  verification v;
  v.request_hash = request_hash(R"({"to":"+84912345678"})");
  EXPECT_EQ(match_idempotent(v, request_hash(R"({"to":"+84912345678"})")),
            idempotency_match::same_request);
  EXPECT_EQ(match_idempotent(v, request_hash(R"({"to":"+84912345679"})")),
            idempotency_match::different_request);
  EXPECT_EQ(match_idempotent(v, ""), idempotency_match::different_request);
}

}  // namespace
}  // namespace otpd::engine
