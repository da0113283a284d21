// The lease rules without a store: what a node asks for, when it lets a lease go, and how the
// binds are spread over the live nodes.
#include "daemon/cluster/lease_keeper.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace otpd::cluster {
namespace {

using namespace std::chrono_literals;
using service::lease;

constexpr milliseconds period = 9000ms;  // renewed every 3 s, lost locally 2.25 s early
const steady_time t0 = steady_time{} + 1h;
const sys_time w0 = sys_time{} + std::chrono::hours(24 * 365 * 50);

std::vector<bind_id> binds_of(const std::string& carrier, int n) {
  std::vector<bind_id> out;
  for (int i = 0; i < n; ++i) out.push_back({carrier, carrier + "-" + std::to_string(i)});
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::size_t binds_in(const std::vector<std::string>& v) {
  return static_cast<std::size_t>(std::count_if(
      v.begin(), v.end(), [](const std::string& s) { return s.starts_with("bind:"); }));
}

// One round the store grants in full.
std::vector<lease_change> granted_round(lease_keeper& k, steady_time now, sys_time wall,
                                        const std::vector<bind_id>& binds,
                                        const std::vector<lease>& listing = {}) {
  const round_plan p = k.plan(now, wall, binds, listing);
  return k.acquired(now, p.acquire);
}

TEST(lease_keeper, a_node_alone_asks_for_its_own_lease_the_purge_and_every_bind_at_once) {
  lease_keeper k("web-1", period);
  const auto binds = binds_of("vn", 3);
  const round_plan p = k.plan(t0, w0, binds, {});
  EXPECT_EQ(p.acquire, (std::vector<std::string>{"node:web-1", "purge", "bind:vn/vn-0",
                                                 "bind:vn/vn-1", "bind:vn/vn-2"}));
  EXPECT_TRUE(p.given_up.empty());
  const auto changes = k.acquired(t0, p.acquire);
  ASSERT_EQ(changes.size(), 5u);
  for (const auto& c : changes) EXPECT_TRUE(c.held) << c.name;
  EXPECT_TRUE(k.holds("purge"));
  EXPECT_EQ(k.holder_of(binds[1]), bind_holder::here);
}

TEST(lease_keeper, renews_every_third_of_a_period) {
  lease_keeper k("web-1", period);
  granted_round(k, t0, w0, binds_of("vn", 1));
  EXPECT_EQ(k.next_round(), t0 + 3s);
  EXPECT_EQ(k.next_wakeup(), t0 + 3s);
  EXPECT_TRUE(k.expire(t0 + 3s).empty());
}

TEST(lease_keeper, a_lease_counts_from_before_the_store_was_asked) {
  lease_keeper k("web-1", period);
  const round_plan p = k.plan(t0, w0, binds_of("vn", 1), {});
  // However late the store answers, the lease runs from t0, when it was asked.
  k.acquired(t0, p.acquire);
  EXPECT_TRUE(k.expire(t0 + period - k.margin() - 1ms).empty());
  EXPECT_EQ(k.expire(t0 + period - k.margin()).size(), 3u);
}

// The store fails from round `k` on: every lease is lost locally at the last granted ask +
// period - margin, before the store would let another node take it (that ask's wall + period),
// and not before.
TEST(lease_keeper, renewals_failing_from_any_round_lose_every_lease_before_the_store_frees_it) {
  const auto binds = binds_of("vn", 2);
  for (int failing_from = 1; failing_from <= 6; ++failing_from) {
    lease_keeper k("web-1", period);
    steady_time last_granted{};
    steady_time now = t0;
    std::vector<lease_change> lost;
    for (int round = 0; round < 12 && lost.empty(); ++round) {
      // The shell's loop: wake, expire, then a round when one is due.
      lost = k.expire(now);
      if (!lost.empty()) break;
      if (now >= k.next_round()) {
        const round_plan p = k.plan(now, w0 + (now - t0), binds, {});
        if (round < failing_from) {
          k.acquired(now, p.acquire);
          last_granted = now;
        } else {
          k.failed();
        }
      }
      now = k.next_wakeup();
      lost = k.expire(now);
    }
    SCOPED_TRACE(failing_from);
    ASSERT_EQ(lost.size(), 4u);
    EXPECT_EQ(now, last_granted + period - k.margin());
    EXPECT_LT(now, last_granted + period);  // the store's expiry, on a clock that agrees
    for (const auto& c : lost) EXPECT_FALSE(c.held);
    EXPECT_EQ(k.holder_of(binds[0]), bind_holder::nobody);
    EXPECT_FALSE(k.holds("purge"));
  }
}

TEST(lease_keeper, a_lease_the_store_does_not_renew_is_lost_at_once) {
  lease_keeper k("web-1", period);
  const auto binds = binds_of("vn", 2);
  granted_round(k, t0, w0, binds);
  const round_plan p = k.plan(t0 + 3s, w0 + 3s, binds, {});
  std::vector<std::string> held = p.acquire;
  std::erase(held, "bind:vn/vn-1");  // another node holds it (its clock runs ahead)
  const auto changes = k.acquired(t0 + 3s, held);
  EXPECT_EQ(changes, (std::vector<lease_change>{{"bind:vn/vn-1", false}}));
  EXPECT_FALSE(k.holds("bind:vn/vn-1"));
  EXPECT_TRUE(k.holds("bind:vn/vn-0"));
}

TEST(lease_keeper, takes_its_share_of_a_carriers_binds_when_other_nodes_are_alive) {
  const auto binds = binds_of("vn", 5);
  const std::vector<lease> others{{"node:web-2", "web-2", w0 + 5s},
                                  {"node:web-3", "web-3", w0 + 5s},
                                  {"node:web-4", "web-4", w0 - 1s}};  // dead: not counted
  lease_keeper k("web-1", period);
  const round_plan p = k.plan(t0, w0, binds, others);
  EXPECT_EQ(binds_in(p.acquire), 2u);  // ceil(5 / 3)
  EXPECT_TRUE(has(p.acquire, "node:web-1"));
  EXPECT_TRUE(has(p.acquire, "purge"));  // first come: the store decides
}

TEST(lease_keeper, leaves_the_binds_another_live_node_holds_and_says_where_they_are) {
  const auto binds = binds_of("vn", 2);
  const std::vector<lease> listing{{"node:web-2", "web-2", w0 + 5s},
                                   {"bind:vn/vn-0", "web-2", w0 + 5s},
                                   {"bind:vn/vn-1", "web-2", w0 + 5s}};
  lease_keeper k("web-1", period);
  const round_plan p = k.plan(t0, w0, binds, listing);
  EXPECT_EQ(binds_in(p.acquire), 0u);
  k.acquired(t0, p.acquire);
  EXPECT_EQ(k.holder_of(binds[0]), bind_holder::elsewhere);
  EXPECT_TRUE(k.holds("node:web-1"));
}

TEST(lease_keeper, a_dead_nodes_binds_are_taken_as_soon_as_their_leases_run_out) {
  const auto binds = binds_of("vn", 2);
  const std::vector<lease> listing{{"node:web-2", "web-2", w0 + 1s},
                                   {"bind:vn/vn-1", "web-2", w0 + 1s}};
  lease_keeper k("web-1", period);
  granted_round(k, t0, w0, binds, listing);
  EXPECT_TRUE(k.holds("bind:vn/vn-0"));
  EXPECT_FALSE(k.holds("bind:vn/vn-1"));
  // web-2 died: its leases ran out; this node is alone and its share is every bind.
  const round_plan p = k.plan(t0 + 3s, w0 + 3s, binds, listing);
  EXPECT_TRUE(has(p.acquire, "bind:vn/vn-1"));
}

TEST(lease_keeper, a_bind_free_for_a_whole_period_is_taken_beyond_the_share) {
  const auto binds = binds_of("vn", 2);
  // Two live nodes: a share of one each; web-2 takes none (its configuration lacks the bind).
  const std::vector<lease> listing{{"node:web-2", "web-2", w0 + 1h}};
  lease_keeper k("web-1", period);
  granted_round(k, t0, w0, binds, listing);
  EXPECT_TRUE(k.holds("bind:vn/vn-0"));
  steady_time now = t0;
  while (now < t0 + period) {
    now += 3s;
    const round_plan p = k.plan(now, w0 + (now - t0), binds, listing);
    const bool takes = has(p.acquire, "bind:vn/vn-1");
    EXPECT_EQ(takes, now - t0 >= period) << (now - t0).count();
    k.acquired(now, p.acquire);
  }
  EXPECT_TRUE(k.holds("bind:vn/vn-1"));
}

TEST(lease_keeper, a_node_above_its_share_gives_one_bind_up_to_a_node_below_it) {
  const auto binds = binds_of("vn", 3);
  lease_keeper k("web-1", period);
  granted_round(k, t0, w0, binds);  // alone: all three
  // web-2 arrives with none: the share is ceil(3/2) = 2, web-2 is below floor(3/2) = 1.
  std::vector<lease> listing{{"node:web-2", "web-2", w0 + 9s}};
  for (const auto& b : binds) listing.push_back({bind_lease(b), "web-1", w0 + 9s});
  const round_plan p = k.plan(t0 + 3s, w0 + 3s, binds, listing);
  EXPECT_EQ(p.given_up, (std::vector<lease_change>{{"bind:vn/vn-2", false}}));
  EXPECT_FALSE(has(p.acquire, "bind:vn/vn-2"));  // not renewed: free once it runs out
  EXPECT_EQ(binds_in(p.acquire), 2u);
  k.acquired(t0 + 3s, p.acquire);
  EXPECT_FALSE(k.holds("bind:vn/vn-2"));
  // Still its own in the store until then: not taken back meanwhile.
  const round_plan again = k.plan(t0 + 6s, w0 + 6s, binds, listing);
  EXPECT_TRUE(again.given_up.empty());
  EXPECT_FALSE(has(again.acquire, "bind:vn/vn-2"));
}

TEST(lease_keeper, a_node_at_its_share_keeps_its_binds) {
  const auto binds = binds_of("vn", 3);
  lease_keeper k("web-1", period);
  std::vector<lease> listing{{"node:web-2", "web-2", w0 + 9s}, {"bind:vn/vn-2", "web-2", w0 + 9s}};
  granted_round(k, t0, w0, binds, listing);
  EXPECT_TRUE(k.holds("bind:vn/vn-0"));
  EXPECT_TRUE(k.holds("bind:vn/vn-1"));
  const round_plan p = k.plan(t0 + 3s, w0 + 3s, binds, listing);
  EXPECT_TRUE(p.given_up.empty());
  EXPECT_EQ(binds_in(p.acquire), 2u);
}

TEST(lease_keeper, a_bind_a_reload_removed_is_let_go) {
  lease_keeper k("web-1", period);
  granted_round(k, t0, w0, binds_of("vn", 2));
  const round_plan p = k.plan(t0 + 3s, w0 + 3s, binds_of("vn", 1), {});
  EXPECT_EQ(p.given_up, (std::vector<lease_change>{{"bind:vn/vn-1", false}}));
  EXPECT_FALSE(has(p.acquire, "bind:vn/vn-1"));
}

TEST(lease_keeper, shares_are_counted_per_carrier) {
  auto binds = binds_of("vn", 2);
  for (const auto& b : binds_of("mf", 2)) binds.push_back(b);
  const std::vector<lease> listing{{"node:web-2", "web-2", w0 + 9s}};
  lease_keeper k("web-1", period);
  const round_plan p = k.plan(t0, w0, binds, listing);
  EXPECT_TRUE(has(p.acquire, "bind:vn/vn-0"));
  EXPECT_FALSE(has(p.acquire, "bind:vn/vn-1"));
  EXPECT_TRUE(has(p.acquire, "bind:mf/mf-0"));
  EXPECT_FALSE(has(p.acquire, "bind:mf/mf-1"));
}

TEST(lease_keeper, release_all_lets_every_lease_go_and_asks_no_more) {
  lease_keeper k("web-1", period);
  granted_round(k, t0, w0, binds_of("vn", 1));
  const auto released = k.release_all();
  EXPECT_EQ(released.size(), 3u);
  EXPECT_TRUE(k.held().empty());
  EXPECT_EQ(k.next_wakeup(), steady_time::max());
}

}  // namespace
}  // namespace otpd::cluster
