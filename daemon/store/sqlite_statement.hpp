// Inside the SQLite store (sqlite_store*.cpp only): the statements it runs and the one way it
// runs them. A call site names its statement, what it is doing (for the error message) and its
// parameters; binding, stepping, reading columns and turning SQLite's codes into store_errc
// happen here.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "daemon/store/sqlite_store.hpp"
#include "daemon/store/time_ms.hpp"

namespace otpd::service {

namespace sqlite_detail {

using detail::from_ms;
using detail::to_ms;

// A parameter bound as a BLOB (strings are bound as TEXT otherwise).
struct blob {
  std::string_view bytes;
};

template <class T>
inline constexpr bool is_optional = false;
template <class T>
inline constexpr bool is_optional<std::optional<T>> = true;

}  // namespace sqlite_detail

// Every statement the store runs, prepared once per connection (SQLITE_PREPARE_PERSISTENT) and
// reset after each use. Their text: sqlite_schema.cpp.
enum class sqlite_store::sql : std::uint8_t {
  begin_immediate,
  begin_read,
  commit,
  rollback,
  savepoint,
  release,
  rollback_to,
  insert_verification,
  update_verification,
  select_verification,
  verification_exists,
  select_version,
  select_idempotent,
  upsert_attempt,
  delete_attempt,
  select_attempts,
  upsert_correlation,
  select_correlation,
  count_events,
  nth_event,
  insert_event,
  expire_pending,
  delete_finished,
  delete_events,
  select_queued,
  select_unknown_sms,
  upsert_lease,
  delete_lease,
  select_leases,
  delete_old_leases,
  insert_sms,
  select_claimable,
  claim_sms,
  set_attempt_node,
  bump_version,
  delete_sms,
  insert_webhook,
  select_due_webhooks,
  claim_webhook,
  delete_webhook,
  retry_webhook,
  release_webhooks,
  webhook_backlog,
  schema_version_exists,
  select_schema_version,
  count_,  // the number of statements, not one
};

// One run of a statement: binds its parameters (?1, ?2, ... in order) when made, steps, reads
// columns, and resets (clearing the bindings) when it goes out of scope so that the next user
// starts clean. Text and blobs are bound SQLITE_STATIC: the caller keeps them alive until the
// statement is gone. A failure to prepare or to bind shows at the first step.
//
// Error mapping, the same at every call site: a SQLite failure is recorded (fail(): SQLite's
// message with `what`) and returned as store_errc::io_error; "no row" where one is looked up
// is store_errc::not_found.
class sqlite_store::statement {
 public:
  template <class... P>
  statement(sqlite_store& s, sql which, std::string_view what, const P&... params) noexcept
      : s_(s), what_(what), prepare_what_("prepare") {
    rc_ = s.prepare(which, st_);
    if (rc_ != SQLITE_OK) return;
    int i = 0;
    (bind(++i, params), ...);
  }
  // A statement run once (a PRAGMA): prepared here, finalized at the end. A failure to prepare
  // is reported as `what`.
  statement(sqlite_store& s, const char* text, std::string_view what) noexcept
      : s_(s), what_(what), prepare_what_(what), owned_(true) {
    rc_ = sqlite3_prepare_v2(s.db_, text, -1, &st_, nullptr);
  }
  ~statement() {
    if (owned_) {
      sqlite3_finalize(st_);
    } else if (st_ != nullptr) {
      sqlite3_reset(st_);
      sqlite3_clear_bindings(st_);
    }
  }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  // SQLite's code: SQLITE_ROW, SQLITE_DONE, or an error (including one from preparing or
  // binding), not recorded. For the few places that look at the code themselves.
  int step() noexcept { return rc_ != SQLITE_OK ? rc_ : sqlite3_step(st_); }

