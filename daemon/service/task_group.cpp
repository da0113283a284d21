#include "daemon/service/task_group.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace otpd::service {
namespace asio = boost::asio;

task_group::task_group(asio::any_io_executor ex, error_handler on_error)
    : ex_(ex), state_(std::make_shared<state>(ex, std::move(on_error))) {}

task_group::~task_group() { state_->closed = true; }

bool task_group::spawn(asio::awaitable<void> task) {
  if (state_->closed) return false;
  const auto it = state_->live.emplace(state_->live.end());
  asio::co_spawn(ex_, std::move(task),
                 asio::bind_cancellation_slot(
                     it->slot(), [s = state_, it](std::exception_ptr e) { s->ended(it, e); }));
  return true;
}

void task_group::cancel() { state_->cancel(); }

void task_group::state::cancel() {
  cancelled = true;
  // A task that ends while its signal is emitted removes only itself: step past it first.
  for (auto it = live.begin(); it != live.end();) {
    auto& signal = *it++;
    signal.emit(asio::cancellation_type::terminal);
  }
}

void task_group::state::ended(std::list<asio::cancellation_signal>::iterator it,
                              std::exception_ptr e) {
  live.erase(it);
  // A cancelled task ends with operation_aborted at its next co_await: that is how it stops.
  if (e && !(cancelled && is_operation_aborted(e)) && on_error) on_error(e);
  if (live.empty() && closed) idle.cancel();
}

asio::awaitable<void> task_group::join() {
  const std::shared_ptr<state> s = state_;
  s->closed = true;
  s->cancel();
  while (!s->live.empty()) {
    s->idle.expires_at(asio::steady_timer::time_point::max());
    co_await s->idle.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace otpd::service
