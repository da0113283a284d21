// Child of the kill -9 test (crash_test.cpp): writes verifications and their receipt
// correlations in a loop and prints each id on stdout once the store has acknowledged both.
// The test kills it at a random moment; everything printed must survive.
//
//   otpd_store_crash_helper DB PREFIX direct|executor
//
// direct:   the store called in a loop, one transaction per call.
// executor: 8 coroutines through store_executor, so that calls are group-committed and
//           acknowledged only after the batch's commit.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "daemon/store/sqlite_store.hpp"
#include "daemon/store/store_executor.hpp"

namespace {

using namespace otpd::service;
namespace asio = boost::asio;

constexpr int max_writes = 1'000'000;  // the test kills it long before; a bound all the same

verification make(const std::string& id) {
  verification v;
  v.id = id;
  v.to = "+84912345678";
  v.locale = "vi";
  v.api_key = "crash";
  v.idempotency_key = std::string("idem-").append(id);
  v.created_at = std::chrono::system_clock::now();
  v.expires_at = v.created_at + std::chrono::minutes(5);
  v.code_mac = std::string(32, '\x5a');
  attempt a;
  a.number = 1;
  a.status = attempt_status::submitted;
  a.carrier = "crashnet";
  a.message_ids = {id + "-m"};
  v.attempts.push_back(a);
  return v;
}

std::vector<correlation> correlations_of(const std::string& id) {
  return {{"crashnet", id + "-m", id, 1, 0}};
}

// One write(2) per line, so that a kill never leaves half a line for the test to misread.
void acknowledge(const std::string& id) {
  std::string line = id + "\n";
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) std::_Exit(3);  // the test went away
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

int run_direct(store& s, const std::string& prefix) {
  for (int i = 0; i < max_writes; ++i) {
    std::string id = prefix;
    id.append("-").append(std::to_string(i));
    if (auto ec = s.insert(make(id))) {
      std::fprintf(stderr, "insert: %s (%s)\n", ec.message().c_str(), s.last_error().c_str());
      return 1;
    }
    if (auto ec = s.add_correlations(correlations_of(id))) {
      std::fprintf(stderr, "correlate: %s\n", ec.message().c_str());
      return 1;
    }
    acknowledge(id);
  }
  return 0;
}

asio::awaitable<void> writer(store_executor& ex, std::string prefix, int& status) {
  for (int i = 0; i < max_writes / 8 && status == 0; ++i) {
    std::string id = prefix;
    id.append("-").append(std::to_string(i));
    error_code ec = co_await ex.insert(make(id));
    if (!ec) ec = co_await ex.add_correlations(correlations_of(id));
    if (ec) {
      std::fprintf(stderr, "write: %s (%s)\n", ec.message().c_str(), ex.last_error().c_str());
      status = 1;
      co_return;
    }
    acknowledge(id);
  }
}

int run_executor(std::unique_ptr<store> s, const std::string& prefix) {
  store_executor ex(std::move(s));
  asio::io_context io;
  int status = 0;
  for (int c = 0; c < 8; ++c) {
    std::string name = prefix;
    name.append("c").append(std::to_string(c));
    asio::co_spawn(io, writer(ex, name, status), asio::detached);
  }
  io.run();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DB PREFIX direct|executor\n", argv[0]);
    return 2;
  }
  std::unique_ptr<store> s;
  std::string why;
  // Small: checkpoints (on their own thread) run all the time, so that kills land inside them
  // too.
  sqlite_options options;
  options.checkpoint_pages = 32;
  if (open_sqlite_store(argv[1], options, s, why)) {
    std::fprintf(stderr, "open: %s\n", why.c_str());
    return 1;
  }
  if (std::strcmp(argv[3], "executor") == 0) return run_executor(std::move(s), argv[2]);
  return run_direct(*s, argv[2]);
}
