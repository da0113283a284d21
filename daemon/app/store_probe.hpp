// While the store is down (a call failed with io_error: PostgreSQL stopped or unreachable, a
// full disk), a cheap read every period, so that the store is found up again, and /readyz says
// so, without waiting for traffic: a load balancer sends none to a node that is not ready.
// Logs store_down (with the store's error) and store_up on each change.
#pragma once

#include <chrono>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/log/logger.hpp"
#include "daemon/store/store_executor.hpp"

namespace otpd::app {

class store_probe {
 public:
  store_probe(boost::asio::any_io_executor ex, service::store_executor& store, log::logger& logger,
              std::chrono::milliseconds period = std::chrono::milliseconds(1000));

  // Until cancel(); spawn it on the loop.
  boost::asio::awaitable<void> run();
  void cancel();

 private:
  service::store_executor& store_;
  log::logger& logger_;
  const std::chrono::milliseconds period_;
  boost::asio::steady_timer timer_;
  bool cancelled_ = false;
};

}  // namespace otpd::app
