// The store probe: while the store is down it tries it every period, so that the store is
// found up again without traffic; it logs store_down and store_up once each.
#include "daemon/app/store_probe.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "daemon/store/sqlite_store.hpp"
#include "tests/daemon/store/store_test_util.hpp"

namespace otpd::app {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(store_probe, finds_the_store_up_again_without_traffic) {
  // A database opened read-only: a write fails with io_error, a read answers.
  service::test::scratch_dir dir;
  const std::string path = dir.file("otpd.db");
  std::unique_ptr<service::store> db;
  std::string why;
  ASSERT_FALSE(service::open_sqlite_store(path, service::sqlite_options{}, db, why)) << why;
  db.reset();
  service::sqlite_options read_only;
  read_only.read_only = true;
  ASSERT_FALSE(service::open_sqlite_store(path, read_only, db, why)) << why;
  service::store_executor store(std::move(db));

  std::vector<std::string> lines;
  log::logger logger(log::options{}, [&](std::string_view line) { lines.emplace_back(line); });
  asio::io_context io;
  store_probe probe(io.get_executor(), store, logger, 10ms);
  asio::co_spawn(io, probe.run(), asio::detached);

  bool written = true;
  bool done = false;
  // Named: a coroutine lambda's captures live in the closure, which must outlive the run.
  auto write = [&]() -> asio::awaitable<void> {
    written = !co_await store.insert(service::test::make_verification("v1"));
    done = true;
  };
  asio::co_spawn(io, write(), asio::detached);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  // The store thread marks the store down before the write's completion reaches this thread,
  // and the probe may find it up again before then: wait for the completion itself; the log
  // lines below show that it went down.
  while (!done && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
  ASSERT_TRUE(done);
  EXPECT_FALSE(written);
  // No call from anyone but the probe from here on.
  while (!store.healthy() && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
  EXPECT_TRUE(store.healthy());
  while (lines.size() < 2 && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
  probe.cancel();
  io.run_for(1s);
  EXPECT_TRUE(io.stopped()) << "the probe did not end at cancel()";

  ASSERT_EQ(lines.size(), 2U);
  EXPECT_NE(lines[0].find("store_down"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("error="), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("store_up"), std::string::npos) << lines[1];
}

}  // namespace
}  // namespace otpd::app
