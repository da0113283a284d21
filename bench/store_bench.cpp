// Store throughput: verifications inserted and then modified (as a submit result would be)
// through store_executor on SQLite, by concurrent coroutines on one I/O thread, with and
// without group commit; and the same calls on the store directly, without the executor hop.
// With --postgres, the same on that PostgreSQL database instead (each run writes ids of its
// own: nothing is emptied).
//
//   otpd_bench_store [--pairs N] [--concurrency C] [--batches 1,8,64] [--dir DIR]
//                    [--postgres CONNINFO]
//
// Run from a Release build: numbers from Debug or sanitizer builds mean nothing. The database
// lives in DIR (default: a fresh directory under $TMPDIR), on the disk the daemon would use.
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "daemon/store/postgres_store.hpp"
#include "daemon/store/sqlite_store.hpp"
#include "daemon/store/store_executor.hpp"

namespace {

using namespace otpd::service;
namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

struct options {
  int pairs = 20'000;
  int concurrency = 64;
  std::vector<std::size_t> batches{1, 8, 64};
  std::string dir;
  std::string postgres;  // a conninfo: PostgreSQL instead of SQLite
};

// Prepended to every id of a run, so that runs on one PostgreSQL database never collide.
std::string run_prefix = "v";

verification make(const std::string& id) {
  verification v;
  v.id = id;
  v.to = "+84912345678";
  v.locale = "vi";
  v.api_key = "bench";
  v.client_ip = "203.0.113.7";
  v.created_at = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  v.expires_at = v.created_at + std::chrono::minutes(5);
  v.next_resend_at = v.created_at + std::chrono::seconds(30);
  v.code_mac = std::string(32, '\x5a');
  v.idempotency_key = std::string("idem-").append(id);
  v.request_hash = std::string(64, 'f');
  attempt a;
  a.number = 1;
  a.status = attempt_status::queued;
  a.created_at = v.created_at;
  a.carrier = "viettel";
  v.attempts.push_back(a);
  return v;
}

error_code mark_submitted(verification& v) {
  v.attempts[0].status = attempt_status::submitted;
  v.attempts[0].submitted_at = std::chrono::system_clock::now();
  v.attempts[0].bind = "viettel-1";
  v.attempts[0].message_ids = {"0a1b2c3d"};
  v.attempts[0].smpp_status = 0;
  v.sends = 1;
  return {};
}

std::unique_ptr<store> open_fresh(const options& o, const std::string& path) {
  std::unique_ptr<store> s;
  std::string why;
  if (!o.postgres.empty()) {
    static int runs = 0;
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    run_prefix = std::string("r")
                     .append(std::to_string(std::chrono::floor<std::chrono::seconds>(now).count()))
                     .append("-")
                     .append(std::to_string(++runs))
                     .append("-");
    postgres_options po;
    po.conninfo = o.postgres;
    if (open_postgres_store(po, s, why)) {
      std::fprintf(stderr, "open: %s\n", why.c_str());
      std::exit(1);
    }
    return s;
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  if (open_sqlite_store(path, sqlite_options{}, s, why)) {
    std::fprintf(stderr, "open: %s\n", why.c_str());
    std::exit(1);
  }
  return s;
}

asio::awaitable<void> worker(store_executor& ex, int first, int step, int end, int& failures) {
  for (int i = first; i < end; i += step) {
    // Appended, not "v" + to_string(i): g++ 12 -O2 warns on that falsely (GCC bug 105329).
    std::string id = std::string(run_prefix).append(std::to_string(i));
    if (co_await ex.insert(make(id))) ++failures;
    auto [ec, v] = co_await ex.modify(id, mark_submitted);
    if (ec) ++failures;
  }
}

void report(const char* what, int pairs, clock_type::duration took, int failures) {
  double s = std::chrono::duration<double>(took).count();
  std::printf("%-28s %8d pairs in %6.3f s: %9.0f insert+modify/s (%9.0f calls/s)%s\n", what, pairs,
              s, pairs / s, 2 * pairs / s, failures ? "  FAILURES" : "");
}

void run_executor(const options& o, const std::string& path, std::size_t batch) {
  store_executor ex(open_fresh(o, path), {.max_queue = 100'000, .max_batch = batch});
  asio::io_context io;
  int failures = 0;
  for (int c = 0; c < o.concurrency; ++c) {
    asio::co_spawn(io, worker(ex, c, o.concurrency, o.pairs, failures), asio::detached);
  }
  auto start = clock_type::now();
  io.run();
  auto took = clock_type::now() - start;
  auto stats = ex.stats();
  char what[64];
  std::snprintf(what, sizeof what, "executor, max_batch %zu", batch);
  report(what, o.pairs, took, failures);
  if (stats.batches != 0) {
    std::printf(
        "%-28s %8.1f calls per batch, %.0f%% of calls batched\n", "",
        static_cast<double>(stats.batched_calls) / static_cast<double>(stats.batches),
        100.0 * static_cast<double>(stats.batched_calls) / static_cast<double>(stats.calls));
  }
}

void run_direct(const options& o, const std::string& path) {
  auto s = open_fresh(o, path);
  int failures = 0;
  auto start = clock_type::now();
  for (int i = 0; i < o.pairs; ++i) {
    // Appended, not "v" + to_string(i): g++ 12 -O2 warns on that falsely (GCC bug 105329).
    std::string id = std::string(run_prefix).append(std::to_string(i));
    if (s->insert(make(id))) ++failures;
    verification v;
    if (s->modify(id, mark_submitted, v)) ++failures;
  }
  report("direct (no executor)", o.pairs, clock_type::now() - start, failures);
}

std::vector<std::size_t> parse_list(const char* text) {
  std::vector<std::size_t> out;
  for (const char* p = text; *p != '\0';) {
    char* end = nullptr;
    out.push_back(std::strtoul(p, &end, 10));
    p = *end == ',' ? end + 1 : end;
    if (end == p && *p != '\0') break;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--pairs") {
      o.pairs = std::atoi(argv[i + 1]);
    } else if (flag == "--concurrency") {
      o.concurrency = std::max(1, std::atoi(argv[i + 1]));
    } else if (flag == "--batches") {
      o.batches = parse_list(argv[i + 1]);
    } else if (flag == "--dir") {
      o.dir = argv[i + 1];
    } else if (flag == "--postgres") {
      o.postgres = argv[i + 1];
    } else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  std::string dir = o.dir;
  if (dir.empty()) {
    std::string templ = (std::filesystem::temp_directory_path() / "otpd-bench-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) return 1;
    dir = templ;
  }
  const std::string path = dir + "/bench.db";
  std::printf("%s store, %d verifications (insert, then modify), %d coroutines, %s\n",
              o.postgres.empty() ? "SQLite" : "PostgreSQL", o.pairs, o.concurrency,
              o.postgres.empty() ? path.c_str() : "(conninfo given)");
  run_direct(o, path);
  for (auto b : o.batches) run_executor(o, path, b);
  if (o.dir.empty()) std::filesystem::remove_all(dir);
  return 0;
}
