// SIGHUP: otpd reads its file again. Valid changes to the live sections apply to the next
// request; an invalid file is rejected and the running configuration kept; sections that need a
// restart are named, and the binds stay up.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

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

  // A change to a carrier's bind is named as needing a restart; the binds stay as they are.
  otpd_options moved = longer;
  moved.carriers[0].binds[0].name += "-renamed";
  write_file(file, config_yaml(moved, w.dir.path()));
  line = hup(o, "reloaded");
  ASSERT_TRUE(line) << o.output();
  EXPECT_NE(line->find("restart_needed_for=routing"), std::string::npos) << *line;
  w.smsc.sync();
  EXPECT_EQ(w.smsc.count("bind"), binds_before);
  EXPECT_EQ(o.get("/readyz", false).status, 200);
}

}  // namespace
}  // namespace otpd::test::e2e
