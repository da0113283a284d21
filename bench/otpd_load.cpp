// Load generator for otpd end to end: HTTP/1.1 keep-alive clients against a running otpd, and
// the node-smpp SMSC stand-in's own account of what arrived (bench/gateway_bench.sh starts both
// and runs this program; see docs/PERFORMANCE.md "Gateway end to end").
//
//   otpd_load closed --port P [--path /v1/verifications|/healthz] [--connections N]
//                    [--count C] [--seconds S] [--warmup W]
//       N connections, each sending its next request when the previous answer is in, for C
//       requests or S seconds (whichever first), after W warm-up requests: requests per second
//       and, with the stand-in's control files, how many submit_sm it received meanwhile.
//   otpd_load open --port P [--path ...] [--rate R] [--seconds S]
//       R requests per second on a fixed schedule (independent of the answers) for S seconds:
//       p50/p99 of the HTTP latency and, with the control files, of (submit_sm arrival at the
//       stand-in - HTTP request sent), matched by destination number (unique per request).
//   otpd_load direct --smsc-port P [--rate R] [--seconds S] [--window W]
//       The baseline for the latter: the same rate of submit_sm written straight to the
//       stand-in over one SMPP bind (otpd's own session code, account "bench"), measuring
//       (arrival at the stand-in - session::submit called).
//
// Common flags:
//   --key KEY                  bearer key for the API (default bench-key)
//   --smsc-in FIFO             the stand-in's stdin (commands), a FIFO held open by the caller
//   --smsc-out FILE            the stand-in's stdout (events), a regular file
//   --smsc-account ID          the account whose submits are counted (default otpd)
//   --otpd-pid PID --smsc-pid PID   for the CPU time each spends per request
//   --also-port P --also-pid PID    another otpd node (repeatable): connections go round the
//                              nodes' ports, the otpd CPU column sums the nodes
//   --run D                    a digit 0-9 for the destination numbers of this run:
//                              +8491 D nnnnnn, so that runs never reuse a number (default 0)
//   --label TEXT               the run's name in the result row
//   --path /cgi-bin/sendsms    Kannel's smsbox instead of otpd, for the comparison in
//                              bench/kannel_bench.sh: --key user:password, --dlr-url URL
//                              (URL-encoded) to ask for receipts
//   --until-sent 1             closed: the rate at the SMSC and the CPU are measured until the
//                              last submit_sm arrives, not until the last HTTP answer (for a
//                              system that queues before it sends)
//   --dump FILE                open/direct: one CSV line per request (index, sent, answered,
//                              submit arrival: steady-clock ns; status) for a closer look
//
// Output: details, then one Markdown table row beginning with "| " (bench/gateway_bench.sh
// collects those). Times are CLOCK_MONOTONIC (steady_clock) on both sides: the stand-in's
// --submit-times gives process.hrtime, which is the same clock on Linux.
//
// Every loop is bounded in count and in time; a watchdog closes the sockets if answers stop.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include "smpp/net/session.hpp"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace smpp = otpd::smpp;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------------------------------------
// Options.

struct options {
  std::string mode;
  std::uint16_t port = 0;
  std::uint16_t smsc_port = 0;
  std::string path = "/v1/verifications";
  std::string key = "bench-key";
  std::size_t connections = 64;
  std::size_t count = 100'000;
  double seconds = 10;
  std::size_t warmup = 2'000;
  double rate = 1'000;
  std::size_t window = 100;
  std::string smsc_in;
  std::string smsc_out;
  std::string smsc_account = "otpd";
  std::string dlr_url;  // sendsms: where Kannel reports receipts (URL-encoded); empty: none
  bool until_sent = false;
  pid_t otpd_pid = 0;
  pid_t smsc_pid = 0;
  // Further otpd nodes (several nodes on one store): connections go round the ports, and the
  // otpd CPU column sums every node's.
  std::vector<std::uint16_t> more_ports;
  std::vector<pid_t> more_pids;
  int run = 0;
  std::string label;
  std::string dump;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "otpd_load: " << why
            << "\nusage: otpd_load closed|open|direct [--port P] [--smsc-port P] [--path PATH]"
               " [--key KEY] [--connections N] [--count C] [--seconds S] [--warmup W]"
               " [--rate R] [--window W] [--smsc-in FIFO] [--smsc-out FILE]"
               " [--smsc-account ID] [--otpd-pid PID] [--smsc-pid PID] [--run D] [--label L]"
               " [--dump FILE]\n"
               "(see the comment at the top of bench/otpd_load.cpp)\n";
  std::exit(2);
}

template <class T>
T number(std::string_view flag, std::string_view v) {
  T out{};
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size()) usage(std::string(flag) + ": not a number");
  return out;
}

