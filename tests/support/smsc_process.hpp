// The test SMSC (tests/peers/smsc/smsc.js, node-smpp) as a child process: its JSON events are
// collected as they arrive and can be waited for with a deadline; commands go to its stdin.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/child_process.hpp"

namespace otpd::test {

class smsc_process {
 public:
  using clock = std::chrono::steady_clock;
  using predicate = std::function<bool(const boost::json::object&)>;

  // Starts `node smsc.js <flags>` (flags as in `node smsc.js --help`) and waits for its
  // "listening" event until start_timeout; throws std::runtime_error when it does not come.
  explicit smsc_process(std::vector<std::string> flags = {},
                        std::chrono::milliseconds start_timeout = std::chrono::seconds(20));
  ~smsc_process();

  smsc_process(const smsc_process&) = delete;
  smsc_process& operator=(const smsc_process&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  pid_t pid() const noexcept { return child_->pid(); }

  // The first event from index `from` on (0: all received so far, then future ones) for which
  // pred is true; nullopt when the deadline passes or the SMSC has exited without one. pred
  // sees each event once, in order, and runs without the harness's lock held (it may call
  // count(), events(), ...).
  std::optional<boost::json::object> wait_for(const predicate& pred, clock::time_point deadline,
                                              std::size_t from = 0);
  std::optional<boost::json::object> wait_for(const predicate& pred,
                                              std::chrono::milliseconds timeout,
                                              std::size_t from = 0);
  // Same, for the first event named `event` (e.g. "submit").
  std::optional<boost::json::object> wait_for_event(std::string_view event,
                                                    std::chrono::milliseconds timeout,
                                                    std::size_t from = 0);

  // events(), size() and count() cover the events read so far. The SMSC writes an event before
  // the PDU it reports on (a "submit" before its submit_sm_resp), but the event can still be in
  // the pipe when the PDU has arrived: call sync() first to count everything up to now.

  // A copy of every event so far, in order.
  std::vector<boost::json::object> events() const;
  // How many events have arrived: a mark to pass as `from` to wait only for later ones.
  std::size_t size() const;
  // How many events named `event` have arrived.
  std::size_t count(std::string_view event) const;
  // Returns once every event the SMSC emitted before this call has been read (a "ping"
  // command: its ack comes after them). Throws like command().
  void sync(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Sends a command ({"cmd":"throttle","every":3}, ...) and waits for its ack. An "id" is
  // added to match the ack. Returns the ack; throws std::runtime_error when the SMSC refuses
  // the command or does not answer before the timeout.
  boost::json::object command(boost::json::object cmd,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // SIGTERM, then SIGKILL after a bounded wait; returns the wait status. Also done by the
  // destructor.
  int stop();

  // Path of smsc.js in the source tree.
  static std::string script_path();

 private:
  void on_line(std::string_view line);

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  // A deque: appending keeps references to earlier events valid, so wait_for can run a
  // predicate on one without holding the lock.
  std::deque<boost::json::object> events_;
  std::map<std::string, std::size_t, std::less<>> counts_;
  bool eof_ = false;
  std::uint16_t port_ = 0;
  std::int64_t next_command_id_ = 1;
  std::unique_ptr<child_process> child_;
};

// A predicate for smsc_process::wait_for, true at the n-th event named `name` (it sees each
// event once, in order): wait_for(nth_event("submit", 3), 10s).
smsc_process::predicate nth_event(std::string name, std::size_t n);

// Predicates for wait_for.
smsc_process::predicate event_is(std::string event);
// The event is named `event` and each of `fields` is present with an equal value.
smsc_process::predicate event_with(std::string event, boost::json::object fields);

}  // namespace otpd::test
