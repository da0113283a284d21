#include "daemon/service/task_group.hpp"

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace {

namespace asio = boost::asio;
using otpd::service::task_group;
using namespace std::chrono_literals;

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// The tasks are functions taking what they touch as parameters: a lambda's captures would die
// with the lambda at the end of the spawn statement, before its coroutine runs.
asio::awaitable<void> wait_on(asio::steady_timer& t) { co_await t.async_wait(nothrow); }

asio::awaitable<void> nothing() { co_return; }

asio::awaitable<void> wait_then_step(asio::steady_timer& t,
                                     std::optional<boost::system::error_code>& waited,
                                     bool& stepped) {
  auto [ec] = co_await t.async_wait(nothrow);
  waited = ec;
  // A cancelled task's next co_await throws: how the task stops.
  co_await asio::post(t.get_executor(), asio::use_awaitable);
  stepped = true;
}

asio::awaitable<void> wait_then_clean_up(asio::steady_timer& t, asio::steady_timer& cleanup,
                                         const bool& joined, bool& joined_before,
                                         bool& cleaned_up) {
  co_await t.async_wait(nothrow);
  // A task may still finish what it started once cancelled (here: one more wait).
  co_await asio::this_coro::reset_cancellation_state();
  cleanup.expires_after(5ms);
  co_await cleanup.async_wait(nothrow);
  joined_before = joined;
  cleaned_up = true;
}

template <typename E>
asio::awaitable<void> throw_(E e) {
  co_await asio::this_coro::executor;
  throw e;
}

asio::awaitable<void> set_after_post(bool& flag) {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  flag = true;
}

asio::awaitable<void> set_now(bool& flag) {
  flag = true;
  co_return;
}

// What a test's join saw: run() returns only when nothing is left on the io_context, so a join
// that never ended would leave `joined` false (and a live task would keep run() going).
struct joiner {
  bool joined = false;
  void start(asio::io_context& io, task_group& g) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await g.join();
          joined = true;
        },
        asio::detached);
  }
};

TEST(task_group, counts_live_tasks_until_they_end) {
  asio::io_context io;
  task_group g(io.get_executor(), nullptr);
  asio::steady_timer t(io, 1ms);
  ASSERT_TRUE(g.spawn(wait_on(t)));
  ASSERT_TRUE(g.spawn(nothing()));
  EXPECT_EQ(g.size(), 2u);
  io.run();
  EXPECT_EQ(g.size(), 0u);
}

TEST(task_group, join_cancels_a_pending_task_and_completes) {
  asio::io_context io;
  int errors = 0;
  task_group g(io.get_executor(), [&](std::exception_ptr) { ++errors; });
  asio::steady_timer never(io, asio::steady_timer::time_point::max());
  std::optional<boost::system::error_code> waited;
  bool after_wait = false;
  g.spawn(wait_then_step(never, waited, after_wait));
  joiner j;
  asio::post(io, [&] { j.start(io, g); });
  io.run();
  EXPECT_TRUE(j.joined);
  ASSERT_TRUE(waited.has_value());
  EXPECT_EQ(*waited, asio::error::operation_aborted);
  EXPECT_FALSE(after_wait);
  EXPECT_EQ(g.size(), 0u);
  EXPECT_EQ(errors, 0) << "a cancelled task's operation_aborted is how it ends, not a failure";
}

TEST(task_group, join_waits_for_a_task_finishing_its_cleanup) {
  asio::io_context io;
  task_group g(io.get_executor(), nullptr);
  asio::steady_timer never(io, asio::steady_timer::time_point::max());
  asio::steady_timer cleanup(io);
  bool cleaned_up = false;
  bool joined_before_cleanup = false;
  joiner j;
  g.spawn(wait_then_clean_up(never, cleanup, j.joined, joined_before_cleanup, cleaned_up));
  asio::post(io, [&] { j.start(io, g); });
  io.run();
  EXPECT_TRUE(cleaned_up);
  EXPECT_FALSE(joined_before_cleanup);
  EXPECT_TRUE(j.joined);
}

TEST(task_group, an_exception_in_a_task_is_reported) {
  asio::io_context io;
  std::string reported;
  task_group g(io.get_executor(), [&](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      reported = ex.what();
    }
  });
  bool other_ran = false;
  g.spawn(throw_(std::runtime_error("broken invariant")));
  g.spawn(set_after_post(other_ran));
  io.run();  // the exception does not escape run()
  EXPECT_EQ(reported, "broken invariant");
  EXPECT_TRUE(other_ran);
  EXPECT_EQ(g.size(), 0u);
}

TEST(task_group, an_abort_of_an_uncancelled_task_is_reported) {
  asio::io_context io;
  int errors = 0;
  task_group g(io.get_executor(), [&](std::exception_ptr) { ++errors; });
  g.spawn(throw_(boost::system::system_error(asio::error::operation_aborted)));
  io.run();
  EXPECT_EQ(errors, 1);
}

TEST(task_group, spawn_after_join_is_refused) {
  asio::io_context io;
  task_group g(io.get_executor(), nullptr);
  joiner j;
  j.start(io, g);
  io.run();
  ASSERT_TRUE(j.joined);
  EXPECT_TRUE(g.closed());
  bool ran = false;
  EXPECT_FALSE(g.spawn(set_now(ran)));
  io.restart();
  io.run();
  EXPECT_FALSE(ran);
  EXPECT_EQ(g.size(), 0u);
}

}  // namespace
