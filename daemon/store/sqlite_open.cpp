// Opening the SQLite store: the connection's settings, the background checkpointer, and the
// factories that name what is wrong with a database that cannot be opened.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>

#include "daemon/store/sqlite_statement.hpp"

namespace otpd::service {

namespace {

using std::chrono::milliseconds;

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

}  // namespace

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
    // loss (the WAL is synced at checkpoints): the former is what open_sqlite_store promises.
    std::string mode;
    if (auto ec = statement(*this, "PRAGMA journal_mode = WAL", "journal_mode").value(mode)) {
      return ec;
    }
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
    if (statement q(*this, "PRAGMA page_size", "page_size"); q.step() == SQLITE_ROW) {
      page_size = std::max(512, q.integer(0));
    }
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
