// The SQLite store's operations: each is a transaction (transaction) of statements run through
// `statement` (sqlite_statement.hpp). Opening: sqlite_open.cpp; schema: sqlite_schema.cpp.
#include "daemon/store/sqlite_store.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

#include "daemon/store/message_ids.hpp"
#include "daemon/store/sqlite_statement.hpp"

namespace otpd::service {

using sqlite_detail::blob;
using sqlite_detail::to_ms;

// ---- transactions -------------------------------------------------------------------------

sqlite_store::transaction::~transaction() {
  if (!open_) return;
  // SQLite may already have rolled back by itself (SQLITE_FULL, SQLITE_IOERR, ...).
  if (sqlite3_get_autocommit(s_.db_) != 0) return;
  // Not recorded when it fails: the failure that brought us here is the one to report.
  if (nested_) {
    statement(s_, sql::rollback_to, "rollback").step();
    statement(s_, sql::release, "rollback").step();
  } else {
    statement(s_, sql::rollback, "rollback").step();
  }
}

error_code sqlite_store::transaction::begin() {
  if (s_.in_batch_) {
    // A batch whose transaction SQLite rolled back must not go on in autocommit mode: the
    // operations after it would be durable while the batch reports them failed.
    if (sqlite3_get_autocommit(s_.db_) != 0) return s_.batch_rolled_back();
    if (kind_ == kind::read) return {};  // already inside the batch's transaction
    nested_ = true;
    if (auto ec = statement(s_, sql::savepoint, "savepoint").done()) return ec;
  } else {
    const sql which = kind_ == kind::write ? sql::begin_immediate : sql::begin_read;
    if (auto ec = statement(s_, which, "begin").done()) return ec;
  }
  open_ = true;
  return {};
}

error_code sqlite_store::transaction::commit() {
  if (!open_) return {};
  if (auto ec = statement(s_, nested_ ? sql::release : sql::commit, "commit").done()) return ec;
  open_ = false;
  return {};
}

// ---- statements and errors ----------------------------------------------------------------

error_code sqlite_store::exec(const char* text) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  std::string what = message ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return fail(rc, what);
}

int sqlite_store::prepare(sql which, sqlite3_stmt*& out) noexcept {
  auto index = static_cast<std::size_t>(which);
  static_assert(static_cast<std::size_t>(sql::count_) <= std::tuple_size_v<decltype(statements_)>);
  if (statements_[index] == nullptr) {
    int rc = sqlite3_prepare_v3(db_, statement_text(which), -1, SQLITE_PREPARE_PERSISTENT,
                                &statements_[index], nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(statements_[index]);
      statements_[index] = nullptr;
      return rc;
    }
  }
  out = statements_[index];
  return SQLITE_OK;
}

error_code sqlite_store::fail(int rc, std::string_view what) {
  // sqlite3_errmsg describes the latest call on this connection, which is the failed one: the
  // statement is reset only after this (statement's destructor).
  std::string message(what);
  message += ": ";
  message += sqlite3_errmsg(db_);
  if (std::strcmp(sqlite3_errmsg(db_), sqlite3_errstr(rc)) != 0) {
    message += " (";
    message += sqlite3_errstr(rc);
    message += ')';
  }
  message += " [sqlite " + std::to_string(rc);
  // The OS's reason behind an I/O error ("No space left on device", "File too large").
  if (int e = sqlite3_system_errno(db_); e != 0 && (rc & 0xFF) == SQLITE_IOERR) {
    message += ", ";
    message += std::strerror(e);
  }
  message += ']';
  // The failure may have rolled back what the cache holds (SQLite rolls a whole transaction
  // back on some): forget it all.
  rows_.clear();
  if (in_batch_) batch_failure_ = message;
  record_error(std::move(message));
  return store_errc::io_error;
}

error_code sqlite_store::batch_rolled_back() {
  std::string message = "the batch transaction was rolled back";
  if (!batch_failure_.empty()) message += " after " + batch_failure_;
  return fail(message);
}

error_code sqlite_store::fail(std::string_view what) {
  rows_.clear();
  record_error(std::string(what));
  return store_errc::io_error;
}

void sqlite_store::record_error(std::string message) {
  std::lock_guard lock(error_mutex_);
  last_error_ = std::move(message);
}

std::string sqlite_store::last_error() const {
  std::lock_guard lock(error_mutex_);
  return last_error_;
}

// ---- batches ------------------------------------------------------------------------------

error_code sqlite_store::begin_batch() {
  if (in_batch_) return {};
  if (auto ec = statement(*this, sql::begin_immediate, "begin batch").done()) return ec;
  in_batch_ = true;
  batch_failure_.clear();
  return {};
}

