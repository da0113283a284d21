#include "daemon/app/store_probe.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace otpd::app {
namespace asio = boost::asio;

store_probe::store_probe(asio::any_io_executor ex, service::store_executor& store,
                         log::logger& logger, std::chrono::milliseconds period)
    : store_(store), logger_(logger), period_(period), timer_(ex) {}

void store_probe::cancel() {
  cancelled_ = true;
  timer_.cancel();
}

asio::awaitable<void> store_probe::run() {
  bool was_down = false;
  while (!cancelled_) {
    timer_.expires_after(period_);
    auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || cancelled_) co_return;
    if (!store_.healthy()) {
      if (!was_down) logger_.error("store_down", {{"error", store_.last_error()}});
      was_down = true;
      // Its result is the store's health: healthy() is true again once it succeeds.
      co_await store_.probe();
    }
    if (was_down && store_.healthy()) {
      logger_.notice("store_up");
      was_down = false;
    }
  }
}

}  // namespace otpd::app
