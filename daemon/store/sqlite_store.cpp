#include "daemon/store/sqlite_store.hpp"

#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>
#include <utility>

#include "daemon/store/message_ids.hpp"

namespace otpd::service {

namespace {

using std::chrono::milliseconds;

std::int64_t to_ms(sys_time t) noexcept {
  return std::chrono::floor<milliseconds>(t.time_since_epoch()).count();
}
sys_time from_ms(std::int64_t ms) noexcept { return sys_time{milliseconds{ms}}; }

// SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ms...: a writer held up for a
// fraction of a millisecond by the checkpointer would lose many. This one polls at 50 µs,
// backing off to 1 ms, until the timeout.
int on_busy(void* state, int count) noexcept {
  auto& wait = *static_cast<sqlite_busy_wait*>(state);
  const auto now = std::chrono::steady_clock::now();
  if (count == 0) wait.since = now;
  if (now - wait.since >= wait.timeout) return 0;  // SQLITE_BUSY to the caller
  const auto pause = std::min<std::chrono::microseconds>(
      std::chrono::microseconds(50 << std::min(count, 5)), std::chrono::milliseconds(1));
  std::this_thread::sleep_for(pause);
  return 1;
}

void set_busy_handler(sqlite3* db, sqlite_busy_wait& wait, const sqlite_options& options) {
  wait.timeout = std::max(options.busy_timeout, milliseconds(0));
  sqlite3_busy_handler(db, on_busy, &wait);
}

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
};

constexpr int latest_version = migrations[std::size(migrations) - 1].version;
static_assert(latest_version == sqlite_store::schema_version);

}  // namespace

// Every statement the store runs, prepared once per connection (SQLITE_PREPARE_PERSISTENT) and
// reset after each use.
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
  schema_version_exists,
  select_schema_version,
  count_,  // the number of statements, not one
};

#define OTPD_VERIFICATION_COLUMNS                                                             \
  "id, to_number, locale, api_key, client_ip, status, created_at, expires_at, completed_at, " \
  "code_length, code_mac, code_sealed, checks, max_checks, sends, next_resend_at, "           \
  "idempotency_key, request_hash, version"
#define OTPD_ATTEMPT_COLUMNS                                                                \
  "verification_id, number, channel, status, created_at, submitted_at, completed_at, "      \
  "carrier, bind, message_ids, smpp_status, outcome_unknown, dlr_stat, dlr_err, sip_code, " \
  "sip_reason, error, played_ms"

