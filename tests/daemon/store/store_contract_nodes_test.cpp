// The store's contract (store.hpp) for several nodes on one database, for every backend:
// leases, the SMS handoff queue, and what holds across connections used at once from threads
// (each thread with a connection of its own: a store is used by one thread at a time).
#include <algorithm>
#include <cstddef>
#include <functional>
#include <latch>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/daemon/store/store_contract.hpp"
#include "tests/daemon/store/store_test_util.hpp"

namespace otpd::service::test {
namespace {

using namespace std::chrono_literals;

constexpr int racers = 4;  // threads (and connections) in each race

// Runs body(i, connection i) on `racers` threads at once, each with a new connection to `db`,
// released together once every connection is open.
void race(store_database& db, const std::function<void(int, store&)>& body) {
  std::vector<std::unique_ptr<store>> connections;
  for (int i = 0; i < racers; ++i) {
    connections.push_back(db.connect());
    ASSERT_NE(connections.back(), nullptr);
  }
  std::latch start(racers);
  std::vector<std::thread> threads;
  for (int i = 0; i < racers; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      body(i, *connections[static_cast<std::size_t>(i)]);
    });
  }
  for (auto& t : threads) t.join();
}

std::vector<std::string> acquire(store& s, std::string_view holder,
                                 const std::vector<std::string>& names, std::int64_t now_ms,
                                 std::chrono::milliseconds ttl = 30s) {
  std::vector<std::string> held{"not cleared"};
  EXPECT_FALSE(s.acquire_leases(holder, names, at_ms(now_ms), ttl, held));
  return held;
}

std::vector<lease> leases(store& s, std::string_view prefix = "") {
  std::vector<lease> out;
  EXPECT_FALSE(s.list_leases(prefix, out));
  return out;
}

// ---- leases -------------------------------------------------------------------------------