options parse(int argc, char** argv) {
  options o;
  if (argc < 2) usage("a mode is required");
  o.mode = argv[1];
  if (o.mode != "closed" && o.mode != "open" && o.mode != "direct") usage("unknown mode");
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) usage(std::string(a) + " needs a value");
    const std::string_view v = argv[++i];
    if (a == "--port")
      o.port = number<std::uint16_t>(a, v);
    else if (a == "--smsc-port")
      o.smsc_port = number<std::uint16_t>(a, v);
    else if (a == "--path")
      o.path = v;
    else if (a == "--key")
      o.key = v;
    else if (a == "--connections")
      o.connections = number<std::size_t>(a, v);
    else if (a == "--count")
      o.count = number<std::size_t>(a, v);
    else if (a == "--seconds")
      o.seconds = number<double>(a, v);
    else if (a == "--warmup")
      o.warmup = number<std::size_t>(a, v);
    else if (a == "--rate")
      o.rate = number<double>(a, v);
    else if (a == "--window")
      o.window = number<std::size_t>(a, v);
    else if (a == "--smsc-in")
      o.smsc_in = v;
    else if (a == "--smsc-out")
      o.smsc_out = v;
    else if (a == "--smsc-account")
      o.smsc_account = v;
    else if (a == "--otpd-pid")
      o.otpd_pid = number<pid_t>(a, v);
    else if (a == "--also-port")
      o.more_ports.push_back(number<std::uint16_t>(a, v));
    else if (a == "--also-pid")
      o.more_pids.push_back(number<pid_t>(a, v));
    else if (a == "--smsc-pid")
      o.smsc_pid = number<pid_t>(a, v);
    else if (a == "--run")
      o.run = number<int>(a, v);
    else if (a == "--dlr-url")
      o.dlr_url = v;
    else if (a == "--until-sent")
      o.until_sent = v == "1";
    else if (a == "--label")
      o.label = v;
    else if (a == "--dump")
      o.dump = v;
    else
      usage("unknown flag " + std::string(a));
  }
  if (o.mode != "direct" && o.port == 0) usage("--port is required");
  if (o.mode == "direct" && o.smsc_port == 0) usage("--smsc-port is required");
  if (o.connections < 1 || o.connections > 4096) usage("--connections: 1..4096");
  if (o.count < 1 || o.warmup + o.count > 1'000'000) usage("--warmup + --count: at most 1000000");
  if (o.seconds <= 0 || o.seconds > 300) usage("--seconds: up to 300");
  if (o.rate <= 0 || o.rate > 100'000) usage("--rate: up to 100000");
  if (o.rate * o.seconds > 1'000'000) usage("--rate x --seconds: at most 1000000");
  if (o.run < 0 || o.run > 9) usage("--run: one digit");
  if (o.window < 1 || o.window > 1000) usage("--window: 1..1000");
  if (o.label.empty()) o.label = o.mode + " " + o.path;
  return o;
}

// +8491 D nnnnnn: unique per request within a run, and across runs with distinct --run digits.
std::string destination(int run, std::size_t i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "8491%d%06zu", run, i % 1'000'000);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// CPU time.

double self_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

// utime + stime of another process (proc(5) fields 14 and 15), seconds; -1 when unknown.
double process_cpu_seconds(pid_t pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!in || !std::getline(in, stat)) return -1;
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return double(utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

// Per thread of a process: CPU (user, system; seconds) and what it wrote through write(2)
// and pwrite(2) (wchar, syscw of /proc/<pid>/task/<tid>/io; socket sends by sendmsg are not
// counted there, file writes are).
struct thread_stat {
  double user = 0, sys = 0;
  unsigned long long wchar = 0, syscw = 0;
  double run_wait = 0;  // seconds runnable but waiting for a CPU (schedstat, field 2)
};

std::vector<std::pair<pid_t, thread_stat>> thread_stats(pid_t pid) {
  std::vector<std::pair<pid_t, thread_stat>> out;
  if (pid <= 0) return out;
  const std::string base = "/proc/" + std::to_string(pid) + "/task/";
  std::vector<pid_t> tids;
  if (auto* d = ::opendir(base.c_str())) {
    while (auto* e = ::readdir(d)) {
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9') tids.push_back(std::atoi(e->d_name));
    }
    ::closedir(d);
  }
  std::sort(tids.begin(), tids.end());
  const double tick = double(::sysconf(_SC_CLK_TCK));
  for (pid_t tid : tids) {
    thread_stat st;
    std::ifstream in(base + std::to_string(tid) + "/stat");
    std::string stat;
    if (!in || !std::getline(in, stat)) continue;
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) st.user = double(std::stoull(field)) / tick;
      if (i == 15) st.sys = double(std::stoull(field)) / tick;
    }
    std::ifstream sched(base + std::to_string(tid) + "/schedstat");
    unsigned long long on_cpu_ns = 0, wait_ns = 0;
    if (sched >> on_cpu_ns >> wait_ns) st.run_wait = double(wait_ns) / 1e9;
    std::ifstream io(base + std::to_string(tid) + "/io");
    std::string key;
    unsigned long long value = 0;
    while (io >> key >> value) {
      if (key == "wchar:") st.wchar = value;
      if (key == "syscw:") st.syscw = value;
    }
    out.emplace_back(tid, st);
  }
  return out;
}

