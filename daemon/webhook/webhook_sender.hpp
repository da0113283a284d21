// Signed webhooks: a POST of a JSON event to the business's URL, retried with exponential
// backoff until a 2xx or the attempt limit.
//
// Signature (header Otpd-Signature): "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t "." body)>"
// so that the receiver checks both the body and its freshness (replays are refused by age).
// Runs on one executor; events wait in a bounded in-memory queue (lost on restart: the
// verification itself is stored, and GET /v1/verifications/{id} always has the truth).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config/config.hpp"

namespace otpd::service {

// The header value for `body` signed at `unix_seconds`.
std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds,
                              std::string_view body);

struct webhook_stats {
  std::uint64_t delivered = 0;
  std::uint64_t failed_attempts = 0;
  std::uint64_t dropped = 0;  // attempt limit reached, or the queue was full
  std::size_t queued = 0;
};

class webhook_sender {
 public:
  webhook_sender(boost::asio::any_io_executor ex, const config::webhook& cfg,
                 std::size_t max_queue = 10'000);
  ~webhook_sender();

  void start();
  // Stops after the request in progress; queued events are dropped (counted).
  void stop();

  // Queues one event (a JSON text). No-op when no URL is configured.
  void post(std::string json);
  const webhook_stats& stats() const noexcept { return stats_; }

 private:
  struct item {
    std::string body;
    int attempts = 0;
    std::chrono::steady_clock::time_point not_before{};
  };
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> deliver(const std::string& body);  // true on 2xx

  boost::asio::any_io_executor ex_;
  const config::webhook& cfg_;
  std::size_t max_queue_;
  std::deque<item> queue_;
  boost::asio::steady_timer wake_;
  bool stopping_ = false;
  bool running_ = false;
  webhook_stats stats_;
};

}  // namespace otpd::service