TEST_P(store_contract, free_lease_is_taken_until_now_plus_ttl) {
  const std::vector<std::string> names{"bind:vn/vn-a"};
  EXPECT_EQ(acquire(*store_, "web-1", names, t0_ms, 30s), names);
  const auto all = leases(*store_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name, "bind:vn/vn-a");
  EXPECT_EQ(all[0].holder, "web-1");
  EXPECT_EQ(all[0].expires_at, at_ms(t0_ms + 30'000));
}

TEST_P(store_contract, lease_held_by_another_is_not_taken_until_it_expires) {
  const std::vector<std::string> names{"purge"};
  ASSERT_EQ(acquire(*store_, "web-1", names, t0_ms, 30s), names);
  EXPECT_TRUE(acquire(*store_, "web-2", names, t0_ms + 29'999).empty());
  EXPECT_EQ(leases(*store_)[0].holder, "web-1");
  // Expired at now: free.
  EXPECT_EQ(acquire(*store_, "web-2", names, t0_ms + 30'000, 10s), names);
  const auto all = leases(*store_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].holder, "web-2");
  EXPECT_EQ(all[0].expires_at, at_ms(t0_ms + 40'000));
  EXPECT_TRUE(acquire(*store_, "web-1", names, t0_ms + 30'001).empty());
}

TEST_P(store_contract, holder_renews_its_own_lease) {
  const std::vector<std::string> names{"node:web-1"};
  ASSERT_EQ(acquire(*store_, "web-1", names, t0_ms, 30s), names);
  EXPECT_EQ(acquire(*store_, "web-1", names, t0_ms + 10'000, 30s), names);
  EXPECT_EQ(leases(*store_)[0].expires_at, at_ms(t0_ms + 40'000));
  // Renewed, so still held where the first term would have ended.
  EXPECT_TRUE(acquire(*store_, "web-2", names, t0_ms + 35'000).empty());
  // And the holder takes it back after it expired, if nobody else did.
  EXPECT_EQ(acquire(*store_, "web-1", names, t0_ms + 100'000), names);
}

TEST_P(store_contract, acquire_reports_the_names_held_in_the_order_asked) {
  ASSERT_FALSE(acquire(*store_, "web-2", {"bind:b"}, t0_ms).empty());
  const std::vector<std::string> names{"bind:c", "bind:b", "bind:a"};
  EXPECT_EQ(acquire(*store_, "web-1", names, t0_ms),
            (std::vector<std::string>{"bind:c", "bind:a"}));
  EXPECT_TRUE(acquire(*store_, "web-1", {}, t0_ms).empty());
}

TEST_P(store_contract, release_gives_up_only_the_holders_own_leases) {
  ASSERT_EQ(acquire(*store_, "web-1", {"bind:a", "bind:b"}, t0_ms).size(), 2u);
  ASSERT_EQ(acquire(*store_, "web-2", {"bind:c"}, t0_ms).size(), 1u);
  const std::vector<std::string> names{"bind:a", "bind:c", "bind:none"};
  ASSERT_FALSE(store_->release_leases("web-1", names));
  // bind:a is free at once, long before it would have expired; web-2 still holds bind:c.
  EXPECT_EQ(acquire(*store_, "web-3", {"bind:a", "bind:c"}, t0_ms + 1),
            (std::vector<std::string>{"bind:a"}));
  std::vector<std::string> holders;
  for (const auto& l : leases(*store_)) holders.push_back(l.name + "=" + l.holder);
  EXPECT_EQ(holders, (std::vector<std::string>{"bind:a=web-3", "bind:b=web-1", "bind:c=web-2"}));
}

TEST_P(store_contract, list_leases_by_prefix_includes_expired_ones_by_name) {
  ASSERT_FALSE(acquire(*store_, "web-1", {"bind:vn/vn-b"}, t0_ms, 1s).empty());
  ASSERT_FALSE(acquire(*store_, "web-2", {"bind:vn/vn-a", "node:web-2", "purge"}, t0_ms).empty());
  // At t0 + 1 h both bind leases have expired; they are still listed.
  ASSERT_FALSE(acquire(*store_, "web-2", {"node:web-2"}, t0_ms + 3'600'000).empty());
  const auto binds = leases(*store_, "bind:");
  ASSERT_EQ(binds.size(), 2u);
  EXPECT_EQ(binds[0].name, "bind:vn/vn-a");
  EXPECT_EQ(binds[0].holder, "web-2");
  EXPECT_EQ(binds[1].name, "bind:vn/vn-b");
  EXPECT_EQ(binds[1].expires_at, at_ms(t0_ms + 1'000));
  EXPECT_EQ(leases(*store_, "node:").size(), 1u);
  EXPECT_EQ(leases(*store_).size(), 4u);
  EXPECT_TRUE(leases(*store_, "nothing").empty());
}

TEST_P(store_contract, two_holders_racing_for_free_leases_never_both_get_one) {
  constexpr int rounds = 30;
  std::vector<std::string> names;
  for (int n = 0; n < rounds; ++n) names.push_back(numbered("bind:race-", n));
  std::vector<std::vector<std::string>> won(racers);
  race(*db_, [&](int i, store& s) {
    const std::string holder = numbered("web-", i);
    // One name per call: the races are many, each one transaction.
    for (const auto& name : names) {
      std::vector<std::string> held;
      ASSERT_FALSE(
          s.acquire_leases(holder, std::vector<std::string>{name}, at_ms(t0_ms), 30s, held));
      won[static_cast<std::size_t>(i)].insert(won[static_cast<std::size_t>(i)].end(), held.begin(),
                                              held.end());
    }
  });
  std::multiset<std::string> all;
  for (const auto& w : won) all.insert(w.begin(), w.end());
  for (const auto& name : names) EXPECT_EQ(all.count(name), 1u) << name;
  // The store agrees with what each holder was told.
  for (const auto& l : leases(*store_, "bind:race-")) {
    const auto& mine = won[static_cast<std::size_t>(l.holder.back() - '0')];
    EXPECT_NE(std::find(mine.begin(), mine.end(), l.name), mine.end()) << l.name;
  }
}

// ---- the SMS handoff queue ----------------------------------------------------------------

// An SMS of verification `id` (its attempt 1), queued `queued_ms` for the carriers given.
sms_handoff handoff(const std::string& id, std::vector<std::string> carriers,
                    std::int64_t queued_ms = t0_ms) {
  sms_handoff h;
  h.verification_id = id;
  h.attempt = 1;
  h.carriers = std::move(carriers);
  h.sealed_code = std::string("\x00sealed\xff", 8);  // bytes, with a NUL
  h.locale = "vi";
  h.queued_at = at_ms(queued_ms);
  h.deadline = at_ms(queued_ms + 300'000);
  return h;
}

// A verification whose attempt 1 waits in the queue: queued, sent by no node yet.
verification waiting(const std::string& id) {
  verification v = make_verification(id);
  v.attempts[0].status = attempt_status::queued;
  v.attempts[0].submitted_at.reset();
  v.attempts[0].message_ids.clear();
  v.attempts[0].node.clear();
  return v;
}

std::vector<sms_handoff> claim(store& s, std::string_view holder,
                               const std::vector<std::string>& carriers, std::int64_t now_ms,
                               std::size_t limit = 10) {
  std::vector<sms_handoff> out(1);  // cleared by the call
  EXPECT_FALSE(s.claim_sms(holder, carriers, at_ms(now_ms), limit, out));
  return out;
}

TEST_P(store_contract, queued_sms_is_claimed_by_a_node_serving_one_of_its_carriers) {
  ASSERT_FALSE(store_->insert(waiting("v1")));
  auto h = handoff("v1", {"viettel", "mobifone"});
  h.claimed_by = "ignored";
  ASSERT_FALSE(store_->queue_sms(h));
  // No carrier in common: not for this node.
  EXPECT_TRUE(claim(*store_, "web-3", {"vinaphone"}, t0_ms + 1'000).empty());
  const auto got = claim(*store_, "web-2", {"vinaphone", "mobifone"}, t0_ms + 1'000);
  ASSERT_EQ(got.size(), 1u);
  h.claimed_by = "web-2";
  EXPECT_EQ(got[0], h);
  // The attempt is web-2's now, written with the claim.
  verification v;
  ASSERT_FALSE(store_->get("v1", v));
  EXPECT_EQ(v.attempts[0].node, "web-2");
}

TEST_P(store_contract, claimed_sms_is_never_claimed_again) {
  ASSERT_FALSE(store_->insert(waiting("v1")));
  ASSERT_FALSE(store_->queue_sms(handoff("v1", {"viettel"})));
  ASSERT_EQ(claim(*store_, "web-1", {"viettel"}, t0_ms).size(), 1u);
  EXPECT_TRUE(claim(*store_, "web-1", {"viettel"}, t0_ms).empty());
  // Not by another node either, even once web-1's lease would be long gone.
  auto other = db_->connect();
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(claim(*other, "web-2", {"viettel"}, t0_ms + 200'000).empty());
}

TEST_P(store_contract, sms_past_its_deadline_is_not_claimed) {
  ASSERT_FALSE(store_->insert(waiting("v1")));
  ASSERT_FALSE(store_->queue_sms(handoff("v1", {"viettel"})));
  // The deadline is t0 + 300 s: at that moment it is too late.
  EXPECT_TRUE(claim(*store_, "web-1", {"viettel"}, t0_ms + 300'000).empty());
  EXPECT_EQ(claim(*store_, "web-1", {"viettel"}, t0_ms + 299'999).size(), 1u);
}

TEST_P(store_contract, claims_take_the_oldest_first_up_to_the_limit) {
  for (int i = 0; i < 5; ++i) {
    const std::string id = numbered("v", i);
    ASSERT_FALSE(store_->insert(waiting(id)));
    // Queued newest first, so that the order is the queue's and not the insert's.
    ASSERT_FALSE(store_->queue_sms(handoff(id, {"viettel"}, t0_ms + (5 - i) * 1'000)));
  }
  auto got = claim(*store_, "web-1", {"viettel"}, t0_ms + 10'000, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].verification_id, "v4");
  EXPECT_EQ(got[1].verification_id, "v3");
  got = claim(*store_, "web-1", {"viettel"}, t0_ms + 10'000, 10);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].verification_id, "v0");
}

TEST_P(store_contract, finished_sms_leaves_the_queue) {
  ASSERT_FALSE(store_->insert(waiting("v1")));
  ASSERT_FALSE(store_->queue_sms(handoff("v1", {"viettel"})));
  ASSERT_EQ(claim(*store_, "web-1", {"viettel"}, t0_ms).size(), 1u);
  EXPECT_FALSE(store_->finish_sms("v1", 1));
  EXPECT_EQ(store_->finish_sms("v1", 1), store_errc::not_found);
  EXPECT_EQ(store_->finish_sms("v1", 2), store_errc::not_found);
  EXPECT_EQ(store_->finish_sms("nope", 1), store_errc::not_found);
  // Gone, not just claimed: the attempt may be queued again (a retry of the same attempt).
  EXPECT_FALSE(store_->queue_sms(handoff("v1", {"viettel"})));
  EXPECT_EQ(claim(*store_, "web-2", {"viettel"}, t0_ms).size(), 1u);
}

TEST_P(store_contract, unclaimed_sms_may_be_finished) {
  ASSERT_FALSE(store_->insert(waiting("v1")));
  ASSERT_FALSE(store_->queue_sms(handoff("v1", {"viettel"})));
  EXPECT_FALSE(store_->finish_sms("v1", 1));
  EXPECT_TRUE(claim(*store_, "web-1", {"viettel"}, t0_ms).empty());
}

TEST_P(store_contract, queueing_an_attempt_twice_is_a_duplicate_and_keeps_the_first) {
  ASSERT_FALSE(store_->insert(waiting("v1")));
  ASSERT_FALSE(store_->queue_sms(handoff("v1", {"viettel"})));
  EXPECT_EQ(store_->queue_sms(handoff("v1", {"mobifone"})), store_errc::duplicate_id);
  EXPECT_TRUE(claim(*store_, "web-1", {"mobifone"}, t0_ms).empty());
  EXPECT_EQ(claim(*store_, "web-1", {"viettel"}, t0_ms).size(), 1u);
  // Claimed or not, the attempt is in the queue until finished.
  EXPECT_EQ(store_->queue_sms(handoff("v1", {"viettel"})), store_errc::duplicate_id);
}

TEST_P(store_contract, queueing_for_an_unknown_verification_is_not_found) {
  EXPECT_EQ(store_->queue_sms(handoff("nope", {"viettel"})), store_errc::not_found);
  EXPECT_TRUE(claim(*store_, "web-1", {"viettel"}, t0_ms).empty());
}

TEST_P(store_contract, purge_deletes_the_queued_sms_of_the_verifications_it_deletes) {
  auto old = waiting("old");
  old.status = verification_status::expired;
  old.completed_at = at_ms(t0_ms + 300'000);
  ASSERT_FALSE(store_->insert(old));
  auto h = handoff("old", {"viettel"});
  h.deadline = at_ms(t0_ms + 10 * 86'400'000LL);  // still claimable, were the row kept
  ASSERT_FALSE(store_->queue_sms(h));
  std::size_t changed = 0;
  const auto now = at_ms(t0_ms + 8 * 86'400'000LL);
  ASSERT_FALSE(store_->purge(now, std::chrono::seconds(7 * 86'400), changed));
  verification v;
  EXPECT_EQ(store_->get("old", v), store_errc::not_found);
  EXPECT_TRUE(claim(*store_, "web-1", {"viettel"}, t0_ms + 8 * 86'400'000LL).empty());
  EXPECT_EQ(store_->finish_sms("old", 1), store_errc::not_found);
}

TEST_P(store_contract, nodes_claiming_at_once_never_get_the_same_sms) {
  constexpr int queued = 60;
  for (int i = 0; i < queued; ++i) {
    const std::string id = numbered("v", i);
    ASSERT_FALSE(store_->insert(waiting(id)));
    ASSERT_FALSE(store_->queue_sms(handoff(id, {"viettel"}, t0_ms + i)));
  }
  std::vector<std::vector<sms_handoff>> got(racers);
  race(*db_, [&](int i, store& s) {
    const std::string holder = numbered("web-", i);
    auto& mine = got[static_cast<std::size_t>(i)];
    while (true) {
      std::vector<sms_handoff> batch;
      ASSERT_FALSE(
          s.claim_sms(holder, std::vector<std::string>{"viettel"}, at_ms(t0_ms + 1'000), 3, batch));
      if (batch.empty()) return;
      mine.insert(mine.end(), batch.begin(), batch.end());
    }
  });
  std::set<std::string> ids;
  std::size_t total = 0;
  for (int i = 0; i < racers; ++i) {
    for (const auto& h : got[static_cast<std::size_t>(i)]) {
      ++total;
      ids.insert(h.verification_id);
      EXPECT_EQ(h.claimed_by, numbered("web-", i));
      // The attempt names the node that claimed it.
      verification v;
      ASSERT_FALSE(store_->get(h.verification_id, v));
      EXPECT_EQ(v.attempts[0].node, h.claimed_by) << h.verification_id;
    }
  }
  EXPECT_EQ(total, static_cast<std::size_t>(queued));
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(queued));
}

// ---- several connections ------------------------------------------------------------------

TEST_P(store_contract, rate_limit_checked_from_several_connections_never_exceeds_max) {
  constexpr int max = 10;
  const std::vector<limit_check> checks{{"num:+84912345678", max, 600s}};
  std::vector<int> allowed(racers, 0);
  race(*db_, [&](int i, store& s) {
    for (int n = 0; n < max; ++n) {
      limit_result r;
      ASSERT_FALSE(s.check_and_count(checks, at_ms(t0_ms + n), r));
      if (r.allowed) ++allowed[static_cast<std::size_t>(i)];
    }
  });
  int total = 0;
  for (int a : allowed) total += a;
  EXPECT_EQ(total, max);
}

TEST_P(store_contract, event_counted_by_a_node_whose_clock_is_ahead_counts) {
  auto other = db_->connect();
  ASSERT_NE(other, nullptr);
  const std::vector<limit_check> checks{{"num:+84912345678", 1, 600s}};
  limit_result r;
  ASSERT_FALSE(other->check_and_count(checks, at_ms(t0_ms + 5'000), r));
  ASSERT_TRUE(r.allowed);
  // Checked 5 s earlier by this node's clock: refused until that event leaves the window.
  ASSERT_FALSE(store_->check_and_count(checks, at_ms(t0_ms), r));
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.retry_after, 605s);
}

TEST_P(store_contract, idempotency_key_written_by_one_connection_is_seen_by_another) {
  auto other = db_->connect();
  ASSERT_NE(other, nullptr);
  auto v = make_verification("v1");
  v.idempotency_key = "k1";
  ASSERT_FALSE(store_->insert(v));
  verification got;
  ASSERT_FALSE(other->find_idempotent("shop", "k1", got));
  EXPECT_EQ(got, v);
  auto again = make_verification("v2");
  again.idempotency_key = "k1";
  EXPECT_EQ(other->insert(again), store_errc::duplicate_idempotency);
}

TEST_P(store_contract, modify_from_several_connections_loses_no_update) {
  constexpr int per_thread = 25;
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  race(*db_, [&](int, store& s) {
    for (int n = 0; n < per_thread; ++n) {
      verification out;
      ASSERT_FALSE(s.modify(
          "v1",
          [](verification& m) {
            ++m.checks;
            return error_code{};
          },
          out));
    }
  });
  verification got;
  ASSERT_FALSE(store_->get("v1", got));
  EXPECT_EQ(got.checks, 1 + racers * per_thread);
  EXPECT_EQ(got.version, racers * per_thread);
}

// A connection that wrote a row and then sees another write it (another node, a claim, an
// expiry) modifies the row as it is now, attempts included, not as it last wrote it.
TEST_P(store_contract, modify_after_another_connections_write_starts_from_that_write) {
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  verification out;
  ASSERT_FALSE(store_->modify(
      "v1",
      [](verification& m) {
        ++m.checks;
        return error_code{};
      },
      out));
  auto other = db_->connect();
  ASSERT_NE(other, nullptr);
  ASSERT_FALSE(other->modify(
      "v1",
      [](verification& m) {
        ++m.checks;
        m.attempts[0].dlr_stat = "DELIVRD";
        return error_code{};
      },
      out));
  verification seen;
  ASSERT_FALSE(store_->modify(
      "v1",
      [&](verification& m) {
        seen = m;
        ++m.checks;
        return error_code{};
      },
      out));
  EXPECT_EQ(seen.checks, 3);
  EXPECT_EQ(seen.attempts[0].dlr_stat, "DELIVRD");
  EXPECT_EQ(out.version, 3);
  // Deleted meanwhile (purge on another node): not found, and the same when asked again.
  std::size_t changed = 0;
  ASSERT_FALSE(other->modify(
      "v1",
      [](verification& m) {
        m.status = verification_status::expired;
        m.completed_at = at_ms(t0_ms + 1);
        return error_code{};
      },
      out));
  ASSERT_FALSE(other->purge(at_ms(t0_ms + 30 * 86'400'000LL), std::chrono::hours(24), changed));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(store_->modify(
                  "v1", [](verification&) { return error_code{}; }, out),
              store_errc::not_found);
  }
}

}  // namespace
}  // namespace otpd::service::test