struct cpu_snapshot {
  double self = 0, otpd = -1, smsc = -1;
  std::vector<std::pair<pid_t, thread_stat>> otpd_threads;
  static cpu_snapshot take(const options& o) {
    double otpd = process_cpu_seconds(o.otpd_pid);
    for (pid_t p : o.more_pids) otpd += std::max(0.0, process_cpu_seconds(p));
    return {self_cpu_seconds(), otpd, process_cpu_seconds(o.smsc_pid), thread_stats(o.otpd_pid)};
  }
};

// The port of the i-th connection: round the nodes.
std::uint16_t port_of(const options& o, std::size_t i) {
  const std::size_t n = 1 + o.more_ports.size();
  return i % n == 0 ? o.port : o.more_ports[i % n - 1];
}

// ---------------------------------------------------------------------------------------------
// The stand-in's control: commands into its stdin FIFO, events read back from its stdout file.

class smsc_control {
 public:
  smsc_control(const std::string& in, const std::string& out) {
    if (in.empty() || out.empty()) return;
    in_fd_ = ::open(in.c_str(), O_WRONLY | O_CLOEXEC);
    out_fd_ = ::open(out.c_str(), O_RDONLY | O_CLOEXEC);
    if (in_fd_ < 0 || out_fd_ < 0) throw std::runtime_error("cannot open the stand-in's files");
    // Start at the end: earlier events belong to earlier runs.
    ::lseek(out_fd_, 0, SEEK_END);
  }
  ~smsc_control() {
    if (in_fd_ >= 0) ::close(in_fd_);
    if (out_fd_ >= 0) ::close(out_fd_);
  }
  explicit operator bool() const { return in_fd_ >= 0; }

  // Every event read while waiting for acks goes here.
  std::function<void(const json::object&)> on_event;

