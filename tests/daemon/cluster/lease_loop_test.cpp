// The lease loop over a real SQLite store: the first round before start() returns, the binds
// spread over two nodes, the leases released at stop, and every bind let go in time when the
// store goes away. Periods are short (300 ms); every wait has a deadline, none sleeps.
#include "daemon/cluster/lease_loop.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "daemon/store/sqlite_store.hpp"
#include "tests/daemon/store/store_test_util.hpp"

namespace otpd::cluster {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr milliseconds period = 300ms;

std::unique_ptr<service::store> open_store(const std::string& path) {
  std::unique_ptr<service::store> s;
  std::string why;
  if (service::open_sqlite_store(path, service::sqlite_options{}, s, why)) ADD_FAILURE() << why;
  return s;
}

// Runs the loop's handlers until `done` holds; false once `limit` has passed.
bool run_until(asio::io_context& io, const std::function<bool()>& done, milliseconds limit = 5s) {
  const auto deadline = clock_type::now() + limit;
  while (!done()) {
    if (clock_type::now() >= deadline) return false;
    io.restart();
    io.run_one_for(10ms);
  }
  return true;
}

// Runs `task` to its end on `io`, rethrowing what it threw.
void run_task(asio::io_context& io, asio::awaitable<void> task) {
  bool ended = false;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) {
    ended = true;
    if (e) std::rethrow_exception(e);
  });
  ASSERT_TRUE(run_until(io, [&] { return ended; }));
}

// One node: a loop over its own store executor, and where it was told each bind's lease is.
struct node {
  node(asio::io_context& io, const std::string& db, std::string name,
       std::vector<bind_id> configured)
      : binds(std::move(configured)), store(open_store(db)) {
    lease_loop::hooks h;
    h.binds = [this] { return binds; };
    h.on_bind = [this](const bind_id& b, bind_holder where) { seen[b.bind] = where; };
    h.wall = [] { return std::chrono::system_clock::now(); };
    loop = std::make_unique<lease_loop>(io.get_executor(), store, lease_keeper(name, period),
                                        std::move(h), logger);
  }
  std::size_t here() const {
    std::size_t n = 0;
    for (const auto& [bind, where] : seen) n += where == bind_holder::here;
    return n;
  }

  std::vector<bind_id> binds;
  log::logger logger{log::options{}, [](std::string_view) {}};
  service::store_executor store;
  std::unique_ptr<lease_loop> loop;
  std::map<std::string, bind_holder> seen;
};

std::vector<bind_id> vn_binds(int n) {
  std::vector<bind_id> out;
  for (int i = 0; i < n; ++i) out.push_back({"vn", "vn-" + std::to_string(i)});
  return out;
}

struct lease_loop_fixture : ::testing::Test {
  service::test::scratch_dir dir;
  std::string db = dir.file("otpd.db");
  asio::io_context io;
};

TEST_F(lease_loop_fixture, one_node_holds_every_lease_once_start_returns) {
  node a(io, db, "web-1", vn_binds(2));
  run_task(io, a.loop->start());
  EXPECT_TRUE(a.loop->holds("node:web-1"));
  EXPECT_TRUE(a.loop->holds("purge"));
  EXPECT_EQ(a.here(), 2u);
  const leases_held n = a.loop->count();
  EXPECT_EQ(n.node, 1u);
  EXPECT_EQ(n.purge, 1u);
  EXPECT_EQ(n.bind, 2u);
  run_task(io, a.loop->stop());
}

TEST_F(lease_loop_fixture, a_second_node_gets_its_share_of_the_binds_and_never_one_held_twice) {
  node a(io, db, "web-1", vn_binds(3));
  node b(io, db, "web-2", vn_binds(3));
  run_task(io, a.loop->start());
  ASSERT_EQ(a.here(), 3u);
  run_task(io, b.loop->start());
  EXPECT_EQ(b.here(), 0u);  // web-1 holds them all
  EXPECT_EQ(b.seen["vn-0"], bind_holder::elsewhere);
  // web-1 gives one up (its share is 2 of 3); web-2 takes it once its lease has run out.
  bool twice = false;
  ASSERT_TRUE(run_until(io, [&] {
    for (const auto& [bind, where] : a.seen) {
      twice = twice || (where == bind_holder::here && b.seen[bind] == bind_holder::here);
    }
    return a.here() == 2 && b.here() == 1;
  }));
  EXPECT_FALSE(twice);
  EXPECT_FALSE(b.loop->holds("purge"));
  run_task(io, a.loop->stop());
  run_task(io, b.loop->stop());
}

TEST_F(lease_loop_fixture, leases_released_at_stop_are_taken_by_another_node_at_once) {
  node a(io, db, "web-1", vn_binds(2));
  run_task(io, a.loop->start());
  run_task(io, a.loop->stop());
  EXPECT_EQ(a.here(), 0u);
  EXPECT_TRUE(a.loop->keeper().held().empty());
  // Within the period web-1's leases would have run: taken at web-2's first round.
  node b(io, db, "web-2", vn_binds(2));
  run_task(io, b.loop->start());
  EXPECT_EQ(b.here(), 2u);
  EXPECT_TRUE(b.loop->holds("purge"));
  run_task(io, b.loop->stop());
}

TEST_F(lease_loop_fixture, a_store_gone_away_lets_every_bind_go_before_the_store_would_free_it) {
  node a(io, db, "web-1", vn_binds(2));
  run_task(io, a.loop->start());
  ASSERT_EQ(a.here(), 2u);
  // Every call now fails (store_errc::closed), as a database that went away.
  a.store.shutdown();
  const auto gone = clock_type::now();
  ASSERT_TRUE(run_until(io, [&] { return a.here() == 0 && !a.loop->holds("purge"); }));
  // Lost at the last renewal + period - margin: within a period of the store going away.
  EXPECT_LT(clock_type::now() - gone, period);
  EXPECT_EQ(a.seen["vn-0"], bind_holder::nobody);
  run_task(io, a.loop->stop());
}

}  // namespace
}  // namespace otpd::cluster
