// The service's answers that need no carrier nor trunk: the rules against a row in an in-memory
// SQLite store, the row answered as it is when a rule refuses without writing, and stop().
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/daemon/service/service_fixture.hpp"

namespace otpd::service::unit {
namespace {

using verification_service_test = service_fixture;

TEST_F(verification_service_test, cancel_cancels_and_a_second_cancel_answers_the_row_as_is) {
  const std::string id = stored_pending();
  cancel_outcome first = await(svc->cancel(id));
  EXPECT_FALSE(first.ec);
  EXPECT_EQ(first.result, engine::cancel_outcome::canceled);
  EXPECT_EQ(first.v.status, verification_status::canceled);

  cancel_outcome second = await(svc->cancel(id));
  EXPECT_FALSE(second.ec);
  EXPECT_EQ(second.result, engine::cancel_outcome::already_final);
  EXPECT_EQ(second.v.id, id);
  EXPECT_EQ(second.v.status, verification_status::canceled);
}

// The event the service posts is the one it wrote with the change: the outbox holds it, the
// same body, until the sender delivers it.
TEST_F(verification_service_test, the_event_posted_is_in_the_outbox_with_the_change) {
  const std::string id = stored_pending();
  ASSERT_FALSE(await(svc->cancel(id)).ec);
  ASSERT_EQ(events.posted.size(), 1u);
  auto [ec, claimed] = await(db_->run([](store& s) {
    std::vector<webhook_event> out;
    const error_code e = s.claim_webhooks("test", std::chrono::system_clock::now(),
                                          std::chrono::minutes(1), 10, out);
    return std::pair{e, std::move(out)};
  }));
  ASSERT_FALSE(ec);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].verification_id, id);
  EXPECT_EQ(claimed[0].body, events.posted[0]);
  // A refusal writes nothing, and no event.
  ASSERT_FALSE(await(svc->cancel(id)).ec);
  EXPECT_EQ(events.posted.size(), 1u);
}

TEST_F(verification_service_test, cancel_of_an_unknown_id_is_not_found) {
  cancel_outcome out = await(svc->cancel("nosuchverification"));
  EXPECT_EQ(out.ec, store_errc::not_found);
}

TEST_F(verification_service_test, a_wrong_code_is_counted_and_a_check_after_approval_is_refused) {
  const std::string id = stored_pending();
  const std::string wrong = "000000";
  check_outcome incorrect = await(svc->check(id, wrong));
  EXPECT_FALSE(incorrect.ec);
  EXPECT_EQ(incorrect.result.outcome, engine::check_outcome::incorrect);
  EXPECT_EQ(incorrect.v.checks, 1);

  const std::string right(code);
  check_outcome approved = await(svc->check(id, right));
  EXPECT_EQ(approved.result.outcome, engine::check_outcome::approved);
  EXPECT_EQ(approved.v.status, verification_status::approved);

  // Refused before any compare: nothing written, the row as it is.
  check_outcome again = await(svc->check(id, right));
  EXPECT_FALSE(again.ec);
  EXPECT_EQ(again.result.outcome, engine::check_outcome::already_approved);
  EXPECT_EQ(again.v.status, verification_status::approved);
  EXPECT_EQ(again.v.checks, approved.v.checks);
}

TEST_F(verification_service_test, a_resend_by_voice_without_a_trunk_is_channel_unavailable) {
  const std::string id = stored_pending();
  resend_outcome out = await(svc->resend(id, channel::voice));
  EXPECT_FALSE(out.ec);
  EXPECT_TRUE(out.channel_unavailable);
  EXPECT_EQ(out.v.id, id);
  EXPECT_EQ(out.v.sends, 1);
}

TEST_F(verification_service_test, a_resend_within_the_cooldown_is_refused_with_the_row_as_is) {
  const std::string id = stored_pending();
  resend_outcome out = await(svc->resend(id, channel::sms));
  EXPECT_FALSE(out.ec);
  EXPECT_FALSE(out.channel_unavailable);
  EXPECT_EQ(out.result.outcome, engine::resend_outcome::cooldown);
  EXPECT_GT(out.result.retry_after.count(), 0);
  EXPECT_EQ(out.v.id, id);
  EXPECT_EQ(out.v.sends, 1);
  EXPECT_TRUE(out.result.code.empty());
}

