// SMS waiting for a carrier to have a bound transmitter again (a reconnect), each for a
// bounded time. A waiter wakes when a bind of one of its carriers comes up (notify), when its
// deadline passes, or when the gateway stops; it then checks for itself whether it can send.
// Runs on one executor; not thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "smpp/net/session_fsm.hpp"

namespace otpd::service {

class bind_waiters {
 public:
  explicit bind_waiters(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}
  bind_waiters(const bind_waiters&) = delete;
  bind_waiters& operator=(const bind_waiters&) = delete;

  // Returns once `can_send()` holds (true), or at `deadline` or stop() (false). Counted as
  // waiting for each of `carriers` meanwhile. Never waits past `deadline`.
  boost::asio::awaitable<bool> wait(std::vector<std::string> carriers, smpp::time_point deadline,
                                    std::function<bool()> can_send);
  // A bind of `carrier` came up: its waiters look again.
  void notify(std::string_view carrier);
  // Every waiter returns false, now and from now on.
  void stop();

  // How many wait for `carrier` now.
  std::size_t waiting(std::string_view carrier) const;

 private:
  struct waiter {
    std::vector<std::string> carriers;
    boost::asio::steady_timer* timer;
  };
  boost::asio::any_io_executor ex_;
  std::list<waiter> waiters_;
  std::map<std::string, std::size_t, std::less<>> counts_;
  bool stopped_ = false;
};

}  // namespace otpd::service
