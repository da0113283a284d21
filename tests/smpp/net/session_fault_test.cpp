// Faults a real SMSC does not produce on demand: garbage and truncated PDUs, wrong sequence
// numbers, a peer that never answers the bind, ESME_RALYBND. A scripted SMSC on plain POSIX
// sockets (127.0.0.1, port 0) plays them against the real session; every read has a deadline.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "smpp/net/session.hpp"
#include "smpp/proto/codec.hpp"
#include "smpp/proto/status.hpp"

namespace otpd::smpp {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class scripted_smsc {
 public:
  scripted_smsc() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listen_fd_, 8), 0);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~scripted_smsc() {
    for (int fd : conns_) ::close(fd);
    ::close(listen_fd_);
  }
  std::uint16_t port() const { return port_; }

  // The next connection, or -1 after the timeout.
  int accept(std::chrono::milliseconds timeout = 5s) {
    if (!wait_readable(listen_fd_, timeout)) return -1;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) conns_.push_back(fd);
    return fd;
  }

  // The next whole PDU from `fd`, or nullopt on timeout or close.
  std::optional<pdu> read(int fd, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string buf;
    auto fill = [&](std::size_t n) {
      while (buf.size() < n) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !wait_readable(fd, left)) return false;
        char tmp[4096];
        ssize_t r = ::recv(fd, tmp, std::min(sizeof tmp, n - buf.size()), 0);
        if (r <= 0) return false;
        buf.append(tmp, static_cast<std::size_t>(r));
      }
      return true;
    };
    if (!fill(4)) return std::nullopt;
    const std::uint32_t len = (std::uint32_t(std::uint8_t(buf[0])) << 24) |
                              (std::uint32_t(std::uint8_t(buf[1])) << 16) |
                              (std::uint32_t(std::uint8_t(buf[2])) << 8) | std::uint8_t(buf[3]);
    if (len < 16 || len > 65536 || !fill(len)) return std::nullopt;
    pdu p;
    EXPECT_FALSE(decode({reinterpret_cast<const std::uint8_t*>(buf.data()), buf.size()}, p));
    return p;
  }

  // True when the peer closed `fd` within the timeout.
  bool closed(int fd, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !wait_readable(fd, left)) return false;
      char tmp[4096];
      if (::recv(fd, tmp, sizeof tmp, 0) <= 0) return true;
    }
  }

  void write(int fd, std::string_view bytes) {
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  void write(int fd, const pdu& p) {
    std::string bytes;
    ASSERT_FALSE(encode(p, bytes));
    write(fd, bytes);
  }

  // Accepts a connection and completes its bind (transceiver).
  int accept_and_bind(std::uint32_t status = 0) {
    int fd = accept();
    EXPECT_GE(fd, 0);
    if (fd < 0) return fd;
    auto bind = read(fd);
    EXPECT_TRUE(bind && std::holds_alternative<bind_transceiver>(bind->body));
    if (!bind) return -1;
    write(fd, pdu{status, bind->sequence_number, bind_transceiver_resp{{"fake", {}}}});
    return fd;
  }

 private:
  static bool wait_readable(int fd, std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
  }

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<int> conns_;
};

// Records the session's reports; the io_context runs on its own thread.
class probe : public session_listener {
 public:
  void on_bound(session&) override {
    note([&] { ++bound_; });
  }
  void on_down(session&, error_code ec) override {
    note([&] { downs_.push_back(ec); });
  }
  void on_submit_done(session&, submit_result r) override {
    note([&] { done_.push_back(std::move(r)); });
  }
  void on_protocol_error(session&, const event::protocol_error& e) override {
    note([&] { protocol_errors_.push_back(e.ec); });
  }
  void on_stopped(session&) override {
    note([&] { stopped_ = true; });
  }

  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return pred(); });
  }

  std::mutex mu_;
  std::condition_variable cv_;
  int bound_ = 0;
  bool stopped_ = false;
  std::vector<error_code> downs_;
  std::vector<submit_result> done_;
  std::vector<error_code> protocol_errors_;

 private:
  template <class F>
  void note(F f) {
    std::lock_guard lk(mu_);
    f();
    cv_.notify_all();
  }
};

struct session_fault : ::testing::Test {
  void start(std::uint16_t port, duration response_timeout = 2s, duration bind_timeout = 2s) {
    session_options o;
    o.name = "fault";
    o.endpoint.port = port;
    o.smpp.system_id = "otpd";
    o.smpp.password = secret("pw");
    o.smpp.response_timeout = response_timeout;
    o.smpp.bind_timeout = bind_timeout;
    o.smpp.enquire_link_interval = 60s;
    o.smpp.unbind_timeout = 200ms;
    o.reconnect.initial_delay = 20ms;
    o.reconnect.max_delay = 100ms;
    s = std::make_unique<session>(ioc.get_executor(), o, p);
    s->start();
    thread = std::thread([this] { ioc.run(); });
  }
  bool submit(std::uint64_t id) {
    std::promise<bool> ok;
    asio::post(ioc, [&] {
      outbound_message m;
      m.id = id;
      submit_sm sm;
      sm.dest = {1, 1, "84912345678"};
      sm.short_message = "x";
      m.parts.push_back(sm);
      ok.set_value(s->submit(m));
    });
    return ok.get_future().get();
  }
  void TearDown() override {
    if (!s) return;
    asio::post(ioc, [&] { s->stop(); });
    EXPECT_TRUE(p.wait([&] { return p.stopped_; }));
    ioc.stop();
    thread.join();
  }