const char* sqlite_store::statement_text(sql which) noexcept {
  switch (which) {
    case sql::begin_immediate:
      return "BEGIN IMMEDIATE";
    case sql::begin_read:
      return "BEGIN";
    case sql::commit:
      return "COMMIT";
    case sql::rollback:
      return "ROLLBACK";
    case sql::savepoint:
      return "SAVEPOINT op";
    case sql::release:
      return "RELEASE op";
    case sql::rollback_to:
      return "ROLLBACK TO op";
    case sql::insert_verification:
      return "INSERT INTO verifications (" OTPD_VERIFICATION_COLUMNS
             ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
             "?17, ?18, ?19)";
    case sql::update_verification:
      return "UPDATE verifications SET to_number = ?2, locale = ?3, api_key = ?4, client_ip = ?5, "
             "status = ?6, created_at = ?7, expires_at = ?8, completed_at = ?9, code_length = ?10, "
             "code_mac = ?11, code_sealed = ?12, checks = ?13, max_checks = ?14, sends = ?15, "
             "next_resend_at = ?16, idempotency_key = ?17, request_hash = ?18, version = ?19 "
             "WHERE id = ?1";
    case sql::select_verification:
      return "SELECT " OTPD_VERIFICATION_COLUMNS " FROM verifications WHERE id = ?1";
    case sql::verification_exists:
      return "SELECT 1 FROM verifications WHERE id = ?1";
    case sql::select_idempotent:
      // The literal condition lets the planner use the partial unique index.
      return "SELECT id FROM verifications WHERE api_key = ?1 AND idempotency_key = ?2 "
             "AND idempotency_key <> ''";
    case sql::upsert_attempt:
      return "INSERT OR REPLACE INTO attempts (" OTPD_ATTEMPT_COLUMNS
             ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
             "?17, ?18)";
    case sql::delete_attempt:
      return "DELETE FROM attempts WHERE verification_id = ?1 AND number = ?2";
    case sql::select_attempts:
      return "SELECT " OTPD_ATTEMPT_COLUMNS
             " FROM attempts WHERE verification_id = ?1 ORDER BY number";
    case sql::upsert_correlation:
      // SMSC message ids wrap and get reused: the newest attempt owns the key.
      return "INSERT OR REPLACE INTO correlations (carrier, key, verification_id, attempt, part, "
             "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    case sql::select_correlation:
      return "SELECT verification_id, attempt, part FROM correlations "
             "WHERE carrier = ?1 AND key = ?2";
    case sql::count_events:
      return "SELECT count(*) FROM rate_events WHERE key = ?1 AND at > ?2 AND at <= ?3";
    case sql::nth_event:
      return "SELECT at FROM rate_events WHERE key = ?1 AND at > ?2 AND at <= ?3 "
             "ORDER BY at LIMIT 1 OFFSET ?4";
    case sql::insert_event:
      return "INSERT INTO rate_events (key, at, keep_until) VALUES (?1, ?2, ?3)";
    case sql::expire_pending:
      // The moment it expired, not the moment purge noticed: retention counts from there.
      return "UPDATE verifications SET status = 'expired', completed_at = expires_at, "
             "version = version + 1 WHERE status = 'pending' AND expires_at <= ?1";
    case sql::delete_finished:
      return "DELETE FROM verifications WHERE status <> 'pending' "
             "AND coalesce(completed_at, created_at) < ?1";
    case sql::delete_events:
      return "DELETE FROM rate_events WHERE keep_until <= ?1";
    case sql::select_unknown_sms:
      // The literal outcome_unknown = 1 lets the planner use the partial index.
      return "SELECT a.verification_id, a.number FROM attempts a "
             "JOIN verifications v ON v.id = a.verification_id "
             "WHERE a.outcome_unknown = 1 AND a.status = 'submitted' AND a.channel = 'sms' "
             "AND a.message_ids = '[]' AND a.carrier = ?1 AND a.created_at BETWEEN ?3 AND ?4 "
             "AND v.to_number = ?2 AND v.expires_at >= ?5 "
             "ORDER BY a.created_at LIMIT ?6";
    case sql::select_queued:
      return "SELECT DISTINCT a.verification_id FROM attempts a "
             "JOIN verifications v ON v.id = a.verification_id "
             "WHERE a.status IN ('queued', 'ringing', 'answered') AND v.status = 'pending' "
             "ORDER BY a.verification_id";
    case sql::schema_version_exists:
      return "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";
    case sql::select_schema_version:
      return "SELECT coalesce(max(version), 0) FROM schema_version";
    case sql::count_:
      break;
  }
  return nullptr;
}

#undef OTPD_VERIFICATION_COLUMNS
#undef OTPD_ATTEMPT_COLUMNS

