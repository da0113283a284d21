// The store executor: calls run on its thread and resume on the caller's executor, the queue
// bound, shutdown, group commit, no lost update under concurrent modify, several threads (one
// order per verification) and the store's health.
#include "daemon/store/store_executor.hpp"

#include <filesystem>
#include <future>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "daemon/store/sqlite_store.hpp"
#include "tests/daemon/store/store_test_util.hpp"
#include "tests/support/small_disk.hpp"

namespace otpd::service {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::at_ms;
using test::make_verification;
using test::t0_ms;

std::unique_ptr<store> open_store(const std::string& path) {
  std::unique_ptr<store> s;
  std::string why;
  if (open_sqlite_store(path, sqlite_options{}, s, why)) ADD_FAILURE() << why;
  return s;
}

// Rethrows what a coroutine threw, so that a failed expectation inside one is not lost.
void spawn(asio::io_context& io, asio::awaitable<void> task) {
  asio::co_spawn(io, std::move(task), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
}

// Holds the store thread inside a call until released, so that a test can fill the queue.
struct blocker {
  std::promise<void> started;
  std::latch release{1};
  auto call() {
    return [this](store&) {
      started.set_value();
      release.wait();
      return error_code{};
    };
  }
};

// A store that records the calls and can fail a batch's commit, and inserts outside a batch.
class fake_store final : public store {
 public:
  error_code insert(const verification&) override {
    ++inserts;
    if (!in_batch && refuse_alone > 0) {
      --refuse_alone;
      return store_errc::io_error;
    }
    return {};
  }
  error_code get(std::string_view, verification&) override { return {}; }
  error_code find_idempotent(std::string_view, std::string_view, verification&) override {
    return {};
  }
  error_code modify(std::string_view, std::span<const correlation>, const modify_fn&, verification&,
                    const event_fn&) override {
    return {};
  }
  error_code add_correlations(std::span<const correlation>) override { return {}; }
  error_code find_correlation(std::string_view, std::string_view, correlation&) override {
    return {};
  }
  error_code check_and_count(std::span<const limit_check>, sys_time, limit_result&) override {
    return {};
  }
  error_code list_queued(std::vector<verification>&) override { return {}; }
  error_code purge(sys_time, std::chrono::seconds, std::size_t&) override { return {}; }
  error_code acquire_leases(std::string_view, std::span<const std::string>, sys_time,
                            std::chrono::milliseconds, std::vector<std::string>&) override {
    return {};
  }
  error_code release_leases(std::string_view, std::span<const std::string>) override { return {}; }
  error_code list_leases(std::string_view, std::vector<lease>&) override { return {}; }
  error_code queue_sms(const sms_handoff&) override { return {}; }
  error_code claim_sms(std::string_view, std::span<const std::string>, sys_time, std::size_t,
                       std::vector<sms_handoff>&) override {
    return {};
  }
  error_code finish_sms(std::string_view, int) override { return {}; }
  error_code claim_webhooks(std::string_view, sys_time, std::chrono::milliseconds, std::size_t,
                            std::vector<webhook_event>&) override {
    return {};
  }
  error_code finish_webhook(std::string_view, std::int64_t) override { return {}; }
  error_code retry_webhook(std::string_view, std::int64_t, sys_time) override { return {}; }
  error_code release_webhooks(std::string_view) override { return {}; }
  error_code webhook_backlog(std::size_t&, sys_time&) override { return {}; }
  error_code begin_batch() override {
    ++batches;
    in_batch = true;
    return {};
  }
  error_code end_batch() override {
    in_batch = false;
    return commit_error;
  }

  int inserts = 0;
  int batches = 0;
  bool in_batch = false;
  int refuse_alone = 0;  // inserts outside a batch to fail, from the first
  error_code commit_error;
};

class store_executor_test : public ::testing::Test {
 protected:
  test::scratch_dir dir_;
  std::string path_ = dir_.file("otpd.db");
};

TEST_F(store_executor_test, call_runs_on_the_store_thread_and_resumes_on_the_caller) {
  store_executor ex(open_store(path_));
  asio::io_context io;
  const auto io_thread = std::this_thread::get_id();
  std::thread::id store_thread;
  std::thread::id resumed_on;
  error_code result = store_errc::conflict;
  // Named: a coroutine lambda's captures live in the closure, which must outlive the run.
  auto task = [&]() -> asio::awaitable<void> {
    result = co_await ex.run([&](store& s) {
      store_thread = std::this_thread::get_id();
      return s.insert(make_verification("v1"));
    });
    resumed_on = std::this_thread::get_id();
  };
  spawn(io, task());
  io.run();  // returns only when the call has completed: it kept the io_context busy
  EXPECT_FALSE(result);
  EXPECT_NE(store_thread, std::thread::id{});
  EXPECT_NE(store_thread, io_thread);
  EXPECT_EQ(resumed_on, io_thread);
}

TEST_F(store_executor_test, every_store_operation_through_the_executor) {
  store_executor ex(open_store(path_));
  asio::io_context io;
  auto task = [&]() -> asio::awaitable<void> {
    auto v = make_verification("v1");
    v.idempotency_key = "k";
    v.attempts[0].status = attempt_status::queued;
    EXPECT_FALSE(co_await ex.insert(v));
    EXPECT_EQ(co_await ex.insert(v), store_errc::duplicate_id);

    auto [ec, got] = co_await ex.get("v1");
    EXPECT_FALSE(ec);
    EXPECT_EQ(got, v);
    auto [ec2, same] = co_await ex.find_idempotent("shop", "k");
    EXPECT_FALSE(ec2);
    EXPECT_EQ(same.id, "v1");

    auto [ec3, queued] = co_await ex.list_queued();
    EXPECT_FALSE(ec3);
    EXPECT_EQ(queued.size(), 1U);

    auto [ec4, changed] = co_await ex.modify("v1", [](verification& m) {
      m.attempts[0].status = attempt_status::submitted;
      return error_code{};
    });
    EXPECT_FALSE(ec4);
    EXPECT_EQ(changed.version, 1);

    // Named, not braced in the co_await: g++ 12 rejects string literals in a braced list
    // inside a co_await expression ("array used as initializer").
    std::vector<correlation> c1{{"viettel", "m1", "v1", 1, 0}};
    EXPECT_FALSE(co_await ex.add_correlations(c1));
    auto [ec5, c] = co_await ex.find_correlation("viettel", "m1");
    EXPECT_FALSE(ec5);
    EXPECT_EQ(c.verification_id, "v1");

    std::vector<limit_check> one{{"num:1", 1, 60s}};
    auto [ec6, r] = co_await ex.check_and_count(one, at_ms(t0_ms));
    EXPECT_FALSE(ec6);
    EXPECT_TRUE(r.allowed);
    auto [ec7, r2] = co_await ex.check_and_count(one, at_ms(t0_ms + 1'000));
    EXPECT_FALSE(ec7);
    EXPECT_FALSE(r2.allowed);
    EXPECT_EQ(r2.retry_after, 59s);

    auto [ec8, purged] = co_await ex.purge(at_ms(t0_ms + 400'000), 3600s);
    EXPECT_FALSE(ec8);
    EXPECT_EQ(purged, 2U);  // v1 expired, the rate event no longer needed
  };
  spawn(io, task());
  io.run();
  EXPECT_EQ(ex.stats().calls, 11U);
}

// Coroutines as plain functions: their parameters are copied into the frame, unlike a lambda's
// captures, which live in a closure that may be gone when the coroutine resumes.
asio::awaitable<void> hold(store_executor& ex, blocker& b) { co_await ex.run(b.call()); }

asio::awaitable<void> insert_one(store_executor& ex, std::string id,
                                 std::optional<error_code>& out) {
  out = co_await ex.insert(make_verification(id));
}

// Queues the blocker and waits until the store thread is inside it: the queue is empty then.
void block(asio::io_context& io, store_executor& ex, blocker& b) {
  spawn(io, hold(ex, b));
  io.poll();
  b.started.get_future().wait();
}

TEST_F(store_executor_test, full_queue_fails_fast_with_busy) {
  store_executor ex(open_store(path_), {.max_queue = 2, .max_batch = 1});
  asio::io_context io;
  blocker b;
  block(io, ex, b);

  std::vector<std::optional<error_code>> results(3);
  for (int i = 0; i < 3; ++i) spawn(io, insert_one(ex, test::numbered("v", i), results[i]));
  io.poll();  // two queued, the third refused at once
  EXPECT_FALSE(results[0].has_value());
  EXPECT_FALSE(results[1].has_value());
  ASSERT_TRUE(results[2].has_value());
  EXPECT_EQ(*results[2], store_errc::busy);
  EXPECT_EQ(ex.stats().queued, 2U);
  EXPECT_EQ(ex.stats().refused, 1U);

  b.release.count_down();
  io.run();
  EXPECT_EQ(results[0], error_code{});
  EXPECT_EQ(results[1], error_code{});
}

TEST_F(store_executor_test, shutdown_finishes_queued_calls_then_refuses_new_ones) {
  auto ex = std::make_unique<store_executor>(open_store(path_));
  asio::io_context io;
  blocker b;
  block(io, *ex, b);
  constexpr int n = 20;
  std::vector<std::optional<error_code>> results(n);
  for (int i = 0; i < n; ++i) spawn(io, insert_one(*ex, test::numbered("v", i), results[i]));
  io.poll();
  EXPECT_EQ(ex->stats().queued, static_cast<std::size_t>(n));

  std::thread stopper([&] { ex->shutdown(); });  // returns once the queue is drained
  b.release.count_down();
  stopper.join();
  // The completions are posted to the io_context, which has not run since.
  for (const auto& r : results) EXPECT_FALSE(r.has_value());
  io.run();
  for (const auto& r : results) EXPECT_EQ(r, error_code{});

  // Refused after shutdown; the completion is posted, never run inside the call.
  io.restart();
  std::optional<error_code> late;
  ex->async_run([](store&) { return error_code{}; },
                asio::bind_executor(io, [&](std::exception_ptr, error_code ec) { late = ec; }));
  EXPECT_FALSE(late.has_value());
  io.run();
  EXPECT_EQ(late, error_code(store_errc::closed));

  ex.reset();
  std::unique_ptr<store> s = open_store(path_);
  verification got;
  for (int i = 0; i < n; ++i) EXPECT_FALSE(s->get(test::numbered("v", i), got)) << i;
}

TEST_F(store_executor_test, exception_in_a_call_reaches_the_coroutine_and_the_executor_goes_on) {
  store_executor ex(open_store(path_));
  asio::io_context io;
  bool caught = false;
  error_code after = store_errc::conflict;
  auto task = [&]() -> asio::awaitable<void> {
    try {
      co_await ex.run([](store&) -> error_code { throw std::logic_error("bug"); });
    } catch (const std::logic_error&) {
      caught = true;
    }
    after = co_await ex.insert(make_verification("v1"));
  };
  spawn(io, task());
  io.run();
  EXPECT_TRUE(caught);
  EXPECT_FALSE(after);
}

TEST_F(store_executor_test, queued_calls_share_one_commit) {
  store_executor ex(open_store(path_), {.max_queue = 100, .max_batch = 8});
  asio::io_context io;
  blocker b;
  block(io, ex, b);
  std::vector<std::optional<error_code>> results(20);
  // The same id every other call: a failed call in a batch does not sink the others.
  for (int i = 0; i < 20; ++i) spawn(io, insert_one(ex, test::numbered("v", i / 2), results[i]));
  io.poll();
  b.release.count_down();
  io.run();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(results[i], i % 2 == 0 ? error_code{} : error_code(store_errc::duplicate_id)) << i;
  }
  EXPECT_EQ(ex.stats().batches, 3U);  // 8 + 8 + 4
}

asio::awaitable<void> insert_pair(store_executor& ex, std::pair<error_code, int>& out) {
  out = co_await ex.run([](store& s) { return std::pair{s.insert({}), 7}; });
}

TEST_F(store_executor_test, after_a_failed_batch_commit_each_call_runs_again_alone) {
  auto fake = std::make_unique<fake_store>();
  fake_store& f = *fake;
  f.commit_error = store_errc::io_error;
  f.refuse_alone = 1;
  store_executor ex(std::move(fake), {.max_queue = 100, .max_batch = 8});
  asio::io_context io;
  blocker b;
  block(io, ex, b);
  std::vector<std::pair<error_code, int>> results(3);
  for (auto& r : results) spawn(io, insert_pair(ex, r));
  io.poll();
  b.release.count_down();
  io.run();
  EXPECT_EQ(f.batches, 1);
  EXPECT_EQ(f.inserts, 6);  // each in the batch, then each alone
  // Nothing of the batch says it was written; each has the result of its own commit.
  EXPECT_EQ(results[0].first, store_errc::io_error);
  EXPECT_EQ(results[1], std::pair(error_code{}, 7));
  EXPECT_EQ(results[2], std::pair(error_code{}, 7));
  EXPECT_EQ(ex.stats().failed_batches, 1U);
}

asio::awaitable<void> insert_large(store_executor& ex, std::string id,
                                   std::optional<error_code>& out) {
  auto v = make_verification(id);
  v.code_sealed = std::string(1'000, 'x');
  out = co_await ex.insert(std::move(v));
}

// Group commit must not turn a failure into a false acknowledgement, nor the reverse: when the
// database fills up in the middle of batches, a call reported written is there and a call
// reported failed is not.
TEST_F(store_executor_test, when_the_disk_fills_acknowledged_means_written_and_failed_means_not) {
  sqlite_options options;
  options.max_size_bytes = 256 * 1024;
  std::unique_ptr<store> s;
  std::string why;
  ASSERT_FALSE(open_sqlite_store(path_, options, s, why)) << why;
  auto ex = std::make_unique<store_executor>(std::move(s), store_executor_options{.max_batch = 16});
  asio::io_context io;
  blocker b;
  block(io, *ex, b);
  constexpr int n = 600;
  std::vector<std::optional<error_code>> results(n);
  for (int i = 0; i < n; ++i) spawn(io, insert_large(*ex, test::numbered("v", i), results[i]));
  io.poll();
  b.release.count_down();
  io.run();
  EXPECT_GT(ex->stats().batches, 0U);
  // The calls that failed say why.
  EXPECT_NE(ex->last_error().find("full"), std::string::npos) << ex->last_error();
  ex.reset();

  auto check = open_store(path_);
  int written = 0;
  int failed = 0;
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(results[i].has_value());
    verification got;
    error_code found = check->get(test::numbered("v", i), got);
    if (!*results[i]) {
      ++written;
      EXPECT_FALSE(found) << i << " acknowledged but not written";
    } else {
      ++failed;
      EXPECT_EQ(*results[i], store_errc::io_error) << i;
      EXPECT_EQ(found, store_errc::not_found) << i << " reported failed but written";
    }
  }
  EXPECT_GT(written, 10);
  EXPECT_GT(failed, 10);
}

asio::awaitable<void> get_into(store_executor& ex, std::string id,
                               std::pair<error_code, verification>& out) {
  out = co_await ex.get(std::move(id));
}

// A real full disk (a small tmpfs): SQLite fails the batch's commit and rolls the whole
// transaction back. The reads queued with the write that did not fit still get their answer,
// and writes work again as soon as there is space.
TEST_F(store_executor_test, on_a_full_disk_the_calls_of_a_failed_batch_get_their_own_results) {
  const std::string folder = dir_.file("disk");
  std::filesystem::create_directory(folder);
  otpd::test::small_disk disk(folder, 1 << 20);
  ASSERT_EQ(disk.error(), "") << "this test needs CAP_SYS_ADMIN (it runs as root in the suite)";
  auto ex = std::make_unique<store_executor>(open_store(folder + "/otpd.db"),
                                             store_executor_options{.max_batch = 16});
  asio::io_context io;
  std::vector<std::optional<error_code>> before(5);
  for (int i = 0; i < 5; ++i) spawn(io, insert_large(*ex, test::numbered("v", i), before[i]));
  io.run();
  io.restart();
  for (const auto& r : before) ASSERT_EQ(r, error_code{});

  ASSERT_GT(disk.fill(), 0u);
  blocker b;
  block(io, *ex, b);
  std::pair<error_code, verification> first, last;
  std::optional<error_code> big;
  spawn(io, get_into(*ex, "v1", first));
  spawn(io, insert_large(*ex, "big", big));
  spawn(io, get_into(*ex, "v3", last));
  io.poll();
  b.release.count_down();
  io.run();
  io.restart();
  EXPECT_EQ(ex->stats().failed_batches, 1U) << "the three calls were not one batch";
  EXPECT_FALSE(first.first) << first.first.message();
  EXPECT_EQ(first.second.id, "v1");
  EXPECT_EQ(big, error_code(store_errc::io_error));
  EXPECT_NE(ex->last_error().find("full"), std::string::npos) << ex->last_error();
  EXPECT_FALSE(last.first) << last.first.message();
  EXPECT_EQ(last.second.id, "v3");

  ASSERT_EQ(disk.make_room(), "");
  std::optional<error_code> after;
  spawn(io, insert_large(*ex, "after", after));
  io.run();
  EXPECT_EQ(after, error_code{});
  ex.reset();
  auto check = open_store(folder + "/otpd.db");
  verification got;
  EXPECT_FALSE(check->get("after", got));
  EXPECT_EQ(check->get("big", got), store_errc::not_found);
}

asio::awaitable<void> increment(store_executor& ex, int times) {
  for (int i = 0; i < times; ++i) {
    auto [ec, v] = co_await ex.modify("shared", [](verification& m) {
      m.checks += 1;
      return error_code{};
    });
    EXPECT_FALSE(ec) << ec.message();
  }
}

// Read-modify-write from several threads, each with its own io_context: every increment must
// land.
void increment_concurrently(const std::vector<store_executor*>& executors, int threads,
                            int coroutines, int increments) {
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      store_executor& ex = *executors[static_cast<std::size_t>(t) % executors.size()];
      asio::io_context io;
      for (int c = 0; c < coroutines; ++c) spawn(io, increment(ex, increments));
      io.run();
    });
  }
  for (auto& w : workers) w.join();
}

TEST_F(store_executor_test, concurrent_modify_through_one_executor_loses_no_update) {
  store_executor ex(open_store(path_));
  auto v = make_verification("shared");
  v.checks = 0;
  ASSERT_FALSE(open_store(path_)->insert(v));
  increment_concurrently({&ex}, 2, 8, 50);
  auto s = open_store(path_);
  verification got;
  ASSERT_FALSE(s->get("shared", got));
  EXPECT_EQ(got.checks, 2 * 8 * 50);
  EXPECT_EQ(got.version, 2 * 8 * 50);
}

// Two connections on one file (as two otpd processes would be): BEGIN IMMEDIATE serialises
// their read-modify-writes.
TEST_F(store_executor_test, concurrent_modify_through_two_connections_loses_no_update) {
  auto v = make_verification("shared");
  v.checks = 0;
  ASSERT_FALSE(open_store(path_)->insert(v));
  store_executor a(open_store(path_));
  store_executor b(open_store(path_));
  increment_concurrently({&a, &b}, 2, 8, 50);
  auto s = open_store(path_);
  verification got;
  ASSERT_FALSE(s->get("shared", got));
  EXPECT_EQ(got.checks, 2 * 8 * 50);
}

// ---- several threads -----------------------------------------------------------------------

// n stores, each a database of its own (":memory:"): a call about a verification finds the
// row only on the thread that inserted it.
std::vector<std::unique_ptr<store>> private_stores(int n) {
  std::vector<std::unique_ptr<store>> out;
  for (int i = 0; i < n; ++i) out.push_back(open_store(":memory:"));
  return out;
}

// What each modify saw, per verification: its count before the change, and the thread.
struct modify_log {
  std::mutex mutex;
  std::map<std::string, std::vector<int>> seen;
  std::map<std::string, std::set<std::thread::id>> threads;
};

asio::awaitable<void> count_once(store_executor& ex, std::string id, modify_log& log) {
  // Named, not a temporary of the co_await: g++ 12 destroys such a temporary twice.
  store::modify_fn count = [id, &log](verification& m) {
    std::lock_guard lock(log.mutex);
    log.seen[id].push_back(m.checks);
    log.threads[id].insert(std::this_thread::get_id());
    ++m.checks;
    return error_code{};
  };
  auto [ec, v] = co_await ex.modify(id, std::move(count));
  EXPECT_FALSE(ec) << id;
}

TEST_F(store_executor_test, calls_about_one_verification_keep_their_order_across_threads) {
  store_executor ex(private_stores(4), {.max_batch = 8});
  ASSERT_EQ(ex.threads(), 4U);
  asio::io_context io;
  constexpr int ids = 24;
  constexpr int each = 20;
  auto insert_all = [&]() -> asio::awaitable<void> {
    for (int i = 0; i < ids; ++i) {
      auto v = make_verification(test::numbered("v", i));
      v.checks = 0;
      EXPECT_FALSE(co_await ex.insert(v));
    }
  };
  spawn(io, insert_all());
  io.run();
  modify_log log;
  // Interleaved: the calls of each verification are queued among everyone else's.
  for (int n = 0; n < each; ++n) {
    for (int i = 0; i < ids; ++i) spawn(io, count_once(ex, test::numbered("v", i), log));
  }
  io.restart();
  io.run();
  std::set<std::thread::id> used;
  for (int i = 0; i < ids; ++i) {
    const std::string id = test::numbered("v", i);
    std::vector<int> expected(each);
    for (int n = 0; n < each; ++n) expected[n] = n;
    EXPECT_EQ(log.seen[id], expected) << id;  // found (same thread as the insert), in order
    EXPECT_EQ(log.threads[id].size(), 1U) << id;
    used.insert(log.threads[id].begin(), log.threads[id].end());
  }
  EXPECT_GT(used.size(), 1U) << "every verification went to the same thread";
  EXPECT_EQ(ex.stats().calls, static_cast<std::uint64_t>(ids + ids * each));
}

TEST_F(store_executor_test, calls_without_an_order_go_to_every_thread) {
  store_executor ex(private_stores(3));
  asio::io_context io;
  std::mutex mutex;
  std::set<std::thread::id> threads;
  auto record = [&]() -> asio::awaitable<void> {
    co_await ex.run([&](store&) {
      std::lock_guard lock(mutex);
      threads.insert(std::this_thread::get_id());
      return error_code{};
    });
  };
  for (int i = 0; i < 9; ++i) spawn(io, record());
  io.run();
  EXPECT_EQ(threads.size(), 3U);
  EXPECT_EQ(ex.stats().calls, 9U);
}

TEST_F(store_executor_test, an_io_error_marks_the_store_down_until_a_call_succeeds) {
  ASSERT_FALSE(open_store(path_)->insert(make_verification("v1")));
  sqlite_options read_only;
  read_only.read_only = true;  // every write fails with io_error, reads work
  std::unique_ptr<store> s;
  std::string why;
  ASSERT_FALSE(open_sqlite_store(path_, read_only, s, why)) << why;
  store_executor ex(std::move(s));
  asio::io_context io;
  EXPECT_TRUE(ex.healthy());
  auto task = [&]() -> asio::awaitable<void> {
    EXPECT_EQ(co_await ex.insert(make_verification("v2")), store_errc::io_error);
    EXPECT_FALSE(ex.healthy());  // already when the caller resumes
    EXPECT_FALSE(ex.last_error().empty());
    EXPECT_FALSE(co_await ex.probe());
    EXPECT_TRUE(ex.healthy());
    // An answer that is not a failure of the database (not found) is a success too.
    EXPECT_EQ(co_await ex.insert(make_verification("v3")), store_errc::io_error);
    EXPECT_EQ((co_await ex.get("none")).first, store_errc::not_found);
    EXPECT_TRUE(ex.healthy());
  };
  spawn(io, task());
  io.run();
}

}  // namespace
}  // namespace otpd::service
