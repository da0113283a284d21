// Session throughput: submit_sm per second over ONE bind to the node-smpp SMSC stand-in, for
// windows 1, 10 and 100, with the CPU time each side spends per message, so that the table
// shows which side is the bottleneck.
//
// A plain program rather than a Google Benchmark: each measurement is one long run against a
// separate process, and what matters is the wall-clock rate next to both processes' CPU time.
//
//   otpd_bench_session [--messages N] [--seconds S] [--windows 1,10,100]
//
// Each window runs on a fresh bind: a warm-up (so that node's JIT has compiled the SMSC's hot
// path), then up to N messages or S seconds, whichever comes first. Run it from a release
// build; the SMSC is started with --no-submit-events so that it does not spend its time
// printing JSON.
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "smpp/net/session.hpp"
#include "smpp/proto/status.hpp"
#include "tests/support/smsc_process.hpp"

namespace {

namespace asio = boost::asio;
namespace smpp = otpd::smpp;
using namespace std::chrono_literals;
using wall_clock = std::chrono::steady_clock;

// CPU time of this process (user + system), in seconds.
double self_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

// CPU time of another process from /proc/<pid>/stat (utime + stime, fields 14 and 15,
// proc(5)), in seconds; nullopt when it cannot be read.
std::optional<double> process_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!in || !std::getline(in, stat)) return std::nullopt;
  // The command name (field 2) is in parentheses and may contain spaces: skip past it.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return double(utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

struct run_result {
  std::size_t window = 0;
  std::size_t messages = 0;  // answered submit_sm
  std::size_t failed = 0;    // answered with an error, or lost
  double seconds = 0;
  double self_cpu = 0;
  std::optional<double> smsc_cpu;
  bool bound = false;
};

// Drives one session: keeps the window full with copies of a prebuilt message until `limit`
// messages are answered or the deadline passes, then unbinds.
class driver final : public smpp::session_listener {
 public:
  driver(asio::io_context& io, smpp::session_options opts, std::size_t warmup, std::size_t limit,
         wall_clock::duration max_time, pid_t smsc_pid)
      : io_(io),
        session_(io.get_executor(), std::move(opts), *this),
        watchdog_(io),
        warmup_(warmup),
        limit_(limit),
        max_time_(max_time),
        smsc_pid_(smsc_pid) {
    smpp::submit_sm sm;
    sm.source = {5, 0, "OTPD"};
    sm.dest = {1, 1, "84912345678"};
    sm.short_message = "Your code is 482917";  // GSM 7-bit, one part
    sm.registered_delivery = 0;                // no receipts: measure submits only
    proto_.parts.push_back(std::move(sm));
  }

  run_result run() {
    result_.window = session_.options().smpp.window;
    session_.start();
    // A backstop for a bind that never comes or a run that stalls.
    watchdog_.expires_after(max_time_ + 30s);
    watchdog_.async_wait([this](boost::system::error_code ec) {
      if (!ec) {
        std::cerr << "bench: watchdog fired (window " << result_.window << ")\n";
        finish();
      }
    });
    io_.run();
    return result_;
  }

 private:
  void on_bound(smpp::session&) override {
    result_.bound = true;
    pump();
  }
  void on_down(smpp::session&, boost::system::error_code ec) override {
    if (!result_.bound) {
      std::cerr << "bench: bind failed: " << ec.message() << "\n";
      finish();
    }
  }
  void on_submit_done(smpp::session&, smpp::submit_result r) override {
    if (r.ec) ++failed_;
    ++answered_;
    if (answered_ == warmup_) start_measuring();
    if (measuring_) {
      const std::size_t measured = answered_ - warmup_;
      if (measured >= limit_ || wall_clock::now() - t0_ >= max_time_) {
        stop_measuring(measured);
        finish();
        return;
      }
    }
    pump();
  }
  void on_returned(smpp::session&, smpp::outbound_message, boost::system::error_code) override {
    ++failed_;
  }
  void on_stopped(smpp::session&) override { io_.stop(); }

  void pump() {
    while (!stopping_ && session_.has_room()) {
      smpp::outbound_message m = proto_;
      m.id = ++submitted_;
      if (!session_.submit(m)) break;
    }
  }

  void start_measuring() {
    measuring_ = true;
    failed_ = 0;
    t0_ = wall_clock::now();
    cpu0_ = self_cpu_seconds();
    smsc0_ = process_cpu_seconds(smsc_pid_);
  }