// A prepared statement in use: binds by index, steps, reads columns, and resets (clearing the
// bindings) when it goes out of scope so that the next user starts clean. Text and blobs are
// bound SQLITE_STATIC: the caller keeps them alive until the statement is done.
class sqlite_store::statement {
 public:
  explicit statement(sqlite3_stmt* s) noexcept : s_(s) {}
  ~statement() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  void bind(int i, std::string_view v) {
    keep(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
  }
  void bind(int i, const char* v) { bind(i, std::string_view(v)); }
  void bind(int i, std::int64_t v) { keep(sqlite3_bind_int64(s_, i, v)); }
  void bind(int i, int v) { keep(sqlite3_bind_int64(s_, i, v)); }
  void bind(int i, sys_time t) { bind(i, to_ms(t)); }
  void bind(int i, const std::optional<sys_time>& t) {
    if (t) {
      bind(i, *t);
    } else {
      keep(sqlite3_bind_null(s_, i));
    }
  }
  template <class T>
  void bind(int i, const std::optional<T>& v) {
    if (v) {
      bind(i, static_cast<std::int64_t>(*v));
    } else {
      keep(sqlite3_bind_null(s_, i));
    }
  }
  // An empty std::string has a non-null data(): bound as an empty blob, not NULL.
  void bind_blob(int i, std::string_view v) {
    keep(sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
  }

  // SQLITE_ROW, SQLITE_DONE, or an error (including one from binding).
  int step() { return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(s_); }

  bool is_null(int col) { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::int64_t int64(int col) { return sqlite3_column_int64(s_, col); }
  int integer(int col) { return sqlite3_column_int(s_, col); }
  sys_time time(int col) { return from_ms(int64(col)); }
  std::optional<sys_time> optional_time(int col) {
    if (is_null(col)) return std::nullopt;
    return time(col);
  }
  std::string text(int col) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    auto n = static_cast<std::size_t>(sqlite3_column_bytes(s_, col));
    return p != nullptr ? std::string(p, n) : std::string();
  }
  std::string blob(int col) {
    auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
    auto n = static_cast<std::size_t>(sqlite3_column_bytes(s_, col));
    return p != nullptr ? std::string(p, n) : std::string();
  }

 private:
  void keep(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }
  sqlite3_stmt* s_;
  int bind_rc_ = SQLITE_OK;
};

// One store operation's transaction. Alone: BEGIN IMMEDIATE (taking the write lock at once,
// so that a read-then-write never fails half way with SQLITE_BUSY) or BEGIN for reads. Inside
// a batch: a savepoint, so that a failed operation undoes only itself. Rolls back unless
// committed.
class sqlite_store::transaction {
 public:
  enum class kind : std::uint8_t { write, read };
  transaction(sqlite_store& s, kind k) noexcept : s_(s), kind_(k) {}
  ~transaction() {
    if (!open_) return;
    // SQLite may already have rolled back by itself (SQLITE_FULL, SQLITE_IOERR, ...).
    if (sqlite3_get_autocommit(s_.db_) != 0) return;
    if (nested_) {
      run(sql::rollback_to);
      run(sql::release);
    } else {
      run(sql::rollback);
    }
  }
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  error_code begin() {
    if (s_.in_batch_) {
      // A batch whose transaction SQLite rolled back must not go on in autocommit mode: the
      // operations after it would be durable while the batch reports them failed.
      if (sqlite3_get_autocommit(s_.db_) != 0) return s_.batch_rolled_back();
      if (kind_ == kind::read) return {};  // already inside the batch's transaction
      nested_ = true;
      if (int rc = run(sql::savepoint); rc != SQLITE_DONE) return s_.fail(rc, "savepoint");
    } else {
      int rc = run(kind_ == kind::write ? sql::begin_immediate : sql::begin_read);
      if (rc != SQLITE_DONE) return s_.fail(rc, "begin");
    }
    open_ = true;
    return {};
  }

  error_code commit() {
    if (!open_) return {};
    int rc = run(nested_ ? sql::release : sql::commit);
    if (rc != SQLITE_DONE) return s_.fail(rc, "commit");
    open_ = false;
    return {};
  }

 private:
  int run(sql which) {
    sqlite3_stmt* st = nullptr;
    if (s_.prepare(which, st)) return SQLITE_ERROR;
    statement q(st);
    return q.step();
  }
  sqlite_store& s_;
  kind kind_;
  bool open_ = false;
  bool nested_ = false;
};

// Runs WAL checkpoints on its own thread and connection, so that their fsyncs never hold up a
// store call (sqlite_options::background_checkpoint). The store's connection reports the log's
// size after every commit (sqlite3_wal_hook); past the threshold this thread is woken.
class sqlite_store::checkpointer {
 public:
  checkpointer(sqlite_store& owner, sqlite3* db, int pages, const sqlite_options& options)
      : owner_(owner), db_(db), pages_(pages) {
    set_busy_handler(db_, busy_, options);
    thread_ = std::thread([this] { loop(); });
  }
  ~checkpointer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    sqlite3_close_v2(db_);
  }
  checkpointer(const checkpointer&) = delete;
  checkpointer& operator=(const checkpointer&) = delete;

  // On the store's thread, after a commit: cheap unless the log has grown past the threshold.
  void committed(int wal_pages) {
    if (wal_pages < pages_) return;
    {
      std::lock_guard lock(mutex_);
      wanted_ = std::max(wanted_, wal_pages);
    }
    wake_.notify_all();
  }

  std::uint64_t completed() const {
    std::lock_guard lock(mutex_);
    return completed_;
  }
  bool wait_idle(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return wake_.wait_for(lock, timeout, [&] { return wanted_ == 0 && !running_; });
  }

 private:
  void loop() {
    // Background work: a checkpoint may wait, the I/O thread's next submit_sm may not. A batch
    // thread at nice 10 does not preempt the others on wake-up and yields the CPU to them (best
    // effort: a sandbox that forbids it leaves the defaults).
    pthread_setname_np(pthread_self(), "otpd-checkpoint");
    sched_param none{};
    sched_setscheduler(0, SCHED_BATCH, &none);
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return stopping_ || wanted_ > 0; });
      if (stopping_) return;
      const int pages = std::exchange(wanted_, 0);
      running_ = true;
      lock.unlock();
      // PASSIVE copies what it can without waiting for anyone, and the writer never waits for
      // it; once it has copied everything, the next write starts the log over. Writes that never
      // pause could keep that from ever happening, and the log would only grow: past
      // restart_factor times the threshold, RESTART makes writers wait (a stall of one copy and
      // fsync) while it copies all and resets the log.
      const int mode =
          pages >= restart_factor * pages_ ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE;
      int log_frames = 0;
      int copied = 0;
      int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, mode, &log_frames, &copied);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        // Not fatal: the log keeps the data, and the next commit asks again. A disk that stays
        // full shows up as io_error on writes.
        owner_.record_error(std::string("checkpoint: ") + sqlite3_errmsg(db_));
      }
      lock.lock();
      running_ = false;
      if (rc == SQLITE_OK) ++completed_;
      wake_.notify_all();
    }
  }

  static constexpr int restart_factor = 16;
  sqlite_store& owner_;
  sqlite3* db_;
  const int pages_;
  mutable std::mutex mutex_;
  mutable std::condition_variable wake_;
  bool stopping_ = false;        // guarded by mutex_
  int wanted_ = 0;               // log pages at the latest request; guarded by mutex_
  bool running_ = false;         // guarded by mutex_
  std::uint64_t completed_ = 0;  // guarded by mutex_
  sqlite_busy_wait busy_;        // this connection's busy handler state
  std::thread thread_;           // started once the members above exist
};

