// The send journal: what one run records, the next reads; generations are dropped once settled;
// bad content is skipped, never trusted.
#include "daemon/store/send_journal.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/daemon/store/store_test_util.hpp"

namespace otpd::service {
namespace {

std::size_t journal_files(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    n += e.path().filename().string().rfind("sms-journal.", 0) == 0;
  }
  return n;
}

TEST(send_journal, nodes_sharing_a_folder_read_and_drop_only_their_own_files) {
  test::scratch_dir dir;
  send_journal a;
  std::string why;
  ASSERT_TRUE(a.open(dir.path(), "node-a", why)) << why;
  EXPECT_NE(a.record("v1", 1), 0u);
  // Node b starts while a runs: a's records are not b's previous run, and stay.
  send_journal b;
  ASSERT_TRUE(b.open(dir.path(), "node/b", why)) << why;
  EXPECT_FALSE(b.written_before("v1", 1));
  b.drop_previous();
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "sms-journal.node-a.1"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "sms-journal.node_b.1"));
  // a's next run finds its own record.
  send_journal a_again;
  ASSERT_TRUE(a_again.open(dir.path(), "node-a", why)) << why;
  EXPECT_TRUE(a_again.written_before("v1", 1));
}

TEST(send_journal, the_next_run_reads_what_this_one_recorded) {
  test::scratch_dir dir;
  {
    send_journal j;
    std::string why;
    ASSERT_TRUE(j.open(dir.path(), "", why)) << why;
    EXPECT_EQ(j.previous_records(), 0u);
    EXPECT_NE(j.record("vAbC-12_x", 1), 0u);
    EXPECT_NE(j.record("vAbC-12_x", 2), 0u);
    EXPECT_NE(j.record("other", 1), 0u);
  }  // no close, no flush: what write(2) took is what a crash leaves
  send_journal next;
  std::string why;
  ASSERT_TRUE(next.open(dir.path(), "", why)) << why;
  EXPECT_TRUE(next.written_before("vAbC-12_x", 1));
  EXPECT_TRUE(next.written_before("vAbC-12_x", 2));
  EXPECT_TRUE(next.written_before("other", 1));
  EXPECT_FALSE(next.written_before("other", 2));
  EXPECT_FALSE(next.written_before("nobody", 1));
  EXPECT_EQ(journal_files(dir.path()), 2u);  // the previous generation and the new one
  next.drop_previous();
  EXPECT_FALSE(next.written_before("other", 1));
  EXPECT_EQ(journal_files(dir.path()), 1u);
}

TEST(send_journal, refuses_what_is_not_a_verification_id_and_skips_garbage) {
  test::scratch_dir dir;
  {
    std::ofstream f(dir.path() / "sms-journal.7");
    f << "good 3\n"
      << "no-number\n"
      << "bad id 1\n"
      << "neg -1\n"
      << "zero 0\n"
      << "huge 99999999999999999999\n"
      << std::string(200, 'a') << " 1\n"
      << "cut 4";  // a record cut short by the crash, still whole
  }
  { std::ofstream(dir.path() / "sms-journal.x") << "ignored 1\n"; }
  send_journal j;
  std::string why;
  ASSERT_TRUE(j.open(dir.path(), "", why)) << why;
  EXPECT_TRUE(j.written_before("good", 3));
  EXPECT_TRUE(j.written_before("cut", 4));
  EXPECT_EQ(j.previous_records(), 2u);
  EXPECT_EQ(j.generation(), 8u);  // after the highest found
  EXPECT_EQ(j.record("has space", 1), 0u);
  EXPECT_EQ(j.record("", 1), 0u);
  EXPECT_EQ(j.record("ok", 0), 0u);
  EXPECT_EQ(j.record(std::string(send_journal::max_id_length + 1, 'a'), 1), 0u);
}

// A full generation is deleted once every attempt recorded in it is settled; the current one
// stays.
TEST(send_journal, a_settled_full_generation_is_deleted) {
  test::scratch_dir dir;
  send_journal j;
  std::string why;
  ASSERT_TRUE(j.open(dir.path(), "", why)) << why;
  const std::uint64_t first = j.generation();
  std::vector<std::uint64_t> gens;
  for (std::size_t i = 0; i < send_journal::records_per_generation; ++i) {
    gens.push_back(j.record("v" + std::to_string(i), 1));
    ASSERT_EQ(gens.back(), first);
  }
  const std::uint64_t second = j.record("next", 1);
  EXPECT_EQ(second, first + 1);
  EXPECT_EQ(journal_files(dir.path()), 2u);
  for (std::size_t i = 0; i + 1 < gens.size(); ++i) j.settle(gens[i]);
  EXPECT_EQ(journal_files(dir.path()), 2u);  // one attempt of the first still unsettled
  j.settle(gens.back());
  EXPECT_EQ(journal_files(dir.path()), 1u);
  j.settle(second);
  EXPECT_EQ(journal_files(dir.path()), 1u);  // the current generation stays
}

TEST(send_journal, an_unwritable_folder_is_reported_and_records_nothing) {
  send_journal j;
  std::string why;
  EXPECT_FALSE(j.open("/nonexistent/otpd-journal-test", "", why));
  EXPECT_FALSE(why.empty());
  EXPECT_EQ(j.record("v1", 1), 0u);
}

}  // namespace
}  // namespace otpd::service
