// The webhook sender: events delivered from the store's outbox (in order per verification, taken
// back after a restart, retried without holding up other verifications), the signature, and
// webhooks never reaching a link-local address (cloud metadata services): the address check,
// and a sender whose URL's name resolves to 169.254.169.254 fails the attempt without connecting.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/link_local.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/store/store_executor.hpp"
#include "daemon/webhook/webhook_sender.hpp"
#include "tests/daemon/store/store_test_util.hpp"

namespace otpd::service {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

// The vector tests/docs/check_webhook_example.py gives the receiver's example in
// docs/configuration.md: what otpd signs is what that example accepts.
TEST(webhook_signature, the_documented_vector) {
  EXPECT_EQ(webhook_signature("whsec-0123456789abcdef", 1764770400,
                              R"({"event":"verification.approved","id":"v1"})"),
            "t=1764770400,v1=b0e4ba62b727d47ff5155c90269de023a6c6881ecb39922387614398a027de0e");
}

TEST(webhook_destination, link_local_addresses_are_forbidden) {
  for (const char* a : {"169.254.169.254", "169.254.0.0", "169.254.255.255", "fe80::1",
                        "febf:ffff::1", "::ffff:169.254.169.254"}) {
    EXPECT_TRUE(is_forbidden_destination(asio::ip::make_address(a))) << a;
  }
  for (const char* a : {"169.253.255.255", "169.255.0.0", "127.0.0.1", "10.0.0.1", "::1", "fec0::1",
                        "fe00::1", "::ffff:127.0.0.1", "2001:db8::1"}) {
    EXPECT_FALSE(is_forbidden_destination(asio::ip::make_address(a))) << a;
  }
}

TEST(webhook_destination, literal_hosts_in_urls) {
  EXPECT_EQ(config::url_host("https://u:p@[fe80::1%25eth0]:8443/x?y"), "fe80::1%25eth0");
  EXPECT_EQ(config::url_host("http://hooks.example:8080/otp"), "hooks.example");
  EXPECT_EQ(config::url_host("http://169.254.169.254"), "169.254.169.254");
  EXPECT_EQ(config::url_host("ftp://169.254.169.254/"), "");
  EXPECT_TRUE(config::literal_is_link_local("169.254.169.254"));
  EXPECT_TRUE(config::literal_is_link_local("0xa9.0xfe.0xa9.0xfe"));  // as getaddrinfo reads it
  EXPECT_TRUE(config::literal_is_link_local("fe80::1%25eth0"));
  EXPECT_FALSE(config::literal_is_link_local("metadata.google.internal"));  // a name: at connect
  EXPECT_FALSE(config::literal_is_link_local("127.0.0.1"));
}

// An HTTP endpoint on 127.0.0.1 that counts connections, keeps the bodies it is sent, and
// answers each request with the status `answer` gives for its body (204 by default).
class counting_endpoint {
 public:
  explicit counting_endpoint(asio::io_context& ioc)
      : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(ioc, serve(), asio::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections = 0;
  std::vector<std::string> bodies;
  std::function<http::status(const std::string&)> answer = [](const std::string&) {
    return http::status::no_content;
  };

 private:
  asio::awaitable<void> serve() {
    for (;;) {
      tcp::socket s = co_await acceptor_.async_accept(asio::use_awaitable);
      ++connections;
      beast::flat_buffer buf;
      http::request<http::string_body> req;
      co_await http::async_read(s, buf, req, asio::use_awaitable);
      bodies.push_back(req.body());
      http::response<http::empty_body> res{answer(req.body()), 11};
      res.prepare_payload();
      co_await http::async_write(s, res, asio::use_awaitable);
    }
  }
  tcp::acceptor acceptor_;
};

// Verifications, and events written to their outbox as the service writes them: with a change.
class outbox {
 public:
  outbox() {
    std::unique_ptr<store> s;
    EXPECT_FALSE(open_sqlite_store(dir_.file("otpd.db"), s));
    store_ = s.get();
    executor_ = std::make_unique<store_executor>(std::move(s));
  }
  // Before the sender starts: the store is the executor's once calls run.
  void write(const std::string& id, const std::string& body) {
    verification v;
    if (store_->get(id, v) == store_errc::not_found) {
      ASSERT_FALSE(store_->insert(test::make_verification(id)));
    }
    ASSERT_FALSE(store_->modify(
        id, {}, [](verification&) { return error_code{}; }, v,
        [&](const verification&) { return body; }));
  }
  store_executor& executor() { return *executor_; }
  store& direct() { return *store_; }