  // Sends a command and returns its ack; every event read before it goes to on_event.
  json::object command(json::object cmd) {
    const std::string id = "load-" + std::to_string(++serial_);
    cmd["id"] = id;
    const std::string line = json::serialize(cmd) + "\n";
    if (::write(in_fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      throw std::runtime_error("cannot write to the stand-in");
    }
    const auto deadline = clock_type::now() + 20s;
    while (clock_type::now() < deadline) {
      bool any = false;
      std::string l;
      while (next_line(l)) {
        any = true;
        json::value v;
        try {
          v = json::parse(l);
        } catch (...) {
          continue;
        }
        if (!v.is_object()) continue;
        const auto& o = v.as_object();
        const auto* ev = o.if_contains("event");
        if (ev && ev->is_string() && ev->as_string() == "ack") {
          const auto* aid = o.if_contains("id");
          if (aid && aid->is_string() && aid->as_string() == id) return o;
          continue;
        }
        if (on_event) on_event(o);
      }
      if (!any) std::this_thread::sleep_for(1ms);
    }
    throw std::runtime_error("no answer from the stand-in to " + line);
  }

  // Submits received so far on the binds of `account` (open sessions only).
  std::uint64_t submits(const std::string& account) {
    const auto ack = command({{"cmd", "sessions"}});
    std::uint64_t n = 0;
    if (const auto* s = ack.if_contains("sessions"); s && s->is_array()) {
      for (const auto& e : s->as_array()) {
        const auto& so = e.as_object();
        if (json::value_to<std::string>(so.at("system_id")) == account) {
          n += json::value_to<std::uint64_t>(so.at("submits"));
        }
      }
    }
    return n;
  }

 private:
  bool next_line(std::string& line) {
    for (;;) {
      const auto nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        line.assign(buf_, pos_, nl - pos_);
        pos_ = nl + 1;
        return true;
      }
      buf_.erase(0, pos_);
      pos_ = 0;
      char chunk[65536];
      const ssize_t n = ::read(out_fd_, chunk, sizeof chunk);
      if (n <= 0) return false;
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  int in_fd_ = -1;
  int out_fd_ = -1;
  std::string buf_;
  std::size_t pos_ = 0;
  std::uint64_t serial_ = 0;
};

// Turns on submit events with arrival times, and collects dest -> arrival (ns) until stopped.
struct arrival_log {
  std::unordered_map<std::string, std::int64_t> at;
  std::size_t events = 0;
  void operator()(const json::object& o) {
    const auto* ev = o.if_contains("event");
    if (!ev || !ev->is_string() || ev->as_string() != "submit") return;
    ++events;
    const auto* a = o.if_contains("arrival_us");
    const auto* d = o.if_contains("dest");
    if (!a || !d || !d->is_object()) return;
    const auto* addr = d->as_object().if_contains("addr");
    if (!addr || !addr->is_string()) return;
    const std::int64_t us = a->is_int64()    ? a->as_int64()
                            : a->is_uint64() ? static_cast<std::int64_t>(a->as_uint64())
                                             : static_cast<std::int64_t>(a->as_double());
    at.emplace(std::string(addr->as_string()), us * 1000);
  }
};

// ---------------------------------------------------------------------------------------------
// Results.

struct record {
  std::int64_t sent = 0;      // ns, steady clock
  std::int64_t answered = 0;  // ns; 0 = no answer
  std::int64_t late = 0;      // open loop: sent - scheduled
  int status = 0;
  std::size_t index = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  std::size_t rank = static_cast<std::size_t>(p / 100.0 * double(v.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}

std::string ms(double ns) {
  if (ns < 0) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", ns / 1e6);
  return b;
}

std::string fmt(const char* f, double v) {
  if (v < 0) return "-";
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

struct summary {
  std::string label;
  std::string conns = "-";
  std::size_t requests = 0;
  std::size_t ok = 0;
  std::size_t other = 0;
  double seconds = 0;
  double smsc_rate = -1;           // submits per second received by the stand-in in the window
  std::int64_t smsc_total = -1;    // after draining
  std::vector<double> http_lat;    // ns
  std::vector<double> submit_lat;  // ns
  std::size_t unmatched = 0;
  cpu_snapshot cpu0, cpu1;

  void print() const {
    const double n = double(std::max<std::size_t>(ok, 1));
    auto per = [&](double a, double b) { return a < 0 || b < 0 ? -1.0 : (b - a) / n * 1e6; };
    std::printf("%s: %zu requests in %.2f s: %zu 2xx (%.0f/s), %zu other\n", label.c_str(),
                requests, seconds, ok, double(ok) / seconds, other);
    if (smsc_rate >= 0) {
      std::printf("  stand-in: %.0f submit_sm/s received during the run, %lld after draining\n",
                  smsc_rate, static_cast<long long>(smsc_total));
    }
    if (!http_lat.empty()) {
      std::printf("  HTTP latency ms: p50 %s p90 %s p99 %s max %s\n",
                  ms(percentile(http_lat, 50)).c_str(), ms(percentile(http_lat, 90)).c_str(),
                  ms(percentile(http_lat, 99)).c_str(), ms(percentile(http_lat, 100)).c_str());
    }
    if (!submit_lat.empty()) {
      std::printf(
          "  send -> submit_sm at the stand-in ms: p50 %s p90 %s p99 %s max %s (%zu matched, %zu "
          "unmatched)\n",
          ms(percentile(submit_lat, 50)).c_str(), ms(percentile(submit_lat, 90)).c_str(),
          ms(percentile(submit_lat, 99)).c_str(), ms(percentile(submit_lat, 100)).c_str(),
          submit_lat.size(), unmatched);
    }
    std::printf(
        "  CPU us per 2xx: otpd %s, stand-in %s, load generator %s; CPU%%: otpd %s "
        "stand-in %s load %s\n",
        fmt("%.1f", per(cpu0.otpd, cpu1.otpd)).c_str(),
        fmt("%.1f", per(cpu0.smsc, cpu1.smsc)).c_str(),
        fmt("%.1f", per(cpu0.self, cpu1.self)).c_str(),
        fmt("%.0f%%", cpu0.otpd < 0 ? -1 : (cpu1.otpd - cpu0.otpd) / seconds * 100).c_str(),
        fmt("%.0f%%", cpu0.smsc < 0 ? -1 : (cpu1.smsc - cpu0.smsc) / seconds * 100).c_str(),
        fmt("%.0f%%", (cpu1.self - cpu0.self) / seconds * 100).c_str());
    // otpd per thread (the main thread runs the I/O; the others are the store's: see
    // docs/PERFORMANCE.md for which is which), per request and as shares of the wall time:
    // on a CPU, runnable but waiting for one, and the rest (blocked or idle).
    if (!cpu0.otpd_threads.empty() && ok > 0) {
      std::printf(
          "  otpd threads, share of wall time on CPU / waiting for a CPU / blocked or idle:");
      for (const auto& [tid, b] : cpu1.otpd_threads) {
        const auto it = std::find_if(cpu0.otpd_threads.begin(), cpu0.otpd_threads.end(),
                                     [&](const auto& p) { return p.first == tid; });
        if (it == cpu0.otpd_threads.end()) continue;
        const thread_stat& a = it->second;
        const double on = (b.user - a.user + b.sys - a.sys) / seconds;
        const double wait = (b.run_wait - a.run_wait) / seconds;
        if (on < 0.005) continue;
        std::printf(" [tid %d: %.0f%% / %.0f%% / %.0f%%]", static_cast<int>(tid), on * 100,
                    wait * 100, std::max(0.0, 1 - on - wait) * 100);
      }
      std::printf("\n");
      std::printf("  otpd threads, per 2xx:");
      for (const auto& [tid, b] : cpu1.otpd_threads) {
        const auto it = std::find_if(cpu0.otpd_threads.begin(), cpu0.otpd_threads.end(),
                                     [&](const auto& p) { return p.first == tid; });
        if (it == cpu0.otpd_threads.end()) continue;
        const thread_stat& a = it->second;
        const double cpu = (b.user - a.user + b.sys - a.sys) / n * 1e6;
        if (cpu < 0.5 && b.wchar == a.wchar) continue;
        std::printf(" [tid %d: %.0f us CPU (%.0f sys), %.1f KB in %.1f writes to files]",
                    static_cast<int>(tid), cpu, (b.sys - a.sys) / n * 1e6,
                    double(b.wchar - a.wchar) / n / 1024, double(b.syscw - a.syscw) / n);
      }
      std::printf("\n");
    }
    // The row for the table.
    std::printf("| %s | %s | %zu | %.2f | %.0f | %zu | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                label.c_str(), conns.c_str(), requests, seconds, double(ok) / seconds, other,
                fmt("%.0f", smsc_rate).c_str(), ms(percentile(http_lat, 50)).c_str(),
                ms(percentile(http_lat, 99)).c_str(), ms(percentile(submit_lat, 50)).c_str(),
                ms(percentile(submit_lat, 99)).c_str(),
                fmt("%.1f", per(cpu0.otpd, cpu1.otpd)).c_str(),
                fmt("%.1f", per(cpu0.smsc, cpu1.smsc)).c_str(),
                fmt("%.1f", per(cpu0.self, cpu1.self)).c_str());
  }
};

void dump_records(const options& o, const std::vector<record>& records, const arrival_log& a) {
  if (o.dump.empty()) return;
  std::FILE* f = std::fopen(o.dump.c_str(), "w");
  if (!f) return;
  std::fprintf(f, "index,sent_ns,answered_ns,submit_arrival_ns,status\n");
  for (const auto& r : records) {
    if (r.sent == 0) continue;
    auto it = a.at.find(destination(o.run, r.index));
    std::fprintf(f, "%zu,%lld,%lld,%lld,%d\n", r.index, static_cast<long long>(r.sent),
                 static_cast<long long>(r.answered),
                 static_cast<long long>(it == a.at.end() ? 0 : it->second), r.status);
  }
  std::fclose(f);
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 client connection (keep-alive, one request at a time).

struct http_conn {
  explicit http_conn(asio::io_context& io) : sock(io) {}
  tcp::socket sock;
  std::string in;
  std::string out;
};

// Kannel's sendsms (smsbox): the same destinations and a six-digit code in the text, the
// account from --key "user:password"; receipts asked for with --dlr-url.
bool is_sendsms(const options& o) { return o.path == "/cgi-bin/sendsms"; }

// Whether each request sends an SMS, counted at the stand-in.
bool sends_sms(const options& o) { return o.path == "/v1/verifications" || is_sendsms(o); }

void make_request(const options& o, std::size_t index, std::string& out) {
  out.clear();
  if (is_sendsms(o)) {
    const auto colon = o.key.find(':');
    char code[8];
    std::snprintf(code, sizeof code, "%06zu", (index * 7919) % 1'000'000);
    out += "GET /cgi-bin/sendsms?username=" + o.key.substr(0, colon) +
           "&password=" + (colon == std::string::npos ? "" : o.key.substr(colon + 1)) +
           "&from=OTPD&to=%2B" + destination(o.run, index) + "&text=Your+code+is+" + code;
    if (!o.dlr_url.empty()) out += "&dlr-mask=3&dlr-url=" + o.dlr_url;
    out += " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  } else if (o.path == "/v1/verifications") {
    const std::string body = "{\"to\":\"+" + destination(o.run, index) + "\"}";
    out += "POST /v1/verifications HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ";
    out += o.key;
    out += "\r\nContent-Type: application/json\r\nContent-Length: ";
    out += std::to_string(body.size());
    out += "\r\n\r\n";
    out += body;
  } else {
    out += "GET " + o.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + o.key +
           "\r\n\r\n";
  }
}

// Status of one whole response (headers + Content-Length body); -1 on a broken connection.
asio::awaitable<int> read_response(http_conn& c) {
  for (;;) {
    const auto end = c.in.find("\r\n\r\n");
    if (end != std::string::npos) {
      int status = -1;
      if (c.in.size() > 12) std::from_chars(c.in.data() + 9, c.in.data() + 12, status);
      std::size_t length = 0;
      // Content-Length, case-insensitively, within the headers.
      for (std::size_t p = c.in.find("\r\n"); p < end; p = c.in.find("\r\n", p + 2)) {
        static constexpr std::string_view name = "content-length:";
        if (end - (p + 2) < name.size()) continue;
        bool match = true;
        for (std::size_t k = 0; k < name.size() && match; ++k) {
          match = std::tolower(static_cast<unsigned char>(c.in[p + 2 + k])) == name[k];
        }
        if (!match) continue;
        std::size_t q = p + 2 + name.size();
        while (q < end && c.in[q] == ' ') ++q;
        std::from_chars(c.in.data() + q, c.in.data() + end, length);
        break;
      }
      const std::size_t total = end + 4 + length;
      if (c.in.size() >= total) {
        c.in.erase(0, total);
        co_return status;
      }
    }
    char buf[16384];
    auto [ec, n] = co_await c.sock.async_read_some(asio::buffer(buf), nothrow);
    if (ec) co_return -1;
    c.in.append(buf, n);
  }
}

// Sends and awaits one request on c; fills r.
asio::awaitable<void> exchange(const options& o, http_conn& c, record& r) {
  make_request(o, r.index, c.out);
  r.sent = now_ns();
  boost::system::error_code ec;
  asio::write(c.sock, asio::buffer(c.out), ec);  // small: the kernel takes it at once
  if (ec) {
    r.status = -1;
    co_return;
  }
  r.status = co_await read_response(c);
  r.answered = r.status > 0 ? now_ns() : 0;
}

std::unique_ptr<http_conn> connect_http(asio::io_context& io, std::uint16_t port) {
  auto c = std::make_unique<http_conn>(io);
  c->sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  c->sock.set_option(tcp::no_delay(true));
  return c;
}

// A backstop: closes every socket when a phase overruns (answers stopped coming).
struct watchdog {
  watchdog(asio::io_context& io, clock_type::duration after,
           std::vector<std::unique_ptr<http_conn>>& conns)
      : timer(io) {
    timer.expires_after(after);
    timer.async_wait([&conns](boost::system::error_code ec) {
      if (ec) return;
      std::cerr << "otpd_load: watchdog: answers stopped, closing the connections\n";
      for (auto& c : conns) {
        boost::system::error_code ignored;
        c->sock.close(ignored);
      }
    });
  }
  ~watchdog() { timer.cancel(); }
  asio::steady_timer timer;
};

bool is_ok(int status) { return status >= 200 && status < 300; }

// Waits until the stand-in's count for the account stops growing (or reaches `expected`).
std::uint64_t drain(smsc_control& smsc, const options& o, std::uint64_t expected) {
  std::uint64_t last = smsc.submits(o.smsc_account);
  auto still_since = clock_type::now();
  const auto deadline = clock_type::now() + 15s;
  while (last < expected && clock_type::now() < deadline && clock_type::now() - still_since < 2s) {
    std::this_thread::sleep_for(10ms);
    const std::uint64_t n = smsc.submits(o.smsc_account);
    if (n != last) still_since = clock_type::now();
    last = n;
  }
  return last;
}

// ---------------------------------------------------------------------------------------------
// Closed loop.

int run_closed(const options& o) {
  smsc_control smsc(o.smsc_in, o.smsc_out);
  const bool verifies = sends_sms(o);
  asio::io_context io(1);
  std::vector<std::unique_ptr<http_conn>> conns;
  for (std::size_t i = 0; i < o.connections; ++i) conns.push_back(connect_http(io, port_of(o, i)));

  std::size_t next = 0;
  std::vector<record> records;
  // One phase: requests [first, first + n) or until the deadline.
  auto phase = [&](std::size_t n, clock_type::duration max_time, bool keep) {
    const std::size_t end = next + n;
    const auto deadline = clock_type::now() + max_time;
    watchdog dog(io, max_time + 20s, conns);
    std::size_t active = conns.size();
    for (auto& c : conns) {
      asio::co_spawn(
          io,
          [&, end, deadline, keep, conn = c.get()]() -> asio::awaitable<void> {
            while (next < end && clock_type::now() < deadline) {
              record r;
              r.index = next++;
              co_await exchange(o, *conn, r);
              if (keep) records.push_back(r);
              if (r.status < 0) break;
            }
            if (--active == 0) dog.timer.cancel();
          },
          asio::detached);
    }
    io.run();
    io.restart();
  };

  std::uint64_t base = 0;
  if (o.warmup > 0) {
    phase(
        o.warmup,
        std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.seconds)),
        false);
  }
  if (smsc && verifies) base = drain(smsc, o, std::uint64_t(-1) / 2);

  summary s;
  s.label = o.label;
  s.conns = std::to_string(o.connections);
  records.reserve(o.count);
  s.cpu0 = cpu_snapshot::take(o);
  const auto t0 = clock_type::now();
  phase(o.count,
        std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.seconds)),
        true);
  const auto t1 = clock_type::now();
  s.seconds = std::chrono::duration<double>(t1 - t0).count();
  if (o.until_sent && smsc && verifies) {
    // A system that answers before it sends (a queue) is measured to its last submit_sm, and
    // its CPU with it.
    const auto ok = static_cast<std::uint64_t>(std::count_if(
        records.begin(), records.end(), [](const record& r) { return is_ok(r.status); }));
    const std::uint64_t at_end = drain(smsc, o, base + ok);
    const auto t2 = clock_type::now();
    s.cpu1 = cpu_snapshot::take(o);
    s.smsc_rate = double(at_end - base) / std::chrono::duration<double>(t2 - t0).count();
  } else {
    s.cpu1 = cpu_snapshot::take(o);
    if (smsc && verifies) {
      const std::uint64_t at_end = smsc.submits(o.smsc_account);
      s.smsc_rate = double(at_end - base) / s.seconds;
    }
  }
  for (const auto& r : records) {
    ++s.requests;
    if (is_ok(r.status))
      ++s.ok;
    else
      ++s.other;
    if (r.answered) s.http_lat.push_back(double(r.answered - r.sent));
  }
  if (smsc && verifies)
    s.smsc_total = static_cast<std::int64_t>(drain(smsc, o, base + s.ok) - base);
  s.print();
  return s.ok == s.requests ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Open loop (fixed rate).

int run_open(const options& o) {
  smsc_control smsc(o.smsc_in, o.smsc_out);
  const bool verifies = sends_sms(o);
  arrival_log arrivals;
  if (smsc && verifies) {
    smsc.command({{"cmd", "set"}, {"submit_events", true}, {"submit_times", true}});
    smsc.on_event = std::ref(arrivals);
  }
  asio::io_context io(1);
  std::vector<std::unique_ptr<http_conn>> conns;
  std::vector<http_conn*> idle;
  constexpr std::size_t max_conns = 512;
  for (std::size_t i = 0; i < 16; ++i) {
    conns.push_back(connect_http(io, port_of(o, i)));
    idle.push_back(conns.back().get());
  }
  const std::size_t n = static_cast<std::size_t>(o.rate * o.seconds);
  std::vector<record> records(n);
  std::size_t skipped = 0;
  const auto period = std::chrono::duration<double>(1.0 / o.rate);

  summary s;
  s.label = o.label;
  s.cpu0 = cpu_snapshot::take(o);
  const auto t0 = clock_type::now() + 10ms;
  watchdog dog(
      io,
      std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.seconds)) +
          20s,
      conns);
  std::size_t outstanding = 0;
  bool scheduled_all = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(io);
        for (std::size_t i = 0; i < n; ++i) {
          const auto due =
              t0 + std::chrono::duration_cast<clock_type::duration>(period * double(i));
          timer.expires_at(due);
          co_await timer.async_wait(nothrow);
          if (idle.empty()) {
            if (conns.size() >= max_conns) {
              ++skipped;
              continue;
            }
            conns.push_back(connect_http(io, port_of(o, conns.size())));
            idle.push_back(conns.back().get());
          }
          http_conn* c = idle.back();
          idle.pop_back();
          records[i].index = i;
          ++outstanding;
          asio::co_spawn(
              io,
              [&, c, i, due]() -> asio::awaitable<void> {
                co_await exchange(o, *c, records[i]);
                records[i].late =
                    records[i].sent -
                    std::chrono::duration_cast<std::chrono::nanoseconds>(due.time_since_epoch())
                        .count();
                if (records[i].status > 0) idle.push_back(c);
                if (--outstanding == 0 && scheduled_all) dog.timer.cancel();
              },
              asio::detached);
        }
        scheduled_all = true;
        if (outstanding == 0) dog.timer.cancel();
      },
      asio::detached);
  io.run();
  const auto t1 = clock_type::now();
  s.cpu1 = cpu_snapshot::take(o);
  s.seconds = std::chrono::duration<double>(t1 - t0).count();
  s.conns = "<=" + std::to_string(conns.size());

  std::vector<double> late;
  for (const auto& r : records) {
    if (r.sent == 0) continue;
    ++s.requests;
    if (is_ok(r.status))
      ++s.ok;
    else
      ++s.other;
    if (r.answered) s.http_lat.push_back(double(r.answered - r.sent));
    late.push_back(double(r.late));
  }
  if (smsc && verifies) {
    // Let the last submits arrive, then stop the events and read everything before the ack.
    drain(smsc, o, std::uint64_t(-1) / 2);
    smsc.command({{"cmd", "set"}, {"submit_events", false}, {"submit_times", false}});
    smsc.on_event = {};
    for (const auto& r : records) {
      if (r.sent == 0 || !is_ok(r.status)) continue;
      auto it = arrivals.at.find(destination(o.run, r.index));
      if (it == arrivals.at.end()) {
        ++s.unmatched;
        continue;
      }
      s.submit_lat.push_back(double(it->second - r.sent));
    }
    s.smsc_rate = double(arrivals.events) / s.seconds;
    s.smsc_total = static_cast<std::int64_t>(arrivals.events);
  }
  dump_records(o, records, arrivals);
  std::printf(
      "  schedule: %zu requests due, %zu skipped (no free connection); sent late by ms: "
      "p50 %s p99 %s max %s\n",
      n, skipped, ms(percentile(late, 50)).c_str(), ms(percentile(late, 99)).c_str(),
      ms(percentile(late, 100)).c_str());
  s.print();
  return s.ok == s.requests && skipped == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Direct SMPP (baseline): the stand-in's submit path without otpd's HTTP and service layers.

