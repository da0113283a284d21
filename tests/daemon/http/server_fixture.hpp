// A running otpd HTTP server on 127.0.0.1 port 0, on its own io_context thread, with a few
// routes for the tests, a captured log and a metrics registry.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>

#include "daemon/http/auth.hpp"
#include "daemon/http/json_body.hpp"
#include "daemon/http/problem.hpp"
#include "daemon/http/server.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/metrics/registry.hpp"
#include "tests/daemon/http/test_client.hpp"

namespace otpd::test {

inline constexpr std::string_view api_secret = "sk_test_9f8e7d6c5b4a";

// Log lines, waited on with deadlines.
class log_capture {
 public:
  log::sink sink() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
      changed_.notify_all();
    };
  }
  // Waits until `n` lines contain `needle`.
  bool wait_for(std::string_view needle, std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return count_locked(needle) >= n; });
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  std::size_t count(std::string_view needle) {
    std::lock_guard lock(mutex_);
    return count_locked(needle);
  }

 private:
  std::size_t count_locked(std::string_view needle) const {
    std::size_t n = 0;
    for (const auto& l : lines_) n += l.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
};

// Handlers that wait until the test releases them: requests "in flight".
class gate {
 public:
  boost::asio::awaitable<void> pass() {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                    std::chrono::steady_clock::time_point::max());
    {
      std::lock_guard lock(mutex_);
      waiting_.push_back(&timer);
      ++entered_;
      changed_.notify_all();
    }
    (void)co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    std::lock_guard lock(mutex_);
    std::erase(waiting_, &timer);
  }
  bool wait_entered(int n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return entered_ >= n; });
  }
  void release_all() {
    std::lock_guard lock(mutex_);
    for (auto* t : waiting_) {
      boost::asio::post(t->get_executor(), [this, t] {
        std::lock_guard inner(mutex_);
        if (std::find(waiting_.begin(), waiting_.end(), t) != waiting_.end()) t->cancel();
      });
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<boost::asio::steady_timer*> waiting_;
  int entered_ = 0;
};

inline http::server_options test_options() {
  http::server_options o;
  o.listeners = {config::http_listener{"127.0.0.1", 0, std::nullopt}};
  o.limits.max_body_bytes = 1024;
  o.limits.max_header_bytes = 1024;
  o.limits.read_timeout = std::chrono::milliseconds(500);
  o.limits.idle_timeout = std::chrono::milliseconds(1000);
  o.limits.max_connections = 1000;
  o.shutdown_grace = std::chrono::milliseconds(3000);
  return o;
}

class server_fixture : public ::testing::Test {
 protected:
  using endpoint = boost::asio::ip::tcp::endpoint;

  ~server_fixture() override { shutdown(); }

  http::router make_routes() {
    namespace asio = boost::asio;
    using http::request;
    using http::response;
    http::router r;
    r.add(http::method::get, "/healthz",
          [](request&) -> asio::awaitable<response> { co_return response::text(200, "ok"); },
          {.auth = http::access::public_route});
    r.add(http::method::get, "/metrics",
          [this](request&) -> asio::awaitable<response> {
            co_return response::text(200, registry_.expose(),
                                     std::string(metrics::registry::content_type));
          },
          {.auth = http::access::public_route});
    r.add(http::method::post, "/v1/verifications/{id}/check",
          [](request& req) -> asio::awaitable<response> {
            boost::json::object body;
            if (auto p = http::parse_json_object(req, body)) co_return std::move(*p);
            boost::json::object out{{"id", *req.param("id")},
                                    {"api_key", req.api_key},
                                    {"route", req.route},
                                    {"fields", body.size()}};
            co_return response::json(200, boost::json::serialize(out));
          });
    r.add(http::method::get, "/v1/verifications/{id}",
          [](request& req) -> asio::awaitable<response> {
            boost::json::object out{{"id", *req.param("id")},
                                    {"view", std::string(req.query_param("view").value_or(""))},
                                    {"client", req.client_address}};
            co_return response::json(200, boost::json::serialize(out));
          });
    r.add(http::method::get, "/v1/slow", [this](request&) -> asio::awaitable<response> {
      co_await gate_.pass();
      co_return response::text(200, "finally");
    });
    r.add(http::method::get, "/v1/throw", [](request&) -> asio::awaitable<response> {
      throw std::runtime_error("handler bug");
      co_return response::empty(204);
    });
    r.add(http::method::get, "/v1/retry", [](request&) -> asio::awaitable<response> {
      co_return http::problem(429, "resend_cooldown", {}, "wait", {{"retry_after", 17}})
          .set_header("Retry-After", "17");
    });
    add_routes(r);
    return r;
  }

  // More routes, for a test of its own.
  virtual void add_routes(http::router&) {}

  void start(http::server_options opts = test_options()) {
    http::api_key_auth keys;
    keys.add("test-key", http::sha256_hex(api_secret));
    server_ = std::make_unique<http::server>(io_.get_executor(), std::move(opts), make_routes(),
                                             std::move(keys), logger_, &registry_);
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }

  endpoint ep() const { return server_->local_endpoints().at(0); }

  // stop() on the server's io_context; the future is ready when it completes.
  std::future<void> begin_stop() {
    return boost::asio::co_spawn(io_, server_->stop(), boost::asio::use_future);
  }

  void shutdown() {
    if (server_ && !stopped_) {
      stopped_ = true;
      auto f = begin_stop();
      gate_.release_all();
      EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    }
    work_.reset();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  static std::vector<std::pair<std::string, std::string>> auth_headers(
      std::vector<std::pair<std::string, std::string>> more = {}) {
    more.emplace_back("Authorization", "Bearer " + std::string(api_secret));
    return more;
  }

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      io_.get_executor()};
  log_capture log_;
  log::logger logger_{{.format = log::format::journal, .min_level = log::level::debug},
                      log_.sink()};
  metrics::registry registry_;
  gate gate_;
  std::unique_ptr<http::server> server_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace otpd::test
