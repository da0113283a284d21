#include "daemon/sms/bind_waiters.hpp"

#include <algorithm>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace otpd::service {
namespace asio = boost::asio;

boost::asio::awaitable<bool> bind_waiters::wait(std::vector<std::string> carriers,
                                                smpp::time_point deadline,
                                                std::function<bool()> can_send) {
  if (stopped_) co_return false;
  if (can_send()) co_return true;
  asio::steady_timer timer(ex_);
  for (const std::string& c : carriers) ++counts_[c];
  const auto it = waiters_.insert(waiters_.end(), waiter{std::move(carriers), &timer});
  // Bounded by the deadline: each pass waits until it, or until a bind came up or stop().
  while (!stopped_ && !can_send() && smpp::clock_type::now() < deadline) {
    timer.expires_at(deadline);
    std::ignore = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  const bool ok = !stopped_ && can_send();
  for (const std::string& c : it->carriers) {
    auto n = counts_.find(c);
    if (n != counts_.end() && --n->second == 0) counts_.erase(n);
  }
  waiters_.erase(it);
  co_return ok;
}

void bind_waiters::notify(std::string_view carrier) {
  for (waiter& w : waiters_) {
    if (std::find(w.carriers.begin(), w.carriers.end(), carrier) != w.carriers.end()) {
      w.timer->cancel();
    }
  }
}

void bind_waiters::stop() {
  stopped_ = true;
  for (waiter& w : waiters_) w.timer->cancel();
}

std::size_t bind_waiters::waiting(std::string_view carrier) const {
  auto it = counts_.find(carrier);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace otpd::service