error_code sqlite_store::end_batch() {
  if (!in_batch_) return {};
  in_batch_ = false;
  if (sqlite3_get_autocommit(db_) != 0) return batch_rolled_back();
  const error_code ec = statement(*this, sql::commit, "commit batch").done();
  // Not exec(): its failure would replace the commit's message.
  if (ec && sqlite3_get_autocommit(db_) == 0) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  if (ec) rows_.clear();
  return ec;
}

// ---- rows ---------------------------------------------------------------------------------

error_code sqlite_store::load(std::string_view id, verification& out) {
  {
    statement q(*this, sql::select_verification, "read verification", id);
    if (auto ec = q.row()) return ec;
    verification v;
    v.id = q.text(0);
    v.to = q.text(1);
    v.locale = q.text(2);
    v.api_key = q.text(3);
    v.client_ip = q.text(4);
    auto status = verification_status_from(q.text(5));
    if (!status) return fail("verification " + v.id + ": unknown status '" + q.text(5) + "'");
    v.status = *status;
    v.created_at = q.time(6);
    v.expires_at = q.time(7);
    v.completed_at = q.optional_time(8);
    v.code_length = q.integer(9);
    v.code_mac = q.blob(10);
    v.code_sealed = q.blob(11);
    v.checks = q.integer(12);
    v.max_checks = q.integer(13);
    v.sends = q.integer(14);
    v.next_resend_at = q.time(15);
    v.idempotency_key = q.text(16);
    v.request_hash = q.text(17);
    v.version = q.int64(18);
    out = std::move(v);
  }
  return load_attempts(id, out.attempts);
}

error_code sqlite_store::load_for_update(std::string_view id, verification& out) {
  const verification* copy = rows_.find(id);
  if (copy == nullptr) return load(id, out);
  std::int64_t version = 0;
  {
    statement q(*this, sql::select_version, "read verification", id);
    if (auto ec = q.row()) {
      if (ec == store_errc::not_found) rows_.erase(id);
      return ec;
    }
    version = q.int64(0);
  }
  if (version != copy->version) return load(id, out);
  out = *copy;
  return {};
}

error_code sqlite_store::load_attempts(std::string_view id, std::vector<attempt>& out) {
  out.clear();
  statement rows(*this, sql::select_attempts, "read attempts", id);
  return rows.each([&](statement& q) -> error_code {
    attempt a;
    a.number = q.integer(1);
    auto via = channel_from(q.text(2));
    auto status = attempt_status_from(q.text(3));
    if (!via || !status) {
      return fail("attempt " + std::string(id) + "/" + std::to_string(a.number) +
                  ": unknown channel or status");
    }
    a.via = *via;
    a.status = *status;
    a.created_at = q.time(4);
    a.submitted_at = q.optional_time(5);
    a.completed_at = q.optional_time(6);
    a.carrier = q.text(7);
    a.bind = q.text(8);
    if (!detail::decode_message_ids(q.text(9), a.message_ids)) {
      return fail("attempt " + std::string(id) + "/" + std::to_string(a.number) +
                  ": message_ids is not a JSON array of strings");
    }
    if (!q.is_null(10)) a.smpp_status = static_cast<std::uint32_t>(q.int64(10));
    a.outcome_unknown = q.integer(11) != 0;
    a.dlr_stat = q.text(12);
    a.dlr_err = q.text(13);
    if (!q.is_null(14)) a.sip_code = q.integer(14);
    a.sip_reason = q.text(15);
    a.error = q.text(16);
    if (!q.is_null(17)) a.played_ms = q.int64(17);
    a.node = q.text(18);
    out.push_back(std::move(a));
    return {};
  });
}

error_code sqlite_store::exists(std::string_view id, bool& found) {
  return statement(*this, sql::verification_exists, "read verification", id).row(found);
}

error_code sqlite_store::write_verification(const verification& v, bool insert) {
  // A unique constraint: the id or the (api_key, idempotency_key) pair. SQLite reports both as
  // SQLITE_CONSTRAINT_UNIQUE (a TEXT primary key is a unique index), so look.
  const error_code ec =
      statement(*this, insert ? sql::insert_verification : sql::update_verification,
                "write verification", v.id, v.to, v.locale, v.api_key, v.client_ip,
                to_string(v.status), v.created_at, v.expires_at, v.completed_at, v.code_length,
                blob{v.code_mac}, blob{v.code_sealed}, v.checks, v.max_checks, v.sends,
                v.next_resend_at, v.idempotency_key, v.request_hash, v.version)
          .done(SQLITE_CONSTRAINT, store_errc::duplicate_idempotency);
  if (!insert || ec != store_errc::duplicate_idempotency) return ec;
  bool found = false;
  if (auto e = exists(v.id, found)) return e;
  return found ? store_errc::duplicate_id : store_errc::duplicate_idempotency;
}

