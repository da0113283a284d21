// HTTPS: a CA and a server certificate made with the openssl CLI for each run; clients that
// trust the CA are served, clients that do not are refused at the handshake.
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include <boost/asio/ssl/context.hpp>

#include "tests/daemon/http/server_fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/pki.hpp"

namespace otpd::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

command_result run(std::vector<std::string> argv) { return run_command(std::move(argv)); }

class tls_test : public server_fixture {
 protected:
  void SetUp() override {
    auto opts = test_options();
    opts.listeners[0].tls = config::tls_server{pki_.cert(), pki_.key()};
    start(opts);
    url_ = "https://127.0.0.1:" + std::to_string(ep().port());
  }
  pki pki_;
  std::string url_;
};

TEST_F(tls_test, curl_trusting_the_ca_is_served) {
  auto r = run({"curl", "-sS", "--max-time", "10", "--cacert", pki_.ca().string(), "-w",
                "\n%{http_code} %{http_version}\n", url_ + "/healthz"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, (std::vector<std::string>{"ok", "200 1.1"}));
}

TEST_F(tls_test, curl_without_the_ca_is_refused) {
  // Exit code 60: the peer certificate cannot be authenticated with known CA certificates.
  auto r = run({"curl", "-sS", "--max-time", "10", url_ + "/healthz"});
  EXPECT_EQ(r.exit_code, 60);
  // The server keeps serving afterwards.
  r = run({"curl", "-sS", "--max-time", "10", "--cacert", pki_.ca().string(), url_ + "/healthz"});
  EXPECT_EQ(r.exit_code, 0);
}

TEST_F(tls_test, verifying_client_with_keep_alive) {
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
  ctx.load_verify_file(pki_.ca().string());
  http_client c(ep(), ctx, "127.0.0.1");
  ASSERT_FALSE(c.handshake_error()) << c.handshake_error().message();
  for (int i = 0; i < 3; ++i) {
    auto r = c.request("GET", "/v1/verifications/t" + std::to_string(i), {}, auth_headers());
    ASSERT_TRUE(r.has_value()) << c.last_error().message();
    EXPECT_EQ(r->result_int(), 200u);
  }
  auto r = c.request("GET", "/v1/verifications/t", {}, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 401u);
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(tls_test, client_without_the_ca_fails_the_handshake) {
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);  // trusts nothing
  http_client c(ep(), ctx, "127.0.0.1");
  EXPECT_TRUE(c.handshake_error());
}

TEST_F(tls_test, client_checking_another_name_fails) {
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
  ctx.load_verify_file(pki_.ca().string());
  http_client c(ep(), ctx, "otpd.example");
  EXPECT_TRUE(c.handshake_error());
}

TEST_F(tls_test, slow_client_gets_408_over_tls) {
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
  ctx.load_verify_file(pki_.ca().string());
  http_client c(ep(), ctx, "127.0.0.1");
  ASSERT_FALSE(c.handshake_error());
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  auto r = c.read(5s);
  ASSERT_TRUE(r.has_value()) << c.last_error().message();
  EXPECT_EQ(r->result_int(), 408u);
}

TEST_F(tls_test, plain_http_on_the_tls_port_is_dropped) {
  http_client c(ep());
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(c.closed_within(3s));
  EXPECT_TRUE(log_.wait_for("http_tls_handshake_failed", 1, 3s));
}

TEST(tls_config, missing_certificate_fails_at_start) {
  boost::asio::io_context io;
  log::logger logger({}, [](std::string_view) {});
  auto opts = test_options();
  opts.listeners[0].tls = config::tls_server{"/nonexistent/cert.pem", "/nonexistent/key.pem"};
  http::server s(io.get_executor(), opts, http::router{}, http::api_key_auth{}, logger);
  EXPECT_THROW(s.start(), std::runtime_error);
}

TEST(tls_config, key_not_matching_the_certificate_fails_at_start) {
  pki a;
  pki b;
  boost::asio::io_context io;
  log::logger logger({}, [](std::string_view) {});
  auto opts = test_options();
  opts.listeners[0].tls = config::tls_server{a.cert(), b.key()};
  http::server s(io.get_executor(), opts, http::router{}, http::api_key_auth{}, logger);
  EXPECT_THROW(s.start(), std::runtime_error);
}

}  // namespace
}  // namespace otpd::test
