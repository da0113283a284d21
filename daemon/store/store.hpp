// Where verifications, attempts, receipt correlations, idempotency keys, rate-limit counters,
// leases and SMS handed to another node live. The interface is synchronous: callers run it off
// the I/O threads (see store_executor). SQLite is the embedded default for one node; PostgreSQL
// is shared by several (docs/scale-out.md). Both keep the guarantees stated here, and the same
// test suite (tests/daemon/store/store_contract.hpp) runs against both.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>

#include "daemon/model.hpp"

namespace otpd::service {

using boost::system::error_code;

enum class store_errc {
  not_found = 1,
  duplicate_id,           // insert of an id that exists
  duplicate_idempotency,  // the (api_key, idempotency_key) pair exists: see find_idempotent
  conflict,               // modify() callback asked to abort (its own error is returned)
  io_error,               // the database failed (disk full, read-only, corrupt): 503
  closed,                 // the store_executor was shut down
  busy,                   // the store_executor's queue is full: 503, try again later
};
const boost::system::error_category& store_category() noexcept;
inline error_code make_error_code(store_errc e) noexcept {
  return {static_cast<int>(e), store_category()};
}

// A message id of an SMSC, normalised per carrier, pointing at the attempt it belongs to.
struct correlation {
  std::string carrier;
  std::string key;
  std::string verification_id;
  int attempt = 0;
  int part = 0;  // 0-based
};

// SMS attempts whose outcome is unknown (written without a response, or possibly written
// before a crash) and that have no message id yet: the candidates for a receipt that matched
// no correlation key.
struct unknown_sms_query {
  std::string carrier;
  std::string to;           // E.164 with '+'
  sys_time created_from{};  // the attempt's created_at, inclusive bounds
  sys_time created_to{};
  sys_time expires_after{};  // the verification expires at or after this
  std::size_t limit = 2;     // more than one is ambiguous
};

// One rate-limit check: at most `max` counted events for `key` within `window`. A check with
// max <= 0 or window <= 0 is no limit (config.hpp: "0: no limit"): never refuses, counts nothing.
// The window is every event after now - window, those counted at a later time than `now`
// included (a node whose clock is a little ahead): nodes never let more than `max` through.
struct limit_check {
  std::string key;  // e.g. "num:+84912345678", "ip:10.0.0.1", "key:shop", "pfx:84912"
  int max = 0;
  std::chrono::seconds window{0};
};

struct limit_result {
  bool allowed = true;
  std::size_t failed_index = 0;         // the first check that refused
  std::chrono::seconds retry_after{0};  // when that check will allow one more
};

// A lease: work that one node at a time may do, by name ("bind:vn/vn-a", "node:web-1",
// "purge"). Held by `holder` until `expires_at`; an expired lease is free.
struct lease {
  std::string name;
  std::string holder;
  sys_time expires_at{};
};

// An SMS that the node which created its attempt cannot send (it holds no bind of the route's
// carriers), queued in the store for a node that can. The code is sealed
// (engine::code_protector::seal with the shared code_seal_key), never in the clear.
struct sms_handoff {
  std::string verification_id;
  int attempt = 0;
  std::vector<std::string> carriers;  // the route's carriers, in order of preference
  std::string sealed_code;
  std::string locale;
  sys_time queued_at{};
  sys_time deadline{};     // the verification's expiry: not sent after it
  std::string claimed_by;  // the node sending it; empty while queued
  friend bool operator==(const sms_handoff&, const sms_handoff&) = default;
};

// A webhook event in the store's outbox. Written in the same transaction as the change it
// reports (modify's `event`), so that it outlives a crash of the node; delivered at least once,
// in the order written for each verification, by whichever node claims it (claim_webhooks).
struct webhook_event {
  std::int64_t seq = 0;  // the store's, increasing in the order the events were written
  std::string verification_id;
  std::string body;  // the JSON text sent
  sys_time created_at{};
  int attempts = 0;    // deliveries that failed so far
  sys_time next_at{};  // not tried before (the epoch: at once)
  friend bool operator==(const webhook_event&, const webhook_event&) = default;
};

// Times are kept with millisecond precision (floored): a time_point that is not a whole
// millisecond does not read back equal.
class store {
 public:
  virtual ~store() = default;