// ---- opening ------------------------------------------------------------------------------

error_code sqlite_store::open(const std::string& path, const sqlite_options& options,
                              std::unique_ptr<sqlite_store>& out, std::string& why) {
  // NOMUTEX: one thread at a time uses a connection (see the header), so SQLite's own
  // per-connection mutex is pure cost. EXRESCODE: extended codes tell disk full from I/O.
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  flags |= options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    why = "cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    return store_errc::io_error;
  }
  std::unique_ptr<sqlite_store> s(new sqlite_store(db));
  if (auto ec = s->configure(options)) {
    why = path + ": " + s->last_error();
    return ec;
  }
  if (auto ec = s->migrate()) {
    why = path + ": " + s->last_error();
    return ec;
  }
  if (auto ec = s->start_checkpointer(path, options)) {
    why = path + ": " + s->last_error();
    return ec;
  }
  out = std::move(s);
  return {};
}

sqlite_store::sqlite_store(sqlite3* db) noexcept : db_(db) {}

sqlite_store::~sqlite_store() {
  // The checkpointer's connection closes first, so that this one is the last: the last
  // connection to close checkpoints the whole log into the database and removes it.
  if (checkpointer_) {
    sqlite3_wal_hook(db_, nullptr, nullptr);
    checkpointer_.reset();
  }
  for (auto*& st : statements_) {
    sqlite3_finalize(st);
    st = nullptr;
  }
  sqlite3_close_v2(db_);
}

error_code sqlite_store::configure(const sqlite_options& options) {
  set_busy_handler(db_, busy_, options);
  if (!options.read_only) {
    // WAL: readers never block the writer; with synchronous=NORMAL a commit is a write() to the
    // WAL without fsync, which survives kill -9 (the OS has the data) but perhaps not a power
    // loss (the WAL is synced at checkpoints). DESIGN.md §7 asks for the former.
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db_, "PRAGMA journal_mode = WAL", -1, &st, nullptr);
    if (rc != SQLITE_OK) return fail(rc, "journal_mode");
    rc = sqlite3_step(st);
    std::string mode;
    if (rc == SQLITE_ROW) {
      auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      mode = p ? p : "";
    }
    if (rc != SQLITE_ROW) {
      auto ec = fail(rc, "journal_mode");
      sqlite3_finalize(st);
      return ec;
    }
    sqlite3_finalize(st);
    // "memory": a ":memory:" database (tests), which has no file to be durable in anyway.
    if (mode != "wal" && mode != "memory") {
      return fail("cannot use WAL mode (journal_mode is " + mode + ")");
    }
    wal_ = mode == "wal";
  }
  if (auto ec = exec("PRAGMA synchronous = NORMAL")) return ec;
  if (auto ec = exec("PRAGMA foreign_keys = ON")) return ec;
  // Keep a WAL that a burst made large from staying large after the next checkpoint.
  if (auto ec = exec("PRAGMA journal_size_limit = 67108864")) return ec;
  if (options.max_size_bytes != 0) {
    int page_size = 4096;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA page_size", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      page_size = std::max(512, sqlite3_column_int(st, 0));
    }
    sqlite3_finalize(st);
    auto pages = std::max<std::uint64_t>(1, options.max_size_bytes / page_size);
    if (auto ec = exec(("PRAGMA max_page_count = " + std::to_string(pages)).c_str())) return ec;
  }
  return {};
}

