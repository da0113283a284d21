// otpd's HTTP/1.1 server (RFC 9110, RFC 9112) over TCP or TLS.
//
// One coroutine per connection, each on its own strand of the given executor, so that the
// server uses every thread that runs the io_context. A handler runs on its connection's
// strand. The server answers what it can without a handler (RFC 9457 problems):
//   400 malformed request line, header or chunked framing; a missing Host (RFC 9112 §3.2)
//   404 unknown path; 405 known path, other method, with Allow (RFC 9110 §15.5.6)
//   408 the request not received within limits.read_timeout (slow clients)
//   413 Content-Length above limits.max_body_bytes (before reading the body), or a chunked
//       body growing past it
//   414 a request line longer than limits.max_header_bytes; 431 header fields above it
//   401 a missing or unknown API key on a route that needs one (RFC 6750)
//   500 a handler that threw; 501 an unknown method; 505 an HTTP version other than 1.x
// After an error in the request framing the connection is closed (RFC 9112 §9.6) with a
// lingering close, so that the client reads the problem instead of a TCP reset.
//
// Timeouts: a request (header and body) must arrive within read_timeout of its first byte (of
// the accept, for the first request); between requests a keep-alive connection may stay idle
// for idle_timeout and is then closed without a response (RFC 9112 §9.5). Writes are bounded by
// read_timeout too. At max_connections, new connections are closed at once.
//
// Lifetime: the logger, the metrics registry and whatever the handlers reference must outlive
// every connection: complete stop() and then join() before they go (or destroy the io_context
// first).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "config/config.hpp"
#include "daemon/http/auth.hpp"
#include "daemon/http/router.hpp"

namespace otpd::log {
class logger;
}
namespace otpd::metrics {
class registry;
}

namespace otpd::http {

struct server_options {
  std::vector<config::http_listener> listeners{config::http_listener{}};
  config::http_limits limits;
  // stop(): how long in-flight requests may take before their connections are cut.
  std::chrono::milliseconds shutdown_grace{5000};
  bool access_log = true;  // one "http_request" line per request
};

class server {
 public:
  using endpoint = boost::asio::ip::tcp::endpoint;

  // metrics may be null. Registers otpd_http_requests_total{method,route,status},
  // otpd_http_request_duration_seconds{method,route}, otpd_http_open_connections,
  // otpd_http_connections_accepted_total and otpd_http_connections_rejected_total.
  server(boost::asio::any_io_executor ex, server_options opts, router routes, api_key_auth keys,
         log::logger& logger, metrics::registry* metrics = nullptr);
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Loads TLS certificates, binds and listens on every listener, and starts accepting. Throws
  // (start-up errors): boost::system::system_error when an address cannot be parsed or bound,
  // std::runtime_error when a certificate or key cannot be loaded.
  void start();

  // The bound addresses, in the order of the listeners (the real port when 0 was asked).
  std::vector<endpoint> local_endpoints() const;

  // Replaces the API keys (SIGHUP); requests already authenticated are not affected.
  void set_api_keys(api_key_auth keys);

  // Graceful stop: stops accepting, closes idle keep-alive connections, lets requests in
  // progress finish (their responses carry Connection: close) for up to shutdown_grace, then
  // cancels what is left. Completes when every connection is gone, or 2 s after the
  // cancellation (http_stop_incomplete): a handler may await what ignores the cancellation (a
  // store call), and what it awaits may only finish once the caller has stopped more. Safe to
  // call more than once; start() cannot be called again.
  boost::asio::awaitable<void> stop();

  // After stop(): closes what is left of every connection and completes once each coroutine has
  // ended, however long what its handler awaits takes (a cancelled connection ends at its next
  // co_await). What the handlers reference may go after it, not before.
  boost::asio::awaitable<void> join();

  std::size_t open_connections() const noexcept;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace otpd::http