  // Inserts a verification with its attempts. duplicate_idempotency when the api key already
  // used that Idempotency-Key (nothing written).
  virtual error_code insert(const verification& v) = 0;
  virtual error_code get(std::string_view id, verification& out) = 0;
  virtual error_code find_idempotent(std::string_view api_key, std::string_view key,
                                     verification& out) = 0;

  // Reads the verification, lets `fn` change it, writes it back: one transaction. When `fn`
  // returns an error nothing is written and that error is returned. `out` gets the row as
  // written (version bumped).
  using modify_fn = std::function<error_code(verification&)>;
  error_code modify(std::string_view id, const modify_fn& fn, verification& out) {
    return modify(id, {}, fn, out, {});
  }
  error_code modify(std::string_view id, std::span<const correlation> add, const modify_fn& fn,
                    verification& out) {
    return modify(id, add, fn, out, {});
  }
  // The webhook event of a change: called once `fn` has accepted it, with the row as it will
  // be written (version bumped); returns the event's body, or nothing for no event.
  using event_fn = std::function<std::string(const verification& written)>;
  // The same, and in the same transaction writes the receipt correlations `add` (the SMSC's
  // answer to a submit is one write, not two) and the event that `event` (may be empty)
  // returns to the webhook outbox; none of them when `fn` refuses.
  virtual error_code modify(std::string_view id, std::span<const correlation> add,
                            const modify_fn& fn, verification& out, const event_fn& event) = 0;

  // Receipt correlation: keys written when the SMSC answers, found when a receipt comes.
  virtual error_code add_correlations(std::span<const correlation> c) = 0;
  virtual error_code find_correlation(std::string_view carrier, std::string_view key,
                                      correlation& out) = 0;

  // Up to query.limit attempts that fit `query` (verification id and attempt in `out`, part 0),
  // oldest first.
  virtual error_code find_unknown_sms(const unknown_sms_query& query,
                                      std::vector<correlation>& out) {
    (void)query;
    out.clear();
    return {};
  }

  // Rate limits: checks every limit at `now`; when all allow, counts one event for each key
  // (atomically). Nothing is counted when one refuses.
  virtual error_code check_and_count(std::span<const limit_check> checks, sys_time now,
                                     limit_result& out) = 0;

  // Verifications still pending with an unfinished attempt: queued (accepted, never written)
  // or a call under way (ringing, answered). After a restart a node settles those of its own
  // attempts (attempt::node), and a live node those of a node whose lease has expired.
  virtual error_code list_queued(std::vector<verification>& out) = 0;

  // Marks pending verifications past expiry as expired; deletes finished ones older than
  // `retention`, their correlations, queued SMS and rate events older than the longest window.
  // Returns how many rows changed. Several nodes: the caller holds the "purge" lease. A call
  // changes at most purge_limit rows of each kind, in one statement (its own transaction
  // outside a batch) for each, so that the calls queued behind it wait about a millisecond,
  // not the length of a backlog (a first start on an old database, a shorter retention): the
  // caller calls again while a call reaches the limit.
  static constexpr std::size_t purge_limit = 50;
  virtual error_code purge(sys_time now, std::chrono::seconds retention, std::size_t& changed) = 0;

  // ---- several nodes (docs/scale-out.md) ----
  // Leases use the caller's clock (`now`): the nodes' clocks must agree to well within a lease
  // period (NTP). A holder counts its lease from before it asked, so it gives the work up
  // before the store would let another node take it.

  // Takes or renews, for `holder`, each lease of `names` that is free, expired at `now`, or
  // already its own: it then expires at now + ttl. `held` gets the names of `names` that holder
  // holds after the call, in the order of `names`. One transaction: two holders racing for a
  // free lease never both get it.
  virtual error_code acquire_leases(std::string_view holder, std::span<const std::string> names,
                                    sys_time now, std::chrono::milliseconds ttl,
                                    std::vector<std::string>& held) = 0;
  // Gives up those of `names` that `holder` holds (the others are left alone).
  virtual error_code release_leases(std::string_view holder,
                                    std::span<const std::string> names) = 0;
  // Every lease whose name starts with `prefix` (expired ones included), by name.
  virtual error_code list_leases(std::string_view prefix, std::vector<lease>& out) = 0;

