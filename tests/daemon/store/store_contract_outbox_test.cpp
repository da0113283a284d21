// The store's contract (store.hpp) for the webhook outbox, for every backend: an event is
// written with the change it reports or not at all, goes out in order for each verification,
// is claimed by one node at a time, and is claimed again once its holder's claim has run out.
#include <chrono>
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

// Sets the verification's checks to `checks` and writes the event "<id>:<checks>".
error_code bump(store& s, const std::string& id, int checks) {
  verification out;
  return s.modify(
      id, {},
      [checks](verification& v) {
        v.checks = checks;
        return error_code{};
      },
      out, [](const verification& w) { return w.id + ":" + std::to_string(w.checks); });
}

std::vector<webhook_event> claim(store& s, std::string_view holder, std::int64_t now_ms,
                                 std::size_t limit = 10, std::chrono::milliseconds ttl = 60s) {
  std::vector<webhook_event> out(1);  // cleared by the call
  EXPECT_FALSE(s.claim_webhooks(holder, at_ms(now_ms), ttl, limit, out));
  return out;
}

std::vector<std::string> bodies(const std::vector<webhook_event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.body);
  return out;
}

TEST_P(store_contract, modify_writes_its_event_with_the_row_as_written) {
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  verification out;
  std::int64_t seen_version = -1;
  ASSERT_FALSE(store_->modify(
      "v1", {},
      [](verification& v) {
        v.checks = 3;
        return error_code{};
      },
      out,
      [&](const verification& w) {
        seen_version = w.version;
        return std::string(R"({"checks":)") + std::to_string(w.checks) + "}";
      }));
  EXPECT_EQ(seen_version, out.version);
  const auto got = claim(*store_, "web-1", t0_ms);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].verification_id, "v1");
  EXPECT_EQ(got[0].body, R"({"checks":3})");
  EXPECT_EQ(got[0].attempts, 0);
  EXPECT_GT(got[0].seq, 0);
}

TEST_P(store_contract, refused_or_eventless_modify_writes_no_event) {
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  verification out;
  bool called = false;
  EXPECT_EQ(store_->modify(
                "v1", {}, [](verification&) { return make_error_code(store_errc::conflict); }, out,
                [&](const verification&) {
                  called = true;
                  return std::string("{}");
                }),
            store_errc::conflict);
  EXPECT_FALSE(called);
  ASSERT_FALSE(store_->modify(
      "v1", {}, [](verification&) { return error_code{}; }, out,
      [](const verification&) { return std::string(); }));
  ASSERT_FALSE(store_->modify(
      "v1", [](verification&) { return error_code{}; }, out));
  EXPECT_TRUE(claim(*store_, "web-1", t0_ms).empty());
  std::size_t count = 9;
  sys_time oldest = at_ms(1);
  ASSERT_FALSE(store_->webhook_backlog(count, oldest));
  EXPECT_EQ(count, 0u);
  EXPECT_EQ(oldest, sys_time{});
}

TEST_P(store_contract, events_of_one_verification_go_one_at_a_time_in_order) {
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  ASSERT_FALSE(store_->insert(make_verification("v2")));
  ASSERT_FALSE(bump(*store_, "v1", 2));
  ASSERT_FALSE(bump(*store_, "v2", 2));
  ASSERT_FALSE(bump(*store_, "v1", 3));
  auto got = claim(*store_, "web-1", t0_ms);
  // v1's second event waits for its first, whoever holds that one.
  EXPECT_EQ(bodies(got), (std::vector<std::string>{"v1:2", "v2:2"}));
  auto other = db_->connect();
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(claim(*other, "web-2", t0_ms).empty());
  ASSERT_FALSE(store_->finish_webhook("web-1", got[0].seq));
  const auto next = claim(*other, "web-2", t0_ms);
  EXPECT_EQ(bodies(next), (std::vector<std::string>{"v1:3"}));
  EXPECT_LT(got[0].seq, next[0].seq);
}