error_code sqlite_store::start_checkpointer(const std::string& path,
                                            const sqlite_options& options) {
  if (!wal_ || !options.background_checkpoint) {
    const auto pages = std::clamp<std::uint32_t>(options.checkpoint_pages, 1, INT32_MAX);
    sqlite3_wal_autocheckpoint(db_, static_cast<int>(pages));
    return {};
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message =
        std::string("checkpoint connection: ") + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    return fail(message);
  }
  sqlite3_busy_timeout(
      db, static_cast<int>(std::clamp<std::int64_t>(options.busy_timeout.count(), 0, INT32_MAX)));
  // A connection learns that the database is in WAL mode when it first reads it; until then a
  // checkpoint on it does nothing (and says so with -1 frames).
  rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = std::string("checkpoint connection: ") + sqlite3_errmsg(db);
    sqlite3_close_v2(db);
    return fail(message);
  }
  // Replaces SQLite's automatic checkpoint (itself a WAL hook) on the store's connection.
  sqlite3_wal_autocheckpoint(db_, 0);
  const auto pages = std::clamp<std::uint32_t>(options.checkpoint_pages, 1, INT32_MAX / 16);
  checkpointer_ = std::make_unique<checkpointer>(*this, db, static_cast<int>(pages), options);
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3*, const char*, int wal_pages) {
        static_cast<checkpointer*>(self)->committed(wal_pages);
        return SQLITE_OK;
      },
      checkpointer_.get());
  return {};
}

std::uint64_t sqlite_store::checkpoints() const {
  return checkpointer_ ? checkpointer_->completed() : 0;
}

bool sqlite_store::wait_until_checkpointed(std::chrono::milliseconds timeout) const {
  return checkpointer_ ? checkpointer_->wait_idle(timeout) : true;
}

error_code sqlite_store::read_schema_version(int& version) {
  version = 0;
  sqlite3_stmt* st = nullptr;
  if (auto ec = prepare(sql::schema_version_exists, st)) return ec;
  bool has_table = false;
  {
    statement q(st);
    int rc = q.step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail(rc, "schema version");
    has_table = rc == SQLITE_ROW;
  }
  if (!has_table) return {};
  if (auto ec = prepare(sql::select_schema_version, st)) return ec;
  statement q(st);
  int rc = q.step();
  if (rc != SQLITE_ROW) return fail(rc, "schema version");
  version = q.integer(0);
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

error_code sqlite_store::exec(const char* text) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  std::string what = message ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return fail(rc, what);
}

error_code sqlite_store::prepare(sql which, sqlite3_stmt*& out) {
  auto index = static_cast<std::size_t>(which);
  static_assert(static_cast<std::size_t>(sql::count_) <= std::tuple_size_v<decltype(statements_)>);
  if (statements_[index] == nullptr) {
    int rc = sqlite3_prepare_v3(db_, statement_text(which), -1, SQLITE_PREPARE_PERSISTENT,
                                &statements_[index], nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(statements_[index]);
      statements_[index] = nullptr;
      return fail(rc, "prepare");
    }
  }
  out = statements_[index];
  return {};
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
  sqlite3_stmt* st = nullptr;
  if (auto ec = prepare(sql::begin_immediate, st)) return ec;
  statement q(st);
  if (int rc = q.step(); rc != SQLITE_DONE) return fail(rc, "begin batch");
  in_batch_ = true;
  batch_failure_.clear();
  return {};
}

