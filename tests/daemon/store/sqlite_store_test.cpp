// The SQLite store: the store's contract (store_contract_test.cpp) on a database file, and what
// only SQLite has: WAL mode, the schema's migrations and layout, checkpoints, an in-memory
// database, and what happens when the file cannot be written.
#include "daemon/store/sqlite_store.hpp"

#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/daemon/store/store_contract.hpp"
#include "tests/daemon/store/store_test_util.hpp"

namespace otpd::service {
namespace {

using namespace std::chrono_literals;
using test::at_ms;
using test::make_verification;
using test::store_contract;
using test::t0_ms;

// A database file in a scratch directory; each connection opens it as otpd does.
class sqlite_database final : public test::store_database {
 public:
  std::unique_ptr<store> connect() override {
    std::unique_ptr<store> s;
    std::string why;
    EXPECT_FALSE(open_sqlite_store(path_, {}, s, why)) << why;
    return s;
  }

 private:
  test::scratch_dir dir_;
  std::string path_ = dir_.file("otpd.db");
};

INSTANTIATE_TEST_SUITE_P(sqlite, store_contract,
                         ::testing::Values(test::store_backend{
                             "sqlite", [] { return std::make_unique<sqlite_database>(); }}),
                         test::backend_name);

class sqlite_store_test : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    store_.reset();
    std::string why;
    ASSERT_FALSE(sqlite_store::open(path_, {}, store_, why)) << why;
  }

  // A value read with the sqlite3 API directly, past the store.
  std::string query_text(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      out = p ? p : "NULL";
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }

  test::scratch_dir dir_;
  std::string path_ = dir_.file("otpd.db");
  std::unique_ptr<sqlite_store> store_;
};

TEST_F(sqlite_store_test, opens_in_wal_mode_with_the_current_schema) {
  EXPECT_EQ(query_text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_text("SELECT max(version) FROM schema_version"),
            std::to_string(sqlite_store::schema_version));
  // Reopening does not migrate again.
  open();
  EXPECT_EQ(query_text("SELECT count(*) FROM schema_version"),
            std::to_string(sqlite_store::schema_version));
}

// A file written by otpd before nodes were named (schema version 4) is made one by taking
// versions 5 and 6 back out of a new file: migrations 5 and 6 run again on the next open.
TEST_F(sqlite_store_test, a_version_4_database_migrates_and_its_attempts_have_no_node) {
  auto v = make_verification("v1");
  ASSERT_FALSE(store_->insert(v));
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  const char* back_to_4 =
      "DROP TABLE webhook_outbox; DROP TABLE sms_queue; DROP TABLE leases; "
      "ALTER TABLE attempts DROP COLUMN node; DELETE FROM schema_version WHERE version >= 5";
  EXPECT_EQ(sqlite3_exec(db, back_to_4, nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  ASSERT_EQ(query_text("SELECT max(version) FROM schema_version"), "4");

  open();
  EXPECT_EQ(query_text("SELECT max(version) FROM schema_version"),
            std::to_string(sqlite_store::schema_version));
  verification got;
  ASSERT_FALSE(store_->get("v1", got));
  v.attempts[0].node.clear();
  EXPECT_EQ(got, v);
  std::vector<std::string> held;
  EXPECT_FALSE(
      store_->acquire_leases("web-1", std::vector<std::string>{"purge"}, at_ms(t0_ms), 30s, held));
  EXPECT_EQ(held.size(), 1u);
}

TEST_F(sqlite_store_test, refuses_a_database_from_a_newer_otpd) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  std::string why;
  EXPECT_EQ(sqlite_store::open(path_, {}, store_, why), store_errc::io_error);
  EXPECT_NE(why.find("newer"), std::string::npos) << why;
}

TEST_F(sqlite_store_test, keeps_times_as_milliseconds_and_statuses_as_their_api_spelling) {
  auto v = make_verification("v1");
  v.attempts[0].status = attempt_status::no_answer;
  ASSERT_FALSE(store_->insert(v));
  EXPECT_EQ(query_text("SELECT created_at FROM verifications"), std::to_string(t0_ms));
  EXPECT_EQ(query_text("SELECT typeof(code_mac) FROM verifications"), "blob");
  EXPECT_EQ(query_text("SELECT status FROM attempts"), "no_answer");
  EXPECT_EQ(query_text("SELECT json_array_length(message_ids) FROM attempts"), "2");
  EXPECT_EQ(query_text("SELECT node FROM attempts"), "web-1");
}

// The contract lets a backend keep expired leases (list_leases shows them); SQLite drops those
// expired for a day, so that names of nodes and binds long gone do not pile up.
TEST_F(sqlite_store_test, purge_deletes_leases_expired_for_a_day) {
  std::vector<std::string> held;
  ASSERT_FALSE(store_->acquire_leases("web-1", std::vector<std::string>{"node:web-1"}, at_ms(t0_ms),
                                      30s, held));
  ASSERT_FALSE(store_->acquire_leases("web-2", std::vector<std::string>{"node:web-2"},
                                      at_ms(t0_ms + 3'600'000), 30s, held));
  std::size_t changed = 0;
  ASSERT_FALSE(store_->purge(at_ms(t0_ms + 86'400'000 + 30'000), 7 * 86'400s, changed));
  EXPECT_EQ(changed, 1u);
  std::vector<lease> left;
  ASSERT_FALSE(store_->list_leases("", left));
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].holder, "web-2");  // expired 23 hours ago: kept
}

