// Each rate limit, configured small, answers 429 with its own slug and a Retry-After that
// matches the window (sliding: the oldest counted send leaves it). One otpd per limit, the
// other kinds off, so that each answer can only come from the limit under test.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

// The 429 answer names `slug`, and Retry-After (header and body) lies in [lo, hi] seconds.
void expect_limited(const http_response& r, std::string_view slug, int lo, int hi) {
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.problem_slug(), slug) << r.body;
  const auto header = r.header("retry-after");
  ASSERT_TRUE(header) << "no Retry-After";
  const int secs = std::atoi(header->c_str());
  EXPECT_GE(secs, lo) << *header;
  EXPECT_LE(secs, hi) << *header;
  EXPECT_EQ(num(r.obj(), "retry_after"), secs);
}

TEST(e2e_limits, per_number) {
  otpd_options opts;
  opts.rate_limits["per_number"] = "[{max: 2, window: 10m}]";
  single_world w(opts);
  otpd_process& o = *w.otpd;

  EXPECT_FALSE(create(o, {{"to", "0912345678"}}).empty());
  EXPECT_FALSE(create(o, {{"to", "+84 912-345-678"}}).empty());  // the same number, typed otherwise
  http_response r = o.post("/v1/verifications", json::object{{"to", "84912345678"}});
  expect_limited(r, "rate_limited_number", 590, 600);
  // Another number is not affected.
  EXPECT_FALSE(create(o, {{"to", "0912345670"}}).empty());
  // Once the window has passed, the number may be sent to again.
  o.advance_clock(std::chrono::seconds(std::atoi(r.header("retry-after").value_or("600").c_str())));
  EXPECT_FALSE(create(o, {{"to", "0912345678"}}).empty());
}

TEST(e2e_limits, per_api_key) {
  otpd_options opts;
  opts.rate_limits["per_api_key"] = "[{max: 2, window: 1h}]";
  single_world w(opts);
  otpd_process& o = *w.otpd;

  EXPECT_FALSE(create(o, {{"to", "0912000001"}}).empty());
  EXPECT_FALSE(create(o, {{"to", "0913000002"}}).empty());
  expect_limited(o.post("/v1/verifications", json::object{{"to", "0914000003"}}),
                 "rate_limited_api_key", 3590, 3600);
}

TEST(e2e_limits, per_client_ip) {
  otpd_options opts;
  opts.rate_limits["per_client_ip"] = "[{max: 2, window: 1m}]";
  single_world w(opts);
  otpd_process& o = *w.otpd;

  EXPECT_FALSE(create(o, {{"to", "0912000001"}, {"client_ip", "203.0.113.7"}}).empty());
  EXPECT_FALSE(create(o, {{"to", "0913000002"}, {"client_ip", "203.0.113.7"}}).empty());
  expect_limited(
      o.post("/v1/verifications", json::object{{"to", "0914000003"}, {"client_ip", "203.0.113.7"}}),
      "rate_limited_ip", 50, 60);
  // Another end user, and a request without an IP, are not affected.
  EXPECT_FALSE(create(o, {{"to", "0914000003"}, {"client_ip", "203.0.113.8"}}).empty());
  EXPECT_FALSE(create(o, {{"to", "0915000004"}}).empty());
}

TEST(e2e_limits, per_prefix_budget) {
  otpd_options opts;
  opts.rate_limits["per_prefix"] = "[{max: 2, window: 1h}]";
  opts.rate_limits["prefix_digits"] = "5";
  single_world w(opts);
  otpd_process& o = *w.otpd;

  // +84912... twice fills the budget of the prefix 84912, whatever the number.
  EXPECT_FALSE(create(o, {{"to", "0912000001"}}).empty());
  EXPECT_FALSE(create(o, {{"to", "0912000002"}}).empty());
  expect_limited(o.post("/v1/verifications", json::object{{"to", "0912000003"}}),
                 "rate_limited_prefix", 3590, 3600);
  // Another prefix has its own budget.
  EXPECT_FALSE(create(o, {{"to", "0913000003"}}).empty());
}

}  // namespace
}  // namespace otpd::test::e2e