class direct_driver final : public smpp::session_listener {
 public:
  direct_driver(asio::io_context& io, const options& o)
      : io_(io),
        o_(o),
        session_(io.get_executor(), session_opts(o), *this),
        timer_(io),
        watchdog_(io) {
    n_ = static_cast<std::size_t>(o.rate * o.seconds);
    records_.resize(n_);
  }

  void run() {
    session_.start();
    watchdog_.expires_after(std::chrono::duration_cast<clock_type::duration>(
                                std::chrono::duration<double>(o_.seconds)) +
                            30s);
    watchdog_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      std::cerr << "otpd_load: direct: watchdog fired\n";
      finish();
    });
    io_.run();
  }

  std::vector<record> records_;
  clock_type::time_point t0, t1;
  bool bound = false;

 private:
  static smpp::session_options session_opts(const options& o) {
    smpp::session_options s;
    s.name = "bench-direct";
    s.endpoint.host = "127.0.0.1";
    s.endpoint.port = o.smsc_port;
    s.smpp.type = smpp::bind_type::transmitter;
    s.smpp.system_id = "bench";
    s.smpp.password = otpd::secret("secret");
    s.smpp.window = o.window;
    s.smpp.enquire_link_interval = 0s;
    return s;
  }

  void on_bound(smpp::session&) override {
    if (bound) return;
    bound = true;
    t0 = clock_type::now() + 10ms;
    tick(0);
  }
  void on_down(smpp::session&, boost::system::error_code ec) override {
    if (!bound) {
      std::cerr << "otpd_load: direct: bind failed: " << ec.message() << "\n";
      finish();
    }
  }
  void tick(std::size_t i) {
    if (i >= n_ || stopping_) return;
    const auto due = t0 + std::chrono::duration_cast<clock_type::duration>(
                              std::chrono::duration<double>(double(i) / o_.rate));
    timer_.expires_at(due);
    timer_.async_wait([this, i, due](boost::system::error_code ec) {
      if (ec) return;
      smpp::outbound_message m;
      smpp::submit_sm sm;
      sm.source = {5, 0, "OTPD"};
      sm.dest = {1, 1, destination(o_.run, i)};
      sm.short_message = "Your code is 482917";
      sm.registered_delivery = 0;
      m.parts.push_back(std::move(sm));
      m.id = i + 1;
      record& r = records_[i];
      r.index = i;
      r.sent = now_ns();
      r.late = r.sent -
               std::chrono::duration_cast<std::chrono::nanoseconds>(due.time_since_epoch()).count();
      if (!session_.submit(m))
        r.status = -1;
      else
        ++outstanding_;
      if (i + 1 == n_) all_submitted_ = true;
      tick(i + 1);
      if (all_submitted_ && outstanding_ == 0) finish();
    });
  }
  void on_submit_done(smpp::session&, smpp::submit_result r) override {
    record& rec = records_[r.id - 1];
    rec.answered = now_ns();
    rec.status = r.ec ? 500 : 200;
    --outstanding_;
    if (all_submitted_ && outstanding_ == 0) finish();
  }
  void on_returned(smpp::session&, smpp::outbound_message m, boost::system::error_code) override {
    records_[m.id - 1].status = -1;
    --outstanding_;
    if (all_submitted_ && outstanding_ == 0) finish();
  }
  void on_stopped(smpp::session&) override { io_.stop(); }

  void finish() {
    if (stopping_) return;
    stopping_ = true;
    t1 = clock_type::now();
    timer_.cancel();
    watchdog_.cancel();
    session_.stop();
  }

  asio::io_context& io_;
  const options& o_;
  smpp::session session_;
  asio::steady_timer timer_;
  asio::steady_timer watchdog_;
  std::size_t n_ = 0;
  std::size_t outstanding_ = 0;
  bool all_submitted_ = false;
  bool stopping_ = false;
};

