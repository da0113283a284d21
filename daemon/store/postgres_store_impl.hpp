// Inside the PostgreSQL store (postgres_*.cpp only): the store over one connection
// (postgres_store.hpp says what it guarantees). postgres_store.cpp: verifications, attempts,
// correlations, rate limits; postgres_cluster.cpp: purge, leases and the SMS handoff queue;
// postgres_outbox.cpp: the webhook outbox; postgres_schema.cpp: statements and migrations.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/store/postgres_connection.hpp"

namespace otpd::service {

class postgres_store final : public store {
 public:
  static constexpr int schema_version = 2;

  explicit postgres_store(postgres_options options) : db_(std::move(options)) {}
  // Connects and migrates; on failure `why` says what went wrong (never the password).
  error_code open(std::string& why);

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
  std::string last_error() const override { return db_.last_error(); }
  error_code begin_batch() override;
  error_code end_batch() override;

 private:
  // Runs `body` as one transaction: BEGIN ... COMMIT alone, SAVEPOINT ... RELEASE inside a
  // batch. When it returns an error (or throws), what it wrote is rolled back (to the
  // savepoint) and that error is returned.
  //
  // `isolate` false: no savepoint inside a batch, two statements fewer, for a call that writes
  // only in its last step (finish()) and whose statements fail only when the server does (a
  // timeout, a lost connection), never on a constraint: such a failure dooms the batch, whose
  // end_batch() then fails and whose calls the executor runs again alone. Its other failures
  // (not found, the caller's conflict) come before any write and leave nothing to undo.
  template <class Body>
  error_code transact(Body&& body, bool isolate = true) {
    if (auto ec = begin(isolate)) return ec;
    error_code ec;
    try {
      ec = body();
    } catch (...) {
      rollback();
      throw;
    }
    if (ec) {
      rollback();
      return ec;
    }
    return commit();
  }
  error_code begin(bool isolate);
  error_code commit();
  void rollback() noexcept;
  // The last statements of a transaction, sent with its commit (COMMIT, or RELEASE in a
  // batch) in one round trip; commit() then has nothing left to send.
  error_code finish(std::span<pg::step> steps);
  const char* commit_text() const noexcept {
    if (!in_batch_) return "COMMIT";
    return savepoint_ ? "RELEASE SAVEPOINT op" : nullptr;
  }

  error_code migrate();  // postgres_schema.cpp
  // Reads a verification and its attempts in one round trip; `last`: the transaction's commit
  // goes with them (finish()).
  error_code load(std::string_view id, bool for_update, verification& out, bool last = false);
  error_code read_verification(const pg::result& q, verification& v);
  error_code read_attempts(std::string_view id, const pg::result& q, std::vector<attempt>& out);
  // The statements that write, added to `steps` (run together by finish()).
  static void write_verification(const verification& v, bool insert, std::string* constraint,
                                 std::vector<pg::step>& steps);
  static void write_attempt(std::string_view id, const attempt& a, std::vector<pg::step>& steps);
  static void write_changed_attempts(const std::vector<attempt>& before, const verification& after,
                                     std::vector<pg::step>& steps);
  static void write_correlations(std::span<const correlation> c, std::vector<pg::step>& steps);
  // The event `event` returns for `written`, if any, into the webhook outbox
  // (postgres_outbox.cpp).
  static void write_event(const verification& written, const event_fn& event,
                          std::vector<pg::step>& steps);
  // One statement, which is a transaction by itself (a savepoint of its own inside a batch).
  error_code statement(pg::sql which, std::string_view what, pg::params&& p, pg::result& out,
                       error_code unique = {}, error_code foreign = {});
  // One purge step: at most purge_limit rows, one statement.
  error_code purge_step(pg::sql which, std::int64_t bound, std::size_t& changed);

  pg::connection db_;
  bool in_batch_ = false;
  bool committed_ = false;  // finish() sent the commit of the current transaction
  bool savepoint_ = false;  // the current call in a batch has a savepoint of its own
  bool doomed_ = false;     // a call without one failed at the server: the batch cannot commit
};

}  // namespace otpd::service
