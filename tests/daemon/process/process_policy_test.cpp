#include "daemon/process/process_policy.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace otpd::process {
namespace {

TEST(process_policy, starts_not_dumpable_with_private_files) {
  harden_at_start();
  EXPECT_FALSE(dumpable());
  const mode_t previous = ::umask(077);
  EXPECT_EQ(previous, 077u);

  const auto path =
      std::filesystem::temp_directory_path() / ("otpd-umask-" + std::to_string(::getpid()) + ".db");
  const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0666);  // as SQLite does
  ASSERT_GE(fd, 0);
  ::close(fd);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  std::filesystem::remove(path);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(process_policy, core_dumps_only_when_asked) {
  harden_at_start();
  EXPECT_TRUE(apply_core_dump_policy(true));
  EXPECT_TRUE(dumpable());
  EXPECT_FALSE(apply_core_dump_policy(false));
  EXPECT_FALSE(dumpable());
}

TEST(env_secrets, read_variables_leave_the_environment_and_stay_readable) {
  ::setenv("OTPD_TEST_SECRET", "env-secret-value", 1);
  ::setenv("OTPD_TEST_OTHER", "untouched", 1);
  env_secrets env(nullptr);
  EXPECT_EQ(env.get("OTPD_TEST_SECRET"), "env-secret-value");
  EXPECT_EQ(env.get("OTPD_TEST_UNSET"), std::nullopt);
  EXPECT_EQ(env.scrub(), 1u);
  EXPECT_EQ(std::getenv("OTPD_TEST_SECRET"), nullptr);
  EXPECT_STREQ(std::getenv("OTPD_TEST_OTHER"), "untouched");
  // A reload names it again: the kept value answers.
  EXPECT_EQ(env.get("OTPD_TEST_SECRET"), "env-secret-value");
  EXPECT_EQ(env.scrub(), 0u);
  ::unsetenv("OTPD_TEST_OTHER");
}

TEST(env_secrets, overwrites_the_kernels_copy) {
  // A block laid out as the kernel does, with environ pointing into it.
  char block[] = "OTPD_TEST_STACK=stack-secret\0OTHER=x";
  char* entries[] = {block, block + sizeof "OTPD_TEST_STACK=stack-secret", nullptr};
  char** saved = environ;
  environ = entries;
  env_secrets env(entries);
  EXPECT_EQ(env.get("OTPD_TEST_STACK"), "stack-secret");
  EXPECT_EQ(env.scrub(), 1u);
  EXPECT_EQ(std::getenv("OTPD_TEST_STACK"), nullptr);
  environ = saved;
  EXPECT_EQ(std::string(block, sizeof "OTPD_TEST_STACK=stack-secret" - 1),
            std::string(sizeof "OTPD_TEST_STACK=stack-secret" - 1, '\0'));
  EXPECT_STREQ(block + sizeof "OTPD_TEST_STACK=stack-secret", "OTHER=x");
}

}  // namespace
}  // namespace otpd::process
