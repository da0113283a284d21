// What /proc and the file system show of a running otpd: ${env:} secrets leave the
// environment once read; what it creates is private (umask 077); and a configuration file
// others may write is refused, at start and on reload. (What a core holds: core_dump_test.cpp.)
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <iterator>

#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(e2e_secrets, env_secrets_leave_the_environment_and_files_are_private) {
  otpd_options opts;
  opts.environment = {"OTPD_E2E_UNRELATED=still-here"};
  single_world w(opts);
  const std::string environ = read_all("/proc/" + std::to_string(w.otpd->pid()) + "/environ");
  ASSERT_NE(environ.find("OTPD_E2E_UNRELATED=still-here"), std::string::npos) << "no environ read";
  for (std::string_view s : {mac_key, smsc_password, api_key}) {
    EXPECT_EQ(environ.find(s), std::string::npos) << s << " is still in /proc/PID/environ";
  }
  EXPECT_EQ(environ.find("OTPD_E2E_MAC_KEY"), std::string::npos);

  // The SQLite file otpd created, whatever the test's own umask.
  struct stat st {};
  ASSERT_EQ(::stat((w.dir.path() / "otpd.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(e2e_secrets, a_config_file_others_may_write_is_refused_and_a_reload_keeps_the_old_one) {
  single_world w;
  otpd_process& o = *w.otpd;
  const fs::path file = w.dir.path() / "otpd.yaml";
  fs::permissions(file, fs::perms::group_write | fs::perms::others_write, fs::perm_options::add);

  const std::size_t from = o.lines().size();
  ASSERT_EQ(::kill(o.pid(), SIGHUP), 0);
  ASSERT_TRUE(o.wait_for_line(
      [](std::string_view l) { return l.find("reload_rejected") != std::string_view::npos; }, 10s,
      from))
      << o.output();
  EXPECT_NE(o.output().find("writable by its group or by others"), std::string::npos) << o.output();
  // Still serving with what it had.
  w.smsc.sync();
  const std::size_t mark = w.smsc.size();
  ASSERT_FALSE(create(o, json::object{{"to", "+84912345678"}}).empty());
  EXPECT_EQ(next_code(w.smsc, mark).size(), 6u);

  // And at start: refused with exit 1.
  child_process again(
      {OTPD_BINARY, "--config", file.string()}, [](std::string_view) {},
      child_process::options{.merge_stderr = true});
  const auto status = again.wait_exit(child_process::clock::now() + 30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << describe_wait_status(*status);
}

}  // namespace
}  // namespace otpd::test::e2e
