// Webhooks never reach a link-local address (cloud metadata services): the address check, and a
// sender whose URL's name resolves to 169.254.169.254 fails the attempt without connecting.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "config/link_local.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/webhook/webhook_sender.hpp"

namespace otpd::service {
namespace {

namespace asio = boost::asio;
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

// An HTTP endpoint on 127.0.0.1 that counts connections and answers each request 204.
class counting_endpoint {
 public:
  explicit counting_endpoint(asio::io_context& ioc)
      : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(ioc, serve(), asio::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections = 0;

 private:
  asio::awaitable<void> serve() {
    for (;;) {
      tcp::socket s = co_await acceptor_.async_accept(asio::use_awaitable);
      ++connections;
      std::string in;
      co_await asio::async_read_until(s, asio::dynamic_buffer(in), "\r\n\r\n", asio::use_awaitable);
      static constexpr std::string_view reply = "HTTP/1.1 204 No Content\r\n\r\n";
      co_await asio::async_write(s, asio::buffer(reply.data(), reply.size()), asio::use_awaitable);
    }
  }
  tcp::acceptor acceptor_;
};

struct webhook_sender_test : ::testing::Test {
  webhook_sender_test() : hook(ioc) {
    cfg.url = "http://hooks.test:" + std::to_string(hook.port()) + "/otp";
    cfg.secret = otpd::secret("0123456789abcdef");
    cfg.max_attempts = 1;
    cfg.timeout = std::chrono::seconds(2);
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

  std::string log_text() {
    std::lock_guard lock(m);
    return lines;
  }

  asio::io_context ioc;
  counting_endpoint hook;
  config::webhook cfg;
  std::mutex m;
  std::string lines;
  log::logger logger{log::options{}, [this](std::string_view l) {
                       std::lock_guard lock(m);
                       lines.append(l);
                     }};
};

TEST_F(webhook_sender_test, a_name_resolving_to_a_link_local_address_is_not_contacted) {
  webhook_sender sender(ioc.get_executor(), cfg, 10, &logger);
  std::vector<std::string> asked;
  // The metadata address first, and the endpoint that would answer after it: a sender that
  // skipped the bad address and tried the next would connect there.
  sender.set_resolver([&](const std::string& host, const std::string& port, auto&) {
    asked.push_back(host + ":" + port);
    const auto p = static_cast<std::uint16_t>(std::stoi(port));
    return std::vector<tcp::endpoint>{{asio::ip::make_address("169.254.169.254"), p},
                                      {asio::ip::make_address("127.0.0.1"), p}};
  });
  sender.start();
  sender.post(R"({"event":"verification.approved"})");
  ASSERT_TRUE(run_until([&] { return sender.stats().dropped == 1; }));
  EXPECT_EQ(sender.stats().failed_attempts, 1u);
  EXPECT_EQ(sender.stats().delivered, 0u);
  EXPECT_EQ(hook.connections, 0);
  EXPECT_EQ(asked, std::vector<std::string>{"hooks.test:" + std::to_string(hook.port())});
  const std::string log = log_text();
  EXPECT_THAT(log, HasSubstr("webhook_destination_refused"));
  EXPECT_THAT(log, HasSubstr("169.254.169.254"));
  EXPECT_THAT(log, HasSubstr("link-local"));
  sender.stop();
}

TEST_F(webhook_sender_test, a_name_resolving_to_an_allowed_address_is_delivered) {
  webhook_sender sender(ioc.get_executor(), cfg, 10, &logger);
  sender.set_resolver([&](const std::string&, const std::string& port, auto&) {
    return std::vector<tcp::endpoint>{
        {asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(std::stoi(port))}};
  });
  sender.start();
  sender.post(R"({"event":"verification.approved"})");
  ASSERT_TRUE(run_until([&] { return sender.stats().delivered == 1; })) << log_text();
  EXPECT_EQ(hook.connections, 1);
  EXPECT_EQ(sender.stats().failed_attempts, 0u);
  EXPECT_THAT(log_text(), ::testing::Not(HasSubstr("webhook_destination_refused")));
  sender.stop();
}

}  // namespace
}  // namespace otpd::service
