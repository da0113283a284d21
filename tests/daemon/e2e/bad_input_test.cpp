// Bad input: each request gets a precise RFC 9457 problem (status, type slug, the field at
// fault) and the daemon keeps serving (GET /healthz after each).
#include <gtest/gtest.h>

#include <sys/socket.h>

#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

class e2e_bad_input : public ::testing::Test {
 protected:
  static otpd_options options() {
    otpd_options opts;
    opts.http["max_body_bytes"] = "1024";
    opts.http["read_timeout"] = "1s";
    return opts;
  }

  // The answer is a problem+json with this status and slug, and otpd still answers.
  void expect_problem(const http_response& r, int status, std::string_view slug) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("content-type").value_or(""), "application/problem+json") << r.body;
    EXPECT_EQ(r.problem_slug(), slug) << r.body;
    EXPECT_EQ(num(r.obj(), "status"), status) << r.body;
    EXPECT_FALSE(str(r.obj(), "title").empty()) << r.body;
    http_response health = http_call(w.otpd->port(), "GET", "/healthz");
    EXPECT_EQ(health.status, 200) << "otpd stopped serving after a " << status;
  }

  // The "errors" list of a 400 names `field`.
  static bool names_field(const http_response& r, std::string_view field) {
    const auto* errs = r.obj().if_contains("errors");
    if (!errs || !errs->is_array()) return false;
    for (const auto& e : errs->get_array()) {
      if (e.is_object() && str(e.get_object(), "field") == field) return true;
    }
    return false;
  }

  http_response post_raw_body(std::string body, std::string content_type = "application/json") {
    return w.otpd->call("POST", "/v1/verifications", {{"Content-Type", content_type}},
                        std::move(body));
  }

  single_world w{options()};
};

TEST_F(e2e_bad_input, malformed_json) {
  http_response r = post_raw_body(R"({"to": "0912345678",)");
  expect_problem(r, 400, "malformed_json");
  EXPECT_GE(num(r.obj(), "offset"), 0);
  expect_problem(post_raw_body(R"(["0912345678"])"), 400, "malformed_json");  // not an object
  r = post_raw_body(R"({"to": "0912345678", "ttl_seconds": 1e400})");         // beyond a double
  expect_problem(r, 400, "malformed_json");
  EXPECT_NE(str(r.obj(), "detail").find("out of range"), std::string::npos) << r.body;
}

TEST_F(e2e_bad_input, duplicate_keys) {
  http_response r = post_raw_body(R"({"to": "0912345678", "to": "0987654321"})");
  expect_problem(r, 400, "malformed_json");
  EXPECT_EQ(str(r.obj(), "duplicate_key"), "to") << r.body;
  w.smsc.sync();
  EXPECT_EQ(w.smsc.count("submit"), 0u);
}

TEST_F(e2e_bad_input, idempotency_key_too_long_is_a_header_problem) {
  http_response r = w.otpd->post("/v1/verifications", json::object{{"to", "0912345678"}},
                                 {{"Idempotency-Key", std::string(256, 'k')}});
  expect_problem(r, 400, "invalid_idempotency_key");
  EXPECT_EQ(str(r.obj(), "header"), "Idempotency-Key") << r.body;
  EXPECT_EQ(str(r.obj(), "title"), "Invalid Idempotency-Key header") << r.body;
  w.smsc.sync();
  EXPECT_EQ(w.smsc.count("submit"), 0u);
}

// Every 404, from the router or from an API handler, has RFC 9110's reason phrase as its title.
TEST_F(e2e_bad_input, not_found_titles_are_uniform) {
  const http_response answers[] = {
      w.otpd->get("/v1/verifications/vf_doesnotexist0000000000"),
      check(*w.otpd, "vf_doesnotexist0000000000", "123456"),
      w.otpd->get("/no/such/resource"),
  };
  for (const http_response& r : answers) {
    expect_problem(r, 404, "not_found");
    EXPECT_EQ(str(r.obj(), "title"), "Not Found") << r.body;
  }
}

