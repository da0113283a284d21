// The PostgreSQL store's statements and schema: the text of every statement it prepares, the
// migrations that build the schema, and the migration step run at open.
#include <cassert>
#include <iterator>
#include <string>
#include <utility>

#include "daemon/store/postgres_store_impl.hpp"

namespace otpd::service {

namespace pg {

// In the order load() and load_attempts() read them (postgres_store.cpp): who and where, when,
// the code, the counters, the idempotency key; an attempt's route, the SMSC's answer, the call's.
#define OTPD_VERIFICATION_COLUMNS                                              \
  "id, to_number, locale, api_key, client_ip, status, "                        \
  "created_at, expires_at, completed_at, code_length, code_mac, code_sealed, " \
  "checks, max_checks, sends, next_resend_at, idempotency_key, request_hash, version"
#define OTPD_ATTEMPT_COLUMNS                                                           \
  "verification_id, number, channel, status, created_at, submitted_at, completed_at, " \
  "carrier, bind, message_ids, smpp_status, outcome_unknown, dlr_stat, dlr_err, "      \
  "sip_code, sip_reason, error, played_ms, node"

namespace {

// In the order of `sql` (statement_text() checks that in debug builds).
const std::pair<sql, const char*> statement_texts[] = {
    {sql::insert_verification,
     "INSERT INTO verifications (" OTPD_VERIFICATION_COLUMNS
     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
     "$18, $19)"},
    {sql::update_verification,
     "UPDATE verifications SET to_number = $2, locale = $3, api_key = $4, client_ip = $5, "
     "status = $6, created_at = $7, expires_at = $8, completed_at = $9, code_length = $10, "
     "code_mac = $11, code_sealed = $12, checks = $13, max_checks = $14, sends = $15, "
     "next_resend_at = $16, idempotency_key = $17, request_hash = $18, version = $19 "
     "WHERE id = $1"},
    // FOR SHARE: the row and its attempts as one modify() left them (a modify on another
    // connection holds the row FOR UPDATE until it has written both).
    {sql::select_verification_share,
     "SELECT " OTPD_VERIFICATION_COLUMNS " FROM verifications WHERE id = $1 FOR SHARE"},
    // FOR UPDATE: two nodes' modify() of one verification run one after the other.
    {sql::select_verification_update,
     "SELECT " OTPD_VERIFICATION_COLUMNS " FROM verifications WHERE id = $1 FOR UPDATE"},
    // The literal condition lets the planner use the partial unique index.
    {sql::select_idempotent,
     "SELECT id FROM verifications WHERE api_key = $1 AND idempotency_key = $2 "
     "AND idempotency_key <> ''"},
    {sql::select_attempts,
     "SELECT " OTPD_ATTEMPT_COLUMNS " FROM attempts WHERE verification_id = $1 ORDER BY number"},
    {sql::upsert_attempt,
     "INSERT INTO attempts (" OTPD_ATTEMPT_COLUMNS
     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
     "$18, $19) ON CONFLICT (verification_id, number) DO UPDATE SET channel = excluded.channel, "
     "status = excluded.status, created_at = excluded.created_at, "
     "submitted_at = excluded.submitted_at, completed_at = excluded.completed_at, "
     "carrier = excluded.carrier, bind = excluded.bind, message_ids = excluded.message_ids, "
     "smpp_status = excluded.smpp_status, outcome_unknown = excluded.outcome_unknown, "
     "dlr_stat = excluded.dlr_stat, dlr_err = excluded.dlr_err, sip_code = excluded.sip_code, "
     "sip_reason = excluded.sip_reason, error = excluded.error, played_ms = excluded.played_ms, "
     "node = excluded.node"},
    {sql::delete_attempt, "DELETE FROM attempts WHERE verification_id = $1 AND number = $2"},
    // SMSC message ids wrap and get reused: the newest attempt owns the key.
    {sql::upsert_correlation,
     "INSERT INTO correlations (carrier, key, verification_id, attempt, part, created_at) "
     "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (carrier, key) DO UPDATE SET "
     "verification_id = excluded.verification_id, attempt = excluded.attempt, "
     "part = excluded.part, created_at = excluded.created_at"},
    {sql::select_correlation,
     "SELECT verification_id, attempt, part FROM correlations WHERE carrier = $1 AND key = $2"},
    {sql::check_and_count,
     "SELECT failed_index, retry_after_ms "
     "FROM otpd_check_and_count($1::text[], $2::integer[], $3::bigint[], $4::bigint)"},
    {sql::select_queued,
     // The few unfinished attempts, from their partial index alone (in its order), never
     // through the pending verifications: a busy node has many, statistics that lag a burst
     // made the planner walk them all, and this runs at every sweep. list_queued() keeps the
     // pending ones.
     "SELECT DISTINCT verification_id FROM attempts "
     "WHERE status IN ('queued', 'ringing', 'answered') ORDER BY verification_id"},
    // The literal outcome_unknown lets the planner use the partial index; '[]' is the JSON of
    // no message id.
    {sql::select_unknown_sms,
     "SELECT a.verification_id, a.number FROM attempts a "
     "JOIN verifications v ON v.id = a.verification_id "
     "WHERE a.outcome_unknown AND a.status = 'submitted' AND a.channel = 'sms' "
     "AND a.message_ids = '[]'::bytea AND a.carrier = $1 AND a.created_at BETWEEN $3 AND $4 "
     "AND v.to_number = $2 AND v.expires_at >= $5 "
     "ORDER BY a.created_at LIMIT $6"},
    // purge(): at most $2 rows each, rows another transaction holds skipped (the next purge
    // takes them). The moment it expired, not the moment purge noticed: retention counts from
    // there.
    {sql::expire_pending,
     "UPDATE verifications SET status = 'expired', completed_at = expires_at, "
     "version = version + 1 WHERE id IN (SELECT id FROM verifications "
     "WHERE status = 'pending' AND expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"},
    {sql::delete_finished,
     "DELETE FROM verifications WHERE id IN (SELECT id FROM verifications "
     "WHERE status <> 'pending' AND coalesce(completed_at, created_at) < $1 "
     "LIMIT $2 FOR UPDATE SKIP LOCKED)"},
    {sql::delete_events,
     "DELETE FROM rate_events WHERE ctid IN (SELECT ctid FROM rate_events "
     "WHERE keep_until <= $1 LIMIT $2)"},
    {sql::delete_old_leases,
     "DELETE FROM leases WHERE name IN (SELECT name FROM leases WHERE expires_at <= $1 "
     "LIMIT $2 FOR UPDATE SKIP LOCKED)"},
    // In the order of the names, so that two holders asking for overlapping sets never wait for
    // each other in a cycle; a row another holder inserts meanwhile is decided by the WHERE
    // once that holder commits.
    {sql::acquire_leases,
     "INSERT INTO leases (name, holder, expires_at) "
     "SELECT n, $1, $3 FROM (SELECT DISTINCT unnest($2::text[]) AS n) d ORDER BY n "
     "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
     "expires_at = excluded.expires_at "
     "WHERE leases.holder = excluded.holder OR leases.expires_at <= $4 RETURNING name"},
    {sql::release_leases, "DELETE FROM leases WHERE holder = $1 AND name = ANY ($2::text[])"},
    {sql::select_leases,
     "SELECT name, holder, expires_at FROM leases WHERE starts_with(name, $1) ORDER BY name"},
    {sql::insert_handoff,
     "INSERT INTO sms_handoff (verification_id, attempt, carriers, sealed_code, locale, "
     "queued_at, deadline) VALUES ($1, $2, $3::text[], $4, $5, $6, $7)"},
    // SKIP LOCKED: a row another node is claiming is left to it. The verifications are locked
    // before their attempts are written, as modify() does, so that neither overwrites the
    // other's change.
    {sql::claim_handoff,
     "WITH picked AS (SELECT verification_id, attempt FROM sms_handoff "
     "WHERE claimed_by = '' AND deadline > $3 AND carriers && $2::text[] "
     "ORDER BY queued_at, verification_id, attempt LIMIT $4 FOR UPDATE SKIP LOCKED), "
     "locked AS (SELECT v.id FROM verifications v "
     "WHERE v.id IN (SELECT verification_id FROM picked) ORDER BY v.id FOR UPDATE), "
     "moved AS (UPDATE attempts a SET node = $1 FROM picked p JOIN locked l "
     "ON l.id = p.verification_id "
     "WHERE a.verification_id = p.verification_id AND a.number = p.attempt) "
     "UPDATE sms_handoff h SET claimed_by = $1 FROM picked p "
     "WHERE h.verification_id = p.verification_id AND h.attempt = p.attempt "
     "RETURNING h.verification_id, h.attempt, array_to_json(h.carriers)::text, h.sealed_code, "
     "h.locale, h.queued_at, h.deadline"},
    {sql::delete_handoff, "DELETE FROM sms_handoff WHERE verification_id = $1 AND attempt = $2"},
    // The webhook outbox (postgres_outbox.cpp). A claim takes, oldest first, events that are
    // due, not claimed (or claimed until a time that has passed) and the oldest of their
    // verification; SKIP LOCKED leaves a row another node is claiming to it, and that node's
    // committed claim is seen when the row is locked (the WHERE is checked again).
    {sql::insert_webhook,
     "INSERT INTO webhook_outbox (verification_id, body, created_at) VALUES ($1, $2, $3)"},
    {sql::claim_webhooks,
     "WITH picked AS (SELECT seq FROM webhook_outbox o "
     "WHERE next_at <= $2 AND claim_until <= $2 AND NOT EXISTS (SELECT 1 FROM webhook_outbox p "
     "WHERE p.verification_id = o.verification_id AND p.seq < o.seq) "
     "ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED) "
     "UPDATE webhook_outbox w SET claimed_by = $1, claim_until = $3 FROM picked p "
     "WHERE w.seq = p.seq "
     "RETURNING w.seq, w.verification_id, w.body, w.created_at, w.attempts, w.next_at"},
    {sql::delete_webhook, "DELETE FROM webhook_outbox WHERE seq = $2 AND claimed_by = $1"},
    {sql::retry_webhook,
     "UPDATE webhook_outbox SET attempts = attempts + 1, next_at = $3, claimed_by = '', "
     "claim_until = 0 WHERE seq = $2 AND claimed_by = $1"},
    {sql::release_webhooks,
     "UPDATE webhook_outbox SET claimed_by = '', claim_until = 0 WHERE claimed_by = $1"},
    {sql::webhook_backlog, "SELECT count(*), coalesce(min(created_at), 0) FROM webhook_outbox"},
};

#undef OTPD_VERIFICATION_COLUMNS
#undef OTPD_ATTEMPT_COLUMNS

}  // namespace

const char* statement_text(sql which) noexcept {
  static_assert(std::size(statement_texts) == static_cast<std::size_t>(sql::count_));
  const auto& entry = statement_texts[static_cast<std::size_t>(which)];
  assert(entry.first == which);
  return entry.second;
}

}  // namespace pg

namespace {

// Migrations: the one at index i brings the schema to version i + 1. Each runs once, in the
// migrating transaction, and is never edited after a release (a change is a new migration). The
// same tables as the SQLite store's schema (sqlite_store.hpp), in PostgreSQL's types: times as
// bigint milliseconds, bytes as bytea (an SMSC's message ids too: bytes, not necessarily UTF-8,
// kept as the JSON of message_ids.hpp), keys and names in the "C" collation so that they sort as
// bytes, as in SQLite.
constexpr const char* migrations[] = {
    R"sql(
CREATE TABLE verifications (
  id              text COLLATE "C" NOT NULL PRIMARY KEY,
  to_number       text NOT NULL,
  locale          text NOT NULL,
  api_key         text COLLATE "C" NOT NULL,
  client_ip       text NOT NULL,
  status          text NOT NULL,
  created_at      bigint NOT NULL,
  expires_at      bigint NOT NULL,
  completed_at    bigint,
  code_length     integer NOT NULL,
  code_mac        bytea NOT NULL,
  code_sealed     bytea NOT NULL,
  checks          integer NOT NULL,
  max_checks      integer NOT NULL,
  sends           integer NOT NULL,
  next_resend_at  bigint NOT NULL,
  idempotency_key text COLLATE "C" NOT NULL,
  request_hash    text NOT NULL,
  version         bigint NOT NULL
);
CREATE UNIQUE INDEX verifications_idempotency ON verifications (api_key, idempotency_key)
  WHERE idempotency_key <> '';
CREATE INDEX verifications_pending_expiry ON verifications (expires_at) WHERE status = 'pending';
CREATE INDEX verifications_finished ON verifications ((coalesce(completed_at, created_at)))
  WHERE status <> 'pending';

CREATE TABLE attempts (
  verification_id text COLLATE "C" NOT NULL REFERENCES verifications (id) ON DELETE CASCADE,
  number          integer NOT NULL,
  channel         text NOT NULL,
  status          text NOT NULL,
  created_at      bigint NOT NULL,
  submitted_at    bigint,
  completed_at    bigint,
  carrier         text COLLATE "C" NOT NULL,
  bind            text NOT NULL,
  message_ids     bytea NOT NULL,
  smpp_status     bigint,
  outcome_unknown boolean NOT NULL,
  dlr_stat        text NOT NULL,
  dlr_err         text NOT NULL,
  sip_code        integer,
  sip_reason      text NOT NULL,
  error           text NOT NULL,
  played_ms       bigint,
  node            text NOT NULL DEFAULT '',
  PRIMARY KEY (verification_id, number)
);
CREATE INDEX attempts_unfinished ON attempts (verification_id)
  WHERE status IN ('queued', 'ringing', 'answered');
CREATE INDEX attempts_outcome_unknown ON attempts (carrier, created_at) WHERE outcome_unknown;

CREATE TABLE correlations (
  carrier         text COLLATE "C" NOT NULL,
  key             text COLLATE "C" NOT NULL,
  verification_id text COLLATE "C" NOT NULL REFERENCES verifications (id) ON DELETE CASCADE,
  attempt         integer NOT NULL,
  part            integer NOT NULL,
  created_at      bigint NOT NULL,
  PRIMARY KEY (carrier, key)
);
CREATE INDEX correlations_verification ON correlations (verification_id);

CREATE TABLE rate_events (
  key        text COLLATE "C" NOT NULL,
  at         bigint NOT NULL,
  keep_until bigint NOT NULL
);
CREATE INDEX rate_events_key_at ON rate_events (key, at);
CREATE INDEX rate_events_keep_until ON rate_events (keep_until);

CREATE TABLE leases (
  name       text COLLATE "C" NOT NULL PRIMARY KEY,
  holder     text NOT NULL,
  expires_at bigint NOT NULL
);

CREATE TABLE sms_handoff (
  verification_id text COLLATE "C" NOT NULL REFERENCES verifications (id) ON DELETE CASCADE,
  attempt         integer NOT NULL,
  carriers        text[] NOT NULL,
  sealed_code     bytea NOT NULL,
  locale          text NOT NULL,
  queued_at       bigint NOT NULL,
  deadline        bigint NOT NULL,
  claimed_by      text NOT NULL DEFAULT '',
  PRIMARY KEY (verification_id, attempt)
);
CREATE INDEX sms_handoff_queued ON sms_handoff (queued_at) WHERE claimed_by = '';

-- Rate limits, one statement per decision (store.hpp, check_and_count): the keys are locked
-- (transaction advisory locks, in the order of their lock ids so that two callers never wait
-- for each other in a cycle), then counted, then the events inserted, so that callers on
-- several connections counting one key never both take its last event. Returns the first
-- check that refuses (0-based) and how long until it has room, in milliseconds; -1 when all
-- allow (the events are then counted). Limits that are no limit are left out by the caller.
-- No upper bound on `at`: an event counted at a later time than p_now (a node whose clock is
-- a little ahead) is inside the window too (store.hpp, limit_check).
CREATE FUNCTION otpd_check_and_count(p_keys text[], p_maxes integer[], p_windows bigint[],
                                     p_now bigint)
RETURNS TABLE (failed_index integer, retry_after_ms bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  lock_id bigint;
  i integer;
  counted bigint;
  nth_at bigint;
BEGIN
  FOR lock_id IN SELECT DISTINCT hashtextextended(k, 0) FROM unnest(p_keys) AS k ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(lock_id);
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(p_keys, 1), 0) LOOP
    SELECT count(*) INTO counted FROM rate_events
      WHERE key = p_keys[i] AND at > p_now - p_windows[i];
    IF counted >= p_maxes[i] THEN
      -- One more is allowed once the (counted - max)-th oldest (0-based) leaves the window.
      SELECT at INTO nth_at FROM rate_events
        WHERE key = p_keys[i] AND at > p_now - p_windows[i]
        ORDER BY at LIMIT 1 OFFSET counted - p_maxes[i];
      failed_index := i - 1;
      retry_after_ms := nth_at + p_windows[i] - p_now;
      RETURN NEXT;
      RETURN;
    END IF;
  END LOOP;
  INSERT INTO rate_events (key, at, keep_until)
    SELECT u.k, p_now, p_now + max(u.w) FROM unnest(p_keys, p_windows) AS u (k, w) GROUP BY u.k;
  failed_index := -1;
  retry_after_ms := 0;
  RETURN NEXT;
END
$fn$;
)sql",
    // The webhook outbox: each event written with the change it reports, deleted once
    // delivered or given up; claimed by a node while it delivers it.
    R"sql(
CREATE TABLE webhook_outbox (
  seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  verification_id text COLLATE "C" NOT NULL REFERENCES verifications (id) ON DELETE CASCADE,
  body            text NOT NULL,
  created_at      bigint NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_at         bigint NOT NULL DEFAULT 0,
  claimed_by      text NOT NULL DEFAULT '',
  claim_until     bigint NOT NULL DEFAULT 0
);
-- A verification's older events (claim_webhooks), and the cascade from verifications.
CREATE INDEX webhook_outbox_verification ON webhook_outbox (verification_id, seq);
)sql",
};

