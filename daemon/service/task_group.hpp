// The coroutines an object starts and owns: a count of the live ones and a cancellation signal
// each. The owner joins the group before it goes (the join cancels what is still pending and
// resumes once every task has ended), so that no task outlives the object whose `this` it holds,
// nor runs after io_context::stop() leaves its frame to ~io_context.
//
// One thread: spawn, cancel, join and the tasks all run on the group's executor (an
// io_context with one thread, as the daemon runs).
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/exception_text.hpp"

namespace otpd::service {

class task_group {
 public:
  // Called with what a task threw (a bug: its work did not finish). Not called for the
  // operation_aborted a task cancelled by the group ends with.
  using error_handler = std::function<void(std::exception_ptr)>;

  task_group(boost::asio::any_io_executor ex, error_handler on_error);
  // join() first. A group that goes with tasks live leaves them be: their end touches only the
  // group's shared state, but what their `this` points to is theirs to keep alive.
  ~task_group();
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  // Starts `task` on the group's executor; called from that executor, the task runs at once,
  // inline, up to its first suspension (co_spawn dispatches). Once join() has begun the group is
  // closed: the task is dropped without running and spawn answers false.
  bool spawn(boost::asio::awaitable<void> task);
  // Asks every live task to stop: the operation each one awaits is cancelled (terminal), and
  // co_await throws operation_aborted in a cancelled task from then on.
  void cancel();
  // Closes the group, cancels the tasks still live and resumes once none is left.
  boost::asio::awaitable<void> join();

  std::size_t size() const noexcept { return state_->live.size(); }
  bool closed() const noexcept { return state_->closed; }

 private:
  // Shared with each task's completion handler, which may run after a group destroyed early.
  struct state {
    explicit state(boost::asio::any_io_executor ex, error_handler h)
        : on_error(std::move(h)), idle(std::move(ex)) {}
    void ended(std::list<boost::asio::cancellation_signal>::iterator it, std::exception_ptr e);
    void cancel();

    error_handler on_error;
    std::list<boost::asio::cancellation_signal> live;  // a list: a signal stays where its slot
                                                       // points until its task ends
    boost::asio::steady_timer idle;                    // join(): cancelled when the last task ends
    bool closed = false;
    bool cancelled = false;
  };

  boost::asio::any_io_executor ex_;
  std::shared_ptr<state> state_;
};

}  // namespace otpd::service
