// The notify protocol against a socket the test owns, as systemd's would be: each message is
// read back as the exact datagram.
#include "daemon/notify/sd_notify.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

namespace otpd::notify {
namespace {

using namespace std::chrono_literals;
namespace errc = boost::system::errc;

// An environment variable set for one test and restored after it.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~scoped_env() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// The receiving end: a bound AF_UNIX datagram socket, on a path in a fresh temporary directory
// or under an abstract name. `address` is what NOTIFY_SOCKET would say.
class receiver {
 public:
  static receiver on_path() {
    receiver r;
    std::string dir_template = (std::filesystem::temp_directory_path() / "otpd-notify-XXXXXX");
    if (::mkdtemp(dir_template.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
      return r;
    }
    r.dir_ = dir_template;
    r.address = r.dir_ + "/notify";
    r.bind_to(r.address, false);
    return r;
  }

  static receiver abstract() {
    static std::atomic<int> counter{0};
    receiver r;
    r.address = "@otpd-notify-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    r.bind_to(r.address.substr(1), true);
    return r;
  }

  receiver(receiver&& o) noexcept
      : address(std::move(o.address)), dir_(std::move(o.dir_)), fd_(std::exchange(o.fd_, -1)) {
    o.dir_.clear();
  }
  receiver& operator=(receiver&&) = delete;
  ~receiver() {
    if (fd_ >= 0) ::close(fd_);
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // The next datagram, waiting at most `deadline`; nullopt if none came.
  std::optional<std::string> next(std::chrono::milliseconds deadline = 2s) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(deadline.count())) != 1) return std::nullopt;
    std::string buf(max_message_size + 16, '\0');
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    buf.resize(static_cast<std::size_t>(n));
    return buf;
  }

  // Whether a datagram is waiting (no wait).
  bool pending() const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }

  std::string address;

 private:
  receiver() = default;

  void bind_to(const std::string& name, bool abstract) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0) << std::strerror(errno);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::size_t offset = abstract ? 1 : 0;
    ASSERT_LT(name.size() + offset, sizeof(addr.sun_path));
    std::memcpy(addr.sun_path + offset, name.data(), name.size());
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + offset + name.size() +
                                            (abstract ? 0 : 1));
    ASSERT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), len), 0)
        << std::strerror(errno);
  }

  std::string dir_;
  int fd_ = -1;
};

std::chrono::microseconds monotonic_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::nanoseconds(ts.tv_nsec));
}

// Every message of the protocol, through NOTIFY_SOCKET as systemd sets it.
void expect_each_message(const receiver& r) {
  scoped_env env("NOTIFY_SOCKET", r.address.c_str());
  const notifier n = notifier::from_environment();
  ASSERT_TRUE(n.enabled());
  EXPECT_EQ(n.address(), r.address);
  EXPECT_FALSE(n.setup_error());

  EXPECT_FALSE(n.ready());
  EXPECT_EQ(r.next(), "READY=1");
  EXPECT_FALSE(n.status("3/4 binds up, 1 trunk"));
  EXPECT_EQ(r.next(), "STATUS=3/4 binds up, 1 trunk");
  EXPECT_FALSE(n.watchdog());
  EXPECT_EQ(r.next(), "WATCHDOG=1");
  EXPECT_FALSE(n.stopping());
  EXPECT_EQ(r.next(), "STOPPING=1");
  EXPECT_FALSE(n.reloading(1234567890us));
  EXPECT_EQ(r.next(), "RELOADING=1\nMONOTONIC_USEC=1234567890");
  EXPECT_FALSE(n.send("EXTEND_TIMEOUT_USEC=30000000"));
  EXPECT_EQ(r.next(), "EXTEND_TIMEOUT_USEC=30000000");
  EXPECT_FALSE(r.pending());
}

TEST(notifier, sends_each_message_to_a_path_socket) {
  receiver r = receiver::on_path();
  expect_each_message(r);
}

TEST(notifier, sends_each_message_to_an_abstract_socket) {
  receiver r = receiver::abstract();
  expect_each_message(r);
}

TEST(notifier, reloading_carries_the_monotonic_clock) {
  receiver r = receiver::on_path();
  notifier n(r.address);
  const auto before = monotonic_now();
  ASSERT_FALSE(n.reloading());
  const auto after = monotonic_now();
  auto got = r.next();
  ASSERT_TRUE(got);
  constexpr std::string_view head = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_EQ(got->substr(0, head.size()), head);
  const std::string digits = got->substr(head.size());
  ASSERT_FALSE(digits.empty());
  ASSERT_EQ(digits.find_first_not_of("0123456789"), std::string::npos) << digits;
  const auto usec = std::chrono::microseconds(std::stoll(digits));
  EXPECT_LE(before, usec);
  EXPECT_LE(usec, after);
}

TEST(notifier, status_stays_one_line_and_fits_one_datagram) {
  receiver r = receiver::on_path();
  notifier n(r.address);
  ASSERT_FALSE(n.status("binds: 2\nREADY=1"));
  EXPECT_EQ(r.next(), "STATUS=binds: 2 READY=1");

  const std::string longer(max_message_size * 2, 'x');
  ASSERT_FALSE(n.status(longer));
  const auto got = r.next();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), max_message_size);
  EXPECT_EQ(*got, "STATUS=" + std::string(max_message_size - 7, 'x'));
}

TEST(notifier, refuses_empty_and_oversized_states) {
  receiver r = receiver::on_path();
  notifier n(r.address);
  EXPECT_EQ(n.send(""), errc::invalid_argument);
  EXPECT_EQ(n.send(std::string(max_message_size + 1, 'x')), errc::message_size);
  const std::string largest = "X=" + std::string(max_message_size - 2, 'y');
  EXPECT_FALSE(n.send(largest));
  EXPECT_EQ(r.next(), largest);
  EXPECT_FALSE(r.pending());
}

