// The SQLite store's statements and schema: the text of every statement the store runs, the
// migrations that build the schema, and the migration step run at open.
#include <cassert>
#include <string>

#include "daemon/store/sqlite_statement.hpp"

namespace otpd::service {

#define OTPD_VERIFICATION_COLUMNS                                                             \
  "id, to_number, locale, api_key, client_ip, status, created_at, expires_at, completed_at, " \
  "code_length, code_mac, code_sealed, checks, max_checks, sends, next_resend_at, "           \
  "idempotency_key, request_hash, version"
#define OTPD_ATTEMPT_COLUMNS                                                                \
  "verification_id, number, channel, status, created_at, submitted_at, completed_at, "      \
  "carrier, bind, message_ids, smpp_status, outcome_unknown, dlr_stat, dlr_err, sip_code, " \
  "sip_reason, error, played_ms, node"

// In the order of `sql` (statement_text() checks that in debug builds).
const std::pair<sqlite_store::sql, const char*> sqlite_store::statement_texts_[] = {
    {sql::begin_immediate, "BEGIN IMMEDIATE"},
    {sql::begin_read, "BEGIN"},
    {sql::commit, "COMMIT"},
    {sql::rollback, "ROLLBACK"},
    {sql::savepoint, "SAVEPOINT op"},
    {sql::release, "RELEASE op"},
    {sql::rollback_to, "ROLLBACK TO op"},
    {sql::insert_verification,
     "INSERT INTO verifications (" OTPD_VERIFICATION_COLUMNS
     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
     "?17, ?18, ?19)"},
    {sql::update_verification,
     "UPDATE verifications SET to_number = ?2, locale = ?3, api_key = ?4, client_ip = ?5, "
     "status = ?6, created_at = ?7, expires_at = ?8, completed_at = ?9, code_length = ?10, "
     "code_mac = ?11, code_sealed = ?12, checks = ?13, max_checks = ?14, sends = ?15, "
     "next_resend_at = ?16, idempotency_key = ?17, request_hash = ?18, version = ?19 "
     "WHERE id = ?1"},
    {sql::select_verification,
     "SELECT " OTPD_VERIFICATION_COLUMNS " FROM verifications WHERE id = ?1"},
    {sql::verification_exists, "SELECT 1 FROM verifications WHERE id = ?1"},
    {sql::select_version, "SELECT version FROM verifications WHERE id = ?1"},
    // The literal condition lets the planner use the partial unique index.
    {sql::select_idempotent,
     "SELECT id FROM verifications WHERE api_key = ?1 AND idempotency_key = ?2 "
     "AND idempotency_key <> ''"},
    {sql::upsert_attempt,
     "INSERT OR REPLACE INTO attempts (" OTPD_ATTEMPT_COLUMNS
     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
     "?17, ?18, ?19)"},
    {sql::delete_attempt, "DELETE FROM attempts WHERE verification_id = ?1 AND number = ?2"},
    {sql::select_attempts,
     "SELECT " OTPD_ATTEMPT_COLUMNS " FROM attempts WHERE verification_id = ?1 ORDER BY number"},
    // SMSC message ids wrap and get reused: the newest attempt owns the key.
    {sql::upsert_correlation,
     "INSERT OR REPLACE INTO correlations (carrier, key, verification_id, attempt, part, "
     "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
    {sql::select_correlation,
     "SELECT verification_id, attempt, part FROM correlations WHERE carrier = ?1 AND key = ?2"},
    // No upper bound: an event counted at a later time than this check's `now` (another node
    // whose clock is a little ahead) is inside the window too (store.hpp, limit_check).
    {sql::count_events, "SELECT count(*) FROM rate_events WHERE key = ?1 AND at > ?2"},
    {sql::nth_event,
     "SELECT at FROM rate_events WHERE key = ?1 AND at > ?2 ORDER BY at LIMIT 1 OFFSET ?3"},
    {sql::insert_event, "INSERT INTO rate_events (key, at, keep_until) VALUES (?1, ?2, ?3)"},
    // The moment it expired, not the moment purge noticed: retention counts from there.
    // At most ?2 rows each (store.hpp, purge), found through the partial indexes.
    {sql::expire_pending,
     "UPDATE verifications SET status = 'expired', completed_at = expires_at, "
     "version = version + 1 WHERE id IN (SELECT id FROM verifications "
     "WHERE status = 'pending' AND expires_at <= ?1 LIMIT ?2)"},
    {sql::delete_finished,
     "DELETE FROM verifications WHERE id IN (SELECT id FROM verifications "
     "WHERE status <> 'pending' AND coalesce(completed_at, created_at) < ?1 LIMIT ?2)"},
    {sql::delete_events,
     "DELETE FROM rate_events WHERE rowid IN (SELECT rowid FROM rate_events "
     "WHERE keep_until <= ?1 LIMIT ?2)"},
    {sql::select_queued,
     "SELECT DISTINCT a.verification_id FROM attempts a "
     "JOIN verifications v ON v.id = a.verification_id "
     "WHERE a.status IN ('queued', 'ringing', 'answered') AND v.status = 'pending' "
     "ORDER BY a.verification_id"},
    // The literal outcome_unknown = 1 lets the planner use the partial index.
    {sql::select_unknown_sms,
     "SELECT a.verification_id, a.number FROM attempts a "
     "JOIN verifications v ON v.id = a.verification_id "
     "WHERE a.outcome_unknown = 1 AND a.status = 'submitted' AND a.channel = 'sms' "
     "AND a.message_ids = '[]' AND a.carrier = ?1 AND a.created_at BETWEEN ?3 AND ?4 "
     "AND v.to_number = ?2 AND v.expires_at >= ?5 "
     "ORDER BY a.created_at LIMIT ?6"},
    // Leases (sqlite_cluster.cpp): taken when free, expired at ?4, or the holder's own already.
    {sql::upsert_lease,
     "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3) "
     "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
     "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?4"},
    {sql::delete_lease, "DELETE FROM leases WHERE name = ?1 AND holder = ?2"},
    // substr rather than LIKE: a name may hold '%' or '_'.
    {sql::select_leases,
     "SELECT name, holder, expires_at FROM leases "
     "WHERE substr(name, 1, length(?1)) = ?1 ORDER BY name"},
    {sql::delete_old_leases,
     "DELETE FROM leases WHERE name IN (SELECT name FROM leases WHERE expires_at <= ?1 LIMIT ?2)"},
    {sql::insert_sms,
     "INSERT INTO sms_queue (verification_id, attempt, carriers, sealed_code, locale, queued_at, "
     "deadline, claimed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '')"},
    // Carriers overlap: one of the row's JSON array is in the JSON array ?2.
    {sql::select_claimable,
     "SELECT verification_id, attempt, carriers, sealed_code, locale, queued_at, deadline "
     "FROM sms_queue q WHERE claimed_by = '' AND deadline > ?1 "
     "AND EXISTS (SELECT 1 FROM json_each(q.carriers) c "
     "WHERE c.value IN (SELECT value FROM json_each(?2))) "
     "ORDER BY queued_at, verification_id, attempt LIMIT ?3"},
    {sql::claim_sms,
     "UPDATE sms_queue SET claimed_by = ?3 WHERE verification_id = ?1 AND attempt = ?2 "
     "AND claimed_by = ''"},
    {sql::set_attempt_node,
     "UPDATE attempts SET node = ?3 WHERE verification_id = ?1 AND number = ?2"},
    {sql::bump_version, "UPDATE verifications SET version = version + 1 WHERE id = ?1"},
    {sql::delete_sms, "DELETE FROM sms_queue WHERE verification_id = ?1 AND attempt = ?2"},
    // The webhook outbox (sqlite_outbox.cpp).
    {sql::insert_webhook,
     "INSERT INTO webhook_outbox (verification_id, body, created_at) VALUES (?1, ?2, ?3)"},
    // Due, not claimed (or claimed until a time that has passed), and the oldest event of its
    // verification.
    {sql::select_due_webhooks,
     "SELECT seq, verification_id, body, created_at, attempts, next_at FROM webhook_outbox o "
     "WHERE next_at <= ?1 AND claim_until <= ?1 AND NOT EXISTS (SELECT 1 FROM webhook_outbox p "
     "WHERE p.verification_id = o.verification_id AND p.seq < o.seq) ORDER BY seq LIMIT ?2"},
    {sql::claim_webhook,
     "UPDATE webhook_outbox SET claimed_by = ?2, claim_until = ?3 WHERE seq = ?1"},
    {sql::delete_webhook, "DELETE FROM webhook_outbox WHERE seq = ?1 AND claimed_by = ?2"},
    {sql::retry_webhook,
     "UPDATE webhook_outbox SET attempts = attempts + 1, next_at = ?3, claimed_by = '', "
     "claim_until = 0 WHERE seq = ?1 AND claimed_by = ?2"},
    {sql::release_webhooks,
     "UPDATE webhook_outbox SET claimed_by = '', claim_until = 0 WHERE claimed_by = ?1"},
    {sql::webhook_backlog, "SELECT count(*), coalesce(min(created_at), 0) FROM webhook_outbox"},
    {sql::schema_version_exists,
     "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"},
    {sql::select_schema_version, "SELECT coalesce(max(version), 0) FROM schema_version"},
};

#undef OTPD_VERIFICATION_COLUMNS
#undef OTPD_ATTEMPT_COLUMNS

const char* sqlite_store::statement_text(sql which) noexcept {
  static_assert(std::size(statement_texts_) == static_cast<std::size_t>(sql::count_));
  const auto& entry = statement_texts_[static_cast<std::size_t>(which)];
  assert(entry.first == which);
  return entry.second;
}

namespace {

// Migrations, in order; each runs once, in one transaction, and is never edited after a
// release (a change is a new migration).
struct migration {
  int version;
  const char* sql;
};

constexpr migration migrations[] = {
    {1, R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);

CREATE TABLE verifications (
  id              TEXT NOT NULL PRIMARY KEY,
  to_number       TEXT NOT NULL,
  locale          TEXT NOT NULL,
  api_key         TEXT NOT NULL,
  client_ip       TEXT NOT NULL,
  status          TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  completed_at    INTEGER,
  code_length     INTEGER NOT NULL,
  code_mac        BLOB NOT NULL,
  code_sealed     BLOB NOT NULL,
  checks          INTEGER NOT NULL,
  max_checks      INTEGER NOT NULL,
  sends           INTEGER NOT NULL,
  next_resend_at  INTEGER NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_hash    TEXT NOT NULL,
  version         INTEGER NOT NULL
);
CREATE UNIQUE INDEX verifications_idempotency ON verifications (api_key, idempotency_key)
  WHERE idempotency_key <> '';
-- purge(): pending rows by expiry, finished rows by age; partial so that they stay small.
CREATE INDEX verifications_pending_expiry ON verifications (expires_at) WHERE status = 'pending';
CREATE INDEX verifications_finished ON verifications (coalesce(completed_at, created_at))
  WHERE status <> 'pending';

CREATE TABLE attempts (
  verification_id TEXT NOT NULL REFERENCES verifications (id) ON DELETE CASCADE,
  number          INTEGER NOT NULL,
  channel         TEXT NOT NULL,
  status          TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  submitted_at    INTEGER,
  completed_at    INTEGER,
  carrier         TEXT NOT NULL,
  bind            TEXT NOT NULL,
  message_ids     TEXT NOT NULL,  -- JSON array of strings, one per part
  smpp_status     INTEGER,
  outcome_unknown INTEGER NOT NULL,
  dlr_stat        TEXT NOT NULL,
  dlr_err         TEXT NOT NULL,
  sip_code        INTEGER,
  sip_reason      TEXT NOT NULL,
  error           TEXT NOT NULL,
  PRIMARY KEY (verification_id, number)
) WITHOUT ROWID;
CREATE INDEX attempts_queued ON attempts (verification_id) WHERE status = 'queued';

CREATE TABLE correlations (
  carrier         TEXT NOT NULL,
  key             TEXT NOT NULL,
  verification_id TEXT NOT NULL REFERENCES verifications (id) ON DELETE CASCADE,
  attempt         INTEGER NOT NULL,
  part            INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (carrier, key)
) WITHOUT ROWID;
CREATE INDEX correlations_verification ON correlations (verification_id);

CREATE TABLE rate_events (
  key        TEXT NOT NULL,
  at         INTEGER NOT NULL,
  keep_until INTEGER NOT NULL
);
CREATE INDEX rate_events_key_at ON rate_events (key, at);
CREATE INDEX rate_events_keep_until ON rate_events (keep_until);
)sql"},
    // Calls under way when the process died (ringing, answered) are found at start-up as queued
    // attempts are.
    {2, R"sql(
DROP INDEX attempts_queued;
CREATE INDEX attempts_unfinished ON attempts (verification_id)
  WHERE status IN ('queued', 'ringing', 'answered');
)sql"},
    // A call's prompt time: how long the code was being read when the call ended.
    {3, R"sql(
ALTER TABLE attempts ADD COLUMN played_ms INTEGER;
)sql"},
    // A receipt no correlation matches is tried against the SMS whose outcome is unknown (a
    // submit written without a response, or interrupted by a crash): few rows, by carrier.
    {4, R"sql(
CREATE INDEX attempts_outcome_unknown ON attempts (carrier, created_at)
  WHERE outcome_unknown = 1;
)sql"},
    // Several nodes on one database (docs/scale-out.md): the node sending an attempt, leases
    // (times in milliseconds, as everywhere), and SMS handed to a node holding a bind of one of
    // the route's carriers (carriers as a JSON array of names, the code sealed).
    {5, R"sql(
ALTER TABLE attempts ADD COLUMN node TEXT NOT NULL DEFAULT '';

CREATE TABLE leases (
  name       TEXT NOT NULL PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE sms_queue (
  verification_id TEXT NOT NULL REFERENCES verifications (id) ON DELETE CASCADE,
  attempt         INTEGER NOT NULL,
  carriers        TEXT NOT NULL,
  sealed_code     BLOB NOT NULL,
  locale          TEXT NOT NULL,
  queued_at       INTEGER NOT NULL,
  deadline        INTEGER NOT NULL,
  claimed_by      TEXT NOT NULL,
  PRIMARY KEY (verification_id, attempt)
) WITHOUT ROWID;
-- claim_sms(): the unclaimed ones, oldest first.
CREATE INDEX sms_queue_unclaimed ON sms_queue (queued_at) WHERE claimed_by = '';
)sql"},
    // The webhook outbox: each event written with the change it reports, deleted once
    // delivered or given up; claimed by a node while it delivers it.
    {6, R"sql(
CREATE TABLE webhook_outbox (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  verification_id TEXT NOT NULL REFERENCES verifications (id) ON DELETE CASCADE,
  body            TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_at         INTEGER NOT NULL DEFAULT 0,
  claimed_by      TEXT NOT NULL DEFAULT '',
  claim_until     INTEGER NOT NULL DEFAULT 0
);
-- A verification's older events (claim_webhooks), and the cascade from verifications.
CREATE INDEX webhook_outbox_verification ON webhook_outbox (verification_id, seq);
)sql"},
};

constexpr int latest_version = migrations[std::size(migrations) - 1].version;
static_assert(latest_version == sqlite_store::schema_version);

}  // namespace

error_code sqlite_store::read_schema_version(int& version) {
  version = 0;
  bool has_table = false;
  if (auto ec = statement(*this, sql::schema_version_exists, "schema version").row(has_table)) {
    return ec;
  }
  if (!has_table) return {};
  std::int64_t latest = 0;
  if (auto ec = statement(*this, sql::select_schema_version, "schema version").value(latest)) {
    return ec;
  }
  version = static_cast<int>(latest);
  return {};
}

error_code sqlite_store::migrate() {
  int version = 0;
  if (auto ec = read_schema_version(version)) return ec;
  if (version > latest_version) {
    return fail("database schema version " + std::to_string(version) +
                " is newer than this otpd supports (" + std::to_string(latest_version) + ")");
  }
  if (version == latest_version) return {};

  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  // Another process may have migrated while we waited for the lock.
  if (auto ec = read_schema_version(version)) return ec;
  for (const auto& m : migrations) {
    if (m.version <= version) continue;
    if (auto ec = exec(m.sql)) return ec;
    const std::string record =
        "INSERT INTO schema_version (version) VALUES (" + std::to_string(m.version) + ")";
    if (auto ec = exec(record.c_str())) return ec;
  }
  // DDL changed the schema: statements prepared before (the version reads) re-prepare by
  // themselves (sqlite3_prepare_v3 semantics), nothing to drop.
  return tx.commit();
}

}  // namespace otpd::service
