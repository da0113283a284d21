// A deadline on one connection's socket, for the HTTP server's reads and writes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace otpd::http::detail {

// Cancels a socket's pending operations when a deadline passes; expired() tells a timeout from
// another cancellation. The state is shared with the timer's handler so that a handler that
// runs after the connection is gone touches nothing but it. Everything runs on the
// connection's strand.
class watchdog {
  using strand_type = boost::asio::strand<boost::asio::any_io_executor>;
  using clock_type = std::chrono::steady_clock;
  using error_code = boost::system::error_code;
  using tcp = boost::asio::ip::tcp;

 public:
  watchdog(const strand_type& ex, tcp::socket& sock) : state_(std::make_shared<state>(ex, sock)) {}
  ~watchdog() {
    state_->sock = nullptr;
    state_->timer.cancel();
  }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

  void arm(clock_type::duration d) {
    state_->expired = false;
    const std::uint64_t gen = ++state_->generation;
    state_->timer.expires_after(d);
    state_->timer.async_wait([st = state_, gen](error_code ec) {
      if (ec || gen != st->generation || st->sock == nullptr) return;
      st->expired = true;
      error_code ignored;
      st->sock->cancel(ignored);
    });
  }
  void disarm() {
    ++state_->generation;
    state_->timer.cancel();
  }
  bool expired() const noexcept { return state_->expired; }

 private:
  struct state {
    state(const strand_type& ex, tcp::socket& s) : timer(ex), sock(&s) {}
    boost::asio::steady_timer timer;
    tcp::socket* sock;
    std::uint64_t generation = 0;
    bool expired = false;
  };
  std::shared_ptr<state> state_;
};

}  // namespace otpd::http::detail