TEST(notifier, without_notify_socket_every_send_is_a_no_op) {
  scoped_env env("NOTIFY_SOCKET", nullptr);
  const notifier n = notifier::from_environment();
  EXPECT_FALSE(n.enabled());
  EXPECT_FALSE(n.setup_error());
  EXPECT_FALSE(n.ready());
  EXPECT_FALSE(n.status("x"));
  EXPECT_FALSE(n.watchdog());
  EXPECT_FALSE(n.stopping());
  EXPECT_FALSE(n.reloading());
  EXPECT_FALSE(n.send("READY=1"));
}

TEST(notifier, an_empty_notify_socket_is_absent) {
  scoped_env env("NOTIFY_SOCKET", "");
  const notifier n = notifier::from_environment();
  EXPECT_FALSE(n.enabled());
  EXPECT_FALSE(n.ready());
  EXPECT_FALSE(notifier().ready());
}

TEST(notifier, a_bad_address_is_reported_by_sends_not_thrown) {
  {
    notifier n("relative/path");
    EXPECT_TRUE(n.enabled());
    EXPECT_EQ(n.setup_error(), errc::invalid_argument);
    EXPECT_EQ(n.ready(), errc::invalid_argument);
  }
  EXPECT_EQ(notifier("@").ready(), errc::invalid_argument);
  EXPECT_EQ(notifier("/" + std::string(sizeof(sockaddr_un::sun_path), 'a')).ready(),
            errc::filename_too_long);
  EXPECT_EQ(notifier("@" + std::string(sizeof(sockaddr_un::sun_path), 'a')).ready(),
            errc::filename_too_long);
  // The longest of each still fits sockaddr_un.
  EXPECT_FALSE(notifier("/" + std::string(sizeof(sockaddr_un::sun_path) - 2, 'a')).setup_error());
  EXPECT_FALSE(notifier("@" + std::string(sizeof(sockaddr_un::sun_path) - 1, 'a')).setup_error());
}

TEST(notifier, nobody_listening_is_an_error_code) {
  std::string path;
  {
    receiver r = receiver::on_path();
    path = r.address;
  }  // socket closed and its directory removed
  notifier n(path);
  EXPECT_FALSE(n.setup_error());
  const auto ec = n.ready();
  EXPECT_TRUE(ec == errc::no_such_file_or_directory || ec == errc::connection_refused)
      << ec.message();
}

TEST(notifier, moves_the_socket) {
  receiver r = receiver::abstract();
  notifier a(r.address);
  notifier b(std::move(a));
  EXPECT_TRUE(b.enabled());
  EXPECT_FALSE(b.ready());
  EXPECT_EQ(r.next(), "READY=1");
  notifier c;
  c = std::move(b);
  EXPECT_FALSE(c.watchdog());
  EXPECT_EQ(r.next(), "WATCHDOG=1");
}

// WATCHDOG_USEC / WATCHDOG_PID, as systemd sets them with WatchdogSec=.

TEST(watchdog_interval, is_half_of_watchdog_usec) {
  EXPECT_EQ(watchdog_interval("30000000", std::nullopt, 42), 15s);
  EXPECT_EQ(watchdog_interval("30000001", std::nullopt, 42), 15000000us);
  EXPECT_EQ(watchdog_interval("1", std::nullopt, 42), 1us);
}

TEST(watchdog_interval, needs_a_matching_watchdog_pid) {
  EXPECT_EQ(watchdog_interval("30000000", "42", 42), 15s);
  EXPECT_EQ(watchdog_interval("30000000", "43", 42), std::nullopt);
  EXPECT_EQ(watchdog_interval("30000000", "", 42), std::nullopt);
  EXPECT_EQ(watchdog_interval("30000000", "0", 42), std::nullopt);
  EXPECT_EQ(watchdog_interval("30000000", "42x", 42), std::nullopt);
}

TEST(watchdog_interval, off_when_absent_zero_infinite_or_malformed) {
  EXPECT_EQ(watchdog_interval(std::nullopt, std::nullopt, 42), std::nullopt);
  EXPECT_EQ(watchdog_interval(std::nullopt, "42", 42), std::nullopt);
  for (const char* bad : {"", "0", "-30000000", "+30000000", " 30000000", "30000000 ", "30s",
                          "0x1c9c380", "18446744073709551615", "18446744073709551616"}) {
    EXPECT_EQ(watchdog_interval(bad, std::nullopt, 42), std::nullopt) << '"' << bad << '"';
  }
}

TEST(watchdog_interval, reads_the_environment) {
  const std::string self = std::to_string(::getpid());
  const std::string other = std::to_string(::getpid() + 1);
  {
    scoped_env usec("WATCHDOG_USEC", "30000000");
    scoped_env pid("WATCHDOG_PID", nullptr);
    EXPECT_EQ(watchdog_interval(), 15s);
  }
  {
    scoped_env usec("WATCHDOG_USEC", "30000000");
    scoped_env pid("WATCHDOG_PID", self.c_str());
    EXPECT_EQ(watchdog_interval(), 15s);
  }
  {
    scoped_env usec("WATCHDOG_USEC", "30000000");
    scoped_env pid("WATCHDOG_PID", other.c_str());
    EXPECT_EQ(watchdog_interval(), std::nullopt);
  }
  {
    scoped_env usec("WATCHDOG_USEC", nullptr);
    scoped_env pid("WATCHDOG_PID", self.c_str());
    EXPECT_EQ(watchdog_interval(), std::nullopt);
  }
}

}  // namespace
}  // namespace otpd::notify
