// The embedded store: one SQLite database in WAL mode (docs/architecture.md §7). One object is one
// connection and is not thread-safe: use it from one thread at a time (store_executor gives it
// a thread of its own). Several processes may open the same file; every write runs in a
// BEGIN IMMEDIATE transaction, so they serialise on SQLite's lock (up to busy_timeout).
//
// Schema (version 6; `schema_version` holds the applied migrations):
//   verifications  one row per verification, times as integer milliseconds since the Unix
//                  epoch, statuses as their API spelling, code_mac / code_sealed as BLOB;
//                  unique (api_key, idempotency_key) where the key is not empty
//   attempts       (verification_id, number) -> the attempt; message_ids as a JSON array;
//                  SMS of unknown outcome indexed by (carrier, created_at); node: the node
//                  sending it ('' in rows from before version 5)
//   correlations   (carrier, key) -> verification_id, attempt, part, created_at
//   rate_events    (key, at, keep_until): one row per counted event; kept until the longest
//                  window a check on that key used when it was counted
//   leases         name -> holder, expires_at
//   sms_queue      (verification_id, attempt) -> carriers (JSON array), sealed_code (BLOB),
//                  locale, queued_at, deadline, claimed_by ('' while queued)
//   webhook_outbox seq (AUTOINCREMENT: never reused) -> verification_id, body, created_at,
//                  attempts, next_at, claimed_by, claim_until
// Deleting a verification deletes its attempts, correlations, queued SMS and undelivered
// webhook events (foreign keys, cascade).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "daemon/store/row_cache.hpp"
#include "daemon/store/store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace otpd::service {

struct sqlite_options {
  // How long a write waits for another process's write lock before failing with io_error.
  std::chrono::milliseconds busy_timeout{5000};
  // A cap on the database size (0: none): past it writes fail as on a full disk (io_error).
  std::uint64_t max_size_bytes = 0;
  // Open without write access (inspection tools): every write fails with io_error.
  bool read_only = false;
  // WAL checkpoints copy the log back into the database and fsync both: the one slow step of a
  // WAL database. true: they run on a thread (and connection) of their own once the log holds
  // checkpoint_pages pages, off the write path, without ever making a write wait; only if
  // writes never pause and the log reaches 16 times that does a checkpoint make writes wait
  // while it resets the log (a stall rather than an unbounded file). false: SQLite's automatic
  // checkpoint, inside the commit that crosses checkpoint_pages.
  bool background_checkpoint = true;
  std::uint32_t checkpoint_pages = 1000;
};

// A connection's busy handler state (sqlite_open.cpp).
struct sqlite_busy_wait {
  std::chrono::milliseconds timeout{};
  std::chrono::steady_clock::time_point since{};
};

class sqlite_store final : public store {
 public:
  static constexpr int schema_version = 6;

  // Opens (creating it unless read_only) and migrates the database at `path`. On failure `why`
  // says what SQLite reported and the error is store_errc::io_error.
  static error_code open(const std::string& path, const sqlite_options& options,
                         std::unique_ptr<sqlite_store>& out, std::string& why);
  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  error_code insert(const verification& v) override;
  error_code get(std::string_view id, verification& out) override;
  error_code find_idempotent(std::string_view api_key, std::string_view key,
                             verification& out) override;
  using store::modify;
  error_code modify(std::string_view id, std::span<const correlation> add, const modify_fn& fn,
                    verification& out, const event_fn& event) override;
  error_code add_correlations(std::span<const correlation> c) override;
  error_code find_correlation(std::string_view carrier, std::string_view key,
                              correlation& out) override;
  error_code find_unknown_sms(const unknown_sms_query& query,
                              std::vector<correlation>& out) override;
  error_code check_and_count(std::span<const limit_check> checks, sys_time now,
                             limit_result& out) override;
  error_code list_queued(std::vector<verification>& out) override;
  error_code purge(sys_time now, std::chrono::seconds retention, std::size_t& changed) override;
  error_code acquire_leases(std::string_view holder, std::span<const std::string> names,
                            sys_time now, std::chrono::milliseconds ttl,
                            std::vector<std::string>& held) override;
  error_code release_leases(std::string_view holder, std::span<const std::string> names) override;
  error_code list_leases(std::string_view prefix, std::vector<lease>& out) override;
  error_code queue_sms(const sms_handoff& h) override;
  error_code claim_sms(std::string_view holder, std::span<const std::string> carriers, sys_time now,
                       std::size_t limit, std::vector<sms_handoff>& out) override;
  error_code finish_sms(std::string_view verification_id, int attempt) override;
  error_code claim_webhooks(std::string_view holder, sys_time now, std::chrono::milliseconds ttl,
                            std::size_t limit, std::vector<webhook_event>& out) override;
  error_code finish_webhook(std::string_view holder, std::int64_t seq) override;
  error_code retry_webhook(std::string_view holder, std::int64_t seq, sys_time next_at) override;
  error_code release_webhooks(std::string_view holder) override;
  error_code webhook_backlog(std::size_t& count, sys_time& oldest) override;
  std::string last_error() const override;
  error_code begin_batch() override;
  error_code end_batch() override;