error_code sqlite_store::end_batch() {
  if (!in_batch_) return {};
  in_batch_ = false;
  if (sqlite3_get_autocommit(db_) != 0) return batch_rolled_back();
  sqlite3_stmt* st = nullptr;
  if (auto ec = prepare(sql::commit, st)) return ec;
  error_code ec;
  {
    statement q(st);
    if (int rc = q.step(); rc != SQLITE_DONE) ec = fail(rc, "commit batch");
  }
  // Not exec(): its failure would replace the commit's message.
  if (ec && sqlite3_get_autocommit(db_) == 0) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  return ec;
}

// ---- rows ---------------------------------------------------------------------------------

error_code sqlite_store::load(std::string_view id, verification& out) {
  sqlite3_stmt* st = nullptr;
  if (auto ec = prepare(sql::select_verification, st)) return ec;
  {
    statement q(st);
    q.bind(1, id);
    int rc = q.step();
    if (rc == SQLITE_DONE) return store_errc::not_found;
    if (rc != SQLITE_ROW) return fail(rc, "read verification");
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

error_code sqlite_store::load_attempts(std::string_view id, std::vector<attempt>& out) {
  out.clear();
  sqlite3_stmt* st = nullptr;
  if (auto ec = prepare(sql::select_attempts, st)) return ec;
  statement q(st);
  q.bind(1, id);
  while (true) {
    int rc = q.step();
    if (rc == SQLITE_DONE) return {};
    if (rc != SQLITE_ROW) return fail(rc, "read attempts");
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
    out.push_back(std::move(a));
  }
}

error_code sqlite_store::exists(std::string_view id, bool& found) {
  sqlite3_stmt* st = nullptr;
  if (auto ec = prepare(sql::verification_exists, st)) return ec;
  statement q(st);
  q.bind(1, id);
  int rc = q.step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail(rc, "read verification");
  found = rc == SQLITE_ROW;
  return {};
}

error_code sqlite_store::write_verification(const verification& v, bool insert) {
  sqlite3_stmt* st = nullptr;
  if (auto ec = prepare(insert ? sql::insert_verification : sql::update_verification, st)) {
    return ec;
  }
  int rc = SQLITE_OK;
  {
    statement q(st);
    q.bind(1, v.id);
    q.bind(2, v.to);
    q.bind(3, v.locale);
    q.bind(4, v.api_key);
    q.bind(5, v.client_ip);
    q.bind(6, to_string(v.status));
    q.bind(7, v.created_at);
    q.bind(8, v.expires_at);
    q.bind(9, v.completed_at);
    q.bind(10, v.code_length);
    q.bind_blob(11, v.code_mac);
    q.bind_blob(12, v.code_sealed);
    q.bind(13, v.checks);
    q.bind(14, v.max_checks);
    q.bind(15, v.sends);
    q.bind(16, v.next_resend_at);
    q.bind(17, v.idempotency_key);
    q.bind(18, v.request_hash);
    q.bind(19, v.version);
    rc = q.step();
    if (rc == SQLITE_DONE) return {};
    if ((rc & 0xFF) != SQLITE_CONSTRAINT) return fail(rc, "write verification");
  }
  // A unique constraint: the id or the (api_key, idempotency_key) pair. SQLite reports both as
  // SQLITE_CONSTRAINT_UNIQUE (a TEXT primary key is a unique index), so look.
  if (!insert) return store_errc::duplicate_idempotency;
  bool found = false;
  if (auto ec = exists(v.id, found)) return ec;
  return found ? store_errc::duplicate_id : store_errc::duplicate_idempotency;
}

error_code sqlite_store::write_attempt(std::string_view id, const attempt& a) {
  sqlite3_stmt* st = nullptr;
  if (auto ec = prepare(sql::upsert_attempt, st)) return ec;
  const std::string ids = detail::encode_message_ids(a.message_ids);
  statement q(st);
  q.bind(1, id);
  q.bind(2, a.number);
  q.bind(3, to_string(a.via));
  q.bind(4, to_string(a.status));
  q.bind(5, a.created_at);
  q.bind(6, a.submitted_at);
  q.bind(7, a.completed_at);
  q.bind(8, a.carrier);
  q.bind(9, a.bind);
  q.bind(10, ids);
  q.bind(11, a.smpp_status);
  q.bind(12, a.outcome_unknown ? 1 : 0);
  q.bind(13, a.dlr_stat);
  q.bind(14, a.dlr_err);
  q.bind(15, a.sip_code);
  q.bind(16, a.sip_reason);
  q.bind(17, a.error);
  q.bind(18, a.played_ms);
  int rc = q.step();
  if (rc != SQLITE_DONE) return fail(rc, "write attempt");
  return {};
}

error_code sqlite_store::delete_attempt(std::string_view id, int number) {
  sqlite3_stmt* st = nullptr;
  if (auto ec = prepare(sql::delete_attempt, st)) return ec;
  statement q(st);
  q.bind(1, id);
  q.bind(2, number);
  int rc = q.step();
  if (rc != SQLITE_DONE) return fail(rc, "delete attempt");
  return {};
}

// ---- the interface ------------------------------------------------------------------------

error_code sqlite_store::insert(const verification& v) {
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  if (auto ec = write_verification(v, true)) return ec;
  for (const auto& a : v.attempts) {
    if (auto ec = write_attempt(v.id, a)) return ec;
  }
  return tx.commit();
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
    sqlite3_stmt* st = nullptr;
    if (auto ec = prepare(sql::select_idempotent, st)) return ec;
    statement q(st);
    q.bind(1, api_key);
    q.bind(2, key);
    int rc = q.step();
    if (rc == SQLITE_DONE) return store_errc::not_found;
    if (rc != SQLITE_ROW) return fail(rc, "find idempotency key");
    id = q.text(0);
  }
  verification v;
  if (auto ec = load(id, v)) return ec;
  if (auto ec = tx.commit()) return ec;
  out = std::move(v);
  return {};
}

error_code sqlite_store::modify(std::string_view id, std::span<const correlation> add,
                                const modify_fn& fn, verification& out) {
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  verification before;
  if (auto ec = load(id, before)) return ec;
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
  if (auto ec = tx.commit()) return ec;
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
  sqlite3_stmt* st = nullptr;
  if (auto ec = prepare(sql::upsert_correlation, st)) return ec;
  for (const auto& one : c) {
    statement q(st);
    q.bind(1, one.carrier);
    q.bind(2, one.key);
    q.bind(3, one.verification_id);
    q.bind(4, one.attempt);
    q.bind(5, one.part);
    q.bind(6, now);
    int rc = q.step();
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return store_errc::not_found;  // no such verification
    if (rc != SQLITE_DONE) return fail(rc, "write correlation");
  }
  return {};
}

error_code sqlite_store::find_correlation(std::string_view carrier, std::string_view key,
                                          correlation& out) {
  sqlite3_stmt* st = nullptr;
  if (auto ec = prepare(sql::select_correlation, st)) return ec;
  statement q(st);
  q.bind(1, carrier);
  q.bind(2, key);
  int rc = q.step();
  if (rc == SQLITE_DONE) return store_errc::not_found;
  if (rc != SQLITE_ROW) return fail(rc, "read correlation");
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
  sqlite3_stmt* st = nullptr;
  if (auto ec = prepare(sql::select_unknown_sms, st)) return ec;
  statement q(st);
  q.bind(1, query.carrier);
  q.bind(2, query.to);
  q.bind(3, to_ms(query.created_from));
  q.bind(4, to_ms(query.created_to));
  q.bind(5, to_ms(query.expires_after));
  q.bind(6, static_cast<std::int64_t>(query.limit));
  for (std::size_t rows = 0; rows < query.limit; ++rows) {
    int rc = q.step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return fail(rc, "read unknown SMS");
    correlation c;
    c.carrier = query.carrier;
    c.verification_id = q.text(0);
    c.attempt = q.integer(1);
    out.push_back(std::move(c));
  }
  return {};
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
    const std::int64_t window_ms = std::chrono::milliseconds(c.window).count();
    auto& keep = keep_ms[c.key];
    keep = std::max(keep, window_ms);

    std::int64_t count = 0;
    sqlite3_stmt* st = nullptr;
    if (auto ec = prepare(sql::count_events, st)) return ec;
    {
      statement q(st);
      q.bind(1, c.key);
      q.bind(2, now_ms - window_ms);
      q.bind(3, now_ms);
      int rc = q.step();
      if (rc != SQLITE_ROW) return fail(rc, "count rate events");
      count = q.int64(0);
    }
    if (count < c.max) continue;

    // Refused. One more is allowed once count - max + 1 events have left the window, i.e. when
    // the (count - max)-th oldest (0-based) leaves it: at its time + window. With count == max
    // (limits unchanged since counting) that is the oldest counted event.
    if (auto ec = prepare(sql::nth_event, st)) return ec;
    std::int64_t at = now_ms;
    {
      statement q(st);
      q.bind(1, c.key);
      q.bind(2, now_ms - window_ms);
      q.bind(3, now_ms);
      q.bind(4, count - c.max);
      int rc = q.step();
      if (rc != SQLITE_ROW) return fail(rc, "read rate events");
      at = q.int64(0);
    }
    const std::int64_t wait_ms = at + window_ms - now_ms;  // > 0: `at` is inside the window
    out.allowed = false;
    out.failed_index = i;
    out.retry_after = std::chrono::seconds(std::max<std::int64_t>(1, (wait_ms + 999) / 1000));
    return {};  // the transaction rolls back; it wrote nothing
  }

  sqlite3_stmt* st = nullptr;
  if (!keep_ms.empty()) {
    if (auto ec = prepare(sql::insert_event, st)) return ec;
  }
  for (const auto& [key, keep] : keep_ms) {
    statement q(st);
    q.bind(1, key);
    q.bind(2, now_ms);
    q.bind(3, now_ms + keep);
    int rc = q.step();
    if (rc != SQLITE_DONE) return fail(rc, "count rate event");
  }
  return tx.commit();
}

