// Signed webhooks: a POST of a JSON event to the business's URL, retried with exponential
// backoff until a 2xx or the attempt limit.
//
// Signature (header Otpd-Signature): "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t "." body)>"
// so that the receiver checks both the body and its freshness (replays are refused by age).
//
// The events come from the store's outbox (store.hpp), where the service writes each one in the
// transaction of the change it reports: an event outlives a crash or a restart, and with
// several nodes on one database, whichever node is up delivers it. The sender claims due events
// (claim_webhooks: the oldest of each verification, so that a verification's events arrive in
// order), delivers up to max_in_flight of them at once (each to a different verification, so
// that one slow or failing event holds up only its own verification's later ones), and deletes
// each once delivered or given up. It reads the outbox when the service posts an event, when a
// delivery ends, and every poll_interval (events of other nodes, retries come due). A claim
// lasts claim_ttl(): a node that dies holding one leaves it to another node once it runs out, so
// an event may arrive twice (at least once); a node that starts again takes its own claims back
// at once.
//
// Never to a link-local address (169.254.0.0/16, fe80::/10: cloud metadata services answer
// there): the loader refuses such a literal host, and every address the URL's name resolves
// to is checked before connecting; a name resolving to one is a failed attempt, logged.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config/config.hpp"
#include "daemon/metrics/registry.hpp"
#include "daemon/service/task_group.hpp"
#include "daemon/store/store_executor.hpp"
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

// What the sender's metrics count, read back.
struct webhook_stats {
  std::uint64_t delivered = 0;
  std::uint64_t failed_attempts = 0;  // the attempts that gave up included
  std::uint64_t dropped = 0;          // attempt limit reached
  std::size_t in_flight = 0;          // deliveries under way
};

class webhook_sender final : public notifier {
 public:
  // How often the outbox is read when nothing else wakes the sender.
  static constexpr std::chrono::seconds poll_interval{1};
  // How often the outbox's backlog is counted for the metrics.
  static constexpr std::chrono::seconds backlog_interval{5};

  // `holder`: this node's name, on its claims. Adds otpd_webhook_deliveries_total,
  // otpd_webhook_backlog and otpd_webhook_oldest_seconds to `metrics` (docs/operations.md).
  // `log` (may be null) gets a line for each event given up, each attempt refused before
  // connecting, and each failure to read the outbox.
  webhook_sender(boost::asio::any_io_executor ex, const config::webhook& cfg, store_executor& store,
                 std::string holder, metrics::registry& metrics, log::logger* log = nullptr,
                 std::size_t max_in_flight = 32);
  ~webhook_sender() override;

  // Takes this node's earlier claims back and starts delivering. No-op without a URL.
  void start() override;
  bool enabled() const override { return !cfg_.url.empty(); }
  // Takes no more from the outbox; what is left there is delivered after the next start.
  void stop() override;
  // After stop(): cancels the deliveries in progress (their claims run out, or the next start
  // takes them back) and resumes once every coroutine of the sender has ended.
  boost::asio::awaitable<void> join() override;

  // An event was written to the outbox: reads it now rather than at the next poll.
  void post(std::string json) override;
  webhook_stats stats() const noexcept;
  // How long a claim lasts: longer than a delivery can take (resolve, connect, write, read).
  std::chrono::milliseconds claim_ttl() const noexcept;

  // Name resolution in place of the system resolver, for tests: no resolver can be made to
  // answer a link-local address for a name without root (/etc/hosts). Returns the endpoints
  // for (host, port), or sets `ec`.
  using resolve_fn = std::function<std::vector<boost::asio::ip::tcp::endpoint>(
      const std::string& host, const std::string& port, boost::system::error_code& ec)>;
  void set_resolver(resolve_fn f) { resolve_ = std::move(f); }

 private:
  boost::asio::awaitable<void> run();
  // Counts the outbox every backlog_interval, for the gauges.
  boost::asio::awaitable<void> count_backlog();
  // Claims what is due, up to the room left, and starts delivering it.
  boost::asio::awaitable<void> claim_some();
  boost::asio::awaitable<void> deliver_one(webhook_event e);
  // Waits for post(), a delivery's end, stop() or `until`.
  boost::asio::awaitable<void> wait(std::chrono::steady_clock::time_point until);
  void wake();
  boost::asio::awaitable<bool> deliver(const std::string& body);  // true on 2xx
  // The URL host's endpoints; empty (and logged) when it cannot be resolved or any of them is
  // a forbidden destination.
  boost::asio::awaitable<std::vector<boost::asio::ip::tcp::endpoint>> destinations(
      const std::string& host, const std::string& port);
  // When an event that failed `attempts` times is tried again.
  std::chrono::seconds backoff(int attempts) const noexcept;

  boost::asio::any_io_executor ex_;
  const config::webhook& cfg_;
  store_executor& store_;
  std::string holder_;
  log::logger* log_;
  std::size_t max_in_flight_;
  resolve_fn resolve_;
  boost::asio::steady_timer wake_;
  bool woken_ = false;  // something to read arrived while the sender was not waiting
  task_group tasks_;    // run() and the deliveries
  bool stopping_ = false;
  bool running_ = false;
  bool store_failing_ = false;  // logged once per failure streak
  std::size_t in_flight_ = 0;   // deliveries under way
  boost::asio::steady_timer backlog_timer_;
  struct instruments {
    metrics::counter delivered, failed, given_up;
    metrics::gauge backlog, oldest_seconds;
  } m_;
};

}  // namespace otpd::service
