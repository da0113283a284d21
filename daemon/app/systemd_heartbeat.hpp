// systemd (Type=notify): READY=1 once the store is open and the listeners are up (binds may
// still be connecting), STATUS= with the bind counts, WATCHDOG=1 from this I/O loop (a loop
// that stops turning stops the pings and systemd restarts otpd), RELOADING=1 around a reload
// and STOPPING=1 on shutdown.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/log/logger.hpp"
#include "daemon/notify/sd_notify.hpp"
#include "daemon/sms/sms_gateway.hpp"

namespace otpd::app {

// "b/t SMPP binds bound": the STATUS= line.
std::string bind_status(const service::sms_gateway& gateway);

class systemd_heartbeat {
 public:
  // The notifier from NOTIFY_SOCKET (systemd_notify_unusable logged when it cannot be used);
  // `status` gives each STATUS= text.
  systemd_heartbeat(boost::asio::any_io_executor ex, log::logger& logger,
                    std::function<std::string()> status);

  // READY=1 and a first STATUS=, then every beat WATCHDOG=1 (when systemd asked for it) and a
  // fresh STATUS= line, until cancel().
  boost::asio::awaitable<void> run();
  void cancel() { timer_.cancel(); }

  const notify::notifier& systemd() const noexcept { return systemd_; }

 private:
  const notify::notifier systemd_;
  std::function<std::string()> status_;
  boost::asio::steady_timer timer_;
  const std::optional<std::chrono::microseconds> watchdog_;
};

}  // namespace otpd::app