constexpr int latest_version = static_cast<int>(std::size(migrations));
static_assert(latest_version == postgres_store::schema_version);

// The advisory lock that migrations run under, in the two-key space (never equal to a rate
// limit's one-key lock): 'otpd', 1.
constexpr const char* migration_lock = "SELECT pg_advisory_xact_lock(1869901924, 1)";

}  // namespace

error_code postgres_store::migrate() {
  if (auto ec = db_.exec("BEGIN", "migrate")) return ec;
  // Released with the transaction. A node that waited here finds the schema migrated.
  if (auto ec = db_.exec(migration_lock, "migrate: lock")) return ec;
  if (auto ec = db_.exec("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)",
                         "migrate: schema_version")) {
    return ec;
  }
  pg::result r;
  if (auto ec = db_.exec("SELECT coalesce(max(version), 0) FROM schema_version",
                         "migrate: read schema version", r)) {
    return ec;
  }
  const int version = r.integer(0, 0);
  if (version > latest_version) {
    db_.exec("ROLLBACK", "migrate");
    return db_.fail("database schema version " + std::to_string(version) +
                    " is newer than this otpd supports (" + std::to_string(latest_version) +
                    "): run the newer otpd, or restore a backup taken before the upgrade");
  }
  for (int next = version + 1; next <= latest_version; ++next) {
    const std::string to = std::to_string(next);
    if (auto ec = db_.exec(migrations[next - 1], "migrate to version " + to)) return ec;
    const std::string record = "INSERT INTO schema_version (version) VALUES (" + to + ")";
    if (auto ec = db_.exec(record.c_str(), "migrate: record version")) return ec;
  }
  if (auto ec = db_.exec("COMMIT", "migrate: commit")) return ec;
  return db_.prepare_all();
}

}  // namespace otpd::service