TEST_F(sqlite_store_test, background_checkpoints_copy_the_log_into_the_database) {
  store_.reset();
  sqlite_options options;
  options.checkpoint_pages = 16;
  std::string why;
  ASSERT_FALSE(sqlite_store::open(path_, options, store_, why)) << why;
  const auto before = std::filesystem::file_size(path_);
  for (int i = 0; i < 300; ++i)
    ASSERT_FALSE(store_->insert(make_verification(test::numbered("v", i))));
  // Only the checkpointer writes to the database file while the store is open (the store's
  // own commits go to the log). The last commit asked for one more checkpoint, which copies
  // the whole log: the new pages are in the file now.
  ASSERT_TRUE(store_->wait_until_checkpointed(std::chrono::seconds(30)));
  EXPECT_GT(store_->checkpoints(), 0U);
  EXPECT_GT(std::filesystem::file_size(path_), before);
  verification got;
  EXPECT_FALSE(store_->get("v299", got));
}

TEST_F(sqlite_store_test, in_memory_database_works_for_tests) {
  std::unique_ptr<sqlite_store> s;
  std::string why;
  ASSERT_FALSE(sqlite_store::open(":memory:", {}, s, why)) << why;
  ASSERT_FALSE(s->insert(make_verification("v1")));
  verification got;
  EXPECT_FALSE(s->get("v1", got));
  EXPECT_EQ(s->checkpoints(), 0U);
}

TEST_F(sqlite_store_test, open_on_a_path_that_cannot_be_created_is_an_io_error) {
  std::unique_ptr<sqlite_store> s;
  std::string why;
  // /proc refuses new files even to root.
  EXPECT_EQ(sqlite_store::open("/proc/otpd-test.db", {}, s, why), store_errc::io_error);
  EXPECT_EQ(s, nullptr);
  EXPECT_NE(why.find("unable to open"), std::string::npos) << why;
}

TEST_F(sqlite_store_test, read_only_database_answers_writes_with_io_error_and_still_reads) {
  ASSERT_FALSE(store_->insert(make_verification("v1")));
  store_.reset();
  std::filesystem::permissions(path_, std::filesystem::perms::owner_read |
                                          std::filesystem::perms::group_read |
                                          std::filesystem::perms::others_read);
  // Root ignores file modes: when the test runs as root, open read-only explicitly (what
  // SQLite itself does with a write-protected file).
  sqlite_options options;
  options.read_only = ::geteuid() == 0;
  std::string why;
  ASSERT_FALSE(sqlite_store::open(path_, options, store_, why)) << why;

  EXPECT_EQ(store_->insert(make_verification("v2")), store_errc::io_error);
  EXPECT_NE(store_->last_error().find("readonly"), std::string::npos) << store_->last_error();
  verification out;
  EXPECT_EQ(store_->modify(
                "v1", [](verification&) { return error_code{}; }, out),
            store_errc::io_error);
  limit_result r;
  EXPECT_EQ(store_->check_and_count(std::vector<limit_check>{{"k", 1, 1s}}, at_ms(t0_ms), r),
            store_errc::io_error);
  verification got;
  EXPECT_FALSE(store_->get("v1", got));
  EXPECT_EQ(got.id, "v1");
}

TEST_F(sqlite_store_test, size_cap_acts_as_a_disk_full_and_reads_go_on) {
  store_.reset();
  sqlite_options options;
  options.max_size_bytes = 256 * 1024;
  std::string why;
  ASSERT_FALSE(sqlite_store::open(path_, options, store_, why)) << why;

  error_code ec;
  int written = 0;
  for (; written < 10'000; ++written) {
    auto v = make_verification(test::numbered("v", written));
    v.code_sealed = std::string(1'000, 'x');
    ec = store_->insert(v);
    if (ec) break;
  }
  EXPECT_EQ(ec, store_errc::io_error);
  EXPECT_GT(written, 10);
  EXPECT_NE(store_->last_error().find("full"), std::string::npos) << store_->last_error();
  verification got;
  EXPECT_FALSE(store_->get("v0", got));
  EXPECT_EQ(store_->get(test::numbered("v", written), got), store_errc::not_found);
}

// The process's file size limit makes every write past it fail (EFBIG) as a full disk would,
// for root too. The store must answer io_error, and work again once there is room.
TEST_F(sqlite_store_test, disk_full_is_an_io_error_and_the_store_recovers) {
  ASSERT_FALSE(store_->insert(make_verification("before")));
  const auto size = std::filesystem::file_size(path_);
  std::error_code fs_ec;
  const auto wal = std::filesystem::file_size(path_ + "-wal", fs_ec);

  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* old_handler = ::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal
  struct rlimit tight = old;
  tight.rlim_cur = std::max<rlim_t>(size, fs_ec ? 0 : wal) + 64 * 1024;

  error_code ec;
  int written = 0;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tight), 0);
  for (; written < 10'000; ++written) {
    auto v = make_verification(test::numbered("v", written));
    v.code_sealed = std::string(2'000, 'x');
    ec = store_->insert(v);
    if (ec) break;
  }
  std::string message = store_->last_error();
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);

  EXPECT_EQ(ec, store_errc::io_error);
  EXPECT_FALSE(message.empty());
  RecordProperty("sqlite_message", message);
  verification got;
  EXPECT_FALSE(store_->get("before", got));
  // Room again: writes work without reopening.
  EXPECT_FALSE(store_->insert(make_verification("after")));
  EXPECT_FALSE(store_->get("after", got));
  std::string integrity;
  ASSERT_FALSE(store_->integrity_check(integrity));
  EXPECT_EQ(integrity, "ok");
}

}  // namespace
}  // namespace otpd::service
