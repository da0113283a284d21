#include "daemon/app/systemd_heartbeat.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace otpd::app {
namespace asio = boost::asio;

std::string bind_status(const service::sms_gateway& gateway) {
  std::size_t bound = 0;
  std::size_t total = 0;
  for (const smpp::pool_status& p : gateway.status()) {
    for (const smpp::session_status& s : p.sessions) {
      ++total;
      if (s.state == smpp::session_state::bound) ++bound;
    }
  }
  return std::to_string(bound) + "/" + std::to_string(total) + " SMPP binds bound";
}

systemd_heartbeat::systemd_heartbeat(asio::any_io_executor ex, log::logger& logger,
                                     std::function<std::string()> status)
    : systemd_(notify::notifier::from_environment()),
      status_(std::move(status)),
      timer_(ex),
      watchdog_(notify::watchdog_interval()) {
  if (auto ec = systemd_.setup_error()) {
    logger.warning("systemd_notify_unusable", {{"error", ec.message()}});
  }
}

asio::awaitable<void> systemd_heartbeat::run() {
  const auto beat = watchdog_ ? std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog_)
                              : std::chrono::milliseconds(5000);
  systemd_.ready();
  systemd_.status(status_());
  while (true) {
    timer_.expires_after(beat);
    auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (watchdog_) systemd_.watchdog();
    systemd_.status(status_());
  }
}

}  // namespace otpd::app
