#include "daemon/http/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace otpd::http {
namespace {

namespace asio = boost::asio;
using kind = router::match_result::kind;

handler reply(std::string text) {
  return [text](request& req) -> asio::awaitable<response> {
    std::string body = text;
    for (const auto& [k, v] : req.params) body += " " + k + "=" + v;
    co_return response::text(200, body);
  };
}

router make_router() {
  router r;
  r.add(method::post, "/v1/verifications", reply("create"));
  r.add(method::get, "/v1/verifications/{id}", reply("get"));
  r.add(method::post, "/v1/verifications/{id}/check", reply("check"));
  r.add(method::post, "/v1/verifications/{id}/resend", reply("resend"));
  r.add(method::get, "/v1/verifications/stats", reply("stats"));
  r.add(method::get, "/healthz", reply("health"), {.auth = access::public_route});
  r.add(method::get, "/", reply("root"));
  return r;
}

TEST(router, literal_paths) {
  const auto r = make_router();
  auto m = r.match(method::post, "/v1/verifications");
  ASSERT_EQ(m.result, kind::found);
  EXPECT_EQ(m.route->pattern, "/v1/verifications");
  EXPECT_EQ(m.route->options.auth, access::api_key);
  EXPECT_TRUE(m.params.empty());

  m = r.match(method::get, "/healthz");
  ASSERT_EQ(m.result, kind::found);
  EXPECT_EQ(m.route->options.auth, access::public_route);

  EXPECT_EQ(r.match(method::get, "/").result, kind::found);
}

TEST(router, parameters_are_captured_and_decoded) {
  const auto r = make_router();
  auto m = r.match(method::post, "/v1/verifications/v_8f3a%2Db/check");
  ASSERT_EQ(m.result, kind::found);
  EXPECT_EQ(m.route->pattern, "/v1/verifications/{id}/check");
  EXPECT_EQ(m.pattern, "/v1/verifications/{id}/check");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params.at("id"), "v_8f3a-b");

  m = r.match(method::get, "/v1/verifications/abc");
  ASSERT_EQ(m.result, kind::found);
  EXPECT_EQ(m.params.at("id"), "abc");
}

TEST(router, literal_segment_wins_over_parameter) {
  const auto r = make_router();
  auto m = r.match(method::get, "/v1/verifications/stats");
  ASSERT_EQ(m.result, kind::found);
  EXPECT_EQ(m.route->pattern, "/v1/verifications/stats");
  // ... but the parameter still matches where the literal path has no route for the rest.
  m = r.match(method::post, "/v1/verifications/stats/check");
  ASSERT_EQ(m.result, kind::found);
  EXPECT_EQ(m.params.at("id"), "stats");
}

TEST(router, unknown_paths) {
  const auto r = make_router();
  for (const char* p : {"/v1", "/v1/verifications/", "/v1/verifications/x/check/extra",
                        "/v1/verifications//check", "/nope", "", "healthz", "/HEALTHZ"}) {
    EXPECT_EQ(r.match(method::get, p).result, kind::not_found) << p;
  }
}

TEST(router, wrong_method_lists_allowed_ones) {
  const auto r = make_router();
  auto m = r.match(method::delete_, "/v1/verifications/abc");
  ASSERT_EQ(m.result, kind::method_not_allowed);
  EXPECT_EQ(m.pattern, "/v1/verifications/{id}");
  EXPECT_EQ(router::allow_header(m.allowed), "GET, HEAD, OPTIONS");
  m = r.match(method::get, "/v1/verifications/abc/check");
  ASSERT_EQ(m.result, kind::method_not_allowed);
  EXPECT_EQ(router::allow_header(m.allowed), "POST, OPTIONS");
}

TEST(router, head_uses_the_get_route) {
  const auto r = make_router();
  auto m = r.match(method::head, "/healthz");
  ASSERT_EQ(m.result, kind::found);
  EXPECT_EQ(m.route->method, method::get);
  EXPECT_EQ(r.match(method::head, "/v1/verifications").result, kind::method_not_allowed);
}

TEST(router, malformed_percent_encoding_in_a_parameter) {
  const auto r = make_router();
  EXPECT_EQ(r.match(method::get, "/v1/verifications/%zz").result, kind::bad_path);
  EXPECT_EQ(r.match(method::get, "/v1/verifications/%4").result, kind::bad_path);
  EXPECT_EQ(r.match(method::get, "/v1/verifications/a%00b").result, kind::bad_path);
}

TEST(router, bad_templates_are_refused) {
  router r;
  EXPECT_THROW(r.add(method::get, "no-slash", reply("")), std::invalid_argument);
  EXPECT_THROW(r.add(method::get, "/a/{id", reply("")), std::invalid_argument);
  EXPECT_THROW(r.add(method::get, "/a/{}", reply("")), std::invalid_argument);
  EXPECT_THROW(r.add(method::get, "/a/x{id}", reply("")), std::invalid_argument);
  EXPECT_THROW(r.add(method::get, "/a", nullptr), std::invalid_argument);
  r.add(method::get, "/a/{id}", reply(""));
  EXPECT_THROW(r.add(method::get, "/a/{id}", reply("")), std::invalid_argument);
  EXPECT_THROW(r.add(method::post, "/a/{key}/b", reply("")), std::invalid_argument);
  r.add(method::post, "/a/{id}", reply(""));  // another method: fine
}

TEST(router, handlers_see_params) {
  const auto r = make_router();
  auto m = r.match(method::post, "/v1/verifications/v1/resend");
  ASSERT_EQ(m.result, kind::found);
  request req;
  req.params = m.params;
  asio::io_context io;
  auto f = asio::co_spawn(io, m.route->handler(req), asio::use_future);
  io.run();
  EXPECT_EQ(f.get().body, "resend id=v1");
}

TEST(message, header_map_is_case_insensitive) {
  header_map h;
  h.add("Content-Type", "application/json");
  h.add("X-Multi", "a");
  h.add("x-multi", "b");
  EXPECT_EQ(h.get("content-type"), "application/json");
  EXPECT_EQ(h.get("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(h.get_all("X-MULTI"), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_FALSE(h.get("missing").has_value());
  h.set("X-Multi", "c");
  EXPECT_EQ(h.get_all("x-multi"), (std::vector<std::string_view>{"c"}));
  h.erase("X-MULTI");
  EXPECT_FALSE(h.contains("x-multi"));
}

TEST(message, percent_decoding) {
  EXPECT_EQ(percent_decode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_FALSE(percent_decode("%").has_value());
  EXPECT_FALSE(percent_decode("%4").has_value());
  EXPECT_FALSE(percent_decode("%g0").has_value());
  EXPECT_FALSE(percent_decode("%00").has_value());
}

TEST(message, methods) {
  EXPECT_EQ(method_from("GET"), method::get);
  EXPECT_EQ(method_from("DELETE"), method::delete_);
  EXPECT_EQ(method_from("get"), method::unknown);  // RFC 9110 §9.1: case-sensitive
  EXPECT_EQ(method_from("PROPFIND"), method::unknown);
  EXPECT_EQ(to_string(method::patch), "PATCH");
}

}  // namespace
}  // namespace otpd::http
