#include "daemon/notify/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace otpd::notify {
namespace {

error_code from_errno(int e) noexcept { return {e, boost::system::system_category()}; }

error_code make_error(boost::system::errc::errc_t e) noexcept {
  return boost::system::errc::make_error_code(e);
}

std::optional<std::string_view> get_env(const char* name) noexcept {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string_view(v);
}

// A non-negative decimal number and nothing else (no sign, no spaces), as libsystemd's
// safe_atou64 accepts for WATCHDOG_USEC.
std::optional<std::uint64_t> parse_u64(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// A message built on the stack (max_message_size bytes): no allocation on the send path.
class message {
 public:
  // Appends what fits; false when `s` had to be cut.
  bool append(std::string_view s) noexcept {
    std::size_t n = std::min(s.size(), buf_.size() - size_);
    std::memcpy(buf_.data() + size_, s.data(), n);
    size_ += n;
    return n == s.size();
  }
  std::string_view view() const noexcept { return {buf_.data(), size_}; }
  char* begin() noexcept { return buf_.data(); }

 private:
  std::array<char, max_message_size> buf_;
  std::size_t size_ = 0;
};

}  // namespace

notifier notifier::from_environment() noexcept {
  return notifier(get_env("NOTIFY_SOCKET").value_or(std::string_view()));
}

notifier::notifier(std::string_view address) noexcept {
  if (address.empty()) return;
  try {
    setup_error_ = open(address);
  } catch (const std::bad_alloc&) {
    setup_error_ = make_error(boost::system::errc::not_enough_memory);
  }
}

error_code notifier::open(std::string_view address) {
  address_ = address;
  // sd_notify(3): "/..." is a file system socket, "@..." an abstract one (Linux unix(7): the
  // name follows a NUL byte in sun_path and its length is the address length).
  constexpr std::size_t capacity = sizeof(sockaddr_un::sun_path);
  if (address.front() == '/') {
    // unix(7): a path is NUL-terminated within sun_path.
    if (address.size() >= capacity) return make_error(boost::system::errc::filename_too_long);
    sun_path_ = address;
  } else if (address.front() == '@' && address.size() > 1) {
    if (address.size() > capacity) return make_error(boost::system::errc::filename_too_long);
    sun_path_.assign(1, '\0');
    sun_path_.append(address.substr(1));
  } else {
    return make_error(boost::system::errc::invalid_argument);
  }
  // Non-blocking: a notification never stalls the I/O loop; close-on-exec: no child inherits it.
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return from_errno(errno);
  return {};
}

notifier::notifier(notifier&& other) noexcept
    : address_(std::move(other.address_)),
      sun_path_(std::move(other.sun_path_)),
      fd_(std::exchange(other.fd_, -1)),
      setup_error_(std::exchange(other.setup_error_, error_code())) {
  other.address_.clear();
  other.sun_path_.clear();
}

notifier& notifier::operator=(notifier&& other) noexcept {
  if (this != &other) {
    close();
    address_ = std::move(other.address_);
    sun_path_ = std::move(other.sun_path_);
    fd_ = std::exchange(other.fd_, -1);
    setup_error_ = std::exchange(other.setup_error_, error_code());
    other.address_.clear();
    other.sun_path_.clear();
  }
  return *this;
}

notifier::~notifier() { close(); }

void notifier::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

error_code notifier::send(std::string_view state) const noexcept {
  if (!enabled()) return {};
  if (setup_error_) return setup_error_;
  if (state.empty()) return make_error(boost::system::errc::invalid_argument);
  if (state.size() > max_message_size) return make_error(boost::system::errc::message_size);

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, sun_path_.data(), sun_path_.size());
  // A path counts its terminating NUL (zeroed above); an abstract name is exactly its bytes.
  const bool abstract = sun_path_.front() == '\0';
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + sun_path_.size() +
                                          (abstract ? 0 : 1));

  for (;;) {
    // One datagram: it arrives whole or not at all.
    ssize_t n = ::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL,
                         reinterpret_cast<const sockaddr*>(&addr), len);
    if (n >= 0) return {};
    if (errno != EINTR) return from_errno(errno);
  }
}

error_code notifier::ready() const noexcept { return send("READY=1"); }

error_code notifier::watchdog() const noexcept { return send("WATCHDOG=1"); }

error_code notifier::stopping() const noexcept { return send("STOPPING=1"); }

error_code notifier::status(std::string_view text) const noexcept {
  message m;
  m.append("STATUS=");
  const std::size_t start = m.view().size();
  m.append(text);  // cut to fit
  // One line: a newline would begin another assignment that otpd did not mean to send.
  std::replace(m.begin() + start, m.begin() + m.view().size(), '\n', ' ');
  return send(m.view());
}

error_code notifier::reloading(std::chrono::microseconds monotonic_now) const noexcept {
  std::array<char, 64> buf;
  constexpr std::string_view head = "RELOADING=1\nMONOTONIC_USEC=";
  std::memcpy(buf.data(), head.data(), head.size());
  auto [end, ec] = std::to_chars(buf.data() + head.size(), buf.data() + buf.size(),
                                 static_cast<std::uint64_t>(monotonic_now.count()));
  if (ec != std::errc()) return make_error(boost::system::errc::value_too_large);
  return send(std::string_view(buf.data(), static_cast<std::size_t>(end - buf.data())));
}

error_code notifier::reloading() const noexcept {
  // systemd compares MONOTONIC_USEC with its own CLOCK_MONOTONIC reading of the reload request.
  timespec ts{};
  if (::clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return from_errno(errno);
  return reloading(
      std::chrono::seconds(ts.tv_sec) +
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::nanoseconds(ts.tv_nsec)));
}

std::optional<std::chrono::microseconds> watchdog_interval(
    std::optional<std::string_view> watchdog_usec, std::optional<std::string_view> watchdog_pid,
    pid_t self) noexcept {
  if (!watchdog_usec) return std::nullopt;
  auto usec = parse_u64(*watchdog_usec);
  // 0 means off; UINT64_MAX is systemd's "infinity".
  if (!usec || *usec == 0 || *usec == UINT64_MAX) return std::nullopt;
  if (watchdog_pid) {
    auto pid = parse_u64(*watchdog_pid);
    if (!pid || *pid == 0 || *pid != static_cast<std::uint64_t>(self)) return std::nullopt;
  }
  // systemd's advice (sd_watchdog_enabled(3)): ping at half the timeout.
  const auto half =
      static_cast<std::chrono::microseconds::rep>(std::max<std::uint64_t>(*usec / 2, 1));
  return std::chrono::microseconds(half);
}

std::optional<std::chrono::microseconds> watchdog_interval() noexcept {
  return watchdog_interval(get_env("WATCHDOG_USEC"), get_env("WATCHDOG_PID"), ::getpid());
}

}  // namespace otpd::notify
