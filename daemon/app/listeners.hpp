// The HTTP listeners: the API (with its keys) and, when configured, the ops listener
// (/healthz, /readyz and /metrics on a port of their own, without a key; its requests are not
// counted in the otpd_http_ series, which describe the API).
#pragma once

#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "daemon/http/server.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/metrics/registry.hpp"
#include "daemon/service/verification_service.hpp"
#include "daemon/sms/sms_sender.hpp"

namespace otpd::app {

class listeners {
 public:
  // `sms`: the carriers' readiness that /readyz shows.
  listeners(boost::asio::any_io_executor ex, const config::config& cfg,
            service::verification_service& svc, const service::sms_sender& sms,
            metrics::registry& metrics, log::logger& logger);

  // Starts accepting on both and logs each address (listening, ops_listening).
  void start();
  // Stops the API, then the ops listener (see http::server::stop).
  boost::asio::awaitable<void> stop();
  // After stop(), once what the handlers wait for has stopped: every connection has ended (see
  // http::server::join).
  boost::asio::awaitable<void> join();

  // The API server, whose keys a reload replaces.
  http::server& api() noexcept { return api_; }

 private:
  log::logger& logger_;
  http::server api_;
  std::unique_ptr<http::server> ops_;  // null: no ops listener
};

}  // namespace otpd::app
