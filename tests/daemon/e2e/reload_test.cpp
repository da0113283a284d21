// SIGHUP: otpd reads its file again. Valid changes to the live sections apply to the next
// request; an invalid file is rejected and the running configuration kept; carriers and binds
// change as a diff under traffic (unchanged binds untouched, removed ones unbound, added ones
// bound); sections that need a restart are named, and the binds stay up.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

// Sends SIGHUP and waits for the line that says how it went (from the lines after `from`).
std::optional<std::string> hup(otpd_process& o, std::string_view outcome) {
  const std::size_t from = o.lines().size();
  EXPECT_EQ(::kill(o.pid(), SIGHUP), 0);
  return o.wait_for_line(
      [&](std::string_view l) { return l.find(outcome) != std::string_view::npos; }, 10s, from);
}

TEST(e2e_reload, sighup_applies_policy_rejects_a_bad_file_and_names_what_needs_a_restart) {
  single_world w;
  otpd_process& o = *w.otpd;
  const auto file = w.dir.path() / "otpd.yaml";

  std::size_t from = w.smsc.events().size();
  ASSERT_FALSE(create(o, json::object{{"to", "+84912345678"}}).empty());
  EXPECT_EQ(next_code(w.smsc, from, 6).size(), 6u);
  w.smsc.sync();
  const std::size_t binds_before = w.smsc.count("bind");

  // A longer code: applies to the next verification, without a restart.
  otpd_options longer = w.options;
  longer.policy["code_length"] = "8";
  write_file(file, config_yaml(longer, w.dir.path()));
  auto line = hup(o, "reloaded");
  ASSERT_TRUE(line) << o.output();
  EXPECT_NE(line->find("restart_needed_for=\"\""), std::string::npos) << *line;
  from = w.smsc.events().size();
  ASSERT_FALSE(create(o, json::object{{"to", "+84912345679"}}).empty());
  EXPECT_EQ(next_code(w.smsc, from, 8).size(), 8u);

  // An invalid file: rejected with its error, the running configuration kept.
  write_file(file, "policy:\n  code_length: eleven\n");
  ASSERT_TRUE(hup(o, "reload_rejected")) << o.output();
  EXPECT_NE(o.output().find("reload_error"), std::string::npos);
  EXPECT_NE(o.output().find("policy.code_length"), std::string::npos) << o.output();
  from = w.smsc.events().size();
  ASSERT_FALSE(create(o, json::object{{"to", "+84912345670"}}).empty());
  EXPECT_EQ(next_code(w.smsc, from, 8).size(), 8u);

  // A change to the HTTP limits is named as needing a restart; the binds stay as they are.
  otpd_options limits = longer;
  limits.http["max_body_bytes"] = "8192";
  write_file(file, config_yaml(limits, w.dir.path()));
  line = hup(o, "reloaded");
  ASSERT_TRUE(line) << o.output();
  EXPECT_NE(line->find("restart_needed_for=http"), std::string::npos) << *line;
  w.smsc.sync();
  EXPECT_EQ(w.smsc.count("bind"), binds_before);
  EXPECT_EQ(o.ops_get("/readyz").status, 200);
}

