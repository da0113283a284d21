// kill -9 while writing (docs/architecture.md §7): a child writes verifications and correlations
// and prints each id once the store acknowledged it; the test SIGKILLs it at a random moment,
// several times, and checks that every acknowledged id is there, readable and checkable, and
// that the file is sound.
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/store/sqlite_store.hpp"
#include "tests/daemon/store/store_test_util.hpp"
#include "tests/support/child_process.hpp"

namespace otpd::service {
namespace {

struct printed_ids {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> ids;
};

// Runs the helper until it has acknowledged `target` ids, kills it with SIGKILL, and returns
// every id it printed (after the kill: the reader has drained the pipe).
std::vector<std::string> write_until_killed(const std::string& db, const std::string& prefix,
                                            const char* mode, std::size_t target) {
  printed_ids printed;
  otpd::test::child_process child({OTPD_STORE_CRASH_HELPER, db, prefix, mode},
                                  [&](std::string_view line) {
                                    std::lock_guard lock(printed.mutex);
                                    printed.ids.emplace_back(line);
                                    printed.changed.notify_all();
                                  });
  {
    std::unique_lock lock(printed.mutex);
    const bool reached = printed.changed.wait_for(lock, std::chrono::seconds(60),
                                                  [&] { return printed.ids.size() >= target; });
    EXPECT_TRUE(reached) << "the helper acknowledged only " << printed.ids.size();
  }
  EXPECT_EQ(::kill(child.pid(), SIGKILL), 0);
  int status = child.stop();  // reaps it and drains its stdout
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << otpd::test::describe_wait_status(status);
  std::lock_guard lock(printed.mutex);
  return printed.ids;
}

TEST(store_crash, nothing_acknowledged_is_lost_to_kill_dash_nine) {
  test::scratch_dir dir;
  const std::string db = dir.file("otpd.db");
  std::mt19937 rng(20250101);  // fixed: the same kill points on every run
  std::uniform_int_distribution<std::size_t> target(1, 400);

  std::vector<std::string> acknowledged;
  for (int round = 0; round < 6; ++round) {
    const char* mode = round % 2 == 0 ? "direct" : "executor";
    auto ids = write_until_killed(db, test::numbered("r", round), mode, target(rng));
    ASSERT_FALSE(ids.empty());
    acknowledged.insert(acknowledged.end(), ids.begin(), ids.end());

    // Reopen after each kill: recovery from the WAL the killed process left.
    std::unique_ptr<sqlite_store> s;
    std::string why;
    ASSERT_FALSE(sqlite_store::open(db, {}, s, why)) << why;
    std::string integrity;
    ASSERT_FALSE(s->integrity_check(integrity));
    EXPECT_EQ(integrity, "ok") << "after round " << round;
    for (const auto& id : ids) {
      verification v;
      ASSERT_FALSE(s->get(id, v)) << id << " acknowledged in round " << round << ", lost";
      EXPECT_EQ(v.status, verification_status::pending);
      correlation c;
      ASSERT_FALSE(s->find_correlation("crashnet", id + "-m", c)) << id;
      EXPECT_EQ(c.verification_id, id);
      // Checkable: a check is a read-modify-write of the row.
      verification checked;
      ASSERT_FALSE(s->modify(
          id,
          [](verification& m) {
            m.checks += 1;
            return error_code{};
          },
          checked))
          << id;
      EXPECT_EQ(checked.checks, 1);
    }
  }
  // Every acknowledged id of every round, once more at the end.
  std::unique_ptr<sqlite_store> s;
  std::string why;
  ASSERT_FALSE(sqlite_store::open(db, {}, s, why)) << why;
  for (const auto& id : acknowledged) {
    verification v;
    EXPECT_FALSE(s->get(id, v)) << id;
    EXPECT_EQ(v.checks, 1) << id;
  }
}

}  // namespace
}  // namespace otpd::service
