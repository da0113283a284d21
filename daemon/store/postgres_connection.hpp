// Inside the PostgreSQL store (postgres_*.cpp only): one libpq connection, its prepared
// statements, the parameters bound to them and the results they give. Failures become
// store_errc::io_error with what the server or libpq said recorded (never the password).
//
// Synchronous libpq on the store's own thread (store_executor), as the SQLite store: the I/O
// threads never wait for it. Round trips are few: statements that do not need each other's
// results go together in libpq's pipeline mode (run_all), and BEGIN or SAVEPOINT wait to go
// with the first statement after them (defer), so that a call that reads, lets the caller
// change the row and writes it back costs two round trips, its commit included.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/store/postgres_store.hpp"
#include "daemon/store/time_ms.hpp"

namespace otpd::service::pg {

// Every statement the store runs, prepared once per connection (again after a reconnect).
// Their text: postgres_schema.cpp.
enum class sql : std::uint8_t {
  insert_verification,
  update_verification,
  select_verification_share,
  select_verification_update,
  select_idempotent,
  select_attempts,
  upsert_attempt,
  delete_attempt,
  upsert_correlation,
  select_correlation,
  check_and_count,
  select_queued,
  select_unknown_sms,
  expire_pending,
  delete_finished,
  delete_events,
  delete_old_leases,
  acquire_leases,
  release_leases,
  select_leases,
  insert_handoff,
  claim_handoff,
  delete_handoff,
  insert_webhook,
  claim_webhooks,
  delete_webhook,
  retry_webhook,
  release_webhooks,
  webhook_backlog,
  count_,  // the number of statements, not one
};
const char* statement_text(sql which) noexcept;

// Times are bigint milliseconds since the Unix epoch, as in the SQLite store, rather than
// timestamptz: the same model (store.hpp keeps milliseconds), the same arithmetic in the
// rate-limit function, no time zone to get wrong.
using detail::from_ms;
using detail::to_ms;

// A parameter bound as bytea (binary format); strings are bound as text otherwise.
struct bytea {
  std::string_view bytes;
};
// A text[] parameter.
struct text_array {
  std::span<const std::string> items;
};

// `s` as PostgreSQL takes text: valid UTF-8 without NUL. What is not (a receipt's stat or a
// SIP reason phrase from a peer that sends other bytes) has each invalid byte and each NUL
// replaced by U+FFFD, so that such input is stored, marked, rather than failing the write.
std::string valid_text(std::string s);

// The parameters of one statement, all in text format except bytea.
class params {
 public:
  template <class... Args>
  explicit params(const Args&... args) {
    (add(args), ...);
  }
  int size() const noexcept { return static_cast<int>(values_.size()); }
  const char* const* values() const noexcept { return pointers_.data(); }
  const int* lengths() const noexcept { return lengths_.data(); }
  const int* formats() const noexcept { return formats_.data(); }
  void finish();  // fixes the pointers once every value is in

 private:
  void add(std::string_view s) { push(std::string(s), 0); }
  void add(const std::string& s) { push(s, 0); }
  void add(const char* s) { push(std::string(s), 0); }
  void add(bytea b) { push(std::string(b.bytes), 1); }
  void add(bool b) { push(b ? "t" : "f", 0); }
  void add(int v) { push(std::to_string(v), 0); }
  void add(std::int64_t v) { push(std::to_string(v), 0); }
  void add(std::uint32_t v) { push(std::to_string(v), 0); }
  void add(std::size_t v) { push(std::to_string(v), 0); }
  void add(sys_time t) { push(std::to_string(to_ms(t)), 0); }
  void add(text_array a);
  template <class T>
  void add(const std::optional<T>& v) {
    if (v) {
      add(*v);
    } else {
      values_.emplace_back();
      formats_.push_back(0);
    }
  }
  void push(std::string v, int format) {
    values_.emplace_back(format == 0 ? valid_text(std::move(v)) : std::move(v));
    formats_.push_back(format);
  }

