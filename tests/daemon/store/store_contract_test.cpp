// The store's contract (store.hpp) for every backend: each operation, idempotency, rate limits,
// purge and batches, through the interface only. Leases, the SMS handoff queue and several
// connections at once: store_contract_nodes_test.cpp. Each backend instantiates the suite in its
// own test file (store_contract.hpp).
#include "tests/daemon/store/store_contract.hpp"

#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "tests/daemon/store/store_test_util.hpp"

namespace otpd::service::test {
namespace {

using namespace std::chrono_literals;

limit_result check(store& s, const std::vector<limit_check>& checks, std::int64_t now_ms) {
  limit_result r;
  EXPECT_FALSE(s.check_and_count(checks, at_ms(now_ms), r));
  return r;
}

// A result as one value, so that a refusal is compared in one EXPECT_EQ.
using check_outcome = std::tuple<bool, std::size_t, std::chrono::seconds>;
check_outcome outcome(const limit_result& r) { return {r.allowed, r.failed_index, r.retry_after}; }
check_outcome refused(std::size_t index, std::chrono::seconds retry_after) {
  return {false, index, retry_after};
}

TEST_P(store_contract, insert_then_get_reads_back_every_field) {
  auto v = make_verification("v1");
  v.completed_at = at_ms(t0_ms + 7);
  v.code_sealed = std::string("\0sealed\xff", 8);
  v.idempotency_key = "idem-1";
  attempt call;
  call.number = 2;
  call.via = channel::voice;
  call.status = attempt_status::no_answer;
  call.created_at = at_ms(t0_ms + 31'000);
  call.completed_at = at_ms(t0_ms + 61'000);
  call.carrier = "trunk-a";
  call.sip_code = 480;
  call.sip_reason = "Temporarily Unavailable";
  call.played_ms = 4260;
  call.outcome_unknown = true;
  call.dlr_stat = "UNDELIV";
  call.dlr_err = "001";
  call.error = "no_answer";
  call.node = "web-2";
  // Ids are the SMSC's bytes: quotes, backslashes, control characters, non-UTF-8.
  call.message_ids = {"", "a\"b\\c", std::string("\x01\n\x7f\xc3\xa9\xff", 6)};
  v.attempts.push_back(call);
  ASSERT_FALSE(store_->insert(v));

  verification got;
  ASSERT_FALSE(store_->get("v1", got));
  EXPECT_EQ(got, v);
}

TEST_P(store_contract, get_of_an_unknown_id_is_not_found) {
  verification got;
  EXPECT_EQ(store_->get("nope", got), store_errc::not_found);
}

TEST_P(store_contract, insert_of_an_existing_id_is_refused_and_changes_nothing) {
  auto v = make_verification("v1");
  ASSERT_FALSE(store_->insert(v));
  auto again = make_verification("v1");
  again.to = "+84999999999";
  EXPECT_EQ(store_->insert(again), store_errc::duplicate_id);
  verification got;
  ASSERT_FALSE(store_->get("v1", got));
  EXPECT_EQ(got.to, v.to);
}

TEST_P(store_contract, idempotency_key_is_unique_per_api_key) {
  auto a = make_verification("a");
  a.idempotency_key = "k1";
  ASSERT_FALSE(store_->insert(a));

  // Same key, same API key: refused, and nothing of the second one is written.
  auto b = make_verification("b");
  b.idempotency_key = "k1";
  EXPECT_EQ(store_->insert(b), store_errc::duplicate_idempotency);
  verification got;
  EXPECT_EQ(store_->get("b", got), store_errc::not_found);

  // find_idempotent returns the first one.
  ASSERT_FALSE(store_->find_idempotent("shop", "k1", got));
  EXPECT_EQ(got, a);

  // Another API key may use the same Idempotency-Key.
  auto c = make_verification("c");
  c.api_key = "bank";
  c.idempotency_key = "k1";
  EXPECT_FALSE(store_->insert(c));
  ASSERT_FALSE(store_->find_idempotent("bank", "k1", got));
  EXPECT_EQ(got.id, "c");

  EXPECT_EQ(store_->find_idempotent("shop", "k2", got), store_errc::not_found);
}

TEST_P(store_contract, empty_idempotency_keys_never_collide) {
  ASSERT_FALSE(store_->insert(make_verification("a")));
  EXPECT_FALSE(store_->insert(make_verification("b")));
  verification got;
  EXPECT_EQ(store_->find_idempotent("shop", "", got), store_errc::not_found);
}

TEST_P(store_contract, modify_writes_the_change_and_bumps_the_version) {
  auto v = make_verification("v1");
  ASSERT_FALSE(store_->insert(v));

  verification out;
  ASSERT_FALSE(store_->modify(
      "v1",
      [](verification& m) {
        m.checks += 1;
        m.status = verification_status::approved;
        m.completed_at = at_ms(t0_ms + 9'000);
        m.attempts[0].status = attempt_status::delivered;
        m.attempts[0].dlr_stat = "DELIVRD";
        attempt next;
        next.number = 2;
        next.via = channel::voice;
        next.created_at = at_ms(t0_ms + 40'000);
        m.attempts.push_back(next);
        return error_code{};
      },
      out));
  EXPECT_EQ(out.version, v.version + 1);
  EXPECT_EQ(out.checks, 2);
  verification got;
  ASSERT_FALSE(store_->get("v1", got));
  EXPECT_EQ(got, out);
  ASSERT_EQ(got.attempts.size(), 2U);
  EXPECT_EQ(got.attempts[0].dlr_stat, "DELIVRD");

  // Removing an attempt deletes its row.
  ASSERT_FALSE(store_->modify(
      "v1",
      [](verification& m) {
        m.attempts.pop_back();
        return error_code{};
      },
      out));
  ASSERT_FALSE(store_->get("v1", got));
  EXPECT_EQ(got.attempts.size(), 1U);
  EXPECT_EQ(got.version, v.version + 2);
}

TEST_P(store_contract, modify_that_returns_an_error_writes_nothing) {
  auto v = make_verification("v1");
  ASSERT_FALSE(store_->insert(v));
  verification out;
  out.id = "untouched";
  error_code refused = store_errc::conflict;
  EXPECT_EQ(store_->modify(
                "v1",
                [&](verification& m) {
                  m.checks = 99;
                  m.attempts.clear();
                  return refused;
                },
                out),
            refused);
  EXPECT_EQ(out.id, "untouched");
  verification got;
  ASSERT_FALSE(store_->get("v1", got));
  EXPECT_EQ(got, v);
}

TEST_P(store_contract, modify_that_throws_writes_nothing_and_leaves_the_store_usable) {
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  verification out;
  EXPECT_THROW(store_->modify(
                   "v1",
                   [](verification& m) -> error_code {
                     m.checks = 99;
                     throw std::runtime_error("bug");
                   },
                   out),
               std::runtime_error);
  verification got;
  ASSERT_FALSE(store_->get("v1", got));
  EXPECT_EQ(got.checks, 1);
  EXPECT_FALSE(store_->insert(make_verification("v2")));
}

TEST_P(store_contract, modify_keeps_the_id_and_reports_unknown_ids) {
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  verification out;
  ASSERT_FALSE(store_->modify(
      "v1",
      [](verification& m) {
        m.id = "other";
        return error_code{};
      },
      out));
  EXPECT_EQ(out.id, "v1");
  bool called = false;
  EXPECT_EQ(store_->modify(
                "missing",
                [&](verification&) {
                  called = true;
                  return error_code{};
                },
                out),
            store_errc::not_found);
  EXPECT_FALSE(called);
}

TEST_P(store_contract, correlations_find_their_attempt) {
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  const std::vector<correlation> c{{"viettel", "0a1b2c", "v1", 1, 0},
                                   {"viettel", "0a1b2d", "v1", 1, 1}};
  ASSERT_FALSE(store_->add_correlations(c));

  correlation found;
  ASSERT_FALSE(store_->find_correlation("viettel", "0a1b2d", found));
  EXPECT_EQ(found.verification_id, "v1");
  EXPECT_EQ(found.attempt, 1);
  EXPECT_EQ(found.part, 1);
  EXPECT_EQ(found.carrier, "viettel");
  EXPECT_EQ(found.key, "0a1b2d");
  // The key is per carrier.
  EXPECT_EQ(store_->find_correlation("mobifone", "0a1b2d", found), store_errc::not_found);

  // A reused SMSC id now points at the newest attempt.
  ASSERT_FALSE(store_->insert(make_verification("v2")));
  const std::vector<correlation> reuse{{"viettel", "0a1b2c", "v2", 1, 0}};
  ASSERT_FALSE(store_->add_correlations(reuse));
  ASSERT_FALSE(store_->find_correlation("viettel", "0a1b2c", found));
  EXPECT_EQ(found.verification_id, "v2");
}

// The candidates for a receipt that matched no correlation: SMS of unknown outcome without a
// message id, by carrier, number and time; each condition excludes a row of its own.
TEST_P(store_contract, unknown_sms_are_found_by_carrier_number_and_time) {
  const auto unknown = [](const std::string& id, std::int64_t created_ms) {
    verification v = make_verification(id, created_ms);
    v.attempts[0].message_ids.clear();
    v.attempts[0].outcome_unknown = true;
    return v;
  };
  ASSERT_FALSE(store_->insert(unknown("fits", t0_ms)));
  verification known = make_verification("known");  // has message ids
  known.attempts[0].outcome_unknown = true;
  ASSERT_FALSE(store_->insert(known));
  verification other_number = unknown("other-number", t0_ms);
  other_number.to = "+84987654321";
  ASSERT_FALSE(store_->insert(other_number));
  verification other_carrier = unknown("other-carrier", t0_ms);
  other_carrier.attempts[0].carrier = "mobifone";
  ASSERT_FALSE(store_->insert(other_carrier));
  verification delivered = unknown("delivered", t0_ms);
  delivered.attempts[0].status = attempt_status::delivered;
  ASSERT_FALSE(store_->insert(delivered));
  ASSERT_FALSE(store_->insert(unknown("too-old", t0_ms - 3'600'000)));

  unknown_sms_query q;
  q.carrier = "viettel";
  q.to = "+84912345678";
  q.created_from = at_ms(t0_ms - 60'000);
  q.created_to = at_ms(t0_ms + 60'000);
  q.expires_after = at_ms(t0_ms);
  std::vector<correlation> out;
  ASSERT_FALSE(store_->find_unknown_sms(q, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].verification_id, "fits");
  EXPECT_EQ(out[0].attempt, 1);
  EXPECT_EQ(out[0].carrier, "viettel");

  // Expired long ago: not a candidate.
  q.expires_after = at_ms(t0_ms + 400'000);
  ASSERT_FALSE(store_->find_unknown_sms(q, out));
  EXPECT_TRUE(out.empty());

  // Two fit: both come back (the caller calls it ambiguous), at most `limit`.
  q.expires_after = at_ms(t0_ms);
  ASSERT_FALSE(store_->insert(unknown("fits-too", t0_ms + 1000)));
  ASSERT_FALSE(store_->insert(unknown("fits-three", t0_ms + 2000)));
  ASSERT_FALSE(store_->find_unknown_sms(q, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].verification_id, "fits");
  EXPECT_EQ(out[1].verification_id, "fits-too");
}

TEST_P(store_contract, correlations_for_an_unknown_verification_write_nothing) {
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  const std::vector<correlation> c{{"viettel", "k1", "v1", 1, 0}, {"viettel", "k2", "nope", 1, 0}};
  EXPECT_EQ(store_->add_correlations(c), store_errc::not_found);
  correlation found;
  EXPECT_EQ(store_->find_correlation("viettel", "k1", found), store_errc::not_found);
}

TEST_P(store_contract, modify_writes_correlations_with_the_row_or_neither) {
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  const std::vector<correlation> c{{"viettel", "k1", "v1", 1, 0}};
  verification out;
  // The change is refused: the correlations are not written either.
  EXPECT_EQ(store_->modify(
                "v1", c, [](verification&) { return error_code(store_errc::conflict); }, out),
            store_errc::conflict);
  correlation found;
  EXPECT_EQ(store_->find_correlation("viettel", "k1", found), store_errc::not_found);

  ASSERT_FALSE(store_->modify(
      "v1", c,
      [](verification& v) {
        v.checks = 2;
        return error_code{};
      },
      out));
  ASSERT_FALSE(store_->find_correlation("viettel", "k1", found));
  EXPECT_EQ(found.verification_id, "v1");
  verification read;
  ASSERT_FALSE(store_->get("v1", read));
  EXPECT_EQ(read.checks, 2);
}

TEST_P(store_contract, rate_limit_allows_up_to_max_in_the_window_then_refuses_with_retry_after) {
  const std::vector<limit_check> checks{{"num:+84912345678", 3, 600s}};
  EXPECT_TRUE(check(*store_, checks, t0_ms).allowed);
  EXPECT_TRUE(check(*store_, checks, t0_ms + 10'000).allowed);
  EXPECT_TRUE(check(*store_, checks, t0_ms + 20'500).allowed);

  // The fourth within 10 minutes is refused until the first leaves the window: 600 s after it.
  EXPECT_EQ(outcome(check(*store_, checks, t0_ms + 30'000)), refused(0, 570s));

  // Rounded up to a whole second: 600 s - 599.3 s = 0.7 s -> 1 s.
  EXPECT_EQ(outcome(check(*store_, checks, t0_ms + 599'300)), refused(0, 1s));

  // The window is what came after now - 600 s: an event exactly 600 s old no longer counts.
  EXPECT_TRUE(check(*store_, checks, t0_ms + 600'000).allowed);
  // Now the events are at 10 s, 20.5 s, 600 s: the next one frees at 610 s.
  EXPECT_EQ(outcome(check(*store_, checks, t0_ms + 600'001)), refused(0, 10s));
}

TEST_P(store_contract, refused_check_counts_nothing_for_any_key) {
  const std::vector<limit_check> checks{
      {"ip:10.0.0.1", 100, 60s}, {"num:+84912345678", 1, 600s}, {"key:shop", 100, 1s}};
  EXPECT_TRUE(check(*store_, checks, t0_ms).allowed);
  EXPECT_EQ(outcome(check(*store_, checks, t0_ms + 1'000)), refused(1, 599s));
  // The refused call counted no event for the ip: one from before, not two, so a limit of two
  // per minute has room for one more.
  const std::vector<limit_check> ip{{"ip:10.0.0.1", 2, 60s}};
  EXPECT_TRUE(check(*store_, ip, t0_ms + 2'000).allowed);
  EXPECT_FALSE(check(*store_, ip, t0_ms + 3'000).allowed);
}

TEST_P(store_contract, two_windows_on_one_key_count_one_event_and_the_longer_one_decides) {
  // 3 per 10 minutes and 4 per day on the same number.
  const std::vector<limit_check> checks{{"num:1", 3, 600s}, {"num:1", 4, 86'400s}};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(check(*store_, checks, t0_ms + i * 1'000).allowed);
  // The oldest of the three leaves the short window at 600 s.
  EXPECT_EQ(outcome(check(*store_, checks, t0_ms + 3'000)), refused(0, 597s));
  // After 10 minutes the short window has room, the daily one a last one.
  EXPECT_TRUE(check(*store_, checks, t0_ms + 700'000).allowed);
  EXPECT_EQ(outcome(check(*store_, checks, t0_ms + 1'400'000)),
            refused(1, std::chrono::seconds(86'400 - 1'400)));
}

TEST_P(store_contract, lowered_limit_waits_for_enough_events_to_leave) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(check(*store_, {{"k", 10, 100s}}, t0_ms + i * 10'000).allowed);
  }
  // Now only 3 are allowed: 5 counted, so 3 must leave; the third (at 20 s) leaves at 120 s.
  EXPECT_EQ(outcome(check(*store_, {{"k", 3, 100s}}, t0_ms + 50'000)), refused(0, 70s));
}

TEST_P(store_contract, zero_max_or_window_is_no_limit) {
  for (int i = 0; i < 5; ++i) {
    auto r = check(*store_, {{"a", 0, 60s}, {"b", 5, 0s}}, t0_ms);
    EXPECT_TRUE(r.allowed);
  }
  // Nothing was counted: a limit of one still has its one.
  EXPECT_TRUE(check(*store_, {{"a", 1, 60s}, {"b", 1, 60s}}, t0_ms).allowed);
  EXPECT_FALSE(check(*store_, {{"a", 1, 60s}}, t0_ms).allowed);
}

TEST_P(store_contract, list_queued_returns_pending_verifications_with_a_queued_attempt) {
  auto queued = make_verification("q");
  queued.attempts[0].status = attempt_status::queued;
  ASSERT_FALSE(store_->insert(queued));
  ASSERT_FALSE(store_->insert(make_verification("sent")));
  auto finished = make_verification("done");
  finished.status = verification_status::canceled;
  finished.attempts[0].status = attempt_status::queued;
  ASSERT_FALSE(store_->insert(finished));

  // A call under way when the process died.
  auto ringing = make_verification("r");
  ringing.attempts[0].via = channel::voice;
  ringing.attempts[0].status = attempt_status::ringing;
  ASSERT_FALSE(store_->insert(ringing));

  std::vector<verification> out;
  ASSERT_FALSE(store_->list_queued(out));
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0], queued);
  EXPECT_EQ(out[1], ringing);
}

// A backlog goes over several calls, each at most store::purge_limit rows of a kind, so that no
// call holds the store for long.
TEST_P(store_contract, purge_works_through_a_backlog_a_limited_number_of_rows_a_call) {
  const std::size_t backlog = 2 * store::purge_limit + store::purge_limit / 2;
  ASSERT_FALSE(store_->begin_batch());
  for (std::size_t i = 0; i < backlog; ++i) {
    auto v = make_verification(numbered("old-", static_cast<long>(i)), t0_ms - 10 * 86'400'000LL);
    v.status = verification_status::approved;
    v.completed_at = v.created_at;
    ASSERT_FALSE(store_->insert(v));
  }
  ASSERT_FALSE(store_->end_batch());
  std::size_t changed = 0;
  ASSERT_FALSE(store_->purge(at_ms(t0_ms), std::chrono::seconds(7 * 86'400), changed));
  EXPECT_EQ(changed, store::purge_limit);
  ASSERT_FALSE(store_->purge(at_ms(t0_ms), std::chrono::seconds(7 * 86'400), changed));
  EXPECT_EQ(changed, store::purge_limit);
  ASSERT_FALSE(store_->purge(at_ms(t0_ms), std::chrono::seconds(7 * 86'400), changed));
  EXPECT_EQ(changed, backlog - 2 * store::purge_limit);
  ASSERT_FALSE(store_->purge(at_ms(t0_ms), std::chrono::seconds(7 * 86'400), changed));
  EXPECT_EQ(changed, 0u);
}

TEST_P(store_contract, purge_expires_pending_and_deletes_old_finished_with_their_rows) {
  // Pending, expired at t0 + 300 s.
  ASSERT_FALSE(store_->insert(make_verification("expiring")));
  // Pending, expires later.
  ASSERT_FALSE(store_->insert(make_verification("live", t0_ms + 3'600'000)));
  // Finished long ago: goes, with its attempts and correlations.
  auto old = make_verification("old", t0_ms - 10 * 86'400'000LL);
  old.status = verification_status::approved;
  old.completed_at = at_ms(t0_ms - 10 * 86'400'000LL + 20'000);
  ASSERT_FALSE(store_->insert(old));
  const std::vector<correlation> c{{"viettel", "old-msg", "old", 1, 0}};
  ASSERT_FALSE(store_->add_correlations(c));
  // Finished recently: stays.
  auto recent = make_verification("recent", t0_ms - 3'600'000);
  recent.status = verification_status::canceled;
  recent.completed_at = at_ms(t0_ms - 3'000'000);
  ASSERT_FALSE(store_->insert(recent));
  // Rate events: one that a 10 minute window no longer needs, one a day window still does.
  EXPECT_TRUE(check(*store_, {{"short", 5, 600s}}, t0_ms - 3'600'000).allowed);
  EXPECT_TRUE(check(*store_, {{"long", 5, 86'400s}}, t0_ms - 3'600'000).allowed);

  const std::int64_t now = t0_ms + 3'000'000;
  std::size_t changed = 0;
  ASSERT_FALSE(store_->purge(at_ms(now), std::chrono::seconds(7 * 86'400), changed));
  EXPECT_EQ(changed, 3U);  // expiring expired, old deleted, the short event deleted

  verification got;
  ASSERT_FALSE(store_->get("expiring", got));
  EXPECT_EQ(got.status, verification_status::expired);
  EXPECT_EQ(got.completed_at, at_ms(t0_ms + 300'000));
  EXPECT_EQ(got.version, 1);
  ASSERT_FALSE(store_->get("live", got));
  EXPECT_EQ(got.status, verification_status::pending);
  EXPECT_EQ(store_->get("old", got), store_errc::not_found);
  EXPECT_FALSE(store_->get("recent", got));
  correlation found;
  EXPECT_EQ(store_->find_correlation("viettel", "old-msg", found), store_errc::not_found);
  // The day window's event is still counted.
  EXPECT_FALSE(check(*store_, {{"long", 1, 86'400s}}, now).allowed);

  // Nothing left to do: a second purge changes nothing.
  ASSERT_FALSE(store_->purge(at_ms(now), std::chrono::seconds(7 * 86'400), changed));
  EXPECT_EQ(changed, 0U);
}

TEST_P(store_contract, batch_commits_everything_or_keeps_failed_calls_out) {
  auto other = db_->connect();
  ASSERT_NE(other, nullptr);
  ASSERT_FALSE(store_->begin_batch());
  ASSERT_FALSE(store_->insert(make_verification("a")));
  EXPECT_EQ(store_->insert(make_verification("a")), store_errc::duplicate_id);
  verification out;
  EXPECT_EQ(store_->modify(
                "a",
                [](verification& m) {
                  m.checks = 42;
                  return error_code(store_errc::conflict);
                },
                out),
            store_errc::conflict);
  // Inside the batch, a read sees the batch's own writes.
  verification got;
  ASSERT_FALSE(store_->get("a", got));
  // Not yet visible to another connection.
  EXPECT_EQ(other->get("a", got), store_errc::not_found);
  ASSERT_FALSE(store_->end_batch());
  ASSERT_FALSE(other->get("a", got));
  EXPECT_EQ(got.checks, 1);
}

TEST_P(store_contract, calls_that_find_nothing_or_fail_in_a_batch_leave_the_others_to_commit) {
  auto other = db_->connect();
  ASSERT_NE(other, nullptr);
  // A batch with no call at all commits nothing and fails nothing.
  ASSERT_FALSE(store_->begin_batch());
  ASSERT_FALSE(store_->end_batch());

  ASSERT_FALSE(store_->begin_batch());
  ASSERT_FALSE(store_->insert(make_verification("a")));
  verification got;
  EXPECT_EQ(store_->get("missing", got), store_errc::not_found);
  EXPECT_EQ(store_->find_idempotent("key", "missing", got), store_errc::not_found);
  EXPECT_EQ(store_->modify(
                "missing", [](verification&) { return error_code{}; }, got),
            store_errc::not_found);
  // A write that fails after others in the same call: none of the call's writes stays.
  const std::vector<correlation> added{{"viettel", "m1", "a", 1, 1},
                                       {"viettel", "m2", "nobody", 1, 1}};
  EXPECT_EQ(store_->add_correlations(added), store_errc::not_found);
  ASSERT_FALSE(store_->insert(make_verification("b")));
  ASSERT_FALSE(store_->end_batch()) << store_->last_error();

  EXPECT_FALSE(other->get("a", got));
  EXPECT_FALSE(other->get("b", got));
  correlation found;
  EXPECT_EQ(other->find_correlation("viettel", "m1", found), store_errc::not_found);
}

}  // namespace
}  // namespace otpd::service::test