 private:
  test::scratch_dir dir_;
  store* store_ = nullptr;
  std::unique_ptr<store_executor> executor_;
};

struct webhook_sender_test : ::testing::Test {
  webhook_sender_test() : hook(ioc) {
    cfg.url = "http://hooks.test:" + std::to_string(hook.port()) + "/otp";
    cfg.secret = otpd::secret("0123456789abcdef");
    cfg.max_attempts = 1;
    cfg.timeout = std::chrono::seconds(2);
  }
  ~webhook_sender_test() override {
    // The sender's coroutines end before the io_context that runs them.
    for (auto& s : senders) {
      s->stop();
      bool joined = false;
      asio::co_spawn(ioc, s->join(), [&](std::exception_ptr) { joined = true; });
      run_until([&] { return joined; });
    }
  }

  // Owned by the fixture, which stops and joins it at the end.
  webhook_sender* make_sender() {
    auto s = std::make_unique<webhook_sender>(ioc.get_executor(), cfg, events.executor(), "web-1",
                                              registry, &logger);
    s->set_resolver([](const std::string&, const std::string& port, auto&) {
      return std::vector<tcp::endpoint>{
          {asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(std::stoi(port))}};
    });
    senders.push_back(std::move(s));
    return senders.back().get();
  }

  // Runs the io_context until `done` or a deadline; false on the deadline.
  template <class Pred>
  bool run_until(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      ioc.run_one_for(100ms);
    }
    return true;
  }

  // The outbox's size, read through the executor as the sender reads it.
  std::size_t backlog() {
    std::optional<std::size_t> n;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          std::size_t count = 0;
          sys_time oldest;
          EXPECT_FALSE(co_await events.executor().run(
              [&](store& s) { return s.webhook_backlog(count, oldest); }));
          n = count;
        },
        asio::detached);
    EXPECT_TRUE(run_until([&] { return n.has_value(); }));
    return n.value_or(999);
  }

  std::string log_text() {
    std::lock_guard lock(m);
    return lines;
  }

  asio::io_context ioc;
  counting_endpoint hook;
  outbox events;
  config::webhook cfg;
  metrics::registry registry;
  std::mutex m;
  std::string lines;
  log::logger logger{log::options{}, [this](std::string_view l) {
                       std::lock_guard lock(m);
                       lines.append(l);
                     }};
  std::vector<std::unique_ptr<webhook_sender>> senders;
};

TEST_F(webhook_sender_test, a_name_resolving_to_a_link_local_address_is_not_contacted) {
  events.write("v1", R"({"event":"verification.approved"})");
  auto* sender = make_sender();
  std::vector<std::string> asked;
  // The metadata address first, and the endpoint that would answer after it: a sender that
  // skipped the bad address and tried the next would connect there.
  sender->set_resolver([&](const std::string& host, const std::string& port, auto&) {
    asked.push_back(host + ":" + port);
    const auto p = static_cast<std::uint16_t>(std::stoi(port));
    return std::vector<tcp::endpoint>{{asio::ip::make_address("169.254.169.254"), p},
                                      {asio::ip::make_address("127.0.0.1"), p}};
  });
  sender->start();
  ASSERT_TRUE(run_until([&] { return sender->stats().dropped == 1; }));
  EXPECT_EQ(sender->stats().failed_attempts, 1u);
  EXPECT_EQ(sender->stats().delivered, 0u);
  EXPECT_EQ(hook.connections, 0);
  EXPECT_EQ(asked, std::vector<std::string>{"hooks.test:" + std::to_string(hook.port())});
  const std::string log = log_text();
  EXPECT_THAT(log, HasSubstr("webhook_destination_refused"));
  EXPECT_THAT(log, HasSubstr("169.254.169.254"));
  EXPECT_THAT(log, HasSubstr("link-local"));
  EXPECT_THAT(log, HasSubstr("webhook_given_up"));
  const std::string exposed = registry.expose();
  EXPECT_THAT(exposed, HasSubstr("otpd_webhook_deliveries_total{outcome=\"given_up\"} 1\n"));
  EXPECT_THAT(exposed, HasSubstr("otpd_webhook_deliveries_total{outcome=\"delivered\"} 0\n"));
  // Given up: gone from the outbox.
  EXPECT_TRUE(run_until([&] { return sender->stats().in_flight == 0; }));
  EXPECT_EQ(backlog(), 0u);
}