error_code sqlite_store::write_attempt(std::string_view id, const attempt& a) {
  const std::string ids = detail::encode_message_ids(a.message_ids);
  return statement(*this, sql::upsert_attempt, "write attempt", id, a.number, to_string(a.via),
                   to_string(a.status), a.created_at, a.submitted_at, a.completed_at, a.carrier,
                   a.bind, ids, a.smpp_status, a.outcome_unknown, a.dlr_stat, a.dlr_err, a.sip_code,
                   a.sip_reason, a.error, a.played_ms, a.node)
      .done();
}

error_code sqlite_store::delete_attempt(std::string_view id, int number) {
  return statement(*this, sql::delete_attempt, "delete attempt", id, number).done();
}

// ---- the interface ------------------------------------------------------------------------

error_code sqlite_store::insert(const verification& v) {
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  if (auto ec = write_verification(v, true)) return ec;
  for (const auto& a : v.attempts) {
    if (auto ec = write_attempt(v.id, a)) return ec;
  }
  if (auto ec = tx.commit()) return ec;
  rows_.put(v);
  return {};
}

error_code sqlite_store::get(std::string_view id, verification& out) {
  // A read transaction: the row and its attempts from the same snapshot, even while another
  // process writes.
  transaction tx(*this, transaction::kind::read);
  if (auto ec = tx.begin()) return ec;
  verification v;
  if (auto ec = load(id, v)) return ec;
  if (auto ec = tx.commit()) return ec;
  out = std::move(v);
  return {};
}

error_code sqlite_store::find_idempotent(std::string_view api_key, std::string_view key,
                                         verification& out) {
  if (key.empty()) return store_errc::not_found;
  transaction tx(*this, transaction::kind::read);
  if (auto ec = tx.begin()) return ec;
  std::string id;
  {
    statement q(*this, sql::select_idempotent, "find idempotency key", api_key, key);
    if (auto ec = q.row()) return ec;
    id = q.text(0);
  }
  verification v;
  if (auto ec = load(id, v)) return ec;
  if (auto ec = tx.commit()) return ec;
  out = std::move(v);
  return {};
}

error_code sqlite_store::modify(std::string_view id, std::span<const correlation> add,
                                const modify_fn& fn, verification& out, const event_fn& event) {
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  verification before;
  if (auto ec = load_for_update(id, before)) return ec;
  verification after = before;
  if (auto ec = fn(after)) return ec;  // the transaction rolls back: nothing was written
  if (auto ec = write_correlations(add)) return ec;
  after.id = before.id;  // the key cannot change
  after.version = before.version + 1;
  if (auto ec = write_verification(after, false)) return ec;
  // Write only the attempts that changed: a receipt touches one of them.
  for (const auto& a : after.attempts) {
    auto old = std::find_if(before.attempts.begin(), before.attempts.end(),
                            [&](const attempt& b) { return b.number == a.number; });
    if (old != before.attempts.end() && *old == a) continue;
    if (auto ec = write_attempt(after.id, a)) return ec;
  }
  for (const auto& b : before.attempts) {
    bool kept = std::any_of(after.attempts.begin(), after.attempts.end(),
                            [&](const attempt& a) { return a.number == b.number; });
    if (kept) continue;
    if (auto ec = delete_attempt(after.id, b.number)) return ec;
  }
  if (auto ec = write_event(after, event)) return ec;
  if (auto ec = tx.commit()) return ec;
  rows_.put(after);
  out = std::move(after);
  return {};
}

error_code sqlite_store::add_correlations(std::span<const correlation> c) {
  if (c.empty()) return {};
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  if (auto ec = write_correlations(c)) return ec;
  return tx.commit();
}

error_code sqlite_store::write_correlations(std::span<const correlation> c) {
  const std::int64_t now = to_ms(std::chrono::system_clock::now());
  for (const auto& one : c) {
    statement q(*this, sql::upsert_correlation, "write correlation", one.carrier, one.key,
                one.verification_id, one.attempt, one.part, now);
    // A foreign key that fails: no such verification.
    if (auto ec = q.done(SQLITE_CONSTRAINT_FOREIGNKEY, store_errc::not_found)) return ec;
  }
  return {};
}

error_code sqlite_store::find_correlation(std::string_view carrier, std::string_view key,
                                          correlation& out) {
  statement q(*this, sql::select_correlation, "read correlation", carrier, key);
  if (auto ec = q.row()) return ec;
  out.carrier = std::string(carrier);
  out.key = std::string(key);
  out.verification_id = q.text(0);
  out.attempt = q.integer(1);
  out.part = q.integer(2);
  return {};
}

error_code sqlite_store::find_unknown_sms(const unknown_sms_query& query,
                                          std::vector<correlation>& out) {
  out.clear();
  // At most query.limit rows: the statement's LIMIT.
  statement rows(*this, sql::select_unknown_sms, "read unknown SMS", query.carrier, query.to,
                 query.created_from, query.created_to, query.expires_after, query.limit);
  return rows.each([&](statement& q) {
    correlation c;
    c.carrier = query.carrier;
    c.verification_id = q.text(0);
    c.attempt = q.integer(1);
    out.push_back(std::move(c));
  });
}

