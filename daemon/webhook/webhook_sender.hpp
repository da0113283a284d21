// Signed webhooks: a POST of a JSON event to the business's URL, retried with exponential
// backoff until a 2xx or the attempt limit.
//
// Signature (header Otpd-Signature): "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t "." body)>"
// so that the receiver checks both the body and its freshness (replays are refused by age).
// Runs on one executor; events wait in a bounded in-memory queue (lost on restart: the
// verification itself is stored, and GET /v1/verifications/{id} always has the truth).
//
// Never to a link-local address (169.254.0.0/16, fe80::/10: cloud metadata services answer
// there): the loader refuses such a literal host, and every address the URL's name resolves
// to is checked before connecting; a name resolving to one is a failed attempt, logged.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config/config.hpp"
#include "daemon/service/task_group.hpp"
#include "daemon/webhook/notifier.hpp"

namespace otpd::log {
class logger;
}

namespace otpd::service {

// The header value for `body` signed at `unix_seconds`.
std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds,
                              std::string_view body);

// Whether a webhook may never be sent to `a` (link-local, IPv4-mapped included).
bool is_forbidden_destination(const boost::asio::ip::address& a) noexcept;

struct webhook_stats {
  std::uint64_t delivered = 0;
  std::uint64_t failed_attempts = 0;
  std::uint64_t dropped = 0;  // attempt limit reached, or the queue was full
  std::size_t queued = 0;
};

class webhook_sender final : public notifier {
 public:
  // `log` (may be null) gets a line for each attempt refused before connecting.
  webhook_sender(boost::asio::any_io_executor ex, const config::webhook& cfg,
                 std::size_t max_queue = 10'000, log::logger* log = nullptr);
  ~webhook_sender() override;

  void start() override;
  // Stops after the request in progress; queued events are dropped (counted).
  void stop() override;
  // After stop(): cancels the request in progress, if any, and resumes once the sender's
  // coroutine has ended (it holds `this`).
  boost::asio::awaitable<void> join() override;

  // Queues one event (a JSON text). No-op when no URL is configured.
  void post(std::string json) override;
  const webhook_stats& stats() const noexcept { return stats_; }

  // Name resolution in place of the system resolver, for tests: no resolver can be made to
  // answer a link-local address for a name without root (/etc/hosts). Returns the endpoints
  // for (host, port), or sets `ec`.
  using resolve_fn = std::function<std::vector<boost::asio::ip::tcp::endpoint>(
      const std::string& host, const std::string& port, boost::system::error_code& ec)>;
  void set_resolver(resolve_fn f) { resolve_ = std::move(f); }

 private:
  struct item {
    std::string body;
    int attempts = 0;
    std::chrono::steady_clock::time_point not_before{};
  };
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> deliver(const std::string& body);  // true on 2xx
  // The URL host's endpoints; empty (and logged) when it cannot be resolved or any of them is
  // a forbidden destination.
  boost::asio::awaitable<std::vector<boost::asio::ip::tcp::endpoint>> destinations(
      const std::string& host, const std::string& port);

  boost::asio::any_io_executor ex_;
  const config::webhook& cfg_;
  std::size_t max_queue_;
  log::logger* log_;
  resolve_fn resolve_;
  std::deque<item> queue_;
  boost::asio::steady_timer wake_;
  task_group tasks_;  // run()
  bool stopping_ = false;
  bool running_ = false;
  webhook_stats stats_;
};

}  // namespace otpd::service
