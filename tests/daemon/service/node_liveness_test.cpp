// A node is taken for dead only a grace period after its lease expired, and at once when it
// released it: the bounds of live_nodes, exactly.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/service/node_liveness.hpp"

namespace otpd::service {
namespace {

using namespace std::chrono_literals;

const sys_time t0 = sys_time{std::chrono::milliseconds{1'735'689'600'000}};

std::vector<std::string> names(const std::set<std::string, std::less<>>& s) {
  return {s.begin(), s.end()};
}

TEST(live_nodes, a_lease_counts_until_a_grace_period_after_it_expired) {
  const std::vector<lease> leases{{"node:web-1", "web-1", t0}};
  EXPECT_EQ(names(live_nodes(leases, t0 - 1ms, 10s)), std::vector<std::string>{"web-1"});
  EXPECT_EQ(names(live_nodes(leases, t0 + 9'999ms, 10s)), std::vector<std::string>{"web-1"});
  EXPECT_TRUE(live_nodes(leases, t0 + 10s, 10s).empty());
  EXPECT_TRUE(live_nodes(leases, t0, 0ms).empty());
}

TEST(live_nodes, a_released_lease_or_another_kind_is_no_node) {
  const std::vector<lease> leases{
      {"node:web-1", "", t0 + 1h}, {"purge", "web-2", t0 + 1h}, {"node:web-3", "web-3", t0 + 1h}};
  EXPECT_EQ(names(live_nodes(leases, t0, 10s)), std::vector<std::string>{"web-3"});
}

}  // namespace
}  // namespace otpd::service
