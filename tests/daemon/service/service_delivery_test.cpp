// The service's own logic around the SMS it sends, with a fake sender: create's races on one
// Idempotency-Key, what an accepted, refused or unanswered submit leaves on the verification,
// receipts (one that overtakes its submit's record included), the fallback to voice, the
// resend rules and expiry, with the clock moved instead of waited for.
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>

#include "tests/daemon/service/service_fixture.hpp"

namespace otpd::service::unit {
namespace {

using service_create = service_fixture;

TEST_F(service_create, sends_one_sms_with_the_code_and_records_it_accepted) {
  const create_outcome out = await(svc->create(request_to(std::string(number))));
  ASSERT_EQ(out.status, create_status::created);
  ASSERT_TRUE(recorded(out.v.id));
  ASSERT_EQ(sms.sent.size(), 1u);
  EXPECT_EQ(sms.sent[0].to, number);
  EXPECT_EQ(sms.sent[0].carriers, std::vector<std::string>{"c"});

  const verification v = row(out.v.id);
  EXPECT_EQ(v.status, verification_status::pending);
  EXPECT_EQ(v.attempts[0].status, attempt_status::submitted);
  EXPECT_FALSE(v.attempts[0].outcome_unknown);
  EXPECT_EQ(v.attempts[0].carrier, "c");
  EXPECT_EQ(v.attempts[0].message_ids, std::vector<std::string>{fake_sms::message_id(1)});

  // The code the SMS carried is the one the verification approves.
  const std::string sent_code = code_in(sms.sent[0].text, cfg.policy.code_length);
  ASSERT_FALSE(sent_code.empty()) << sms.sent[0].text;
  EXPECT_EQ(await(svc->check(out.v.id, sent_code)).result.outcome, engine::check_outcome::approved);
}

TEST_F(service_create, two_creates_with_one_idempotency_key_in_flight_send_one_sms) {
  std::optional<create_outcome> first;
  std::optional<create_outcome> second;
  // Both are under way before either has stored its row: each finds no earlier request.
  asio::co_spawn(io, svc->create(request_to(std::string(number), "key-1", "hash-1")),
                 [&](std::exception_ptr, create_outcome o) { first = std::move(o); });
  asio::co_spawn(io, svc->create(request_to(std::string(number), "key-1", "hash-1")),
                 [&](std::exception_ptr, create_outcome o) { second = std::move(o); });
  ASSERT_TRUE(run_until([&] { return first && second; }));

  EXPECT_EQ(first->status, create_status::created);
  EXPECT_EQ(second->status, create_status::replayed) << "the key raced in: a replay of the first";
  EXPECT_EQ(second->v.id, first->v.id);
  ASSERT_TRUE(recorded(first->v.id));
  EXPECT_EQ(sms.sent.size(), 1u);

  // A later replay answers the first verification and sends nothing.
  const create_outcome again =
      await(svc->create(request_to(std::string(number), "key-1", "hash-1")));
  EXPECT_EQ(again.status, create_status::replayed);
  EXPECT_EQ(again.v.id, first->v.id);
  EXPECT_EQ(row(first->v.id).sends, 1);
  EXPECT_EQ(sms.sent.size(), 1u);
}

using service_sms = service_fixture;

TEST_F(service_sms, a_refused_sms_fails_its_attempt_with_the_smsc_status) {
  sms.next = fake_sms::answer::refused;
  const create_outcome out = await(svc->create(request_to(std::string(number))));
  ASSERT_EQ(out.status, create_status::created) << "the answer does not wait for the SMSC";
  ASSERT_TRUE(recorded(out.v.id));

  const verification v = row(out.v.id);
  EXPECT_EQ(v.attempts[0].status, attempt_status::failed);
  EXPECT_EQ(v.attempts[0].smpp_status,
            static_cast<std::uint32_t>(smpp::command_status::submit_failed));
  EXPECT_EQ(v.attempts[0].error, "refused");
  EXPECT_EQ(v.status, verification_status::pending) << "sends are left: the user may ask again";
}

// The send starts while the row is being inserted; an answer that comes without a pause (no
// bind) is still recorded on the attempt, not lost on a row that is not there yet.
TEST_F(service_sms, an_sms_refused_at_once_is_recorded_on_its_attempt) {
  sms.at_once = true;
  sms.next = fake_sms::answer::refused;
  const create_outcome out = await(svc->create(request_to(std::string(number))));
  ASSERT_EQ(out.status, create_status::created);
  ASSERT_TRUE(recorded(out.v.id));

  const verification v = row(out.v.id);
  EXPECT_EQ(v.attempts[0].status, attempt_status::failed) << "not left queued";
  EXPECT_EQ(v.attempts[0].error, "refused");
}

// A bug in the send (an exception) leaves no attempt queued: it fails with internal_error when
// the SMS never reached the wire, and otpd goes on.
TEST_F(service_sms, an_sms_ending_with_an_exception_fails_its_attempt_as_an_internal_error) {
  sms.throws = true;
  const create_outcome out = await(svc->create(request_to(std::string(number))));
  ASSERT_EQ(out.status, create_status::created);
  ASSERT_TRUE(recorded(out.v.id));

  const verification v = row(out.v.id);
  EXPECT_EQ(v.attempts[0].status, attempt_status::failed);
  EXPECT_EQ(v.attempts[0].error, "internal_error");
  EXPECT_EQ(v.status, verification_status::pending);
}

TEST_F(service_sms, an_sms_without_an_answer_is_submitted_with_its_outcome_unknown) {
  sms.next = fake_sms::answer::unknown;
  const create_outcome out = await(svc->create(request_to(std::string(number))));
  ASSERT_EQ(out.status, create_status::created);
  ASSERT_TRUE(recorded(out.v.id));

  const verification v = row(out.v.id);
  EXPECT_EQ(v.attempts[0].status, attempt_status::submitted);
  EXPECT_TRUE(v.attempts[0].outcome_unknown);
  EXPECT_TRUE(v.attempts[0].message_ids.empty());
  EXPECT_EQ(v.status, verification_status::pending);
}

using service_receipts = service_fixture;

TEST_F(service_receipts, delivered_is_recorded_and_answered_and_the_id_spelling_learnt) {
  const create_outcome out = await(svc->create(request_to(std::string(number))));
  ASSERT_TRUE(recorded(out.v.id));

  sms.receipt_for(1, smpp::dlr::message_state::delivered, "DELIVRD");
  ASSERT_TRUE(
      run_until([&] { return row(out.v.id).attempts[0].status == attempt_status::delivered; }));
  EXPECT_EQ(row(out.v.id).attempts[0].dlr_stat, "DELIVRD");
  ASSERT_TRUE(run_until([&] { return !sms.answered.empty(); }));
  EXPECT_EQ(sms.answered, std::vector<std::uint32_t>{0});
  EXPECT_EQ(sms.learnt, std::vector<std::string>{"c:m1=m1"});
}

TEST_F(service_receipts, undelivered_fails_the_attempt_and_posts_the_change) {
  const create_outcome out = await(svc->create(request_to(std::string(number))));
  ASSERT_TRUE(recorded(out.v.id));
  const std::size_t posted = events.posted.size();

  sms.receipt_for(1, smpp::dlr::message_state::undeliverable, "UNDELIV");
  ASSERT_TRUE(
      run_until([&] { return row(out.v.id).attempts[0].status == attempt_status::undelivered; }));
  EXPECT_EQ(row(out.v.id).status, verification_status::pending);
  ASSERT_TRUE(run_until([&] { return events.posted.size() > posted; }));
  EXPECT_NE(events.posted.back().find("\"undelivered\""), std::string::npos);
}

TEST_F(service_receipts, a_receipt_ahead_of_its_submits_record_is_looked_up_again) {
  sms.held = true;
  const create_outcome out = await(svc->create(request_to(std::string(number))));
  ASSERT_TRUE(run_until([&] { return sms.sent.size() == 1; }));

  // The receipt's first lookup goes to the store before the submit's record does: it misses,
  // and only a later lookup finds the attempt.
  sms.receipt_for(1, smpp::dlr::message_state::delivered, "DELIVRD");
  sms.release();
  ASSERT_TRUE(
      run_until([&] { return row(out.v.id).attempts[0].status == attempt_status::delivered; }));
  ASSERT_TRUE(run_until([&] { return !sms.answered.empty(); }));
  EXPECT_EQ(sms.answered, std::vector<std::uint32_t>{0});
}

using service_fallback = service_fixture;

TEST_F(service_fallback, a_failed_sms_starts_a_call_when_the_policy_asks_for_it) {
  set_policy([](config::otp_policy& p) { p.fallback_on_sms_failure = true; });
  auto owned = std::make_unique<fake_dialer>();
  fake_dialer& dialer = *owned;
  dialer.final.state = voice::call_state::completed;
  svc->attach_dialer(std::move(owned));
  sms.next = fake_sms::answer::refused;

  const create_outcome out = await(svc->create(request_to(std::string(number))));
  ASSERT_TRUE(run_until([&] {
    const verification v = row(out.v.id);
    return v.attempts.size() == 2 && v.attempts[1].status == attempt_status::completed;
  }));
  const verification v = row(out.v.id);
  EXPECT_EQ(v.attempts[0].status, attempt_status::failed);
  EXPECT_EQ(v.attempts[1].via, channel::voice);
  EXPECT_EQ(dialer.to, std::vector<std::string>{std::string(number)});
}

TEST_F(service_fallback, without_the_policy_a_failed_sms_starts_no_call) {
  auto owned = std::make_unique<fake_dialer>();
  fake_dialer& dialer = *owned;
  svc->attach_dialer(std::move(owned));
  sms.next = fake_sms::answer::refused;

  const create_outcome out = await(svc->create(request_to(std::string(number))));
  ASSERT_TRUE(recorded(out.v.id));
  // A fallback would have started with the record, ahead of this read.
  const verification v = row(out.v.id);
  EXPECT_EQ(v.attempts.size(), 1u);
  EXPECT_EQ(v.attempts[0].status, attempt_status::failed);
  EXPECT_TRUE(dialer.to.empty());
}

using service_resend = service_fixture;

TEST_F(service_resend, the_cooldown_grows_with_each_resend) {
  const std::string id = stored_pending();
  clock.advance(cfg.policy.resend_cooldown);
  resend_outcome second = await(svc->resend(id, channel::sms));
  ASSERT_EQ(second.result.outcome, engine::resend_outcome::accepted);
  EXPECT_EQ(second.result.attempt_number, 2);

  // The next one waits longer: cooldown_growth times the first.
  const auto grown = std::chrono::duration_cast<std::chrono::seconds>(cfg.policy.resend_cooldown *
                                                                      cfg.policy.cooldown_growth);
  clock.advance(cfg.policy.resend_cooldown);
  resend_outcome early = await(svc->resend(id, channel::sms));
  EXPECT_EQ(early.result.outcome, engine::resend_outcome::cooldown);
  EXPECT_EQ(early.result.retry_after, grown - cfg.policy.resend_cooldown);
  EXPECT_EQ(early.v.sends, 2);

  clock.advance(early.result.retry_after);
  EXPECT_EQ(await(svc->resend(id, channel::sms)).result.outcome, engine::resend_outcome::accepted);
  ASSERT_TRUE(run_until([&] { return sms.sent.size() == 2; }));
}

TEST_F(service_resend, max_sends_ends_the_resends) {
  set_policy([](config::otp_policy& p) { p.max_sends = 2; });
  const std::string id = stored_pending();
  clock.advance(cfg.policy.resend_cooldown);
  EXPECT_EQ(await(svc->resend(id, channel::sms)).result.outcome, engine::resend_outcome::accepted);

  clock.advance(cfg.policy.resend_cooldown * 2);
  const resend_outcome out = await(svc->resend(id, channel::sms));
  EXPECT_EQ(out.result.outcome, engine::resend_outcome::max_sends_reached);
  EXPECT_EQ(out.v.sends, 2);
  ASSERT_TRUE(recorded(id));
  EXPECT_EQ(sms.sent.size(), 1u) << "only the accepted resend was sent";
}

TEST_F(service_resend, a_resend_sends_a_new_code_and_the_old_one_no_longer_checks) {
  const std::string id = stored_pending();
  clock.advance(cfg.policy.resend_cooldown);
  ASSERT_EQ(await(svc->resend(id, channel::sms)).result.outcome, engine::resend_outcome::accepted);
  ASSERT_TRUE(run_until([&] { return sms.sent.size() == 1; }));
  const std::string fresh = code_in(sms.sent[0].text, cfg.policy.code_length);
  ASSERT_FALSE(fresh.empty());
  ASSERT_NE(fresh, code);

  const std::string old(code);
  EXPECT_EQ(await(svc->check(id, old)).result.outcome, engine::check_outcome::incorrect);
  EXPECT_EQ(await(svc->check(id, fresh)).result.outcome, engine::check_outcome::approved);
}

TEST_F(service_resend, without_new_code_on_resend_the_same_code_is_sent_again) {
  set_policy([](config::otp_policy& p) { p.new_code_on_resend = false; });
  const std::string id = stored_pending();  // its code sealed, as the policy asks
  clock.advance(cfg.policy.resend_cooldown);
  ASSERT_EQ(await(svc->resend(id, channel::sms)).result.outcome, engine::resend_outcome::accepted);
  ASSERT_TRUE(run_until([&] { return sms.sent.size() == 1; }));
  EXPECT_EQ(code_in(sms.sent[0].text, cfg.policy.code_length), code);
}

using service_expiry = service_fixture;

TEST_F(service_expiry, a_verification_expires_once_the_clock_passes_its_ttl) {
  const std::string id = stored_pending();
  clock.advance(cfg.policy.ttl - 1s);
  EXPECT_EQ(row(id).status, verification_status::pending);

  clock.advance(1s);
  EXPECT_EQ(row(id).status, verification_status::expired);
  const std::string right(code);
  EXPECT_EQ(await(svc->check(id, right)).result.outcome, engine::check_outcome::expired);
  EXPECT_EQ(await(svc->resend(id, channel::sms)).result.outcome, engine::resend_outcome::expired);
  EXPECT_TRUE(sms.sent.empty());
}

}  // namespace
}  // namespace otpd::service::unit
