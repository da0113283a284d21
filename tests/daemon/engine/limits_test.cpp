#include "daemon/engine/limits.hpp"

#include <string>

#include <gtest/gtest.h>

namespace otpd::engine {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> keys_of(const limit_plan& p) {
  std::vector<std::string> out;
  for (const auto& c : p.checks) out.push_back(c.key);
  return out;
}

TEST(limits, default_plan_in_order_with_windows_in_the_keys) {
  const config::rate_limits limits;
  const auto plan = plan_limits(limits, {"+84912345678", "shop", "10.0.0.1"});
  EXPECT_EQ(keys_of(plan), (std::vector<std::string>{
                               "num:+84912345678@600",
                               "num:+84912345678@86400",
                               "key:shop@1",
                               "ip:10.0.0.1@60",
                               "pfx:84912@3600",
                           }));
  ASSERT_EQ(plan.kinds.size(), plan.checks.size());
  EXPECT_EQ(plan.kinds,
            (std::vector<limit_kind>{limit_kind::number, limit_kind::number, limit_kind::api_key,
                                     limit_kind::client_ip, limit_kind::prefix}));
  EXPECT_EQ(plan.checks[0].max, 3);
  EXPECT_EQ(plan.checks[0].window, 600s);
  EXPECT_EQ(plan.checks[1].max, 10);
  EXPECT_EQ(plan.checks[1].window, 86'400s);
  EXPECT_EQ(plan.checks[4].max, 1000);
}

TEST(limits, number_without_plus_is_the_same_subject) {
  const config::rate_limits limits;
  EXPECT_EQ(keys_of(plan_limits(limits, {"84912345678", "", ""})),
            keys_of(plan_limits(limits, {"+84912345678", "", ""})));
}

TEST(limits, missing_subjects_and_disabled_limits_are_skipped) {
  config::rate_limits limits;
  limits.per_number = {{0, 600s}, {5, 0s}, {2, 60s}};
  limits.per_prefix.clear();
  const auto plan = plan_limits(limits, {"+84912345678", "", ""});
  EXPECT_EQ(keys_of(plan), std::vector<std::string>{"num:+84912345678@60"});
}

TEST(limits, prefix_digits_from_config) {
  config::rate_limits limits;
  limits.prefix_digits = 3;
  auto plan = plan_limits(limits, {"+84912345678", "", ""});
  EXPECT_EQ(plan.checks.back().key, "pfx:849@3600");
  limits.prefix_digits = 20;  // longer than the number: the whole number
  plan = plan_limits(limits, {"+84912345678", "", ""});
  EXPECT_EQ(plan.checks.back().key, "pfx:84912345678@3600");
  limits.prefix_digits = 0;  // off
  plan = plan_limits(limits, {"+84912345678", "", ""});
  EXPECT_EQ(plan.kinds.back(), limit_kind::number);
}

TEST(limits, ipv6_clients_count_per_slash64) {
  const config::rate_limits limits;
  const auto ip_key = [&](std::string_view ip) {
    return plan_limits(limits, {"+84912345678", "", ip}).checks.at(2).key;
  };
  EXPECT_EQ(ip_key("2001:db8:1:2:3:4:5:6"), "ip:2001:db8:1:2::/64@60");
  EXPECT_EQ(ip_key("2001:db8:1:2:ffff::1"), "ip:2001:db8:1:2::/64@60");
  EXPECT_NE(ip_key("2001:db8:1:3::1"), ip_key("2001:db8:1:2::1"));
  EXPECT_EQ(ip_key("::ffff:10.0.0.1"), "ip:10.0.0.1@60");
  EXPECT_EQ(ip_key("not-an-ip"), "ip:not-an-ip@60");
}

TEST(limits, refusal_maps_to_its_problem) {
  const config::rate_limits limits;
  const auto plan = plan_limits(limits, {"+84912345678", "shop", "10.0.0.1"});
  const auto slug = [&](std::size_t i) {
    service::limit_result r;
    r.allowed = false;
    r.failed_index = i;
    return std::string(problem_slug(refused_by(plan, r)));
  };
  EXPECT_EQ(slug(0), "rate_limited_number");
  EXPECT_EQ(slug(1), "rate_limited_number");
  EXPECT_EQ(slug(2), "rate_limited_api_key");
  EXPECT_EQ(slug(3), "rate_limited_ip");
  EXPECT_EQ(slug(4), "rate_limited_prefix");
  EXPECT_EQ(slug(99), "rate_limited_number");
}

}  // namespace
}  // namespace otpd::engine