  // `PRAGMA integrity_check`: "ok" when the file is sound.
  error_code integrity_check(std::string& result);

  // Background checkpoints completed so far (0 without background_checkpoint), for metrics.
  std::uint64_t checkpoints() const;
  // Waits until every checkpoint asked for so far has run; false on timeout. For tests.
  bool wait_until_checkpointed(std::chrono::milliseconds timeout) const;

 private:
  enum class sql : std::uint8_t;
  class statement;
  class transaction;
  class checkpointer;

  // Each statement's text, in the order of `sql` (sqlite_schema.cpp).
  static const std::pair<sql, const char*> statement_texts_[];
  static const char* statement_text(sql which) noexcept;
  explicit sqlite_store(sqlite3* db) noexcept;
  error_code configure(const sqlite_options& options);
  error_code start_checkpointer(const std::string& path, const sqlite_options& options);
  void record_error(std::string message);
  error_code migrate();
  error_code read_schema_version(int& version);
  error_code exec(const char* text);
  // SQLite's code; `out` is kept until close (statement runs it).
  int prepare(sql which, sqlite3_stmt*& out) noexcept;
  // Records SQLite's message for `rc` (with what we were doing) and returns io_error.
  error_code fail(int rc, std::string_view what);
  error_code fail(std::string_view what);
  error_code batch_rolled_back();  // fail() naming the failure that rolled the batch back

  error_code load(std::string_view id, verification& out);
  // load(), or the copy in rows_ when the stored version is still the copy's.
  error_code load_for_update(std::string_view id, verification& out);
  error_code load_attempts(std::string_view id, std::vector<attempt>& out);
  error_code write_verification(const verification& v, bool insert);
  error_code write_attempt(std::string_view id, const attempt& a);
  error_code delete_attempt(std::string_view id, int number);
  error_code exists(std::string_view id, bool& found);
  error_code write_correlations(std::span<const correlation> c);
  // The event `event` returns for `written`, if any, into the webhook outbox (sqlite_outbox.cpp).
  error_code write_event(const verification& written, const store::event_fn& event);
  // Zero when check `c` has room for one more event at now_ms; else how long until it has.
  error_code time_to_room(const limit_check& c, std::int64_t now_ms, std::chrono::seconds& wait);
  // Marks one queued SMS claimed by `holder` and its attempt as that node's (sqlite_cluster.cpp).
  error_code claim_one(std::string_view holder, const sms_handoff& h);

  sqlite3* db_;
  std::array<sqlite3_stmt*, 56> statements_{};  // prepared on first use, kept until close
  bool in_batch_ = false;
  // The last SQLite failure inside the batch: what "the batch transaction was rolled back" names
  // as its cause (SQLite rolls the whole transaction back on SQLITE_FULL, for one).
  std::string batch_failure_;
  bool wal_ = false;  // a file in WAL mode that this connection may write
  sqlite_busy_wait busy_;
  mutable std::mutex error_mutex_;  // last_error() may be read from another thread
  std::string last_error_;
  std::unique_ptr<checkpointer> checkpointer_;  // with background_checkpoint
  row_cache rows_;  // rows this connection committed (or released in a batch): modify()
};

// open_sqlite_store (store.hpp) with options, and the reason when it fails.
error_code open_sqlite_store(const std::string& path, const sqlite_options& options,
                             std::unique_ptr<store>& out, std::string& why);

}  // namespace otpd::service
