// The reload plan: which changed sections of the file apply at once, which as a diff, which
// wait for a restart.
#include "daemon/app/reload_plan.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace otpd::app {
namespace {

boost::json::object doc(std::string_view json) { return boost::json::parse(json).as_object(); }

const boost::json::object running = doc(R"({
  "listeners": [{"address": "127.0.0.1", "port": 8080}],
  "api_keys": [{"name": "a", "key": "fp:1"}],
  "policy": {"ttl": "5m"},
  "routing": {"carriers": [{"name": "vn"}]},
  "voice": {"tts": "espeak", "trunks": [{"name": "t1"}]},
  "webhooks": {"url": "fp:2"}
})");

// The plan changes exactly one section, in this way.
void expect_only(const reload_plan& plan, std::string_view name, section_change change) {
  ASSERT_EQ(plan.changed.size(), 1u) << name;
  EXPECT_EQ(plan.changed[0], (changed_section{std::string(name), change}));
}

boost::json::object with(boost::json::object d, std::string_view key, boost::json::value v) {
  d[key] = std::move(v);
  return d;
}

TEST(reload_plan, an_unchanged_file_changes_nothing) {
  const reload_plan plan = plan_reload(running, running, true);
  EXPECT_TRUE(plan.changed.empty());
  EXPECT_TRUE(plan.restart_needed().empty());
  EXPECT_TRUE(plan.apply_trunks);
}

TEST(reload_plan, each_live_section_applies_at_once) {
  for (std::string_view key :
       {"api_keys", "policy", "rate_limits", "number_plan", "templates", "logging"}) {
    const auto next = with(running, key, doc(R"({"changed": true})"));
    const reload_plan plan = plan_reload(running, next, false);
    expect_only(plan, key, section_change::live);
    EXPECT_TRUE(plan.restart_needed().empty()) << key;
  }
}

TEST(reload_plan, routing_applies_as_a_diff) {
  const auto next = with(running, "routing", doc(R"({"carriers": [{"name": "th"}]})"));
  const reload_plan plan = plan_reload(running, next, false);
  expect_only(plan, "routing", section_change::diff);
}

TEST(reload_plan, changed_trunks_apply_as_a_diff_only_when_otpd_has_a_dialer) {
  const auto next = with(running, "voice", doc(R"({"tts": "espeak", "trunks": [{"name": "t2"}]})"));
  const reload_plan with_dialer = plan_reload(running, next, true);
  EXPECT_TRUE(with_dialer.apply_trunks);
  expect_only(with_dialer, "voice", section_change::diff);
  EXPECT_TRUE(with_dialer.restart_needed().empty());

  const reload_plan without = plan_reload(running, next, false);
  EXPECT_FALSE(without.apply_trunks);
  EXPECT_EQ(without.restart_needed(), std::vector<std::string>{"voice"});
}

TEST(reload_plan, a_voice_change_beside_the_trunks_needs_a_restart) {
  const auto next =
      with(running, "voice", doc(R"({"tts": "recordings", "trunks": [{"name": "t2"}]})"));
  const reload_plan plan = plan_reload(running, next, true);
  EXPECT_FALSE(plan.apply_trunks);
  expect_only(plan, "voice", section_change::restart_needed);
}

TEST(reload_plan, a_voice_section_added_or_removed_needs_a_restart) {
  boost::json::object without = running;
  without.erase("voice");
  const reload_plan added = plan_reload(without, running, true);
  EXPECT_FALSE(added.apply_trunks);
  EXPECT_EQ(added.restart_needed(), std::vector<std::string>{"voice"});
  const reload_plan removed = plan_reload(running, without, true);
  EXPECT_FALSE(removed.apply_trunks);
  EXPECT_EQ(removed.restart_needed(), std::vector<std::string>{"voice"});
}

TEST(reload_plan, the_store_and_the_cluster_wait_for_a_restart) {
  auto next = with(running, "store", doc(R"({"kind": "postgres", "postgres": {"url": "fp:1"}})"));
  next = with(next, "cluster", doc(R"({"node": "web-2", "lease": "15s"})"));
  const reload_plan plan = plan_reload(running, next, true);
  EXPECT_EQ(plan.restart_needed(), (std::vector<std::string>{"cluster", "store"}));
  boost::json::object adopted = running;
  adopt_applied(plan, next, adopted);
  EXPECT_EQ(adopted, running);  // still running with the old ones: the next reload names them
}

TEST(reload_plan, other_sections_wait_for_a_restart_and_are_named_in_order) {
  auto next = with(running, "webhooks", doc(R"({"url": "fp:3"})"));
  next = with(next, "listeners", boost::json::parse(R"([{"address": "127.0.0.1", "port": 9090}])"));
  next = with(next, "store", doc(R"({"sqlite_path": "/var/lib/otpd/x.db"})"));
  next = with(next, "policy", doc(R"({"ttl": "10m"})"));
  const reload_plan plan = plan_reload(running, next, false);
  EXPECT_EQ(plan.restart_needed(), (std::vector<std::string>{"listeners", "store", "webhooks"}));
  ASSERT_EQ(plan.changed.size(), 4u);
  EXPECT_EQ(plan.changed[1], (changed_section{"policy", section_change::live}));
}

TEST(reload_plan, a_removed_section_is_a_change) {
  boost::json::object next = running;
  next.erase("webhooks");
  next.erase("policy");
  const reload_plan plan = plan_reload(running, next, false);
  ASSERT_EQ(plan.changed.size(), 2u);
  EXPECT_EQ(plan.changed[0], (changed_section{"policy", section_change::live}));
  EXPECT_EQ(plan.changed[1], (changed_section{"webhooks", section_change::restart_needed}));
}

TEST(reload_plan, adopting_keeps_what_waits_for_a_restart_so_that_it_is_named_again) {
  auto next = with(running, "policy", doc(R"({"ttl": "10m"})"));
  next = with(next, "webhooks", doc(R"({"url": "fp:3"})"));
  boost::json::object now = running;
  adopt_applied(plan_reload(now, next, false), next, now);
  EXPECT_EQ(now.at("policy"), next.at("policy"));
  EXPECT_EQ(now.at("webhooks"), running.at("webhooks"));
  const reload_plan again = plan_reload(now, next, false);
  EXPECT_EQ(again.restart_needed(), std::vector<std::string>{"webhooks"});
  ASSERT_EQ(again.changed.size(), 1u);
}

TEST(reload_plan, adopting_a_removed_live_section_leaves_null) {
  boost::json::object next = running;
  next.erase("policy");
  boost::json::object now = running;
  adopt_applied(plan_reload(now, next, false), next, now);
  ASSERT_TRUE(now.contains("policy"));
  EXPECT_TRUE(now.at("policy").is_null());
}

}  // namespace
}  // namespace otpd::app
