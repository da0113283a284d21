// Two otpd nodes on one store (a SQLite file both open; docs/scale-out.md) in front of one SMSC
// stand-in: each configured bind is bound by one node at a time, the second node gets its
// share, the binds of a node stopped with SIGTERM are taken at once (its leases released), and
// those of a node killed with -9 within two lease periods.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

constexpr auto lease = 3s;  // the shortest cluster.lease: renewed every second

// One carrier with two transceivers to the stand-in, on the database `db`, as node `name`.
otpd_options node_options(std::uint16_t smsc_port, const std::filesystem::path& db,
                          const std::string& name) {
  otpd_options opts;
  carrier_spec vn = vietnam_carrier(smsc_port);
  vn.binds.push_back(vn.binds[0]);
  vn.binds[0].name = "vn-a";
  vn.binds[1].name = "vn-b";
  opts.carriers.push_back(vn);
  opts.database = db;
  opts.extra_yaml = "cluster:\n  node: " + name + "\n  lease: 3s\n";
  return opts;
}

// The most sessions bound at the SMSC at once, over every event so far.
int most_bound_at_once(smsc_process& smsc) {
  smsc.sync();
  std::set<std::int64_t> bound;
  std::size_t most = 0;
  for (const auto& e : smsc.events()) {
    const auto name = e.at("event").as_string();
    if (name == "bind") bound.insert(e.at("session").to_number<std::int64_t>());
    if (name == "close") bound.erase(e.at("session").to_number<std::int64_t>());
    most = std::max(most, bound.size());
  }
  return static_cast<int>(most);
}

double binds_held(otpd_process& o) {
  return metric(o.ops_get("/metrics").body, "otpd_leases_held{kind=\"bind\"}");
}

// Polls until pred holds; false at the deadline.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (!pred()) {
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);  // polling interval, as otpd_process::wait_bound
  }
  return true;
}

// Two nodes, web-1 and web-2, each with a folder of its own, on one database file.
struct e2e_cluster_binds : ::testing::Test {
  std::unique_ptr<otpd_process> start(const std::string& name) {
    return std::make_unique<otpd_process>(node_options(smsc.port(), db, name),
                                          name == "web-1" ? dir_a.path() : dir_b.path());
  }

  temp_dir dir_a;
  temp_dir dir_b;
  temp_dir shared;
  smsc_process smsc{smsc_flags()};
  std::filesystem::path db = shared.path() / "otpd.db";
};

TEST_F(e2e_cluster_binds, each_bind_is_bound_by_one_node_and_a_second_node_gets_its_share) {
  auto started_a = start("web-1");
  otpd_process& a = *started_a;
  // Alone on the store: both binds at once, no lease period waited.
  ASSERT_TRUE(a.wait_bound("vn", "vn-a", 10s)) << a.output();
  ASSERT_TRUE(a.wait_bound("vn", "vn-b", 10s)) << a.output();
  EXPECT_EQ(binds_held(a), 2);

  auto started_b = start("web-2");
  otpd_process& b = *started_b;
  // web-1 holds both binds (web-2 gets one a lease period from now at the soonest): vn is
  // served there, and web-2 is ready all the same.
  const http_response ready = b.ops_get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_NE(ready.body.find(R"("status":"elsewhere")"), std::string::npos) << ready.body;
  // web-1 gives one bind up (its share is one of two); web-2 takes it once its lease has run
  // out: within a renewal, a lease period and a renewal.
  ASSERT_TRUE(eventually([&] { return binds_held(a) == 1 && binds_held(b) == 1; }, 4 * lease))
      << a.output() << b.output();
  // The last of web-1's binds went: vn-b.
  ASSERT_TRUE(b.wait_bound("vn", "vn-b", 10s)) << b.output();
  EXPECT_TRUE(a.wait_bound("vn", "vn-a", 1s)) << a.output();
  // Never more than two binds at the SMSC: the one given up unbound before the other bound.
  EXPECT_EQ(most_bound_at_once(smsc), 2) << "a bind was bound by both nodes at once";
  EXPECT_EQ(smsc.count("bind"), 3u);

  // SIGTERM on web-1: its bind unbinds, its leases are released, web-2 takes it at its next
  // round instead of a lease period later.
  const auto stopping = steady::now();
  a.stop();
  ASSERT_TRUE(eventually([&] { return binds_held(b) == 2; }, lease)) << b.output();
  EXPECT_LT(steady::now() - stopping, lease + 2s);
  EXPECT_TRUE(b.wait_bound("vn", "vn-a", 10s));
  EXPECT_TRUE(b.wait_bound("vn", "vn-b", 10s));
}

TEST_F(e2e_cluster_binds, a_node_killed_loses_its_binds_to_another_within_two_lease_periods) {
  auto started_a = start("web-1");
  otpd_process& a = *started_a;
  ASSERT_TRUE(a.wait_bound("vn", "vn-b", 10s)) << a.output();
  auto started_b = start("web-2");
  otpd_process& b = *started_b;
  ASSERT_TRUE(eventually([&] { return binds_held(b) == 1; }, 4 * lease)) << b.output();
  const auto killed = steady::now();
  a.kill9();
  ASSERT_TRUE(eventually([&] { return binds_held(b) == 2; }, 2 * lease + 1s)) << b.output();
  EXPECT_LT(steady::now() - killed, 2 * lease + 1s);
  EXPECT_TRUE(b.wait_bound("vn", "vn-a", 10s)) << b.output();
  EXPECT_TRUE(b.wait_bound("vn", "vn-b", 10s)) << b.output();
  const auto purge = metric(b.ops_get("/metrics").body, "otpd_leases_held{kind=\"purge\"}");
  EXPECT_EQ(purge, 1) << "the purge goes to the node left";
}

}  // namespace
}  // namespace otpd::test::e2e