  // Runs a statement that returns no rows.
  error_code done() { return expect(step(), SQLITE_DONE); }
  // The same, except that the failure `code` (an extended code, or a primary code standing for
  // all of its extended ones) is the store's `as`, not an I/O error.
  error_code done(int code, store_errc as) {
    const int rc = step();
    if (rc == code || (code <= 0xFF && (rc & 0xFF) == code)) return as;
    return expect(rc, SQLITE_DONE);
  }
  // Steps to the first row: not_found when there is none.
  error_code row() {
    const int rc = step();
    if (rc == SQLITE_DONE) return store_errc::not_found;
    return expect(rc, SQLITE_ROW);
  }
  // Steps to the first row, if there is one.
  error_code row(bool& found) {
    const int rc = step();
    found = rc == SQLITE_ROW;
    return found ? error_code{} : expect(rc, SQLITE_DONE);
  }
  // The first column of the one row that the statement always returns (count(*), a PRAGMA).
  error_code value(std::int64_t& out) {
    if (auto ec = expect(step(), SQLITE_ROW)) return ec;
    out = int64(0);
    return {};
  }
  error_code value(std::string& out) {
    if (auto ec = expect(step(), SQLITE_ROW)) return ec;
    out = text(0);
    return {};
  }
  // Calls on_row(*this) for each row; an error it returns ends the loop and is returned.
  template <class F>
  error_code each(F&& on_row) {
    while (true) {
      const int rc = step();
      if (rc == SQLITE_DONE) return {};
      if (rc != SQLITE_ROW) return fail(rc);
      if constexpr (std::is_same_v<std::invoke_result_t<F&, statement&>, error_code>) {
        if (auto ec = on_row(*this)) return ec;
      } else {
        on_row(*this);
      }
    }
  }

  // Rows the statement changed (after done()).
  std::size_t changes() const noexcept {
    return static_cast<std::size_t>(sqlite3_changes64(s_.db_));
  }

  bool is_null(int col) { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
  std::int64_t int64(int col) { return sqlite3_column_int64(st_, col); }
  int integer(int col) { return sqlite3_column_int(st_, col); }
  sys_time time(int col) { return sqlite_detail::from_ms(int64(col)); }
  std::optional<sys_time> optional_time(int col) {
    if (is_null(col)) return std::nullopt;
    return time(col);
  }
  std::string text(int col) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
    auto n = static_cast<std::size_t>(sqlite3_column_bytes(st_, col));
    return p != nullptr ? std::string(p, n) : std::string();
  }
  std::string blob(int col) {
    auto* p = static_cast<const char*>(sqlite3_column_blob(st_, col));
    auto n = static_cast<std::size_t>(sqlite3_column_bytes(st_, col));
    return p != nullptr ? std::string(p, n) : std::string();
  }

 private:
  error_code expect(int rc, int wanted) { return rc == wanted ? error_code{} : fail(rc); }
  // sqlite3_errmsg still describes this statement's failure: nothing ran on the connection
  // since, and the reset comes after (the destructor).
  error_code fail(int rc) { return s_.fail(rc, st_ != nullptr ? what_ : prepare_what_); }

  template <class T>
  void bind(int i, const T& v) noexcept {
    if constexpr (std::is_same_v<T, sqlite_detail::blob>) {
      // An empty std::string has a non-null data(): bound as an empty blob, not NULL.
      keep(sqlite3_bind_blob(st_, i, v.bytes.data(), static_cast<int>(v.bytes.size()),
                             SQLITE_STATIC));
    } else if constexpr (std::is_same_v<T, sys_time>) {
      keep(sqlite3_bind_int64(st_, i, sqlite_detail::to_ms(v)));
    } else if constexpr (sqlite_detail::is_optional<T>) {
      if (v) {
        bind(i, *v);
      } else {
        keep(sqlite3_bind_null(st_, i));
      }
    } else if constexpr (std::is_same_v<T, bool>) {
      keep(sqlite3_bind_int64(st_, i, v ? 1 : 0));
    } else if constexpr (std::is_integral_v<T>) {
      keep(sqlite3_bind_int64(st_, i, static_cast<std::int64_t>(v)));
    } else {
      const std::string_view text(v);
      keep(sqlite3_bind_text(st_, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC));
    }
  }
  void keep(int rc) noexcept {
    if (rc_ == SQLITE_OK) rc_ = rc;
  }

  sqlite_store& s_;
  std::string_view what_;          // what a failure says we were doing
  std::string_view prepare_what_;  // the same, for a failure to prepare
  bool owned_ = false;
  sqlite3_stmt* st_ = nullptr;
  int rc_ = SQLITE_OK;  // the first failure to prepare or bind
};

// One store operation's transaction. Alone: BEGIN IMMEDIATE (taking the write lock at once,
// so that a read-then-write never fails half way with SQLITE_BUSY) or BEGIN for reads. Inside
// a batch: a savepoint, so that a failed operation undoes only itself. Rolls back unless
// committed. (sqlite_store.cpp)
class sqlite_store::transaction {
 public:
  enum class kind : std::uint8_t { write, read };
  transaction(sqlite_store& s, kind k) noexcept : s_(s), kind_(k) {}
  ~transaction();
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  error_code begin();
  error_code commit();

 private:
  sqlite_store& s_;
  kind kind_;
  bool open_ = false;
  bool nested_ = false;
};

}  // namespace otpd::service