  std::vector<std::optional<std::string>> values_;
  std::vector<const char*> pointers_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// A statement's result (text format).
class result {
 public:
  result() = default;
  explicit result(PGresult* r) noexcept : r_(r) {}
  int rows() const noexcept { return r_ ? PQntuples(r_.get()) : 0; }
  bool is_null(int row, int col) const noexcept { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string text(int row, int col) const;
  std::string bytes(int row, int col) const;  // a bytea column
  std::int64_t int64(int row, int col) const;
  int integer(int row, int col) const { return static_cast<int>(int64(row, col)); }
  bool boolean(int row, int col) const;
  sys_time time(int row, int col) const { return from_ms(int64(row, col)); }
  std::optional<sys_time> optional_time(int row, int col) const;
  std::size_t affected() const;  // rows an UPDATE / DELETE / INSERT changed

 private:
  struct clear {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
  };
  std::unique_ptr<PGresult, clear> r_;
};

// One statement of a pipeline (connection::run_all).
struct step {
  sql which;
  std::string_view what;
  params p;
  result* out = nullptr;  // null: only success matters
  error_code unique{};
  error_code foreign{};
  std::string* constraint = nullptr;
};

class connection {
 public:
  explicit connection(postgres_options options);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Connects (or, once connected and lost, reconnects), sets the session up and prepares the
  // statements. `prepare` false: before migration, when the tables may not exist.
  error_code connect(bool prepare);
  // Connected, or connected again (a lost connection is retried here, not in the middle of a
  // transaction).
  error_code ensure();
  bool broken() const noexcept;
  // In a transaction that a failed statement has aborted (or the connection is gone).
  bool in_failed_transaction() const noexcept;
  error_code prepare_all();

  // A prepared statement. `unique` / `foreign` map SQLSTATE 23505 / 23503 to those errors
  // (nothing recorded); any other failure is io_error. `constraint` gets the name of a violated
  // constraint.
  error_code run(sql which, std::string_view what, params&& p, result& out, error_code unique = {},
                 error_code foreign = {}, std::string* constraint = nullptr);
  // `steps` in one round trip, after what was deferred and before `tail` (a COMMIT or RELEASE
  // without parameters, whose command tag last_status() then gives). The server skips what
  // follows a failure: the first failure is returned, mapped as run() maps it.
  error_code run_all(std::span<step> steps, const char* tail = nullptr);
  // `text` (BEGIN, SAVEPOINT; no parameters) is sent with the next statements rather than in a
  // round trip of its own; a failure of it is theirs.
  void defer(const char* text) { head_.push_back(text); }
  // Takes back the last deferred text if it is `text` (nothing was sent after it): true then.
  bool undefer(const char* text) noexcept;
  // A statement given as text, without parameters (transactions, savepoints, migrations).
  error_code exec(const char* text, std::string_view what);
  error_code exec(const char* text, std::string_view what, result& out);
  // Runs `text` and ignores its outcome: a rollback after a failure, whose own failure must not
  // replace the message of the one that caused it.
  void quiet(const char* text) noexcept;

  // Records `message` as the last error and returns io_error.
  error_code fail(std::string message);
  std::string last_error() const;
  // The command tag of the last exec() ("COMMIT", "ROLLBACK").
  const std::string& last_status() const noexcept { return last_status_; }

 private:
  error_code check(PGresult* r, std::string_view what, error_code unique, error_code foreign,
                   std::string* constraint);
  error_code connection_failed(std::string_view what);
  bool send_pipeline(const std::vector<const char*>& head, std::span<step> steps, const char* tail);
  error_code read_one(std::string_view what, error_code unique, error_code foreign,
                      std::string* constraint, result* out, bool keep_status);
  void drop() noexcept;  // closes the connection: the next ensure() connects again
  std::string scrub(std::string message) const;  // without the password

  postgres_options options_;
  std::string password_;  // from the conninfo, to be kept out of messages
  PGconn* conn_ = nullptr;
  bool prepared_ = false;
  bool drop_ = false;  // close once the results in flight are read (a server turned read-only)
  std::vector<const char*> head_;
  std::string last_status_;
  mutable std::mutex error_mutex_;  // last_error() may be read from another thread
  std::string last_error_;
};

}  // namespace otpd::service::pg