TEST_F(e2e_bad_input, bare_lf_request_is_400) {
  http_response r = raw_exchange(w.otpd->port(), "GET /healthz HTTP/1.1\nHost: 127.0.0.1\n\n", 10s);
  expect_problem(r, 400, "bad_request");
}

TEST_F(e2e_bad_input, unreadable_transfer_coding_is_400_and_closes) {
  // Were "xchunked" taken for no body, its body would be answered as a second request on the
  // same connection, and the connection would stay open until the deadline.
  // (/healthz: the API listener's one public route, /metrics being on the ops listener.)
  const std::string smuggled = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const std::string attack =
      "POST /v1/verifications HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Transfer-Encoding: xchunked\r\n\r\n" +
      smuggled;
  const auto start = std::chrono::steady_clock::now();
  http_response r = raw_exchange(w.otpd->port(), attack, 10s);
  expect_problem(r, 400, "bad_request");
  EXPECT_EQ(r.body.find("\"status\":\"ok\""), std::string::npos) << r.body;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 9s) << "the connection stayed open";

  r = raw_exchange(w.otpd->port(),
                   "POST /v1/verifications HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "0\r\n\r\n",
                   10s);
  expect_problem(r, 400, "bad_request");
}

TEST_F(e2e_bad_input, wrong_types) {
  http_response r = post_raw_body(R"({"to": 912345678})");
  expect_problem(r, 400, "invalid_request");
  EXPECT_TRUE(names_field(r, "to")) << r.body;
  r = post_raw_body(R"({"to": "0912345678", "ttl_seconds": "60"})");
  expect_problem(r, 400, "invalid_request");
  EXPECT_TRUE(names_field(r, "ttl_seconds")) << r.body;
}

TEST_F(e2e_bad_input, unknown_fields) {
  http_response r = post_raw_body(R"({"to": "0912345678", "too": "x"})");
  expect_problem(r, 400, "invalid_request");
  EXPECT_TRUE(names_field(r, "too")) << r.body;
}

TEST_F(e2e_bad_input, body_over_the_limit) {
  std::string body = R"({"to": "0912345678", "locale": ")" + std::string(4000, 'x') + R"("})";
  http_response r = post_raw_body(body);
  expect_problem(r, 413, "content_too_large");
}

TEST_F(e2e_bad_input, bad_numbers) {
  for (const char* to : {"0912", "+84 91x 345 678", "not a number"}) {
    http_response r = w.otpd->post("/v1/verifications", json::object{{"to", to}});
    expect_problem(r, 422, "invalid_number");
  }
  w.smsc.sync();
  EXPECT_EQ(w.smsc.count("submit"), 0u);
}

TEST_F(e2e_bad_input, unknown_ids) {
  expect_problem(w.otpd->get("/v1/verifications/vf_doesnotexist0000000000"), 404, "not_found");
  expect_problem(check(*w.otpd, "vf_doesnotexist0000000000", "123456"), 404, "not_found");
}

TEST_F(e2e_bad_input, no_or_wrong_api_key) {
  http_response r =
      w.otpd->post("/v1/verifications", json::object{{"to", "0912345678"}}, {}, /*auth=*/false);
  expect_problem(r, 401, "unauthorized");
  EXPECT_TRUE(r.header("www-authenticate")) << "no WWW-Authenticate";
  r = w.otpd->post("/v1/verifications", json::object{{"to", "0912345678"}},
                   {{"Authorization", "Bearer not-the-key-at-all-1234"}}, /*auth=*/false);
  expect_problem(r, 401, "unauthorized");
  w.smsc.sync();
  EXPECT_EQ(w.smsc.count("submit"), 0u);
}

TEST_F(e2e_bad_input, wrong_content_type) {
  http_response r = post_raw_body(R"({"to": "0912345678"})", "text/plain");
  expect_problem(r, 415, "unsupported_media_type");
}

TEST_F(e2e_bad_input, slow_client) {
  // Half a request and then nothing: read_timeout (1 s) answers 408 and closes.
  const std::string partial =
      "POST /v1/verifications HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
  http_response r = raw_exchange(w.otpd->port(), partial, 10s);
  expect_problem(r, 408, "request_timeout");
}

}  // namespace
}  // namespace otpd::test::e2e
