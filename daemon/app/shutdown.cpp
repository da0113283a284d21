#include "daemon/app/shutdown.hpp"

#include <csignal>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace otpd::app {
namespace asio = boost::asio;

stop_on_signal::stop_on_signal(asio::io_context& io, log::logger& logger, stoppable parts)
    : io_(io), logger_(logger), parts_(parts), signals_(io, SIGINT, SIGTERM) {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) begin(sig);
  });
}

void stop_on_signal::begin(int sig) {
  logger_.notice("stopping", {{"signal", sig}});
  parts_.heartbeat.systemd().stopping();
  parts_.heartbeat.cancel();
  parts_.probe.cancel();
  parts_.reload.stop();
  if (parts_.admin) parts_.admin->stop();
  asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        co_await parts_.http.stop();
        if (parts_.admin) co_await parts_.admin->join();
        parts_.svc.stop([this] { asio::co_spawn(io_, release_then_finish(), asio::detached); });
      },
      asio::detached);
}

asio::awaitable<void> stop_on_signal::release_then_finish() {
  // The binds are down: this node's leases go, so that another node takes them at once
  // instead of a lease period later.
  co_await parts_.leases.stop();
  // Every completion the store owes is posted now: a request still inside a service call (past
  // http.stop()'s bound) resumes, finds itself cancelled and ends, while the service is still
  // there for it.
  parts_.store.shutdown();
  co_await finish();
}

asio::awaitable<void> stop_on_signal::finish() {
  co_await parts_.http.join();
  done_ = true;
  logger_.notice("stopped");
  io_.stop();
}

void finish_pending(asio::io_context& io, std::chrono::milliseconds limit) {
  io.restart();
  io.run_for(limit);
}

}  // namespace otpd::app
