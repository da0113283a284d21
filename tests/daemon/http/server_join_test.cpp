// The server's stop() and join() as otpd's shutdown uses them: a request still inside a call that
// ignores the cancellation (as a store call does) when stop() gives up ends before join()
// completes, and nothing of its handler runs after; a connection that ends with an exception is
// reported.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/system/system_error.hpp>

#include "tests/daemon/http/server_fixture.hpp"

namespace otpd::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A call that completes when the test releases it and never before: the connection's
// cancellation does not reach it, as it does not reach a store call (whose completion the
// store's thread posts).
class uncancellable_call {
 public:
  asio::awaitable<void> wait() {
    asio::steady_timer timer(co_await asio::this_coro::executor,
                             std::chrono::steady_clock::time_point::max());
    {
      std::lock_guard lock(mutex_);
      timer_ = &timer;
      changed_.notify_all();
    }
    // An empty slot: no cancellation handler is installed for this wait.
    (void)co_await timer.async_wait(asio::bind_cancellation_slot(
        asio::cancellation_slot(), asio::as_tuple(asio::use_awaitable)));
    std::lock_guard lock(mutex_);
    timer_ = nullptr;
  }

  bool wait_entered(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return timer_ != nullptr; });
  }

  // Completes the call, if one waits, on its own executor.
  void release() {
    std::lock_guard lock(mutex_);
    if (timer_ == nullptr) return;
    asio::post(timer_->get_executor(), [this] {
      std::lock_guard inner(mutex_);
      if (timer_ != nullptr) timer_->cancel();
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  asio::steady_timer* timer_ = nullptr;
};

class server_join_test : public server_fixture {
 protected:
  void add_routes(http::router& r) override {
    r.add(http::method::get, "/v1/stuck",
          [this](http::request&) -> asio::awaitable<http::response> {
            const frame_end end{*this};
            co_await call_.wait();
            note("handler_resumed");
            // What a service does next: another asynchronous step, which a cancelled connection
            // does not take.
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
            note("handler_went_on");
            co_return http::response::text(200, "late");
          });
    r.add(http::method::get, "/v1/throw_int",
          [](http::request&) -> asio::awaitable<http::response> {
            throw 42;  // not a std::exception: the handler's catch does not see it
            co_return http::response::empty(204);
          });
    r.add(http::method::get, "/v1/aborted", [](http::request&) -> asio::awaitable<http::response> {
      // An operation_aborted of the handler's own, while the server is not stopping.
      throw boost::system::system_error(asio::error::operation_aborted, "lookup");
      co_return http::response::empty(204);
    });
  }

  // A failed test leaves no handler waiting for the io_context thread to be joined.
  void TearDown() override { call_.release(); }

  struct frame_end {
    server_join_test& t;
    ~frame_end() { t.note("handler_ended"); }
  };

  void note(std::string what) {
    std::lock_guard lock(notes_mutex_);
    notes_.push_back(std::move(what));
  }
  std::vector<std::string> notes() {
    std::lock_guard lock(notes_mutex_);
    return notes_;
  }

  static http::server_options short_grace() {
    auto o = test_options();
    o.shutdown_grace = 100ms;
    return o;
  }
  static std::string get(std::string_view target) {
    return http_client::format_request("GET", target, {}, auth_headers());
  }

  std::string failure_line() {
    for (const auto& l : log_.lines()) {
      if (l.find("http_connection_failed") != std::string::npos) return l;
    }
    return {};
  }

  uncancellable_call call_;
  std::mutex notes_mutex_;
  std::vector<std::string> notes_;
};

TEST_F(server_join_test, join_completes_after_a_handler_that_outlived_stop) {
  start(short_grace());
  http_client busy(ep());
  ASSERT_TRUE(busy.send(get("/v1/stuck")));
  ASSERT_TRUE(call_.wait_entered(5s));

  stopped_ = true;
  auto stopped = begin_stop();
  // stop() gives up 2 s after its cancellation: the handler still awaits its call.
  ASSERT_EQ(stopped.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(server_->open_connections(), 1u);
  EXPECT_EQ(log_.count("http_stop_incomplete"), 1u);

  auto joined = asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        co_await server_->join();
        note("joined");
      },
      asio::use_future);
  // join() closes the socket at once (the client is not kept waiting), and waits for the
  // coroutine, which waits for its call.
  EXPECT_TRUE(busy.closed_within(3s));
  EXPECT_NE(joined.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(server_->open_connections(), 1u);
  EXPECT_TRUE(notes().empty());

  call_.release();
  ASSERT_EQ(joined.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(notes(), (std::vector<std::string>{"handler_resumed", "handler_ended", "joined"}));
  EXPECT_EQ(server_->open_connections(), 0u);
  // The cancellation the connection ended with is not a failure.
  EXPECT_EQ(log_.count("http_connection_failed"), 0u);

  // The loop runs out of work: nothing of the handler is left to run after join().
  work_.reset();
  thread_.join();
  EXPECT_EQ(notes().size(), 3u);
}

TEST_F(server_join_test, join_without_a_connection_completes_at_once) {
  start();
  ASSERT_TRUE(http_client(ep()).request("GET", "/healthz").has_value());
  stopped_ = true;
  auto joined = asio::co_spawn(io_, server_->join(), asio::use_future);
  ASSERT_EQ(joined.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(server_->open_connections(), 0u);
  EXPECT_THROW(http_client{ep()}, std::system_error);  // join() stopped the server first
}

TEST_F(server_join_test, connection_ended_by_an_exception_is_reported) {
  start();
  http_client c(ep());
  ASSERT_TRUE(c.send(get("/v1/throw_int")));
  EXPECT_TRUE(c.closed_within(3s));  // no response: the coroutine is gone
  ASSERT_TRUE(log_.wait_for("http_connection_failed", 1, 3s));
  const std::string line = failure_line();
  EXPECT_NE(line.find("unknown exception"), std::string::npos) << line;
  EXPECT_NE(line.find("client=127.0.0.1"), std::string::npos) << line;
  // No request data: neither the path nor the key.
  EXPECT_EQ(line.find("/v1/"), std::string::npos) << line;
  EXPECT_EQ(line.find(api_secret), std::string::npos) << line;

  auto r = http_client(ep()).request("GET", "/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200u);
}

TEST_F(server_join_test, handler_abort_outside_a_stop_is_reported_with_its_reason) {
  start();
  http_client c(ep());
  ASSERT_TRUE(c.send(get("/v1/aborted")));
  EXPECT_TRUE(c.closed_within(3s));
  ASSERT_TRUE(log_.wait_for("http_connection_failed", 1, 3s));
  const std::string line = failure_line();
  EXPECT_NE(line.find("lookup: Operation canceled"), std::string::npos) << line;
  EXPECT_EQ(line.find("/v1/"), std::string::npos) << line;
}

}  // namespace
}  // namespace otpd::test
