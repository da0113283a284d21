// The PostgreSQL store: opening, transactions and batches, verifications with their attempts,
// receipt correlations and rate limits. Leases, the SMS handoff queue and purge:
// postgres_cluster.cpp.
#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "daemon/store/message_ids.hpp"
#include "daemon/store/postgres_store_impl.hpp"

namespace otpd::service {

using pg::bytea;
using pg::params;
using pg::sql;

// ---- opening ------------------------------------------------------------------------------

error_code postgres_store::open(std::string& why) {
  if (auto ec = db_.connect(false)) {
    why = db_.last_error();
    return ec;
  }
  if (auto ec = migrate()) {
    why = db_.last_error();
    return ec;
  }
  return {};
}

error_code open_postgres_store(const postgres_options& options, std::unique_ptr<store>& out,
                               std::string& why) {
  auto s = std::make_unique<postgres_store>(options);
  if (auto ec = s->open(why)) return ec;
  out = std::move(s);
  return {};
}

std::string try_postgres_connection(const postgres_options& options) {
  pg::connection c(options);
  if (c.connect(false)) return c.last_error();
  return {};
}

// ---- transactions and batches -------------------------------------------------------------
// BEGIN and SAVEPOINT are deferred: they go with the transaction's first statements. A
// transaction that sent nothing has nothing to commit or roll back.

void postgres_store::rollback() noexcept {
  if (std::exchange(committed_, false)) return;  // a read that found nothing, committed
  if (in_batch_ && !savepoint_) {
    // Nothing was written (see transact()); a statement the server failed dooms the batch.
    if (db_.in_failed_transaction()) doomed_ = true;
    return;
  }
  if (in_batch_) {
    if (db_.undefer("SAVEPOINT op")) return;
    db_.quiet("ROLLBACK TO SAVEPOINT op");
    db_.quiet("RELEASE SAVEPOINT op");
  } else {
    if (db_.undefer("BEGIN")) return;
    db_.quiet("ROLLBACK");
  }
}

error_code postgres_store::begin(bool isolate) {
  committed_ = false;
  if (in_batch_) {
    // Not reconnected here: the batch's transaction went with the connection, and end_batch()
    // says so; the executor then runs each call again alone, reconnecting.
    if (db_.broken()) return db_.fail("the connection was lost during a batch");
    if (doomed_) return db_.fail("an earlier call of the batch failed: " + db_.last_error());
    savepoint_ = isolate;
    if (isolate) db_.defer("SAVEPOINT op");
    return {};
  }
  if (auto ec = db_.ensure()) return ec;
  db_.defer("BEGIN");
  return {};
}

error_code postgres_store::commit() {
  if (!std::exchange(committed_, false)) {
    if (in_batch_ && !savepoint_) return {};  // the batch's commit is end_batch()'s
    if (db_.undefer(in_batch_ ? "SAVEPOINT op" : "BEGIN")) return {};  // nothing was sent
    if (auto ec = db_.exec(commit_text(), "commit")) return ec;
  }
  // COMMIT of a transaction that failed answers ROLLBACK, not an error.
  if (!in_batch_ && db_.last_status() != "COMMIT")
    return db_.fail("the transaction was rolled back");
  return {};
}

error_code postgres_store::finish(std::span<pg::step> steps) {
  if (auto ec = db_.run_all(steps, commit_text())) return ec;
  committed_ = true;
  return {};
}

error_code postgres_store::statement(sql which, std::string_view what, params&& p, pg::result& out,
                                     error_code unique, error_code foreign) {
  // Alone, no BEGIN and COMMIT: a single statement is a transaction already, one round trip.
  // In a batch, a savepoint only where a constraint may refuse it (see transact()).
  if (in_batch_) {
    return transact(
        [&] {
          pg::step one{which, what, std::move(p), &out, unique, foreign};
          return finish(std::span<pg::step>(&one, 1));
        },
        unique || foreign);
  }
  if (auto ec = db_.ensure()) return ec;
  return db_.run(which, what, std::move(p), out, unique, foreign);
}

error_code postgres_store::begin_batch() {
  if (in_batch_) return {};
  if (auto ec = db_.ensure()) return ec;
  db_.defer("BEGIN");
  in_batch_ = true;
  doomed_ = false;
  return {};
}

error_code postgres_store::end_batch() {
  if (!in_batch_) return {};
  in_batch_ = false;
  if (db_.undefer("BEGIN")) return {};  // no call sent anything
  if (std::exchange(doomed_, false)) {
    const std::string why = db_.last_error();
    db_.quiet("ROLLBACK");
    return db_.fail("a call of the batch failed, the batch was rolled back: " + why);
  }
  if (db_.broken()) {
    return db_.fail("the batch transaction was lost with its connection: " + db_.last_error());
  }
  if (auto ec = db_.exec("COMMIT", "commit batch")) {
    db_.quiet("ROLLBACK");
    return ec;
  }
  if (db_.last_status() != "COMMIT") return db_.fail("the batch transaction was rolled back");
  return {};
}

// ---- rows ---------------------------------------------------------------------------------

error_code postgres_store::load(std::string_view id, bool for_update, verification& out,
                                bool last) {
  pg::result q;
  pg::result a;
  std::array<pg::step, 2> steps{
      pg::step{for_update ? sql::select_verification_update : sql::select_verification_share,
               "read verification", params(id), &q},
      pg::step{sql::select_attempts, "read attempts", params(id), &a}};
  if (auto ec = last ? finish(steps) : db_.run_all(steps)) return ec;
  if (q.rows() == 0) return store_errc::not_found;
  verification v;
  if (auto ec = read_verification(q, v)) return ec;
  if (auto ec = read_attempts(id, a, v.attempts)) return ec;
  out = std::move(v);
  return {};
}

error_code postgres_store::read_verification(const pg::result& q, verification& v) {
  v.id = q.text(0, 0);
  v.to = q.text(0, 1);
  v.locale = q.text(0, 2);
  v.api_key = q.text(0, 3);
  v.client_ip = q.text(0, 4);
  auto status = verification_status_from(q.text(0, 5));
  if (!status) return db_.fail("verification " + v.id + ": unknown status '" + q.text(0, 5) + "'");
  v.status = *status;
  v.created_at = q.time(0, 6);
  v.expires_at = q.time(0, 7);
  v.completed_at = q.optional_time(0, 8);
  v.code_length = q.integer(0, 9);
  v.code_mac = q.bytes(0, 10);
  v.code_sealed = q.bytes(0, 11);
  v.checks = q.integer(0, 12);
  v.max_checks = q.integer(0, 13);
  v.sends = q.integer(0, 14);
  v.next_resend_at = q.time(0, 15);
  v.idempotency_key = q.text(0, 16);
  v.request_hash = q.text(0, 17);
  v.version = q.int64(0, 18);
  return {};
}

error_code postgres_store::read_attempts(std::string_view id, const pg::result& q,
                                         std::vector<attempt>& out) {
  out.clear();
  for (int r = 0; r < q.rows(); ++r) {
    attempt a;
    a.number = q.integer(r, 1);
    auto via = channel_from(q.text(r, 2));
    auto status = attempt_status_from(q.text(r, 3));
    const std::string where = "attempt " + std::string(id) + "/" + std::to_string(a.number);
    if (!via || !status) return db_.fail(where + ": unknown channel or status");
    a.via = *via;
    a.status = *status;
    a.created_at = q.time(r, 4);
    a.submitted_at = q.optional_time(r, 5);
    a.completed_at = q.optional_time(r, 6);
    a.carrier = q.text(r, 7);
    a.bind = q.text(r, 8);
    if (!detail::decode_message_ids(q.bytes(r, 9), a.message_ids)) {
      return db_.fail(where + ": message_ids is not a JSON array of strings");
    }
    if (!q.is_null(r, 10)) a.smpp_status = static_cast<std::uint32_t>(q.int64(r, 10));
    a.outcome_unknown = q.boolean(r, 11);
    a.dlr_stat = q.text(r, 12);
    a.dlr_err = q.text(r, 13);
    if (!q.is_null(r, 14)) a.sip_code = q.integer(r, 14);
    a.sip_reason = q.text(r, 15);
    a.error = q.text(r, 16);
    if (!q.is_null(r, 17)) a.played_ms = q.int64(r, 17);
    a.node = q.text(r, 18);
    out.push_back(std::move(a));
  }
  return {};
}

void postgres_store::write_verification(const verification& v, bool insert, std::string* constraint,
                                        std::vector<pg::step>& steps) {
  steps.push_back(
      pg::step{insert ? sql::insert_verification : sql::update_verification,
               "write verification",
               params(v.id, v.to, v.locale, v.api_key, v.client_ip, to_string(v.status),
                      v.created_at, v.expires_at, v.completed_at, v.code_length, bytea{v.code_mac},
                      bytea{v.code_sealed}, v.checks, v.max_checks, v.sends, v.next_resend_at,
                      v.idempotency_key, v.request_hash, v.version),
               nullptr,
               store_errc::duplicate_idempotency,
               {},
               constraint});
}

void postgres_store::write_attempt(std::string_view id, const attempt& a,
                                   std::vector<pg::step>& steps) {
  const std::string ids = detail::encode_message_ids(a.message_ids);
  steps.push_back(pg::step{
      sql::upsert_attempt, "write attempt",
      params(id, a.number, to_string(a.via), to_string(a.status), a.created_at, a.submitted_at,
             a.completed_at, a.carrier, a.bind, bytea{ids}, a.smpp_status, a.outcome_unknown,
             a.dlr_stat, a.dlr_err, a.sip_code, a.sip_reason, a.error, a.played_ms, a.node)});
}

void postgres_store::write_correlations(std::span<const correlation> c,
                                        std::vector<pg::step>& steps) {
  const sys_time now = std::chrono::system_clock::now();
  for (const auto& one : c) {
    // A foreign key that fails: no such verification.
    steps.push_back(
        pg::step{sql::upsert_correlation,
                 "write correlation",
                 params(one.carrier, one.key, one.verification_id, one.attempt, one.part, now),
                 nullptr,
                 {},
                 store_errc::not_found});
  }
}

void postgres_store::write_changed_attempts(const std::vector<attempt>& before,
                                            const verification& after,
                                            std::vector<pg::step>& steps) {
  // Only the attempts that changed are written (a receipt touches one of them); those gone
  // from `after` are deleted.
  std::map<int, const attempt*> old;
  for (const auto& b : before) old.emplace(b.number, &b);
  for (const auto& a : after.attempts) {
    auto found = old.find(a.number);
    const bool same = found != old.end() && *found->second == a;
    if (found != old.end()) old.erase(found);
    if (!same) write_attempt(after.id, a, steps);
  }
  for (const auto& [number, gone] : old) {
    steps.push_back(pg::step{sql::delete_attempt, "delete attempt", params(after.id, number)});
  }
}

// ---- the interface ------------------------------------------------------------------------

namespace {

// The primary key or the (api_key, idempotency_key) index: the constraint says which.
error_code which_duplicate(error_code ec, const std::string& constraint) {
  if (ec == store_errc::duplicate_idempotency && constraint == "verifications_pkey") {
    return store_errc::duplicate_id;
  }
  return ec;
}

}  // namespace

error_code postgres_store::insert(const verification& v) {
  std::string constraint;
  const error_code ec = transact([&]() -> error_code {
    std::vector<pg::step> steps;
    write_verification(v, true, &constraint, steps);
    for (const auto& a : v.attempts) write_attempt(v.id, a, steps);
    return finish(steps);
  });
  return which_duplicate(ec, constraint);
}

error_code postgres_store::get(std::string_view id, verification& out) {
  verification v;
  if (auto ec = transact([&] { return load(id, false, v, true); }, false)) return ec;
  out = std::move(v);
  return {};
}

error_code postgres_store::find_idempotent(std::string_view api_key, std::string_view key,
                                           verification& out) {
  if (key.empty()) return store_errc::not_found;
  verification v;
  const error_code ec = transact(
      [&]() -> error_code {
        pg::result q;
        if (auto e =
                db_.run(sql::select_idempotent, "find idempotency key", params(api_key, key), q)) {
          return e;
        }
        if (q.rows() == 0) return store_errc::not_found;
        return load(q.text(0, 0), false, v, true);
      },
      false);
  if (ec) return ec;
  out = std::move(v);
  return {};
}

error_code postgres_store::modify(std::string_view id, std::span<const correlation> add,
                                  const modify_fn& fn, verification& out, const event_fn& event) {
  verification after;
  std::string constraint;
  const error_code ec = transact(
      [&]() -> error_code {
        verification before;
        if (auto e = load(id, true, before)) return e;
        after = before;
        if (auto e = fn(after)) return e;  // rolled back: nothing was written
        after.id = before.id;              // the key cannot change
        after.version = before.version + 1;
        std::vector<pg::step> steps;
        write_correlations(add, steps);
        write_verification(after, false, &constraint, steps);
        write_changed_attempts(before.attempts, after, steps);
        write_event(after, event, steps);
        return finish(steps);
      },
      false);  // its writes meet no constraint: the row is locked, the upserts take conflicts
  if (ec) return which_duplicate(ec, constraint);
  out = std::move(after);
  return {};
}

error_code postgres_store::add_correlations(std::span<const correlation> c) {
  if (c.empty()) return {};
  return transact([&] {
    std::vector<pg::step> steps;
    write_correlations(c, steps);
    return finish(steps);
  });
}

error_code postgres_store::find_correlation(std::string_view carrier, std::string_view key,
                                            correlation& out) {
  pg::result q;
  if (auto ec = statement(sql::select_correlation, "read correlation", params(carrier, key), q)) {
    return ec;
  }
  if (q.rows() == 0) return store_errc::not_found;
  out.carrier = std::string(carrier);
  out.key = std::string(key);
  out.verification_id = q.text(0, 0);
  out.attempt = q.integer(0, 1);
  out.part = q.integer(0, 2);
  return {};
}

error_code postgres_store::find_unknown_sms(const unknown_sms_query& query,
                                            std::vector<correlation>& out) {
  out.clear();
  pg::result q;
  if (auto ec = statement(sql::select_unknown_sms, "read unknown SMS",
                          params(query.carrier, query.to, query.created_from, query.created_to,
                                 query.expires_after, query.limit),
                          q)) {
    return ec;
  }
  for (int r = 0; r < q.rows(); ++r) {
    correlation c;
    c.carrier = query.carrier;
    c.verification_id = q.text(r, 0);
    c.attempt = q.integer(r, 1);
    out.push_back(std::move(c));
  }
  return {};
}

namespace {

// "{1,2,3}": an integer array parameter.
template <class T>
std::string integer_array(const std::vector<T>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

}  // namespace

error_code postgres_store::check_and_count(std::span<const limit_check> checks, sys_time now,
                                           limit_result& out) {
  out = limit_result{};
  // The checks that limit anything, and where each was in `checks`.
  std::vector<std::size_t> index;
  std::vector<std::string> keys;
  std::vector<int> maxes;
  std::vector<std::int64_t> windows_ms;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const auto& c = checks[i];
    if (c.max <= 0 || c.window <= std::chrono::seconds::zero()) continue;  // no limit
    index.push_back(i);
    keys.push_back(c.key);
    maxes.push_back(c.max);
    windows_ms.push_back(std::chrono::milliseconds(c.window).count());
  }
  if (index.empty()) return {};
  // One statement: the function locks, counts and inserts (postgres_schema.cpp).
  pg::result q;
  if (auto ec = statement(sql::check_and_count, "check rate limits",
                          params(pg::text_array{keys}, integer_array(maxes),
                                 integer_array(windows_ms), pg::to_ms(now)),
                          q)) {
    return ec;
  }
  const int failed = q.rows() == 1 ? q.integer(0, 0) : -1;
  if (failed < 0 || static_cast<std::size_t>(failed) >= index.size()) return {};
  out.allowed = false;
  out.failed_index = index[static_cast<std::size_t>(failed)];
  const std::int64_t wait_ms = q.int64(0, 1);  // > 0: the event is inside the window
  out.retry_after = std::chrono::seconds(std::max<std::int64_t>(1, (wait_ms + 999) / 1000));
  return {};
}

error_code postgres_store::list_queued(std::vector<verification>& out) {
  std::vector<verification> found;
  const error_code ec = transact(
      [&]() -> error_code {
        pg::result ids;
        if (auto e = db_.run(sql::select_queued, "list queued", params(), ids)) return e;
        for (int r = 0; r < ids.rows(); ++r) {
          verification v;
          const error_code e = load(ids.text(r, 0), false, v);
          if (e == store_errc::not_found) continue;  // purged since the list was read
          if (e) return e;
          if (v.status == verification_status::pending) found.push_back(std::move(v));
        }
        return {};
      },
      false);
  if (ec) return ec;
  out = std::move(found);
  return {};
}

}  // namespace otpd::service
