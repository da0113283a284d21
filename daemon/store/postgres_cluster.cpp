// The PostgreSQL store's work for several nodes (store.hpp, "several nodes"): purge in small
// batches, leases, and the queue of SMS handed to the node holding a bind.
#include <algorithm>
#include <set>
#include <tuple>

#include "daemon/store/message_ids.hpp"
#include "daemon/store/postgres_store_impl.hpp"

namespace otpd::service {

using pg::bytea;
using pg::params;
using pg::sql;
using pg::text_array;

// purge(): at most store::purge_limit rows a step, in one statement (its own transaction outside
// a batch).
error_code postgres_store::purge_step(sql which, std::int64_t bound, std::size_t& changed) {
  pg::result r;
  if (auto ec = statement(which, "purge", params(bound, purge_limit), r)) return ec;
  changed += r.affected();
  return {};
}

error_code postgres_store::purge(sys_time now, std::chrono::seconds retention,
                                 std::size_t& changed) {
  changed = 0;
  const std::int64_t now_ms = pg::to_ms(now);
  const std::int64_t finished_before = now_ms - std::chrono::milliseconds(retention).count();
  std::size_t total = 0;
  if (auto ec = purge_step(sql::expire_pending, now_ms, total)) return ec;
  // Deleting a verification deletes its attempts, correlations and queued SMS (foreign keys,
  // cascade).
  if (auto ec = purge_step(sql::delete_finished, finished_before, total)) return ec;
  if (auto ec = purge_step(sql::delete_events, now_ms, total)) return ec;
  // An expired lease is free anyway; one a day old names a node or bind long gone.
  if (auto ec = purge_step(sql::delete_old_leases, now_ms - 86'400'000, total)) return ec;
  changed = total;
  return {};
}

// ---- leases -------------------------------------------------------------------------------

error_code postgres_store::acquire_leases(std::string_view holder,
                                          std::span<const std::string> names, sys_time now,
                                          std::chrono::milliseconds ttl,
                                          std::vector<std::string>& held) {
  held.clear();
  if (names.empty()) return {};
  pg::result q;
  const sys_time until = now + ttl;
  if (auto ec = statement(sql::acquire_leases, "acquire leases",
                          params(holder, text_array{names}, until, now), q)) {
    return ec;
  }
  std::set<std::string, std::less<>> got;
  for (int r = 0; r < q.rows(); ++r) got.insert(q.text(r, 0));
  for (const auto& name : names) {
    if (got.contains(name)) held.push_back(name);
  }
  return {};
}

error_code postgres_store::release_leases(std::string_view holder,
                                          std::span<const std::string> names) {
  if (names.empty()) return {};
  pg::result ignored;
  return statement(sql::release_leases, "release leases", params(holder, text_array{names}),
                   ignored);
}

error_code postgres_store::list_leases(std::string_view prefix, std::vector<lease>& out) {
  out.clear();
  pg::result q;
  if (auto ec = statement(sql::select_leases, "list leases", params(prefix), q)) return ec;
  for (int r = 0; r < q.rows(); ++r) {
    out.push_back(lease{q.text(r, 0), q.text(r, 1), q.time(r, 2)});
  }
  return {};
}

// ---- the SMS handoff queue ----------------------------------------------------------------

error_code postgres_store::queue_sms(const sms_handoff& h) {
  pg::result ignored;
  return statement(sql::insert_handoff, "queue SMS",
                   params(h.verification_id, h.attempt, text_array{h.carriers},
                          bytea{h.sealed_code}, h.locale, h.queued_at, h.deadline),
                   ignored, store_errc::duplicate_id, store_errc::not_found);
}

error_code postgres_store::claim_sms(std::string_view holder, std::span<const std::string> carriers,
                                     sys_time now, std::size_t limit,
                                     std::vector<sms_handoff>& out) {
  out.clear();
  if (limit == 0 || carriers.empty()) return {};
  // One statement: picks, claims and moves the attempts to `holder` (postgres_schema.cpp).
  pg::result q;
  if (auto ec = statement(sql::claim_handoff, "claim SMS",
                          params(holder, text_array{carriers}, now, limit), q)) {
    return ec;
  }
  std::vector<sms_handoff> claimed;
  for (int r = 0; r < q.rows(); ++r) {
    sms_handoff h;
    h.verification_id = q.text(r, 0);
    h.attempt = q.integer(r, 1);
    // The carriers are read as JSON (array_to_json): the same reader as message ids.
    if (!detail::decode_message_ids(q.text(r, 2), h.carriers)) {
      return db_.fail("queued SMS " + h.verification_id + ": unreadable carriers");
    }
    h.sealed_code = q.bytes(r, 3);
    h.locale = q.text(r, 4);
    h.queued_at = q.time(r, 5);
    h.deadline = q.time(r, 6);
    h.claimed_by = std::string(holder);
    claimed.push_back(std::move(h));
  }
  // RETURNING keeps no order: oldest first, as they were picked.
  std::sort(claimed.begin(), claimed.end(), [](const sms_handoff& a, const sms_handoff& b) {
    return std::tie(a.queued_at, a.verification_id, a.attempt) <
           std::tie(b.queued_at, b.verification_id, b.attempt);
  });
  out = std::move(claimed);
  return {};
}

error_code postgres_store::finish_sms(std::string_view verification_id, int attempt) {
  pg::result r;
  if (auto ec = statement(sql::delete_handoff, "finish SMS", params(verification_id, attempt), r)) {
    return ec;
  }
  return r.affected() == 0 ? error_code(store_errc::not_found) : error_code{};
}

}  // namespace otpd::service