TEST_F(verification_service_test, a_resend_after_cancel_is_refused_as_final) {
  const std::string id = stored_pending();
  await(svc->cancel(id));
  clock.advance(cfg.policy.resend_cooldown + 1s);
  resend_outcome out = await(svc->resend(id, channel::sms));
  EXPECT_FALSE(out.ec);
  EXPECT_EQ(out.result.outcome, engine::resend_outcome::final_state);
  EXPECT_EQ(out.v.status, verification_status::canceled);
  EXPECT_EQ(out.v.sends, 1);
}

TEST_F(verification_service_test, a_resend_of_an_unknown_id_is_not_found) {
  resend_outcome out = await(svc->resend("nosuchverification", channel::sms));
  EXPECT_EQ(out.ec, store_errc::not_found);
}

TEST_F(verification_service_test, a_final_status_is_posted_once_and_a_refusal_not_at_all) {
  const std::string id = stored_pending();
  const std::string wrong = "000000";
  await(svc->check(id, wrong));
  EXPECT_TRUE(events.posted.empty()) << "a wrong code leaves the verification pending";

  await(svc->cancel(id));
  ASSERT_EQ(events.posted.size(), 1u);
  EXPECT_NE(events.posted[0].find("\"verification.updated\""), std::string::npos);
  EXPECT_NE(events.posted[0].find(id), std::string::npos);
  EXPECT_NE(events.posted[0].find("\"canceled\""), std::string::npos);

  await(svc->cancel(id));
  const std::string right(code);
  await(svc->check(id, right));
  EXPECT_EQ(events.posted.size(), 1u);
}

TEST_F(verification_service_test, a_resend_by_voice_calls_and_records_the_call_on_its_attempt) {
  auto owned = std::make_unique<fake_dialer>();
  fake_dialer& dialer = *owned;
  dialer.final.state = voice::call_state::completed;
  dialer.final.sip_code = 200;
  svc->attach_dialer(std::move(owned));
  const std::string id = stored_pending();
  clock.advance(cfg.policy.resend_cooldown + 1s);

  resend_outcome out = await(svc->resend(id, channel::voice));
  EXPECT_FALSE(out.ec);
  ASSERT_EQ(out.result.outcome, engine::resend_outcome::accepted);
  EXPECT_EQ(out.result.attempt_number, 2);
  EXPECT_TRUE(out.result.code.empty()) << "the code is wiped from the answer";

  // The call and its record run as tasks of the service after the answer.
  const auto recorded = [&] {
    verification v = await(svc->get(id)).second;
    return v.attempts.size() == 2 && v.attempts[1].status == attempt_status::completed;
  };
  ASSERT_TRUE(run_until(recorded));
  EXPECT_EQ(dialer.to, std::vector<std::string>{"+4915112345678"});
  EXPECT_EQ(dialer.code_length, static_cast<std::size_t>(cfg.policy.code_length));
  verification v = await(svc->get(id)).second;
  EXPECT_EQ(v.attempts[1].via, channel::voice);
  EXPECT_EQ(v.attempts[1].carrier, "trunk-1");
  EXPECT_TRUE(v.attempts[1].submitted_at.has_value());
  EXPECT_EQ(v.sends, 2);
}

TEST_F(verification_service_test, create_refuses_a_number_that_is_not_one) {
  create_outcome out = await(svc->create(request_to("12ab")));
  EXPECT_EQ(out.status, create_status::invalid_number);
  EXPECT_FALSE(out.detail.empty());
}

TEST_F(verification_service_test, create_refuses_a_number_without_route) {
  create_outcome out = await(svc->create(request_to("+33612345678")));
  EXPECT_EQ(out.status, create_status::no_route);
}

TEST_F(verification_service_test, create_with_a_stored_idempotency_key_replays_its_verification) {
  const std::string id = stored_pending("key-1", "hash-1");
  create_outcome same = await(svc->create(request_to("+4915112345678", "key-1", "hash-1")));
  EXPECT_EQ(same.status, create_status::replayed);
  EXPECT_EQ(same.v.id, id);

  create_outcome other = await(svc->create(request_to("+4915112345678", "key-1", "hash-2")));
  EXPECT_EQ(other.status, create_status::idempotency_mismatch);
  EXPECT_EQ(other.v.id, id);
}

TEST_F(verification_service_test, create_without_a_carrier_able_to_send_asks_to_retry) {
  sms.carrier_wait = bind_wait::timed_out;
  stored_pending("key-1", "hash-1");
  create_outcome out = await(svc->create(request_to("+4915112345678", "key-2", "hash-1")));
  EXPECT_EQ(out.status, create_status::no_carrier_available);
  EXPECT_GE(out.retry_after, std::chrono::seconds(1));
  EXPECT_TRUE(out.v.id.empty());
}

}  // namespace
}  // namespace otpd::service::unit
