// The HTTP rules decided on a request's header section (daemon/http/request_policy and
// route_request), one rule a test, on requests built in memory: no socket, no parser.
#include "daemon/http/request_policy.hpp"
#include "daemon/http/route_request.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace otpd::http {
namespace {

namespace asio = boost::asio;

request make(method m, std::string target, unsigned version = 11) {
  request req;
  req.method = m;
  req.method_string = std::string(to_string(m));
  req.target = std::move(target);
  req.version = version;
  if (version == 11) req.headers.add("Host", "otpd.test");
  return req;
}

unsigned status_of(const std::optional<response>& r) { return r ? r->status : 0; }

// --- check_head ------------------------------------------------------------------------------

TEST(request_policy, an_origin_form_target_passes_and_fills_the_path) {
  request req = make(method::get, "/v1/verifications/abc");
  const head_verdict v = check_head(req);
  EXPECT_FALSE(v.early);
  EXPECT_EQ(req.path, "/v1/verifications/abc");
  EXPECT_EQ(req.query_string, "");
  EXPECT_TRUE(req.query.empty());
}

TEST(request_policy, a_version_other_than_1_0_and_1_1_is_505_and_closes) {
  for (const unsigned version : {9u, 20u, 12u}) {
    request req = make(method::get, "/", version);
    const head_verdict v = check_head(req);
    EXPECT_EQ(status_of(v.early), 505u) << version;
    EXPECT_TRUE(v.close) << version;
  }
}

TEST(request_policy, http_1_1_needs_exactly_one_host) {
  request none = make(method::get, "/");
  none.headers.erase("Host");
  const head_verdict missing = check_head(none);
  EXPECT_EQ(status_of(missing.early), 400u);
  EXPECT_TRUE(missing.close);

  request two = make(method::get, "/");
  two.headers.add("host", "other.test");
  const head_verdict twice = check_head(two);
  EXPECT_EQ(status_of(twice.early), 400u);
  EXPECT_TRUE(twice.close);
}

TEST(request_policy, http_1_0_needs_no_host) {
  request req = make(method::get, "/healthz", 10);
  EXPECT_FALSE(check_head(req).early);
  EXPECT_EQ(req.path, "/healthz");
}

TEST(request_policy, a_transfer_coding_we_cannot_read_is_400_and_closes) {
  request gzip = make(method::post, "/v1/verifications");
  gzip.headers.add("Transfer-Encoding", "gzip");
  const head_verdict v = check_head(gzip);
  EXPECT_EQ(status_of(v.early), 400u);
  EXPECT_TRUE(v.close);

  request chunked_10 = make(method::post, "/v1/verifications", 10);
  chunked_10.headers.add("Transfer-Encoding", "chunked");
  EXPECT_EQ(status_of(check_head(chunked_10).early), 400u);

  request chunked = make(method::post, "/v1/verifications");
  chunked.headers.add("Transfer-Encoding", "chunked");
  EXPECT_FALSE(check_head(chunked).early);
}

TEST(request_policy, an_absolute_form_target_is_reduced_to_its_path_and_query) {
  request req = make(method::get, "https://otpd.test:8443/v1/verifications/x?verbose=1");
  EXPECT_FALSE(check_head(req).early);
  EXPECT_EQ(req.path, "/v1/verifications/x");
  EXPECT_EQ(req.query_string, "verbose=1");

  request bare = make(method::get, "http://otpd.test");
  EXPECT_FALSE(check_head(bare).early);
  EXPECT_EQ(bare.path, "/");

  request query_only = make(method::get, "http://otpd.test?x=1");
  const head_verdict v = check_head(query_only);
  EXPECT_EQ(status_of(v.early), 400u);
  EXPECT_TRUE(v.close);
}

TEST(request_policy, options_star_is_answered_204_with_allow_and_keeps_the_connection) {
  request req = make(method::options, "*");
  const head_verdict v = check_head(req);
  ASSERT_EQ(status_of(v.early), 204u);
  EXPECT_FALSE(v.close);
  EXPECT_EQ(v.early->headers.get("Allow"), "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
}

TEST(request_policy, a_target_that_is_not_an_absolute_path_is_400_and_closes) {
  for (const char* target : {"*", "v1/verifications", ""}) {
    request req = make(method::get, target);
    const head_verdict v = check_head(req);
    EXPECT_EQ(status_of(v.early), 400u) << target;
    EXPECT_TRUE(v.close) << target;
  }
}

TEST(request_policy, the_query_is_split_and_percent_decoded) {
  request req = make(method::get, "/v1/verifications?a=1&&b=x+y%21&c");
  EXPECT_FALSE(check_head(req).early);
  EXPECT_EQ(req.path, "/v1/verifications");
  const std::vector<std::pair<std::string, std::string>> expected{
      {"a", "1"}, {"b", "x y!"}, {"c", ""}};
  EXPECT_EQ(req.query, expected);
}

TEST(request_policy, a_malformed_query_escape_is_400_and_keeps_the_connection) {
  request req = make(method::get, "/v1/verifications?a=%zz");
  const head_verdict v = check_head(req);
  EXPECT_EQ(status_of(v.early), 400u);
  EXPECT_FALSE(v.close);
}

// --- route_request ---------------------------------------------------------------------------

handler ok() {
  return [](request&) -> asio::awaitable<response> { co_return response::empty(200); };
}

struct routed : ::testing::Test {
  routed() {
    routes.add(method::get, "/v1/verifications/{id}", ok());
    routes.add(method::get, "/healthz", ok(), {.auth = access::public_route});
    keys.add("billing", sha256_hex("k-billing"));
  }

  route_verdict route(method m, std::string path, std::optional<std::string> auth = {}) {
    req = make(m, path);
    req.path = std::move(path);
    if (auth) req.headers.add("Authorization", *auth);
    return route_request(routes, keys, req);
  }

  router routes;
  api_key_auth keys;
  request req;
};

TEST_F(routed, an_unknown_method_is_501) {
  const route_verdict v = route(method::unknown, "/v1/verifications/a");
  EXPECT_EQ(status_of(v.early), 501u);
  EXPECT_EQ(v.matched, nullptr);
}

TEST_F(routed, an_unknown_path_is_404_labelled_none) {
  const route_verdict v = route(method::get, "/v2/nothing");
  EXPECT_EQ(status_of(v.early), 404u);
  EXPECT_EQ(v.label, unmatched_route);
}

TEST_F(routed, a_malformed_escape_in_a_path_parameter_is_400) {
  const route_verdict v = route(method::get, "/v1/verifications/%zz", "Bearer k-billing");
  EXPECT_EQ(status_of(v.early), 400u);
  EXPECT_EQ(v.label, "/v1/verifications/{id}");
}

TEST_F(routed, another_method_on_a_known_path_is_405_with_allow) {
  const route_verdict v = route(method::delete_, "/v1/verifications/a", "Bearer k-billing");
  ASSERT_EQ(status_of(v.early), 405u);
  EXPECT_EQ(v.early->headers.get("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(v.label, "/v1/verifications/{id}");
  EXPECT_EQ(v.matched, nullptr);
}

TEST_F(routed, options_on_a_known_path_is_204_with_allow) {
  const route_verdict v = route(method::options, "/healthz");
  ASSERT_EQ(status_of(v.early), 204u);
  EXPECT_EQ(v.early->headers.get("Allow"), "GET, HEAD, OPTIONS");
}

TEST_F(routed, a_missing_key_is_401_asking_for_one) {
  const route_verdict v = route(method::get, "/v1/verifications/a");
  ASSERT_EQ(status_of(v.early), 401u);
  EXPECT_EQ(v.early->headers.get("WWW-Authenticate"), R"(Bearer realm="otpd")");
  EXPECT_EQ(v.matched, nullptr);
  EXPECT_TRUE(req.api_key.empty());
}

TEST_F(routed, a_wrong_key_is_401_invalid_token) {
  const route_verdict v = route(method::get, "/v1/verifications/a", "Bearer k-other");
  ASSERT_EQ(status_of(v.early), 401u);
  EXPECT_EQ(v.early->headers.get("WWW-Authenticate"),
            R"(Bearer realm="otpd", error="invalid_token")");
  EXPECT_TRUE(req.api_key.empty());
}

TEST_F(routed, a_valid_key_names_the_key_and_the_route_gets_its_parameters) {
  const route_verdict v = route(method::get, "/v1/verifications/a%20b", "bearer k-billing");
  EXPECT_FALSE(v.early);
  ASSERT_NE(v.matched, nullptr);
  EXPECT_EQ(v.matched->pattern, "/v1/verifications/{id}");
  EXPECT_EQ(v.label, "/v1/verifications/{id}");
  EXPECT_EQ(req.api_key, "billing");
  EXPECT_EQ(req.param("id"), "a b");
}

TEST_F(routed, a_public_route_needs_no_key) {
  const route_verdict v = route(method::get, "/healthz");
  EXPECT_FALSE(v.early);
  ASSERT_NE(v.matched, nullptr);
  EXPECT_EQ(v.label, "/healthz");
  EXPECT_TRUE(req.api_key.empty());
}

// --- check_expectation -----------------------------------------------------------------------

TEST(request_policy, without_expect_the_body_is_read_at_once) {
  const expect_verdict v = check_expectation(make(method::post, "/"));
  EXPECT_FALSE(v.send_continue);
  EXPECT_FALSE(v.early);
}

TEST(request_policy, expect_100_continue_in_http_1_1_is_answered_100_first) {
  for (const char* value : {"100-continue", "100-Continue"}) {
    request req = make(method::post, "/");
    req.headers.add("Expect", value);
    const expect_verdict v = check_expectation(req);
    EXPECT_TRUE(v.send_continue) << value;
    EXPECT_FALSE(v.early) << value;
  }
}

TEST(request_policy, expect_is_ignored_in_http_1_0) {
  request req = make(method::post, "/", 10);
  req.headers.add("Expect", "something-else");
  const expect_verdict v = check_expectation(req);
  EXPECT_FALSE(v.send_continue);
  EXPECT_FALSE(v.early);
}

TEST(request_policy, another_expectation_is_417) {
  request req = make(method::post, "/");
  req.headers.add("Expect", "200-ok");
  const expect_verdict v = check_expectation(req);
  EXPECT_FALSE(v.send_continue);
  EXPECT_EQ(status_of(v.early), 417u);
}

}  // namespace
}  // namespace otpd::http