TEST_P(store_contract, claim_runs_out_and_the_old_holder_can_no_longer_finish) {
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  ASSERT_FALSE(bump(*store_, "v1", 2));
  const auto first = claim(*store_, "web-1", t0_ms, 10, 30s);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(claim(*store_, "web-2", t0_ms + 29'999).empty());
  // web-1 died: from the end of its claim, another node takes the event (at least once).
  const auto again = claim(*store_, "web-2", t0_ms + 30'000);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].seq, first[0].seq);
  EXPECT_EQ(store_->finish_webhook("web-1", first[0].seq), store_errc::not_found);
  EXPECT_EQ(store_->retry_webhook("web-1", first[0].seq, at_ms(t0_ms)), store_errc::not_found);
  EXPECT_FALSE(store_->finish_webhook("web-2", first[0].seq));
  EXPECT_EQ(store_->finish_webhook("web-2", first[0].seq), store_errc::not_found);
  EXPECT_TRUE(claim(*store_, "web-1", t0_ms + 100'000).empty());
}

TEST_P(store_contract, retried_event_waits_until_its_time_and_holds_back_the_next) {
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  ASSERT_FALSE(bump(*store_, "v1", 2));
  ASSERT_FALSE(bump(*store_, "v1", 3));
  auto got = claim(*store_, "web-1", t0_ms);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_FALSE(store_->retry_webhook("web-1", got[0].seq, at_ms(t0_ms + 5'000)));
  EXPECT_TRUE(claim(*store_, "web-1", t0_ms + 4'999).empty());
  got = claim(*store_, "web-2", t0_ms + 5'000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "v1:2");
  EXPECT_EQ(got[0].attempts, 1);
  EXPECT_EQ(got[0].next_at, at_ms(t0_ms + 5'000));
}

TEST_P(store_contract, released_claims_are_claimed_again_at_once) {
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  ASSERT_FALSE(store_->insert(make_verification("v2")));
  ASSERT_FALSE(bump(*store_, "v1", 2));
  ASSERT_FALSE(bump(*store_, "v2", 2));
  ASSERT_EQ(claim(*store_, "web-1", t0_ms, 1).size(), 1u);
  ASSERT_EQ(claim(*store_, "web-2", t0_ms, 1).size(), 1u);
  ASSERT_FALSE(store_->release_webhooks("web-1"));
  // web-1 started again: its event is free, web-2's is still web-2's.
  EXPECT_EQ(bodies(claim(*store_, "web-1", t0_ms)), (std::vector<std::string>{"v1:2"}));
}

TEST_P(store_contract, backlog_counts_the_events_not_yet_delivered) {
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  const sys_time before =
      std::chrono::floor<std::chrono::milliseconds>(sys_time(std::chrono::system_clock::now()));
  ASSERT_FALSE(bump(*store_, "v1", 2));
  ASSERT_FALSE(bump(*store_, "v1", 3));
  std::size_t count = 0;
  sys_time oldest{};
  ASSERT_FALSE(store_->webhook_backlog(count, oldest));
  EXPECT_EQ(count, 2u);
  EXPECT_GE(oldest, before);
  EXPECT_LE(oldest, sys_time(std::chrono::system_clock::now()));
}

TEST_P(store_contract, purge_deletes_the_events_of_the_verifications_it_deletes) {
  auto old = make_verification("old");
  ASSERT_FALSE(store_->insert(old));
  verification out;
  ASSERT_FALSE(store_->modify(
      "old", {},
      [](verification& v) {
        v.status = verification_status::expired;
        v.completed_at = at_ms(t0_ms + 300'000);
        return error_code{};
      },
      out, [](const verification&) { return std::string("expired"); }));
  std::size_t changed = 0;
  ASSERT_FALSE(store_->purge(at_ms(t0_ms + 8 * 86'400'000LL), 7 * 24h, changed));
  EXPECT_TRUE(claim(*store_, "web-1", t0_ms + 8 * 86'400'000LL).empty());
}

TEST_P(store_contract, nodes_claiming_at_once_never_get_the_same_event) {
  constexpr int written = 40;
  for (int i = 0; i < written; ++i) {
    const std::string id = numbered("v", i);
    ASSERT_FALSE(store_->insert(make_verification(id)));
    ASSERT_FALSE(bump(*store_, id, 2));
  }
  std::vector<std::vector<webhook_event>> got(4);
  std::vector<std::unique_ptr<store>> connections;
  for (int i = 0; i < 4; ++i) connections.push_back(db_->connect());
  std::latch start(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      const std::string holder = numbered("web-", i);
      auto& mine = got[static_cast<std::size_t>(i)];
      while (true) {
        std::vector<webhook_event> batch;
        ASSERT_FALSE(connections[static_cast<std::size_t>(i)]->claim_webhooks(holder, at_ms(t0_ms),
                                                                              60s, 3, batch));
        if (batch.empty()) return;
        mine.insert(mine.end(), batch.begin(), batch.end());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::int64_t> seqs;
  std::size_t total = 0;
  for (const auto& mine : got) {
    total += mine.size();
    for (const auto& e : mine) seqs.insert(e.seq);
  }
  EXPECT_EQ(total, static_cast<std::size_t>(written));
  EXPECT_EQ(seqs.size(), static_cast<std::size_t>(written));
}

}  // namespace
}  // namespace otpd::service::test