TEST(e2e_reload, binds_and_carriers_change_as_a_diff_under_traffic) {
  temp_dir dir;
  smsc_process smsc(smsc_flags());
  const auto file = dir.path() / "otpd.yaml";
  otpd_options opts;
  opts.carriers = {carrier_spec{"vn", {"84"}, {bind_spec{"vn-a", smsc.port()}}, {}}};
  otpd_process o(opts, dir.path());
  ASSERT_TRUE(o.wait_bound("vn", "vn-a")) << o.output();

  // Traffic all along: one request every 5 ms (at most 2,000, or until the end of the test),
  // each to its own number under 0912; every one must be accepted.
  std::atomic<bool> stop{false};
  std::mutex m;
  std::vector<std::string> ids;
  std::vector<std::string> refused;
  std::thread traffic([&] {
    for (int i = 0; i < 2000 && !stop; ++i) {
      char to[16];
      std::snprintf(to, sizeof to, "0912%06d", i);
      http_response r = o.post("/v1/verifications", json::object{{"to", to}});
      {
        std::lock_guard lock(m);
        if (r.status == 201) {
          ids.push_back(str(r.obj(), "id"));
        } else {
          refused.push_back(std::to_string(r.status) + " " + r.body);
        }
      }
      std::this_thread::sleep_for(5ms);  // the load's pace
    }
  });
  auto accepted = [&] {
    std::lock_guard lock(m);
    return ids.size();
  };
  auto wait_accepted = [&](std::size_t n) {
    // Some traffic between two steps, so that each reload happens with messages in flight.
    const auto deadline = steady::now() + 20s;
    while (accepted() < n && steady::now() < deadline) std::this_thread::sleep_for(5ms);
  };
  wait_accepted(20);

  // 1. A second bind: it connects; vn-a is not touched (one connection, no unbind).
  otpd_options two = opts;
  two.carriers[0].binds.push_back(bind_spec{"vn-b", smsc.port()});
  write_file(file, config_yaml(two, dir.path()));
  ASSERT_TRUE(hup(o, "bind vn-b added")) << o.output();
  ASSERT_TRUE(o.wait_bound("vn", "vn-b")) << o.output();
  smsc.sync();
  EXPECT_EQ(smsc.count("connect"), 2u);
  EXPECT_EQ(smsc.count("unbind"), 0u);
  wait_accepted(accepted() + 20);

  // 2. vn-a removed: it unbinds gracefully; vn-b carries on.
  otpd_options only_b = opts;
  only_b.carriers[0].binds = {bind_spec{"vn-b", smsc.port()}};
  write_file(file, config_yaml(only_b, dir.path()));
  ASSERT_TRUE(hup(o, "bind vn-a removed")) << o.output();
  ASSERT_TRUE(smsc.wait_for(event_is("unbind"), 15s)) << o.output();
  wait_accepted(accepted() + 20);

  // 3. A second carrier (its own SMSC) for 098 numbers: it binds and takes them; vn is
  // untouched.
  smsc_process smsc2(smsc_flags());
  otpd_options with_vn2 = only_b;
  with_vn2.carriers.push_back(
      carrier_spec{"vn2", {"8498"}, {bind_spec{"vn2-x", smsc2.port()}}, {}});
  write_file(file, config_yaml(with_vn2, dir.path()));
  ASSERT_TRUE(hup(o, "vn2: carrier added")) << o.output();
  ASSERT_TRUE(o.wait_bound("vn2", "vn2-x")) << o.output();
  const std::string other = create(o, json::object{{"to", "0981234567"}});
  ASSERT_FALSE(other.empty());
  json::object v = o.poll_verification(
      other, [](const json::object& b) { return attempt_status_is(b, 0, "delivered"); });
  EXPECT_EQ(str(attempt(v, 0), "carrier"), "vn2") << json::serialize(v);
  wait_accepted(accepted() + 20);
  stop = true;
  traffic.join();

  // Nothing refused, nothing lost: every verification delivered, each SMS taken once, and the
  // SMSC saw 2 connections in all (vn-a, vn-b): no bind reconnected.
  EXPECT_TRUE(refused.empty()) << refused.size() << " refused, the first: " << refused.front();
  for (const std::string& id : ids) {
    json::object x = o.poll_verification(
        id, [](const json::object& b) { return attempt_status_is(b, 0, "delivered"); }, 5s);
    EXPECT_EQ(str(attempt(x, 0), "status"), "delivered") << json::serialize(x);
  }
  smsc.sync();
  smsc2.sync();
  EXPECT_EQ(smsc.count("submit"), ids.size());
  EXPECT_EQ(smsc2.count("submit"), 1u);
  EXPECT_EQ(smsc.count("connect"), 2u);
  EXPECT_EQ(smsc.count("unbind"), 1u);
}

}  // namespace
}  // namespace otpd::test::e2e
