#include "tests/support/raw_sip_peer.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>

#include "voice/sip/message.hpp"

namespace otpd::test {
namespace {

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;  // the other side went away: nothing more to say to it
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

raw_sip_peer::raw_sip_peer(transport t, responder respond)
    : transport_(t), respond_(std::move(respond)) {
  listen_fd_ =
      ::socket(AF_INET, (t == transport::udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) fail("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      (t == transport::tcp && ::listen(listen_fd_, 16) != 0) ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
      ::pipe2(wake_, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(listen_fd_);
    errno = e;
    fail("raw_sip_peer: bind/listen");
  }
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { run(); });
}

raw_sip_peer::~raw_sip_peer() {
  const char x = 0;
  (void)!::write(wake_[1], &x, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

std::vector<std::string> raw_sip_peer::received() const {
  std::lock_guard lock(mu_);
  return received_;
}

bool raw_sip_peer::wait_for(std::string_view prefix, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] {
    return std::any_of(received_.begin(), received_.end(),
                       [&](const std::string& m) { return m.starts_with(prefix); });
  });
}

void raw_sip_peer::handle(int fd, const std::string& message, const void* addr, unsigned addr_len) {
  {
    std::lock_guard lock(mu_);
    received_.push_back(message);
  }
  changed_.notify_all();
  for (const std::string& reply : respond_(message)) {
    if (transport_ == transport::udp) {
      ::sendto(fd, reply.data(), reply.size(), 0, static_cast<const sockaddr*>(addr), addr_len);
    } else {
      send_all(fd, reply);
    }
  }
}

void raw_sip_peer::run() {
  std::vector<int> connections;
  std::array<char, 65536> buf;
  for (;;) {
    std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const int c : connections) fds.push_back({c, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) break;
    if (fds[1].revents & POLLIN) {
      if (transport_ == transport::udp) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t n = ::recvfrom(listen_fd_, buf.data(), buf.size(), 0,
                                     reinterpret_cast<sockaddr*>(&from), &len);
        if (n >= 0) {
          handle(listen_fd_, std::string(buf.data(), static_cast<std::size_t>(n)), &from, len);
        }
      } else {
        const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) connections.push_back(c);
      }
    }
    for (std::size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      const ssize_t n = ::recv(fds[i].fd, buf.data(), buf.size(), 0);
      if (n <= 0) {
        ::close(fds[i].fd);
        connections.erase(std::find(connections.begin(), connections.end(), fds[i].fd));
        continue;
      }
      handle(fds[i].fd, std::string(buf.data(), static_cast<std::size_t>(n)), nullptr, 0);
    }
  }
  for (const int c : connections) ::close(c);
}

std::string sip_response_to(std::string_view request, int code, std::string_view reason,
                            std::string_view to_tag, std::string_view extra_headers,
                            std::string_view body) {
  // The request is what our own caller sent: voice/sip's parser reads it.
  sip::message m;
  (void)sip::parse(request, m);
  const auto header = [&m](std::string_view name) {
    const std::string* v = m.find(name);
    return v ? *v : std::string();
  };
  std::string to = header("To");
  if (!to_tag.empty() && to.find(";tag=") == std::string::npos) {
    to += ";tag=";
    to += to_tag;
  }
  std::string r = "SIP/2.0 " + std::to_string(code) + " " + std::string(reason) + "\r\n";
  r += "Via: " + header("Via") + "\r\n";
  r += "From: " + header("From") + "\r\n";
  r += "To: " + to + "\r\n";
  r += "Call-ID: " + header("Call-ID") + "\r\n";
  r += "CSeq: " + header("CSeq") + "\r\n";
  r += extra_headers;
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  r += body;
  return r;
}

}  // namespace otpd::test