int run_direct(const options& o) {
  smsc_control smsc(o.smsc_in, o.smsc_out);
  arrival_log arrivals;
  if (smsc) {
    smsc.command({{"cmd", "set"}, {"submit_events", true}, {"submit_times", true}});
    smsc.on_event = std::ref(arrivals);
  }
  summary s;
  s.label = o.label;
  s.conns = "1 bind";
  s.cpu0 = cpu_snapshot::take(o);
  asio::io_context io(1);
  direct_driver d(io, o);
  d.run();
  s.cpu1 = cpu_snapshot::take(o);
  s.cpu0.otpd = s.cpu1.otpd = -1;  // otpd plays no part
  s.cpu0.otpd_threads.clear();
  s.seconds = std::chrono::duration<double>(d.t1 - d.t0).count();
  std::vector<double> late;
  for (const auto& r : d.records_) {
    if (r.sent == 0) continue;
    ++s.requests;
    if (is_ok(r.status))
      ++s.ok;
    else
      ++s.other;
    if (r.answered) s.http_lat.push_back(double(r.answered - r.sent));
    late.push_back(double(r.late));
  }
  if (smsc) {
    drain(smsc, o, std::uint64_t(-1) / 2);
    smsc.command({{"cmd", "set"}, {"submit_events", false}, {"submit_times", false}});
    smsc.on_event = {};
    for (const auto& r : d.records_) {
      if (r.sent == 0 || !is_ok(r.status)) continue;
      auto it = arrivals.at.find(destination(o.run, r.index));
      if (it == arrivals.at.end()) {
        ++s.unmatched;
        continue;
      }
      s.submit_lat.push_back(double(it->second - r.sent));
    }
    s.smsc_rate = double(arrivals.events) / s.seconds;
    s.smsc_total = static_cast<std::int64_t>(arrivals.events);
  }
  dump_records(o, d.records_, arrivals);
  std::printf(
      "  direct: 'HTTP latency' below is submit -> submit_sm_resp; sent late by ms: "
      "p50 %s p99 %s\n",
      ms(percentile(late, 50)).c_str(), ms(percentile(late, 99)).c_str());
  s.print();
  return d.bound && s.ok == s.requests ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  try {
    if (o.mode == "closed") return run_closed(o);
    if (o.mode == "open") return run_open(o);
    return run_direct(o);
  } catch (const std::exception& e) {
    std::cerr << "otpd_load: " << e.what() << "\n";
    return 1;
  }
}
