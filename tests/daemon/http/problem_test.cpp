#include "daemon/http/problem.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "daemon/http/json_body.hpp"

namespace otpd::http {
namespace {

boost::json::object body_of(const response& r) { return boost::json::parse(r.body).as_object(); }

TEST(problem, standard_members_and_extensions) {
  const auto r = problem(422, "incorrect_code", "Incorrect code", "the code does not match",
                         {{"checks_remaining", 2}, {"status", 999}, {"instance", "/v1/x"}});
  EXPECT_EQ(r.status, 422u);
  EXPECT_EQ(r.content_type, "application/problem+json");
  const auto o = body_of(r);
  EXPECT_EQ(o.at("type").as_string(), "https://otpd.dev/problems/incorrect_code");
  EXPECT_EQ(o.at("title").as_string(), "Incorrect code");
  EXPECT_EQ(o.at("status").as_int64(), 422);  // an extension cannot replace it
  EXPECT_EQ(o.at("detail").as_string(), "the code does not match");
  EXPECT_EQ(o.at("checks_remaining").as_int64(), 2);
  EXPECT_EQ(o.at("instance").as_string(), "/v1/x");
}

TEST(problem, defaults_title_to_reason_phrase_and_omits_empty_detail) {
  const auto r = problem(429, "resend_cooldown").set_header("Retry-After", "17");
  const auto o = body_of(r);
  EXPECT_EQ(o.at("title").as_string(), "Too Many Requests");
  EXPECT_FALSE(o.contains("detail"));
  EXPECT_EQ(r.headers.get("retry-after"), "17");
}

request json_request(std::string body, std::string type = "application/json") {
  request req;
  req.method = method::post;
  if (!type.empty()) req.headers.add("Content-Type", type);
  req.body = std::move(body);
  return req;
}

TEST(json_body, media_types) {
  EXPECT_TRUE(is_json_media_type("application/json"));
  EXPECT_TRUE(is_json_media_type("Application/JSON; charset=UTF-8"));
  EXPECT_TRUE(is_json_media_type("application/json;charset=\"utf-8\""));
  EXPECT_TRUE(is_json_media_type("application/merge-patch+json"));
  EXPECT_FALSE(is_json_media_type("application/json; charset=latin1"));
  EXPECT_FALSE(is_json_media_type("text/plain"));
  EXPECT_FALSE(is_json_media_type("application/x-www-form-urlencoded"));
  EXPECT_FALSE(is_json_media_type(""));
}

TEST(json_body, unsupported_media_type_is_415) {
  boost::json::value v;
  auto p = parse_json_body(json_request("{}", "text/plain"), v);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->status, 415u);
  EXPECT_EQ(body_of(*p).at("type").as_string(), "https://otpd.dev/problems/unsupported_media_type");
  p = parse_json_body(json_request("{}", ""), v);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->status, 415u);
}

TEST(json_body, malformed_json_reports_the_position) {
  boost::json::value v;
  auto p = parse_json_body(json_request("{\n  \"to\": \"+84901234567\",\n  \"locale\": vi\n}"), v);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->status, 400u);
  const auto o = body_of(*p);
  EXPECT_EQ(o.at("type").as_string(), "https://otpd.dev/problems/malformed_json");
  EXPECT_EQ(o.at("line").as_int64(), 3);
  EXPECT_EQ(o.at("column").as_int64(), 13);
  EXPECT_NE(o.at("detail").as_string().find("line 3, column 13"), std::string::npos);
}

TEST(json_body, other_malformed_bodies) {
  boost::json::value v;
  for (const char* body : {"", "   ", "{\"a\":1", "{\"a\":1} x", "[1,]", "{\"a\":1,}"}) {
    auto p = parse_json_body(json_request(body), v);
    ASSERT_TRUE(p.has_value()) << body;
    EXPECT_EQ(p->status, 400u) << body;
  }
  std::string deep(40, '[');
  deep += std::string(40, ']');
  auto p = parse_json_body(json_request(deep), v);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->status, 400u);
}

TEST(json_body, a_number_beyond_the_range_of_a_double_is_refused) {
  // The parser would make these infinities, which no JSON text can carry back out.
  boost::json::value v;
  for (const char* body : {R"({"ttl_seconds": 1e400})", R"({"a": [1, {"b": -9e9998}]})"}) {
    auto p = parse_json_body(json_request(body), v);
    ASSERT_TRUE(p.has_value()) << body;
    EXPECT_EQ(p->status, 400u) << body;
    const auto o = body_of(*p);
    EXPECT_EQ(o.at("type").as_string(), "https://otpd.dev/problems/malformed_json");
    EXPECT_NE(o.at("detail").as_string().find("out of range"), std::string::npos) << body;
  }
  EXPECT_FALSE(parse_json_body(json_request(R"({"a": 1.7e308, "b": -4.9e-324})"), v));
}

TEST(json_body, duplicate_keys_are_refused) {
  boost::json::value v;
  for (const char* body :
       {R"({"to": "+84901234567", "to": "+84900000000"})", R"({"a": {"b": 1, "\u0062": 2}})",
        R"([{"x": 1}, {"y": [{"z": 1, "z": 2}]}])", R"({"a": 1, "b": {"c": 1}, "a": 2})"}) {
    auto p = parse_json_body(json_request(body), v);
    ASSERT_TRUE(p.has_value()) << body;
    EXPECT_EQ(p->status, 400u) << body;
    const auto o = body_of(*p);
    EXPECT_EQ(o.at("type").as_string(), "https://otpd.dev/problems/malformed_json");
    EXPECT_NE(o.at("detail").as_string().find("appears twice"), std::string::npos) << body;
  }
  // The same key in different objects, or as a value, or inside a string, is no duplicate.
  for (const char* body :
       {R"({"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]})", R"({"a": "a", "b": "a"})",
        R"({"k\"ey": 1, "key": 2, "x": "\"key\": 3"})", R"([1, "a", {"a": []}])"}) {
    EXPECT_FALSE(parse_json_body(json_request(body), v)) << body;
  }
}

TEST(json_body, objects) {
  boost::json::object o;
  EXPECT_FALSE(parse_json_object(json_request(R"({"to":"+84901234567"})"), o).has_value());
  EXPECT_EQ(o.at("to").as_string(), "+84901234567");
  auto p = parse_json_object(json_request("[1,2]"), o);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->status, 400u);
}

}  // namespace
}  // namespace otpd::http