  asio::io_context ioc;
  probe p;
  std::unique_ptr<session> s;
  std::thread thread;
};

TEST_F(session_fault, garbage_bytes_get_a_generic_nack_and_a_fresh_bind) {
  scripted_smsc smsc;
  start(smsc.port());
  int fd = smsc.accept_and_bind();
  ASSERT_TRUE(p.wait([&] { return p.bound_ == 1; }));
  smsc.write(fd, std::string_view("\xde\xad\xbe\xef\x00\x00\x00\x00garbage!", 16));
  auto nack = smsc.read(fd);
  ASSERT_TRUE(nack);
  EXPECT_TRUE(std::holds_alternative<generic_nack>(nack->body));
  EXPECT_EQ(nack->command_status, static_cast<std::uint32_t>(command_status::invalid_cmd_length));
  EXPECT_TRUE(smsc.closed(fd));
  // The session comes back by itself.
  smsc.accept_and_bind();
  ASSERT_TRUE(p.wait([&] { return p.bound_ == 2; }));
  std::lock_guard lk(p.mu_);
  ASSERT_FALSE(p.downs_.empty());
  EXPECT_TRUE(requires_rebind(p.downs_.front()));
}

TEST_F(session_fault, a_truncated_pdu_then_close_is_survived) {
  scripted_smsc smsc;
  start(smsc.port());
  int fd = smsc.accept_and_bind();
  ASSERT_TRUE(p.wait([&] { return p.bound_ == 1; }));
  ASSERT_TRUE(submit(1));
  auto sub = smsc.read(fd);
  ASSERT_TRUE(sub);
  // Half of a submit_sm_resp, then the connection goes away.
  std::string resp;
  ASSERT_FALSE(encode(pdu{0, sub->sequence_number, submit_sm_resp{"1234567890"}}, resp));
  smsc.write(fd, std::string_view(resp).substr(0, resp.size() / 2));
  ::shutdown(fd, SHUT_RDWR);
  ASSERT_TRUE(p.wait([&] { return p.done_.size() == 1; }));
  {
    std::lock_guard lk(p.mu_);
    EXPECT_EQ(p.done_[0].ec, errc::unknown_outcome);
    EXPECT_TRUE(p.done_[0].outcome_unknown);
  }
  smsc.accept_and_bind();
  ASSERT_TRUE(p.wait([&] { return p.bound_ == 2; }));
}

TEST_F(session_fault, a_response_with_a_wrong_sequence_number_is_not_taken_for_another) {
  scripted_smsc smsc;
  start(smsc.port(), /*response_timeout=*/300ms);
  int fd = smsc.accept_and_bind();
  ASSERT_TRUE(p.wait([&] { return p.bound_ == 1; }));
  ASSERT_TRUE(submit(1));
  auto sub = smsc.read(fd);
  ASSERT_TRUE(sub);
  smsc.write(fd, pdu{0, sub->sequence_number + 1000, submit_sm_resp{"999"}});
  ASSERT_TRUE(p.wait([&] { return p.done_.size() == 1; }));
  std::lock_guard lk(p.mu_);
  EXPECT_FALSE(p.protocol_errors_.empty());
  EXPECT_EQ(p.done_[0].ec, errc::response_timeout);
  EXPECT_TRUE(p.done_[0].outcome_unknown);
  EXPECT_EQ(p.bound_, 1);
  EXPECT_TRUE(p.downs_.empty());  // the bind stays up
}

TEST_F(session_fault, a_peer_that_never_answers_the_bind_times_out_and_is_retried) {
  scripted_smsc smsc;
  start(smsc.port(), 2s, /*bind_timeout=*/200ms);
  int fd = smsc.accept();
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(smsc.read(fd));  // the bind, never answered
  EXPECT_TRUE(smsc.closed(fd));
  {
    std::lock_guard lk(p.mu_);
    ASSERT_FALSE(p.downs_.empty());
    EXPECT_EQ(p.downs_.front(), errc::bind_timeout);
  }
  smsc.accept_and_bind();
  ASSERT_TRUE(p.wait([&] { return p.bound_ == 1; }));
}

TEST_F(session_fault, already_bound_after_a_blip_is_retried_until_the_smsc_lets_go) {
  scripted_smsc smsc;
  start(smsc.port());
  int fd = smsc.accept_and_bind(static_cast<std::uint32_t>(command_status::already_bound));
  EXPECT_TRUE(smsc.closed(fd));
  smsc.accept_and_bind();
  ASSERT_TRUE(p.wait([&] { return p.bound_ == 1; }));
  std::lock_guard lk(p.mu_);
  ASSERT_FALSE(p.downs_.empty());
  EXPECT_EQ(p.downs_.front(), command_status::already_bound);
}

}  // namespace
}  // namespace otpd::smpp