  void stop_measuring(std::size_t measured) {
    measuring_ = false;  // the responses still in flight while unbinding do not count
    result_.seconds = std::chrono::duration<double>(wall_clock::now() - t0_).count();
    result_.self_cpu = self_cpu_seconds() - cpu0_;
    if (auto s1 = process_cpu_seconds(smsc_pid_); s1 && smsc0_) result_.smsc_cpu = *s1 - *smsc0_;
    result_.messages = measured;
    result_.failed = failed_;
  }

  void finish() {
    if (stopping_) return;
    stopping_ = true;
    watchdog_.cancel();
    session_.stop();  // unbind after the in-flight responses; on_stopped ends the loop
  }

  asio::io_context& io_;
  smpp::session session_;
  asio::steady_timer watchdog_;
  smpp::outbound_message proto_;
  std::size_t warmup_;
  std::size_t limit_;
  wall_clock::duration max_time_;
  pid_t smsc_pid_;
  std::uint64_t submitted_ = 0;
  std::size_t answered_ = 0;
  std::size_t failed_ = 0;
  bool measuring_ = false;
  bool stopping_ = false;
  wall_clock::time_point t0_{};
  double cpu0_ = 0;
  std::optional<double> smsc0_;
  run_result result_;
};

std::optional<std::size_t> parse_size(std::string_view s) {
  std::size_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v == 0) return std::nullopt;
  return v;
}

[[noreturn]] void usage(const char* why) {
  std::cerr << "otpd_bench_session: " << why
            << "\nusage: otpd_bench_session [--messages N] [--seconds S] [--windows 1,10,100]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t messages = 20000;
  std::size_t seconds = 10;
  std::vector<std::size_t> windows = {1, 10, 100};
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) usage("every flag takes a value");
    const std::string_view v = argv[++i];
    if (a == "--messages") {
      messages = parse_size(v).value_or(0);
      if (messages == 0) usage("--messages: a positive whole number");
    } else if (a == "--seconds") {
      seconds = parse_size(v).value_or(0);
      if (seconds == 0) usage("--seconds: a positive whole number");
    } else if (a == "--windows") {
      windows.clear();
      std::string_view rest = v;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        auto w = parse_size(rest.substr(0, comma));
        if (!w || *w > 1000) usage("--windows: numbers from 1 to 1000, comma-separated");
        windows.push_back(*w);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    } else {
      usage("unknown flag");
    }
  }

  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // keep the table in order with the SMSC's stderr
  otpd::test::smsc_process smsc({"--no-submit-events"});
  std::printf("SMSC stand-in: node smsc.js --no-submit-events, pid %d, 127.0.0.1:%u\n",
              static_cast<int>(smsc.pid()), static_cast<unsigned>(smsc.port()));
  std::printf(
      "per window: %zu messages or %zu s, whichever first, after a warm-up; one bind, "
      "one io thread, %ld CPUs\n\n",
      messages, seconds, ::sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("%6s %9s %8s %9s %14s %11s %14s %11s %7s\n", "window", "messages", "seconds", "msg/s",
              "otpd us/msg", "otpd CPU%", "SMSC us/msg", "SMSC CPU%", "errors");

  int rc = 0;
  for (std::size_t w : windows) {
    smpp::session_options opts;
    opts.name = "bench";
    opts.endpoint.host = "127.0.0.1";
    opts.endpoint.port = smsc.port();
    opts.smpp.type = smpp::bind_type::transmitter;
    opts.smpp.system_id = "otpd";
    opts.smpp.password = otpd::secret("secret");
    opts.smpp.window = w;
    opts.smpp.enquire_link_interval = 0s;  // nothing but submits on the wire

    asio::io_context io(1);
    const std::size_t warmup = std::max<std::size_t>(1000, messages / 10);
    driver d(io, opts, warmup, messages, std::chrono::seconds(seconds), smsc.pid());
    const run_result r = d.run();
    if (!r.bound || r.messages == 0) {
      std::printf("%6zu  (no result: see the messages above)\n", w);
      rc = 1;
      continue;
    }
    const double n = double(r.messages);
    const double smsc_us = r.smsc_cpu ? *r.smsc_cpu / n * 1e6 : -1;
    const double smsc_pct = r.smsc_cpu ? *r.smsc_cpu / r.seconds * 100 : -1;
    std::printf("%6zu %9zu %8.2f %9.0f %14.1f %10.0f%% %14.1f %10.0f%% %7zu\n", w, r.messages,
                r.seconds, n / r.seconds, r.self_cpu / n * 1e6, r.self_cpu / r.seconds * 100,
                smsc_us, smsc_pct, r.failed);
    if (r.failed != 0) rc = 1;
  }
  std::printf(
      "\nCPU%% is CPU time over wall time (100%% = one core busy). The side whose CPU%% "
      "is near 100%% is the bottleneck.\n");
  return rc;
}
