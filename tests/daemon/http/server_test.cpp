// The HTTP server over real sockets on 127.0.0.1: routing, every server-side problem, keep-alive,
// slow and idle clients, limits, graceful stop, metrics and the access log.
#include <sys/wait.h>

#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>

#include "tests/daemon/http/server_fixture.hpp"
#include "tests/support/child_process.hpp"

namespace otpd::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

boost::json::object json_of(const http_response& r) {
  return boost::json::parse(r.body()).as_object();
}

// The response is an RFC 9457 problem with this status and type slug.
void expect_problem(const std::optional<http_response>& r, unsigned status, std::string_view slug) {
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), status);
  EXPECT_EQ(r->at("Content-Type"), "application/problem+json");
  const auto o = json_of(*r);
  EXPECT_EQ(o.at("type").as_string(), "https://otpd.dev/problems/" + std::string(slug));
  EXPECT_EQ(o.at("status").as_int64(), status);
  EXPECT_FALSE(o.at("title").as_string().empty());
}

class server_test : public server_fixture {
 protected:
  void SetUp() override { start(); }
};

TEST_F(server_test, binds_port_zero_and_reports_it) {
  const auto eps = server_->local_endpoints();
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_NE(eps[0].port(), 0);
  EXPECT_EQ(eps[0].address().to_string(), "127.0.0.1");
  EXPECT_EQ(log_.count("http_listening address=127.0.0.1 port=" + std::to_string(eps[0].port())),
            1u);
}

TEST_F(server_test, public_route_needs_no_key) {
  http_client c(ep());
  auto r = c.request("GET", "/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->body(), "ok");
  EXPECT_EQ(r->at("Content-Length"), "2");
  EXPECT_EQ(r->at("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r->at("Cache-Control"), "no-store");
  EXPECT_TRUE(r->at("Date").ends_with(" GMT"));
  EXPECT_TRUE(r->keep_alive());
}

TEST_F(server_test, routes_with_params_query_and_json_body) {
  http_client c(ep());
  auto r = c.request("POST", "/v1/verifications/v_1%2Dab/check", R"({"code":"123456"})",
                     auth_headers({{"Content-Type", "application/json"}}));
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->result_int(), 200u) << r->body();
  auto o = json_of(*r);
  EXPECT_EQ(o.at("id").as_string(), "v_1-ab");
  EXPECT_EQ(o.at("api_key").as_string(), "test-key");
  EXPECT_EQ(o.at("route").as_string(), "/v1/verifications/{id}/check");
  EXPECT_EQ(o.at("fields").as_int64(), 1);

  r = c.request("GET", "/v1/verifications/xyz?view=full%20attempts&x", {}, auth_headers());
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->result_int(), 200u) << r->body();
  o = json_of(*r);
  EXPECT_EQ(o.at("id").as_string(), "xyz");
  EXPECT_EQ(o.at("view").as_string(), "full attempts");
  EXPECT_EQ(o.at("client").as_string(), "127.0.0.1");
}

TEST_F(server_test, unknown_path_is_404) {
  http_client c(ep());
  auto r = c.request("GET", "/v2/nothing", {}, auth_headers());
  expect_problem(r, 404, "not_found");
}

TEST_F(server_test, wrong_method_is_405_with_allow) {
  http_client c(ep());
  auto r = c.request("DELETE", "/healthz");
  expect_problem(r, 405, "method_not_allowed");
  EXPECT_EQ(r->at("Allow"), "GET, HEAD, OPTIONS");
  r = c.request("OPTIONS", "/v1/verifications/x/check");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 204u);
  EXPECT_EQ(r->at("Allow"), "POST, OPTIONS");
}

TEST_F(server_test, unknown_method_is_501) {
  http_client c(ep());
  auto r = c.request("BREW", "/healthz");
  expect_problem(r, 501, "not_implemented");
}

