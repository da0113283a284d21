// bind_waiters: SMS waiting for a carrier's bind wake when one of their carriers' binds comes
// up, give up at their deadline, and are counted per carrier meanwhile.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <optional>

#include "daemon/sms/bind_waiters.hpp"

namespace otpd::service {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = smpp::clock_type;

struct bind_waiters_test : ::testing::Test {
  // Starts one wait for `carriers`; its result lands in `out`.
  void start_wait(std::vector<std::string> carriers, smpp::duration timeout,
                  std::optional<bool>& out) {
    asio::co_spawn(
        ioc,
        [this, carriers, timeout, &out]() -> asio::awaitable<void> {
          out = co_await waiters.wait(carriers, steady::now() + timeout, [this] { return up; });
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  // Runs until every wait has returned (each is bounded by its deadline).
  void run() { ioc.run_for(30s); }

  asio::io_context ioc;
  bind_waiters waiters{ioc.get_executor()};
  bool up = false;
};

TEST_F(bind_waiters_test, returns_at_once_when_a_carrier_can_send) {
  up = true;
  std::optional<bool> r;
  const auto t0 = steady::now();
  start_wait({"a"}, 10s, r);
  run();
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r);
  EXPECT_LT(steady::now() - t0, 5s);
  EXPECT_EQ(waiters.waiting("a"), 0u);
}

TEST_F(bind_waiters_test, a_bind_coming_up_wakes_the_waiters_of_its_carrier) {
  std::optional<bool> r1, r2;
  const auto t0 = steady::now();
  start_wait({"a", "b"}, 20s, r1);
  start_wait({"b"}, 20s, r2);
  // Runs once both waits are suspended: they are counted, then a bind of "b" comes up.
  asio::post(ioc, [&] {
    EXPECT_EQ(waiters.waiting("a"), 1u);
    EXPECT_EQ(waiters.waiting("b"), 2u);
    EXPECT_EQ(waiters.waiting("c"), 0u);
    up = true;
    waiters.notify("b");
  });
  run();
  ASSERT_TRUE(r1 && r2);
  EXPECT_TRUE(*r1);
  EXPECT_TRUE(*r2);
  EXPECT_LT(steady::now() - t0, 10s);  // woken, not at the deadline
  EXPECT_EQ(waiters.waiting("a"), 0u);
  EXPECT_EQ(waiters.waiting("b"), 0u);
}

TEST_F(bind_waiters_test, another_carriers_bind_does_not_wake_a_waiter) {
  std::optional<bool> r;
  const auto t0 = steady::now();
  start_wait({"a"}, 300ms, r);
  asio::post(ioc, [&] { waiters.notify("b"); });
  run();
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  EXPECT_GE(steady::now() - t0, 300ms);
}

TEST_F(bind_waiters_test, gives_up_at_the_deadline_when_no_bind_comes_up) {
  std::optional<bool> r;
  const auto t0 = steady::now();
  start_wait({"a"}, 200ms, r);
  run();
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  EXPECT_GE(steady::now() - t0, 200ms);
  EXPECT_EQ(waiters.waiting("a"), 0u);
}

TEST_F(bind_waiters_test, stop_ends_every_wait_now_and_later) {
  std::optional<bool> r1, r2;
  const auto t0 = steady::now();
  start_wait({"a"}, 20s, r1);
  asio::post(ioc, [&] { waiters.stop(); });
  run();
  ASSERT_TRUE(r1);
  EXPECT_FALSE(*r1);
  EXPECT_LT(steady::now() - t0, 10s);
  ioc.restart();
  up = true;  // even a carrier that could send: the gateway is stopping
  start_wait({"a"}, 20s, r2);
  run();
  ASSERT_TRUE(r2);
  EXPECT_FALSE(*r2);
}

}  // namespace
}  // namespace otpd::service