  // Queues `h` (claimed_by ignored). duplicate_id when that attempt is queued already;
  // not_found when the verification does not exist.
  virtual error_code queue_sms(const sms_handoff& h) = 0;
  // Claims for `holder` up to `limit` queued SMS, oldest first, that are not claimed, whose
  // deadline is after `now` and whose carriers include one of `carriers`; sets their
  // claimed_by, and the attempt's node to holder, in the same transaction. Two holders claiming
  // at once never get the same SMS (PostgreSQL: FOR UPDATE SKIP LOCKED). A claimed SMS is never
  // claimed again, even when its holder dies: it may be on the wire (its attempt is settled as
  // outcome unknown instead).
  virtual error_code claim_sms(std::string_view holder, std::span<const std::string> carriers,
                               sys_time now, std::size_t limit, std::vector<sms_handoff>& out) = 0;
  // The SMS's outcome is recorded: its queue entry goes (not_found when there is none).
  virtual error_code finish_sms(std::string_view verification_id, int attempt) = 0;

  // ---- the webhook outbox ----
  // Claims for `holder` up to `limit` events, by seq: each the oldest event of its
  // verification (so that one verification's events go out in order), due (next_at <= now) and
  // not claimed, or claimed until a time that has passed (its holder died: at least once). The
  // claim lasts until now + ttl. Two holders claiming at once never get the same event.
  virtual error_code claim_webhooks(std::string_view holder, sys_time now,
                                    std::chrono::milliseconds ttl, std::size_t limit,
                                    std::vector<webhook_event>& out) = 0;
  // The claimed event was delivered, or given up: it goes. not_found when `holder` does not
  // hold it (its claim ran out and another holder took it).
  virtual error_code finish_webhook(std::string_view holder, std::int64_t seq) = 0;
  // The claimed event's delivery failed: one more failed attempt, not tried again before
  // `next_at`, the claim given up. not_found as for finish_webhook.
  virtual error_code retry_webhook(std::string_view holder, std::int64_t seq, sys_time next_at) = 0;
  // Gives up every claim of `holder`: a node starting again takes back what it claimed before
  // it stopped, without waiting for the claims to run out.
  virtual error_code release_webhooks(std::string_view holder) = 0;
  // Events in the outbox, and when the oldest of them was written (the epoch when none).
  virtual error_code webhook_backlog(std::size_t& count, sys_time& oldest) = 0;

  // What the backend said about its most recent io_error (e.g. "database or disk is full"),
  // for logs and /readyz; empty when there was none. Never an OTP code or a phone number. Safe
  // to call from any thread.
  virtual std::string last_error() const { return {}; }

  // Group commit, for store_executor: between begin_batch() and end_batch() the calls share
  // one transaction, and none is durable until end_batch() commits. A failed call still writes
  // nothing: it has a savepoint of its own, or (PostgreSQL, for calls that only a failing
  // server can fail) its failure fails the batch. When end_batch() fails, nothing of the batch
  // may be durable (the transaction is rolled back): the executor then runs each call again
  // alone. A backend without transactions keeps these no-ops.
  virtual error_code begin_batch() { return {}; }
  virtual error_code end_batch() { return {}; }
};

// Opens (creating if needed) the SQLite database at `path`: WAL mode with synchronous=NORMAL
// (a committed write survives a crash of the process, kill -9 included; a power loss may lose
// the last transactions), busy timeout, schema migration.
error_code open_sqlite_store(const std::string& path, std::unique_ptr<store>& out);

}  // namespace otpd::service

namespace boost::system {
template <>
struct is_error_code_enum<otpd::service::store_errc> : std::true_type {};
}  // namespace boost::system