error_code sqlite_store::list_queued(std::vector<verification>& out) {
  transaction tx(*this, transaction::kind::read);
  if (auto ec = tx.begin()) return ec;
  std::vector<std::string> ids;
  {
    sqlite3_stmt* st = nullptr;
    if (auto ec = prepare(sql::select_queued, st)) return ec;
    statement q(st);
    while (true) {
      int rc = q.step();
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return fail(rc, "list queued");
      ids.push_back(q.text(0));
    }
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
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  const std::int64_t now_ms = to_ms(now);
  const std::pair<sql, std::int64_t> steps[] = {
      {sql::expire_pending, now_ms},
      {sql::delete_finished, now_ms - std::chrono::milliseconds(retention).count()},
      {sql::delete_events, now_ms},
  };
  std::size_t total = 0;
  for (const auto& [which, bound] : steps) {
    sqlite3_stmt* st = nullptr;
    if (auto ec = prepare(which, st)) return ec;
    statement q(st);
    q.bind(1, bound);
    int rc = q.step();
    if (rc != SQLITE_DONE) return fail(rc, "purge");
    total += static_cast<std::size_t>(sqlite3_changes64(db_));
  }
  if (auto ec = tx.commit()) return ec;
  changed = total;
  return {};
}

error_code sqlite_store::integrity_check(std::string& result) {
  result.clear();
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db_, "PRAGMA integrity_check", -1, &st, nullptr);
  if (rc != SQLITE_OK) return fail(rc, "integrity_check");
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (!result.empty()) result += '\n';
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    result += p ? p : "";
  }
  error_code ec;
  if (rc != SQLITE_DONE) ec = fail(rc, "integrity_check");
  sqlite3_finalize(st);
  return ec;
}