TEST_F(server_test, missing_or_wrong_key_is_401) {
  http_client c(ep());
  auto r = c.request("GET", "/v1/verifications/x");
  expect_problem(r, 401, "unauthorized");
  EXPECT_EQ(r->at("WWW-Authenticate"), R"(Bearer realm="otpd")");

  r = c.request("GET", "/v1/verifications/x", {}, {{"Authorization", "Bearer not-the-key"}});
  expect_problem(r, 401, "unauthorized");
  EXPECT_EQ(r->at("WWW-Authenticate"), R"(Bearer realm="otpd", error="invalid_token")");

  r = c.request("GET", "/v1/verifications/x", {}, {{"Authorization", "Basic dXNlcjpwYXNz"}});
  expect_problem(r, 401, "unauthorized");

  // The connection still serves a good request afterwards.
  r = c.request("GET", "/v1/verifications/x", {}, auth_headers());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200u);
}

TEST_F(server_test, api_keys_can_be_replaced) {
  http::api_key_auth keys;
  keys.add("rotated", http::sha256_hex("new-secret"));
  server_->set_api_keys(std::move(keys));
  http_client c(ep());
  auto r = c.request("GET", "/v1/verifications/x", {}, auth_headers());
  expect_problem(r, 401, "unauthorized");
  r = c.request("GET", "/v1/verifications/x", {}, {{"Authorization", "Bearer new-secret"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200u);
}

TEST_F(server_test, malformed_request_line_is_400_and_closes) {
  http_client c(ep());
  ASSERT_TRUE(c.send("GARBAGE\r\n\r\n"));
  auto r = c.read();
  expect_problem(r, 400, "bad_request");
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(c.closed_within(3s));
}

TEST_F(server_test, malformed_header_field_is_400) {
  http_client c(ep());
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n"));
  expect_problem(c.read(), 400, "bad_request");
}

TEST_F(server_test, missing_host_is_400) {
  http_client c(ep());
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\n\r\n"));
  auto r = c.read();
  expect_problem(r, 400, "bad_request");
  EXPECT_NE(json_of(*r).at("detail").as_string().find("Host"), std::string::npos);
}

TEST_F(server_test, http_2_request_line_is_505) {
  http_client c(ep());
  ASSERT_TRUE(c.send("GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n"));
  expect_problem(c.read(), 505, "http_version_not_supported");
}

TEST_F(server_test, http_3_request_line_is_505) {
  http_client c(ep());
  ASSERT_TRUE(c.send("GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n"));
  expect_problem(c.read(), 505, "http_version_not_supported");
}

// RFC 9112 §3: a malformed request-line is 400 and the connection closes; Beast reports these as
// bad_version too, but no other version was asked for.
TEST_F(server_test, malformed_request_lines_are_400_and_close) {
  const std::string requests[] = {
      "GET /healthz HTTP/1.1\nHost: x\n\n",         // bare LF line endings
      "GET /healthz HTTP/1.1 \r\nHost: x\r\n\r\n",  // trailing space
      "GET /healthz HTTP/1.10\r\nHost: x\r\n\r\n",  // a version of three digits
      "GET /healthz \r\nHost: x\r\n\r\n",           // no version
      "GET /healthz HTTP/2.0\nHost: x\n\n",         // another version, but bare LF
  };
  for (const std::string& text : requests) {
    SCOPED_TRACE(text);
    http_client c(ep());
    ASSERT_TRUE(c.send(text));
    expect_problem(c.read(), 400, "bad_request");
    EXPECT_TRUE(c.closed_within(3s));
  }
}

TEST_F(server_test, a_body_in_unreadable_transfer_codings_is_400_and_closes) {
  // The body is a second request: were the coding ignored, it would be answered on the socket.
  const std::string smuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string codings[] = {"xchunked", "chunked, identity", "gzip", "chunked, chunked"};
  for (const std::string& te : codings) {
    SCOPED_TRACE(te);
    http_client c(ep());
    ASSERT_TRUE(c.send("POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                       "\r\n\r\n" + smuggled));
    expect_problem(c.read(), 400, "bad_request");
    EXPECT_TRUE(c.closed_within(3s));
  }
  http_client c(ep());
  ASSERT_TRUE(c.send("POST /healthz HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  expect_problem(c.read(), 400, "bad_request");
  EXPECT_TRUE(c.closed_within(3s));
}

TEST(transfer_encoding, only_a_final_chunked_alone_in_http_1_1) {
  using v = std::vector<std::string_view>;
  EXPECT_TRUE(http::acceptable_transfer_encoding(v{}, 11));
  EXPECT_TRUE(http::acceptable_transfer_encoding(v{}, 10));
  EXPECT_TRUE(http::acceptable_transfer_encoding(v{"chunked"}, 11));
  EXPECT_TRUE(http::acceptable_transfer_encoding(v{" Chunked "}, 11));
  EXPECT_FALSE(http::acceptable_transfer_encoding(v{"chunked"}, 10));
  EXPECT_FALSE(http::acceptable_transfer_encoding(v{"xchunked"}, 11));
  EXPECT_FALSE(http::acceptable_transfer_encoding(v{"gzip"}, 11));
  EXPECT_FALSE(http::acceptable_transfer_encoding(v{"chunked, identity"}, 11));
  EXPECT_FALSE(http::acceptable_transfer_encoding(v{"gzip, chunked"}, 11));
  EXPECT_FALSE(http::acceptable_transfer_encoding(v{"chunked", "chunked"}, 11));
  EXPECT_FALSE(http::acceptable_transfer_encoding(v{""}, 11));
  EXPECT_FALSE(http::acceptable_transfer_encoding(v{" , "}, 11));
}

TEST(request_line, only_a_well_formed_line_names_another_major_version) {
  EXPECT_TRUE(http::is_other_major_version("GET / HTTP/2.0\r\n"));
  EXPECT_TRUE(http::is_other_major_version("POST /v1/x HTTP/3.0\r\nHost: x\r\n"));
  EXPECT_TRUE(http::is_other_major_version("GET * HTTP/0.9\r\n"));
  EXPECT_FALSE(http::is_other_major_version("GET / HTTP/1.1\r\n"));
  EXPECT_FALSE(http::is_other_major_version("GET / HTTP/1.2\r\n"));
  EXPECT_FALSE(http::is_other_major_version("GET / HTTP/2.0\n"));
  EXPECT_FALSE(http::is_other_major_version("GET / HTTP/2.0 \r\n"));
  EXPECT_FALSE(http::is_other_major_version("GET / HTTP/2.00\r\n"));
  EXPECT_FALSE(http::is_other_major_version("GET /  HTTP/2.0\r\n"));
  EXPECT_FALSE(http::is_other_major_version(" / HTTP/2.0\r\n"));
  EXPECT_FALSE(http::is_other_major_version("GET / HTTP/2.0"));
  EXPECT_FALSE(http::is_other_major_version("GET /\r\n"));
  EXPECT_FALSE(http::is_other_major_version(""));
}

TEST_F(server_test, oversized_header_fields_are_431) {
  http_client c(ep());
  auto r = c.request("GET", "/healthz", {}, {{"X-Big", std::string(2000, 'a')}});
  expect_problem(r, 431, "header_fields_too_large");
  EXPECT_EQ(json_of(*r).at("max_header_bytes").as_int64(), 1024);
  EXPECT_TRUE(c.closed_within(3s));
}

TEST_F(server_test, oversized_request_line_is_414) {
  http_client c(ep());
  auto r = c.request("GET", "/healthz?x=" + std::string(2000, 'a'));
  expect_problem(r, 414, "uri_too_long");
}

TEST_F(server_test, content_length_above_limit_is_413_before_the_body) {
  http_client c(ep());
  // Only the header is sent: the answer must not wait for the 100 kB it announces.
  ASSERT_TRUE(c.send(http_client::format_request(
      "POST", "/v1/verifications/x/check", {},
      auth_headers({{"Content-Type", "application/json"}, {"Content-Length", "100000"}}))));
  auto r = c.read(3s);
  expect_problem(r, 413, "content_too_large");
  EXPECT_EQ(json_of(*r).at("max_body_bytes").as_int64(), 1024);
  EXPECT_TRUE(c.closed_within(3s));
}

TEST_F(server_test, chunked_body_growing_past_limit_is_413) {
  http_client c(ep());
  std::string req = http_client::format_request(
      "POST", "/v1/verifications/x/check", {},
      auth_headers({{"Content-Type", "application/json"}, {"Transfer-Encoding", "chunked"}}));
  const std::string chunk(600, ' ');
  req += "258\r\n" + chunk + "\r\n";  // 600 bytes
  req += "258\r\n" + chunk + "\r\n";  // 1200 in all: above 1024
  ASSERT_TRUE(c.send(req));
  expect_problem(c.read(3s), 413, "content_too_large");
}

TEST_F(server_test, chunked_body_within_limit_is_served) {
  http_client c(ep());
  std::string req = http_client::format_request(
      "POST", "/v1/verifications/x/check", {},
      auth_headers({{"Content-Type", "application/json"}, {"Transfer-Encoding", "chunked"}}));
  req += "5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n";
  ASSERT_TRUE(c.send(req));
  auto r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200u) << r->body();
}

TEST_F(server_test, non_json_body_is_415) {
  http_client c(ep());
  auto r = c.request("POST", "/v1/verifications/x/check", "code=123456",
                     auth_headers({{"Content-Type", "application/x-www-form-urlencoded"}}));
  expect_problem(r, 415, "unsupported_media_type");
}

TEST_F(server_test, malformed_json_is_400_with_position) {
  http_client c(ep());
  auto r = c.request("POST", "/v1/verifications/x/check", "{\"code\": 12 34}",
                     auth_headers({{"Content-Type", "application/json"}}));
  expect_problem(r, 400, "malformed_json");
  const auto o = json_of(*r);
  EXPECT_EQ(o.at("line").as_int64(), 1);
  EXPECT_GT(o.at("column").as_int64(), 1);
  // Still keep-alive: the framing was fine, only the JSON was not.
  EXPECT_TRUE(r->keep_alive());
}

TEST_F(server_test, slow_client_gets_408_within_the_read_timeout) {
  http_client c(ep());
  const auto started = clock_type::now();
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));  // and never the blank line
  auto r = c.read(5s);
  const auto elapsed = clock_type::now() - started;
  expect_problem(r, 408, "request_timeout");
  EXPECT_GE(elapsed, 400ms);  // read_timeout is 500 ms
  EXPECT_LT(elapsed, 3s);
  EXPECT_TRUE(c.closed_within(3s));
}

TEST_F(server_test, slow_body_gets_408) {
  http_client c(ep());
  ASSERT_TRUE(c.send(http_client::format_request("POST", "/v1/verifications/x/check", {},
                                                 auth_headers({{"Content-Type", "application/json"},
                                                               {"Content-Length", "10"}})) +
                     "{\"a\""));
  expect_problem(c.read(5s), 408, "request_timeout");
}

TEST_F(server_test, silent_connection_is_closed_at_the_read_timeout) {
  http_client c(ep());
  const auto started = clock_type::now();
  EXPECT_TRUE(c.closed_within(5s));
  EXPECT_LT(clock_type::now() - started, 3s);
}

TEST_F(server_test, keep_alive_serves_several_requests_on_one_connection) {
  http_client c(ep());
  for (int i = 0; i < 5; ++i) {
    auto r = c.request("GET", "/v1/verifications/k" + std::to_string(i), {}, auth_headers());
    ASSERT_TRUE(r.has_value()) << i << " " << c.last_error().message();
    EXPECT_EQ(r->result_int(), 200u);
    EXPECT_EQ(json_of(*r).at("id").as_string(), "k" + std::to_string(i));
  }
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(server_test, pipelined_requests_are_answered_in_order) {
  http_client c(ep());
  const auto h = auth_headers();
  ASSERT_TRUE(c.send(http_client::format_request("GET", "/v1/verifications/first", {}, h) +
                     http_client::format_request("GET", "/v1/verifications/second", {}, h) +
                     http_client::format_request("GET", "/healthz", {}, {})));
  auto a = c.read();
  auto b = c.read();
  auto d = c.read();
  ASSERT_TRUE(a && b && d);
  EXPECT_EQ(json_of(*a).at("id").as_string(), "first");
  EXPECT_EQ(json_of(*b).at("id").as_string(), "second");
  EXPECT_EQ(d->body(), "ok");
}

TEST_F(server_test, connection_close_is_honoured) {
  http_client c(ep());
  auto r = c.request("GET", "/healthz", {}, {{"Connection", "close"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->keep_alive());
  EXPECT_EQ(r->at("Connection"), "close");
  EXPECT_TRUE(c.closed_within(3s));
}

TEST_F(server_test, http_1_0_closes_unless_keep_alive) {
  http_client c(ep());
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.0\r\n\r\n"));
  auto r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->version(), 10u);
  EXPECT_TRUE(c.closed_within(3s));

  http_client k(ep());
  ASSERT_TRUE(k.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  r = k.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->keep_alive());
  ASSERT_TRUE(k.send("GET /healthz HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(k.read().has_value());
}

TEST_F(server_test, idle_keep_alive_connection_is_closed_after_idle_timeout) {
  http_client c(ep());
  ASSERT_TRUE(c.request("GET", "/healthz").has_value());
  const auto started = clock_type::now();
  EXPECT_TRUE(c.closed_within(5s));  // idle_timeout is 1 s, no response is sent
  const auto elapsed = clock_type::now() - started;
  EXPECT_GE(elapsed, 800ms);
  EXPECT_LT(elapsed, 4s);
}

TEST_F(server_test, head_gets_headers_only) {
  http_client c(ep());
  auto r = c.request("HEAD", "/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->at("Content-Length"), "2");
  EXPECT_TRUE(r->body().empty());
  // The framing is intact: the next response on the connection parses.
  r = c.request("GET", "/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body(), "ok");
}

TEST_F(server_test, expect_100_continue) {
  http_client c(ep());
  const std::string body = R"({"code":"1"})";
  ASSERT_TRUE(c.send(
      http_client::format_request("POST", "/v1/verifications/x/check", {},
                                  auth_headers({{"Content-Type", "application/json"},
                                                {"Content-Length", std::to_string(body.size())},
                                                {"Expect", "100-continue"}}))));
  auto interim = c.read();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->result_int(), 100u);
  ASSERT_TRUE(c.send(body));
  auto r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200u) << r->body();
}

TEST_F(server_test, refused_request_with_expect_gets_its_answer_without_the_body) {
  http_client c(ep());
  ASSERT_TRUE(c.send(http_client::format_request("POST", "/v1/verifications/x/check", {},
                                                 {{"Content-Type", "application/json"},
                                                  {"Content-Length", "10"},
                                                  {"Expect", "100-continue"}})));
  auto r = c.read();
  expect_problem(r, 401, "unauthorized");
  EXPECT_FALSE(r->keep_alive());  // the body it announced was never read
}

TEST_F(server_test, handler_exception_is_500_and_the_server_keeps_serving) {
  http_client c(ep());
  auto r = c.request("GET", "/v1/throw", {}, auth_headers());
  expect_problem(r, 500, "internal_error");
  EXPECT_EQ(json_of(*r).at("detail").as_string().find("handler bug"), std::string::npos);
  EXPECT_TRUE(log_.wait_for("http_handler_failed", 1, 3s));
  r = c.request("GET", "/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200u);
}

TEST_F(server_test, handler_problem_with_headers) {
  http_client c(ep());
  auto r = c.request("GET", "/v1/retry", {}, auth_headers());
  expect_problem(r, 429, "resend_cooldown");
  EXPECT_EQ(r->at("Retry-After"), "17");
  EXPECT_EQ(json_of(*r).at("retry_after").as_int64(), 17);
}

TEST_F(server_test, metrics_count_requests_by_route_template_and_status) {
  http_client c(ep());
  ASSERT_TRUE(c.request("GET", "/healthz").has_value());
  ASSERT_TRUE(c.request("GET", "/v1/verifications/a1", {}, auth_headers()).has_value());
  ASSERT_TRUE(c.request("GET", "/v1/verifications/a2", {}, auth_headers()).has_value());
  ASSERT_TRUE(c.request("GET", "/v1/verifications/a3").has_value());  // 401
  ASSERT_TRUE(c.request("GET", "/nope/a4").has_value());              // 404
  ASSERT_TRUE(log_.wait_for("http_request ", 5, 3s));

  auto r = c.request("GET", "/metrics");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->at("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = r->body();
  EXPECT_NE(
      text.find("otpd_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("otpd_http_requests_total{method=\"GET\",route=\"/v1/verifications/{id}\","
                      "status=\"200\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("otpd_http_requests_total{method=\"GET\",route=\"/v1/verifications/{id}\","
                      "status=\"401\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("otpd_http_requests_total{method=\"GET\",route=\"none\",status=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("otpd_http_request_duration_seconds_count{method=\"GET\","
                      "route=\"/v1/verifications/{id}\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("otpd_http_open_connections 1\n"), std::string::npos);
  EXPECT_NE(text.find("otpd_http_connections_accepted_total 1\n"), std::string::npos);
  // Raw paths (ids) never become label values.
  EXPECT_EQ(text.find("a1"), std::string::npos);
  EXPECT_EQ(text.find("/nope"), std::string::npos);
}

TEST_F(server_test, access_log_has_route_status_key_and_never_secrets_or_bodies) {
  http_client c(ep());
  auto r = c.request("POST", "/v1/verifications/v_secretid/check", R"({"code":"482917"})",
                     auth_headers({{"Content-Type", "application/json"}}));
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(log_.wait_for("http_request ", 1, 3s));
  const auto lines = log_.lines();
  std::string access;
  for (const auto& l : lines) {
    if (l.find("http_request ") != std::string::npos) access = l;
  }
  EXPECT_TRUE(
      access.starts_with("<6>http_request method=POST route=/v1/verifications/{id}/check "
                         "status=200 duration_ms="))
      << access;
  EXPECT_NE(access.find(" api_key=test-key client=127.0.0.1\n"), std::string::npos) << access;
  for (const auto& l : lines) {
    EXPECT_EQ(l.find(api_secret), std::string::npos) << l;
    EXPECT_EQ(l.find("482917"), std::string::npos) << l;
    EXPECT_EQ(l.find("v_secretid"), std::string::npos) << l;
  }
}

TEST_F(server_test, curl_as_a_client) {
  std::vector<std::string> out;
  std::mutex m;
  child_process curl(
      {"curl", "-sS", "-i", "--max-time", "10", "-H",
       "Authorization: Bearer " + std::string(api_secret), "-H", "Content-Type: application/json",
       "--data-binary", R"({"code":"123456"})",
       "http://127.0.0.1:" + std::to_string(ep().port()) + "/v1/verifications/c1/check"},
      [&](std::string_view line) {
        std::lock_guard lock(m);
        out.emplace_back(line);
      });
  auto status = curl.wait_exit(child_process::clock::now() + 15s);
  curl.stop();
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front(), "HTTP/1.1 200 OK\r");
  EXPECT_NE(out.back().find(R"("id":"c1")"), std::string::npos) << out.back();
}

TEST_F(server_test, curl_with_an_oversized_body_gets_413) {
  std::vector<std::string> out;
  child_process curl(
      {"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}\n", "--max-time", "10", "-H",
       "Authorization: Bearer " + std::string(api_secret), "-H", "Content-Type: application/json",
       "--data-binary", "{\"pad\":\"" + std::string(50'000, 'x') + "\"}",
       "http://127.0.0.1:" + std::to_string(ep().port()) + "/v1/verifications/c1/check"},
      [&](std::string_view line) { out.emplace_back(line); });
  auto status = curl.wait_exit(child_process::clock::now() + 15s);
  curl.stop();
  ASSERT_TRUE(status.has_value());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], "413");
}

class server_limits_test : public server_fixture {};

TEST_F(server_limits_test, connections_above_max_are_closed_at_once) {
  auto opts = test_options();
  opts.limits.max_connections = 2;
  opts.limits.idle_timeout = 10s;
  start(opts);
  http_client a(ep());
  http_client b(ep());
  ASSERT_TRUE(a.request("GET", "/healthz").has_value());
  ASSERT_TRUE(b.request("GET", "/healthz").has_value());
  http_client c(ep());
  EXPECT_TRUE(c.closed_within(3s));
  EXPECT_TRUE(log_.wait_for("http_connection_rejected", 1, 3s));
  EXPECT_EQ(
      registry_.expose().find("otpd_http_connections_rejected_total 1\n") != std::string::npos,
      true);
  auto r = a.request("GET", "/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200u);
}

TEST_F(server_limits_test, idle_and_slow_clients_do_not_block_a_normal_client) {
  auto opts = test_options();
  opts.limits.read_timeout = 10s;  // far above the bound checked below
  opts.limits.idle_timeout = 10s;
  start(opts);
  boost::asio::io_context clients;
  std::vector<boost::asio::ip::tcp::socket> held;
  for (int i = 0; i < 200; ++i) {  // connected, silent
    held.emplace_back(clients).connect(ep());
  }
  for (int i = 0; i < 20; ++i) {  // slow-loris: a header that never ends
    auto& s = held.emplace_back(clients);
    s.connect(ep());
    const std::string_view partial = "POST /v1/verifications/x/check HTTP/1.1\r\nHost: x\r\nX-A: ";
    boost::asio::write(s, boost::asio::buffer(partial.data(), partial.size()));
  }
  for (int i = 0; i < 5; ++i) {
    const auto started = clock_type::now();
    http_client c(ep());
    auto r = c.request("GET", "/v1/verifications/n", {}, auth_headers(), 2s);
    ASSERT_TRUE(r.has_value()) << c.last_error().message();
    EXPECT_EQ(r->result_int(), 200u);
    EXPECT_LT(clock_type::now() - started, 1s);
  }
  EXPECT_GE(server_->open_connections(), 220u);
}

TEST_F(server_limits_test, bind_failure_throws_at_start) {
  start();
  auto opts = test_options();
  opts.listeners[0].port = ep().port();
  http::server second(io_.get_executor(), opts, http::router{}, http::api_key_auth{}, logger_);
  EXPECT_THROW(second.start(), boost::system::system_error);
}

TEST_F(server_limits_test, graceful_stop_finishes_in_flight_requests) {
  auto opts = test_options();
  opts.limits.idle_timeout = 10s;
  start(opts);
  http_client idle(ep());
  ASSERT_TRUE(idle.request("GET", "/healthz").has_value());
  http_client busy(ep());
  ASSERT_TRUE(busy.send(http_client::format_request("GET", "/v1/slow", {}, auth_headers())));
  ASSERT_TRUE(gate_.wait_entered(1, 5s));

  stopped_ = true;
  auto stopped = begin_stop();
  // The idle connection goes at once; the busy one is still being served.
  EXPECT_TRUE(idle.closed_within(3s));
  EXPECT_NE(stopped.wait_for(0s), std::future_status::ready);
  // No new connections.
  EXPECT_THROW(http_client{ep()}, std::system_error);

  gate_.release_all();
  auto r = busy.read(5s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->body(), "finally");
  EXPECT_FALSE(r->keep_alive());  // Connection: close while stopping
  EXPECT_TRUE(busy.closed_within(3s));
  EXPECT_EQ(stopped.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(server_limits_test, stop_cuts_requests_that_outlive_the_grace) {
  auto opts = test_options();
  opts.shutdown_grace = 300ms;
  start(opts);
  http_client busy(ep());
  ASSERT_TRUE(busy.send(http_client::format_request("GET", "/v1/slow", {}, auth_headers())));
  ASSERT_TRUE(gate_.wait_entered(1, 5s));
  stopped_ = true;
  const auto started = clock_type::now();
  auto stopped = begin_stop();
  EXPECT_EQ(stopped.wait_for(5s), std::future_status::ready);
  EXPECT_GE(clock_type::now() - started, 250ms);
  EXPECT_TRUE(busy.closed_within(3s));
  EXPECT_EQ(server_->open_connections(), 0u);
  EXPECT_TRUE(log_.wait_for("http_stop_cancelling", 1, 1s));
}

}  // namespace
}  // namespace otpd::test
