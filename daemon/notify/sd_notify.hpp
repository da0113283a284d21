// The systemd notify protocol (sd_notify(3)), without libsystemd.
//
// Under Type=notify, systemd passes the address of a datagram socket in NOTIFY_SOCKET: a path
// ("/run/systemd/notify") or an abstract name ("@..."). The service sends it newline-separated
// assignments: "READY=1" once it serves, "STATUS=..." for `systemctl status`, "WATCHDOG=1" at
// least every WatchdogSec=, "STOPPING=1", "RELOADING=1". Without NOTIFY_SOCKET (started by
// hand, in tests) every call is a no-op that succeeds.
//
// Nothing here throws or blocks: the socket is non-blocking (a full queue on systemd's side is
// an error returned, not a stall of the I/O loop) and every failure is an error_code.
#pragma once

#include <sys/types.h>

#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace otpd::notify {

using error_code = boost::system::error_code;

// systemd reads a notification into a buffer of NOTIFY_BUFFER_MAX (PIPE_BUF) bytes and drops a
// longer one whole ("exceeded maximum size"): send() refuses it with errc::message_size, and
// status() shortens its text to fit.
inline constexpr std::size_t max_message_size = 4096;

// One AF_UNIX SOCK_DGRAM socket (SOCK_CLOEXEC, SOCK_NONBLOCK), opened by the constructor and
// kept for the life of the object. The object does not change after construction, so
// notifications may be sent from several threads at once (each is one sendto(2)).
class notifier {
 public:
  // Disabled: every send succeeds and does nothing.
  notifier() noexcept = default;

  // Reads NOTIFY_SOCKET; an absent or empty variable gives a disabled notifier. The variable
  // is left set (children do not inherit otpd's readiness duties: otpd starts none).
  static notifier from_environment() noexcept;

  // `address` as NOTIFY_SOCKET gives it: "/path", "@abstract", or "" (disabled). An address
  // that is neither, or too long for sockaddr_un, or a socket that cannot be created, makes
  // every send return that error (see setup_error()).
  explicit notifier(std::string_view address) noexcept;

  notifier(notifier&& other) noexcept;
  notifier& operator=(notifier&& other) noexcept;
  notifier(const notifier&) = delete;
  notifier& operator=(const notifier&) = delete;
  ~notifier();

  // Whether NOTIFY_SOCKET named a socket: false means every send is a no-op.
  bool enabled() const noexcept { return !address_.empty(); }
  // As given ("@..." for an abstract socket).
  const std::string& address() const noexcept { return address_; }
  // Why the socket is unusable (bad address, socket(2) failed), or success.
  error_code setup_error() const noexcept { return setup_error_; }

  // "READY=1": start-up is complete (systemd then runs units ordered after otpd).
  error_code ready() const noexcept;
  // "STATUS=<text>": one line for `systemctl status`. A newline in `text` becomes a space (it
  // would start another assignment); text beyond max_message_size is cut.
  error_code status(std::string_view text) const noexcept;
  // "WATCHDOG=1": the keep-alive ping; send it every watchdog_interval().
  error_code watchdog() const noexcept;
  // "STOPPING=1": shutdown has begun (systemd shows "deactivating").
  error_code stopping() const noexcept;
  // "RELOADING=1\nMONOTONIC_USEC=<now>": a reload has begun; send ready() when it is done.
  // systemd ≥ 253 matches the timestamp against the reload request; older ones ignore it.
  // This overload reads CLOCK_MONOTONIC.
  error_code reloading() const noexcept;
  // The same with the CLOCK_MONOTONIC reading passed in.
  error_code reloading(std::chrono::microseconds monotonic_now) const noexcept;

  // Any state string, e.g. "EXTEND_TIMEOUT_USEC=30000000" while a long drain runs. Empty or
  // longer than max_message_size: errc::invalid_argument / errc::message_size.
  error_code send(std::string_view state) const noexcept;

 private:
  error_code open(std::string_view address);  // may throw std::bad_alloc only
  void close() noexcept;

  std::string address_;
  // sockaddr_un::sun_path as sent: the path without its NUL, or NUL + name for an abstract
  // socket (whose name is not NUL-terminated: its length is part of the address).
  std::string sun_path_;
  int fd_ = -1;
  error_code setup_error_;
};

// The period at which to send WATCHDOG=1: half of WATCHDOG_USEC (systemd's advice, so that a
// late ping still arrives in time), or nullopt when the watchdog is off: WATCHDOG_USEC absent,
// not a positive decimal number, or WATCHDOG_PID set to a process other than this one (the
// watchdog is then another process's duty). As sd_watchdog_enabled(3).
std::optional<std::chrono::microseconds> watchdog_interval() noexcept;

// The same from given values (nullopt: the variable is not set) and process id.
std::optional<std::chrono::microseconds> watchdog_interval(
    std::optional<std::string_view> watchdog_usec, std::optional<std::string_view> watchdog_pid,
    pid_t self) noexcept;

}  // namespace otpd::notify
