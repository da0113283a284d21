// The SQLite store's leases and SMS handoff queue (store.hpp, "several nodes"). Every write runs
// in a BEGIN IMMEDIATE transaction (sqlite_store.cpp): holding the write lock from the start,
// a read-then-write such as a claim cannot interleave with another connection's, so two nodes
// never take the same lease or claim the same SMS.
#include <utility>

#include "daemon/store/message_ids.hpp"
#include "daemon/store/sqlite_statement.hpp"

namespace otpd::service {

using sqlite_detail::blob;
using sqlite_detail::to_ms;

// ---- leases -------------------------------------------------------------------------------

error_code sqlite_store::acquire_leases(std::string_view holder, std::span<const std::string> names,
                                        sys_time now, std::chrono::milliseconds ttl,
                                        std::vector<std::string>& held) {
  held.clear();
  if (names.empty()) return {};
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  const sys_time until = now + ttl;
  std::vector<std::string> got;
  for (const auto& name : names) {
    statement q(*this, sql::upsert_lease, "acquire lease", name, holder, until, now);
    if (auto ec = q.done()) return ec;
    // The upsert's WHERE refused a lease that another holder has and that has not expired.
    if (q.changes() != 0) got.push_back(name);
  }
  if (auto ec = tx.commit()) return ec;
  held = std::move(got);
  return {};
}

error_code sqlite_store::release_leases(std::string_view holder,
                                        std::span<const std::string> names) {
  if (names.empty()) return {};
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  for (const auto& name : names) {
    if (auto ec = statement(*this, sql::delete_lease, "release lease", name, holder).done()) {
      return ec;
    }
  }
  return tx.commit();
}

error_code sqlite_store::list_leases(std::string_view prefix, std::vector<lease>& out) {
  std::vector<lease> found;
  statement rows(*this, sql::select_leases, "list leases", prefix);
  auto ec = rows.each([&](statement& q) {
    found.push_back(lease{q.text(0), q.text(1), q.time(2)});
  });
  if (ec) return ec;
  out = std::move(found);
  return {};
}

// ---- the SMS handoff queue ----------------------------------------------------------------

error_code sqlite_store::queue_sms(const sms_handoff& h) {
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  // Looked up rather than read off the foreign key's failure: SQLite reports a missing parent
  // and a duplicate key as two codes, and the statement maps one.
  bool found = false;
  if (auto ec = exists(h.verification_id, found)) return ec;
  if (!found) return store_errc::not_found;
  const std::string carriers = detail::encode_message_ids(h.carriers);
  {
    statement q(*this, sql::insert_sms, "queue SMS", h.verification_id, h.attempt, carriers,
                blob{h.sealed_code}, h.locale, h.queued_at, h.deadline);
    if (auto ec = q.done(SQLITE_CONSTRAINT_PRIMARYKEY, store_errc::duplicate_id)) return ec;
  }
  return tx.commit();
}

error_code sqlite_store::claim_sms(std::string_view holder, std::span<const std::string> carriers,
                                   sys_time now, std::size_t limit, std::vector<sms_handoff>& out) {
  out.clear();
  if (limit == 0 || carriers.empty()) return {};
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  const std::string wanted =
      detail::encode_message_ids(std::vector<std::string>(carriers.begin(), carriers.end()));
  std::vector<sms_handoff> claimed;
  {
    statement rows(*this, sql::select_claimable, "read queued SMS", now, wanted, limit);
    auto ec = rows.each([&](statement& q) -> error_code {
      sms_handoff h;
      h.verification_id = q.text(0);
      h.attempt = q.integer(1);
      if (!detail::decode_message_ids(q.text(2), h.carriers)) {
        return fail("queued SMS " + h.verification_id + "/" + std::to_string(h.attempt) +
                    ": carriers is not a JSON array of strings");
      }
      h.sealed_code = q.blob(3);
      h.locale = q.text(4);
      h.queued_at = q.time(5);
      h.deadline = q.time(6);
      h.claimed_by = std::string(holder);
      claimed.push_back(std::move(h));
      return {};
    });
    if (ec) return ec;
  }
  for (const auto& h : claimed) {
    if (auto ec = claim_one(holder, h)) return ec;
  }
  if (auto ec = tx.commit()) return ec;
  out = std::move(claimed);
  return {};
}

error_code sqlite_store::claim_one(std::string_view holder, const sms_handoff& h) {
  const std::string_view id = h.verification_id;
  if (auto ec = statement(*this, sql::claim_sms, "claim SMS", id, h.attempt, holder).done()) {
    return ec;
  }
  if (auto ec =
          statement(*this, sql::set_attempt_node, "claim SMS", id, h.attempt, holder).done()) {
    return ec;
  }
  // The attempt changed: every write bumps the verification's version (model.hpp).
  return statement(*this, sql::bump_version, "claim SMS", id).done();
}

error_code sqlite_store::finish_sms(std::string_view verification_id, int attempt) {
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  {
    statement q(*this, sql::delete_sms, "finish SMS", verification_id, attempt);
    if (auto ec = q.done()) return ec;
    if (q.changes() == 0) return store_errc::not_found;
  }
  return tx.commit();
}

}  // namespace otpd::service