// ---- factories ----------------------------------------------------------------------------

namespace {

// Why the database's folder or file cannot be written, in words an operator acts on ("" when
// nothing is wrong with them): SQLite only says "unable to open database file" or "attempt to
// write a readonly database". The folder matters as much as the file: the -wal and -shm files
// are created beside it.
std::string why_not_writable(const std::string& path) {
  const std::filesystem::path file(path);
  std::filesystem::path folder = file.parent_path();
  if (folder.empty()) folder = ".";
  struct statvfs fs {};
  if (::statvfs(folder.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0) {
    return "the state folder " + folder.string() + " is on a read-only file system";
  }
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    return "the state folder " + folder.string() + " is not writable: " + std::strerror(errno);
  }
  if (::access(file.c_str(), F_OK) == 0 && ::access(file.c_str(), W_OK) != 0) {
    return "the database file is not writable: " + std::string(std::strerror(errno));
  }
  return {};
}

}  // namespace

error_code open_sqlite_store(const std::string& path, const sqlite_options& options,
                             std::unique_ptr<store>& out, std::string& why) {
  std::unique_ptr<sqlite_store> s;
  if (auto ec = sqlite_store::open(path, options, s, why)) {
    if (!options.read_only) {
      if (std::string hint = why_not_writable(path); !hint.empty()) why += " (" + hint + ")";
    }
    return ec;
  }
  out = std::move(s);
  return {};
}

error_code open_sqlite_store(const std::string& path, std::unique_ptr<store>& out) {
  std::string why;
  return open_sqlite_store(path, sqlite_options{}, out, why);
}

}  // namespace otpd::service