error_code sqlite_store::check_and_count(std::span<const limit_check> checks, sys_time now,
                                         limit_result& out) {
  out = limit_result{};
  // Write lock first: two processes must not both see room for the last event.
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  const std::int64_t now_ms = to_ms(now);
  std::map<std::string_view, std::int64_t> keep_ms;  // key -> longest window among its checks
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const auto& c = checks[i];
    if (c.max <= 0 || c.window <= std::chrono::seconds::zero()) continue;  // no limit
    auto& keep = keep_ms[c.key];
    keep = std::max<std::int64_t>(keep, std::chrono::milliseconds(c.window).count());
    std::chrono::seconds wait{0};
    if (auto ec = time_to_room(c, now_ms, wait)) return ec;
    if (wait == std::chrono::seconds::zero()) continue;
    out.allowed = false;
    out.failed_index = i;
    out.retry_after = wait;
    return {};  // the transaction rolls back; it wrote nothing
  }
  for (const auto& [key, keep] : keep_ms) {
    statement q(*this, sql::insert_event, "count rate event", key, now_ms, now_ms + keep);
    if (auto ec = q.done()) return ec;
  }
  return tx.commit();
}

error_code sqlite_store::time_to_room(const limit_check& c, std::int64_t now_ms,
                                      std::chrono::seconds& wait) {
  wait = std::chrono::seconds::zero();
  const std::int64_t window_ms = std::chrono::milliseconds(c.window).count();
  const std::int64_t since_ms = now_ms - window_ms;
  std::int64_t count = 0;
  statement counted(*this, sql::count_events, "count rate events", c.key, since_ms);
  if (auto ec = counted.value(count)) return ec;
  if (count < c.max) return {};

  // Refused. One more is allowed once count - max + 1 events have left the window, i.e. when
  // the (count - max)-th oldest (0-based) leaves it: at its time + window. With count == max
  // (limits unchanged since counting) that is the oldest counted event.
  std::int64_t at = now_ms;
  statement nth(*this, sql::nth_event, "read rate events", c.key, since_ms, count - c.max);
  if (auto ec = nth.value(at)) return ec;
  const std::int64_t wait_ms = at + window_ms - now_ms;  // > 0: `at` is after since_ms
  wait = std::chrono::seconds(std::max<std::int64_t>(1, (wait_ms + 999) / 1000));
  return {};
}

error_code sqlite_store::list_queued(std::vector<verification>& out) {
  transaction tx(*this, transaction::kind::read);
  if (auto ec = tx.begin()) return ec;
  std::vector<std::string> ids;
  {
    statement rows(*this, sql::select_queued, "list queued");
    if (auto ec = rows.each([&](statement& q) { ids.push_back(q.text(0)); })) return ec;
  }
  std::vector<verification> found;
  found.reserve(ids.size());
  for (const auto& id : ids) {
    verification v;
    if (auto ec = load(id, v)) return ec;
    found.push_back(std::move(v));
  }
  if (auto ec = tx.commit()) return ec;
  out = std::move(found);
  return {};
}

error_code sqlite_store::purge(sys_time now, std::chrono::seconds retention, std::size_t& changed) {
  changed = 0;
  const std::int64_t now_ms = to_ms(now);
  const std::pair<sql, std::int64_t> steps[] = {
      {sql::expire_pending, now_ms},
      // Deleting a verification deletes its attempts, correlations, queued SMS and webhook
      // events (foreign keys, cascade).
      {sql::delete_finished, now_ms - std::chrono::milliseconds(retention).count()},
      {sql::delete_events, now_ms},
      // An expired lease is free anyway; one a day old names a node or bind long gone.
      {sql::delete_old_leases, now_ms - 86'400'000},
  };
  // At most purge_limit rows a step, each step its own transaction (store.hpp): the write lock
  // is held for one short statement at a time, and the store's other calls (and other
  // processes) go in between.
  for (const auto& [which, bound] : steps) {
    transaction tx(*this, transaction::kind::write);
    if (auto ec = tx.begin()) return ec;
    std::size_t n = 0;
    {
      statement q(*this, which, "purge", bound, purge_limit);
      if (auto ec = q.done()) return ec;
      n = q.changes();
    }
    if (auto ec = tx.commit()) return ec;
    changed += n;
  }
  return {};
}

error_code sqlite_store::integrity_check(std::string& result) {
  result.clear();
  statement rows(*this, "PRAGMA integrity_check", "integrity_check");
  return rows.each([&](statement& q) {
    if (!result.empty()) result += '\n';
    result += q.text(0);
  });
}

}  // namespace otpd::service