TEST_F(webhook_sender_test, a_name_resolving_to_an_allowed_address_is_delivered) {
  events.write("v1", R"({"event":"verification.approved"})");
  auto* sender = make_sender();
  sender->start();
  sender->post(R"({"event":"verification.approved"})");
  ASSERT_TRUE(run_until([&] { return sender->stats().delivered == 1; })) << log_text();
  EXPECT_EQ(hook.connections, 1);
  EXPECT_EQ(hook.bodies, std::vector<std::string>{R"({"event":"verification.approved"})"});
  EXPECT_EQ(sender->stats().failed_attempts, 0u);
  EXPECT_THAT(log_text(), ::testing::Not(HasSubstr("webhook_destination_refused")));
  EXPECT_TRUE(run_until([&] { return sender->stats().in_flight == 0; }));
  EXPECT_EQ(backlog(), 0u);
}

// What a node wrote before it stopped (or crashed) is in the outbox, and goes out when a
// sender starts: in order for each verification.
TEST_F(webhook_sender_test, events_written_before_the_start_go_out_in_order_per_verification) {
  for (int i = 1; i <= 4; ++i) {
    events.write("v1", "v1:" + std::to_string(i));
    events.write("v2", "v2:" + std::to_string(i));
  }
  // A claim of an earlier run of this node, which died delivering it: taken back at once.
  std::vector<webhook_event> claimed;
  ASSERT_FALSE(
      events.direct().claim_webhooks("web-1", std::chrono::system_clock::now(), 1h, 1, claimed));
  ASSERT_EQ(claimed.size(), 1u);
  auto* sender = make_sender();
  sender->start();
  ASSERT_TRUE(run_until([&] { return sender->stats().delivered == 8; })) << log_text();
  std::vector<std::string> v1, v2;
  for (const auto& b : hook.bodies) (b.starts_with("v1") ? v1 : v2).push_back(b);
  EXPECT_EQ(v1, (std::vector<std::string>{"v1:1", "v1:2", "v1:3", "v1:4"}));
  EXPECT_EQ(v2, (std::vector<std::string>{"v2:1", "v2:2", "v2:3", "v2:4"}));
  EXPECT_TRUE(run_until([&] { return sender->stats().in_flight == 0; }));
  EXPECT_EQ(backlog(), 0u);
}

// A verification whose event fails waits out its backoff; the others' events do not wait.
TEST_F(webhook_sender_test, a_failing_event_is_retried_and_holds_back_only_its_verification) {
  cfg.max_attempts = 3;
  int v1_failures = 0;
  hook.answer = [&](const std::string& body) {
    if (body.starts_with("v1") && v1_failures < 1) {
      ++v1_failures;
      return http::status::service_unavailable;
    }
    return http::status::no_content;
  };
  events.write("v1", "v1:1");
  events.write("v1", "v1:2");
  events.write("v2", "v2:1");
  auto* sender = make_sender();
  sender->start();
  ASSERT_TRUE(run_until([&] { return sender->stats().delivered == 3; })) << log_text();
  EXPECT_EQ(sender->stats().failed_attempts, 1u);
  EXPECT_EQ(sender->stats().dropped, 0u);
  // v2 went while v1:1 waited out its backoff (the first two, in either order); v1:2 only
  // after v1:1.
  ASSERT_EQ(hook.bodies.size(), 4u);
  EXPECT_THAT(std::vector<std::string>(hook.bodies.begin(), hook.bodies.begin() + 2),
              ::testing::UnorderedElementsAre("v1:1", "v2:1"));
  EXPECT_EQ(hook.bodies[2], "v1:1");
  EXPECT_EQ(hook.bodies[3], "v1:2");
  const std::string exposed = registry.expose();
  EXPECT_THAT(exposed, HasSubstr("otpd_webhook_deliveries_total{outcome=\"delivered\"} 3\n"));
  EXPECT_THAT(exposed, HasSubstr("otpd_webhook_deliveries_total{outcome=\"failed\"} 1\n"));
  // Counted at the start, with the three events waiting; the oldest written a moment before.
  EXPECT_THAT(exposed, HasSubstr("otpd_webhook_backlog 3\n"));
  EXPECT_TRUE(run_until([&] { return sender->stats().in_flight == 0; }));
  EXPECT_EQ(backlog(), 0u);
}

}  // namespace
}  // namespace otpd::service
