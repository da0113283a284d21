// otpd under systemd's notify protocol: the test plays systemd, with a datagram socket of its
// own as NOTIFY_SOCKET and a watchdog period, and reads what otpd sends.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>

#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

// A bound AF_UNIX datagram socket: what systemd listens on.
class notify_socket {
 public:
  explicit notify_socket(const std::filesystem::path& path) : path_(path.string()) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path_.c_str());
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      throw std::runtime_error("notify socket: " + std::string(std::strerror(errno)));
    }
  }
  ~notify_socket() { ::close(fd_); }
  const std::string& path() const { return path_; }

  // The next datagram that starts with `prefix` within `timeout`; nullopt at the deadline.
  std::optional<std::string> next(std::string_view prefix, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      std::string d(buf, static_cast<std::size_t>(n));
      seen.push_back(d);
      if (d.starts_with(prefix)) return d;
    }
  }
  std::vector<std::string> seen;

 private:
  std::string path_;
  int fd_ = -1;
};

TEST(e2e_systemd, ready_status_watchdog_then_stopping) {
  temp_dir dir;
  notify_socket sd(dir.path() / "notify");
  smsc_process smsc(smsc_flags());
  otpd_options opts;
  opts.carriers.push_back(vietnam_carrier(smsc.port()));
  // A 400 ms watchdog: otpd pings every 200 ms.
  opts.environment = {"NOTIFY_SOCKET=" + sd.path(), "WATCHDOG_USEC=400000"};
  temp_dir state;
  otpd_process o(opts, state.path());

  auto ready = sd.next("READY=1", 20s);
  ASSERT_TRUE(ready) << o.output();
  // By READY=1 the API answers.
  EXPECT_EQ(o.get("/healthz", false).status, 200);
  auto status = sd.next("STATUS=", 5s);
  ASSERT_TRUE(status);
  EXPECT_NE(status->find("SMPP binds bound"), std::string::npos) << *status;
  // Three pings in a row: the I/O loop keeps turning.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(sd.next("WATCHDOG=1", 5s)) << "ping " << i;
  }
  ASSERT_EQ(::kill(o.pid(), SIGTERM), 0);
  EXPECT_TRUE(sd.next("STOPPING=1", 10s));
  EXPECT_EQ(o.stop(), 0);
}

}  // namespace
}  // namespace otpd::test::e2e
