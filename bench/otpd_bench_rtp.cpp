// Concurrent RTP streams on one io_context thread (DESIGN §8: a thousand concurrent streams with
// steady 20 ms pacing). For each stream count N: N otpd::voice::rtp_streams, their starts
// spread evenly over one 20 ms interval (calls start at unrelated times; --aligned starts them
// all at once), each play a prompt of --seconds to a sink on another thread. Measured:
//   - send lateness: the clock read just before each send against the packet's due time
//     (start + n * 20 ms), from the stream's on_sent hook; p50 / p99 / max over all packets;
//   - packets sent (play_result) and received by the sink (recvmmsg on a few sockets, polled every
//     millisecond so that it is not the bottleneck and sends do not wake it), lost = sent -
//     received; UDP receive-buffer drops from /proc/net/snmp over the run;
//   - at the sink: each packet's arrival against its stream's first arrival + (seq - first
//     seq) * 20 ms, p99 (scheduling of both threads included; shows drift if there were any);
//   - CPU of the sender thread (getrusage RUSAGE_THREAD) over the run: % of one core, per
//     stream and per packet; heap allocations per packet on the sender thread (malloc is
//     interposed below and counts calls made on that thread while the streams play).
//
//   otpd_bench_rtp [--streams 100,500,1000,2000] [--seconds 10] [--mode sync|async|both]
//                  [--aligned] [--sinks 4]
//
// Run from a Release build (RelWithDebInfo); numbers from Debug builds mean nothing.
#include <malloc.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <numbers>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "voice/call/rtp_stream.hpp"

// ---- Allocation counting: every malloc-family call made on the sender thread while counting.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
}
namespace {
thread_local bool counting = false;
thread_local std::uint64_t allocations = 0;
}  // namespace
extern "C" {
void* malloc(std::size_t n) {
  if (counting) ++allocations;
  return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
  if (counting) ++allocations;
  return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
  if (counting) ++allocations;
  return __libc_realloc(p, n);
}
void* aligned_alloc(std::size_t align, std::size_t n) {
  if (counting) ++allocations;
  return __libc_memalign(align, n);
}
void* memalign(std::size_t align, std::size_t n) {
  if (counting) ++allocations;
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, std::size_t align, std::size_t n) {
  if (counting) ++allocations;
  void* p = __libc_memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
}

namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;
using otpd::voice::play_params;
using otpd::voice::play_result;
using otpd::voice::rtp_stream;

struct options {
  std::vector<int> streams{100, 500, 1000, 2000};
  int seconds = 10;
  std::vector<bool> async_modes{false};
  bool aligned = false;
  int sinks = 4;
};

// Latency histogram in 1 µs bins up to 1 s; beyond that only the max is kept.
class histogram {
 public:
  histogram() : bins_(1'000'000, 0) {}
  void add(std::chrono::nanoseconds d) {
    const auto us = std::max<std::int64_t>(0, d.count() / 1000);
    ++bins_[static_cast<std::size_t>(std::min<std::int64_t>(us, bins_.size() - 1))];
    ++count_;
    max_ = std::max(max_, d);
  }
  // Nearest-rank percentile, in µs.
  double percentile(double q) const {
    if (count_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bins_.size(); ++i) {
      seen += bins_[i];
      if (seen >= rank) return static_cast<double>(i);
    }
    return static_cast<double>(bins_.size());
  }
  double max_us() const { return static_cast<double>(max_.count()) / 1000.0; }
  std::uint64_t count() const { return count_; }

 private:
  std::vector<std::uint64_t> bins_;
  std::uint64_t count_ = 0;
  std::chrono::nanoseconds max_{0};
};

std::uint64_t udp_rcvbuf_errors() {
  std::ifstream f("/proc/net/snmp");
  std::string header, values;
  while (std::getline(f, header) && std::getline(f, values)) {
    if (header.rfind("Udp:", 0) != 0) continue;
    std::istringstream h(header), v(values);
    std::string name, value;
    while (h >> name && v >> value) {
      if (name == "RcvbufErrors") return std::stoull(value);
    }
  }
  return 0;
}

// Time this thread has spent runnable but waiting for a CPU (the kernel's schedstat): what
// other processes on a shared machine add to the lateness.
std::chrono::nanoseconds run_queue_wait() {
  std::ifstream f("/proc/thread-self/schedstat");
  std::uint64_t on_cpu = 0, waiting = 0;
  f >> on_cpu >> waiting;
  return std::chrono::nanoseconds(waiting);
}

double cpu_seconds(const rusage& u) {
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The sink: a few UDP sockets read with recvmmsg by one thread. Packets are told apart by
// their source port (one per stream).
class sink {
 public:
  explicit sink(int sockets) {
    for (int i = 0; i < sockets; ++i) {
      const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
      const int size = 4 << 20;
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::abort();
      socklen_t len = sizeof a;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
      ports_.push_back(ntohs(a.sin_port));
      fds_.push_back(fd);
    }
    stream_of_port_.assign(65536, -1);
  }
  ~sink() {
    for (int fd : fds_) ::close(fd);
  }
  const std::vector<std::uint16_t>& ports() const { return ports_; }
  void add_stream(std::uint16_t source_port, int index) {
    stream_of_port_[source_port] = index;
    if (static_cast<std::size_t>(index) >= first_.size()) first_.resize(index + 1);
  }
  void start() {
    thread_ = std::thread([this] { run(); });
  }
  // Stops once nothing has arrived for 200 ms after the senders are done.
  void finish() {
    done_.store(true);
    thread_.join();
  }
  std::uint64_t received() const { return received_; }
  const histogram& arrival() const { return arrival_; }

 private:
  struct first_arrival {
    bool seen = false;
    std::uint16_t seq = 0;
    steady::time_point at;
    std::uint32_t wraps = 0;
    std::uint16_t last_seq = 0;
  };

  void run() {
    constexpr int batch = 64;
    std::array<std::array<std::uint8_t, 256>, batch> bufs{};
    std::array<sockaddr_in, batch> from{};
    std::array<iovec, batch> iov{};
    std::array<mmsghdr, batch> msgs{};
    // Polled every millisecond rather than woken by epoll: a blocked reader would make every
    // send wake this thread, a cost that lands in the sender's sendto and that a real network
    // peer does not impose. Arrival times are therefore good to about 1 ms.
    auto quiet_since = steady::now();
    for (;;) {
      bool any = false;
      for (int fd : fds_) {
        for (;;) {
          for (int i = 0; i < batch; ++i) {
            iov[i] = {bufs[i].data(), bufs[i].size()};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
          }
          const int got = ::recvmmsg(fd, msgs.data(), batch, MSG_DONTWAIT, nullptr);
          if (got <= 0) break;
          any = true;
          const auto now = steady::now();
          received_ += static_cast<std::uint64_t>(got);
          for (int i = 0; i < got; ++i) account(from[i], bufs[i].data(), msgs[i].msg_len, now);
        }
      }
      const auto now = steady::now();
      if (any) quiet_since = now;
      if (done_.load() && now - quiet_since > 200ms) return;
      std::this_thread::sleep_for(1ms);
    }
  }

  void account(const sockaddr_in& from, const std::uint8_t* p, unsigned len,
               steady::time_point now) {
    if (len < 12) return;
    const int s = stream_of_port_[ntohs(from.sin_port)];
    if (s < 0) return;
    const auto seq = static_cast<std::uint16_t>(p[2] << 8 | p[3]);
    first_arrival& f = first_[static_cast<std::size_t>(s)];
    if (!f.seen) {
      f = {true, seq, now, 0, seq};
      arrival_.add(0ns);
      return;
    }
    if (seq < f.last_seq && f.last_seq - seq > 0x8000) ++f.wraps;
    f.last_seq = seq;
    const std::int64_t n = static_cast<std::int64_t>(f.wraps) * 65536 + seq - f.seq;
    arrival_.add(now - (f.at + 20ms * n));
  }

  std::vector<int> fds_;
  std::vector<std::uint16_t> ports_;
  std::vector<int> stream_of_port_;
  std::vector<first_arrival> first_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  std::uint64_t received_ = 0;
  histogram arrival_;
};

struct round_result {
  int streams = 0;
  bool async_send = false;
  double seconds = 0;
  std::uint64_t sent = 0, received = 0, late = 0, rcvbuf_errors = 0, failed = 0;
  double p50 = 0, p99 = 0, max = 0;
  double arrival_p99 = 0;
  double cpu_percent = 0;    // of one core, sender thread
  double cpu_us_packet = 0;  // sender thread CPU per packet
  double allocs_packet = 0;  // heap allocations per packet, sender thread
  double rq_wait_ms_s = 0;   // sender thread's run-queue wait, ms per second of run
};

std::shared_ptr<const std::vector<std::int16_t>> make_prompt(int seconds) {
  auto v = std::make_shared<std::vector<std::int16_t>>(static_cast<std::size_t>(seconds) * 8000);
  for (std::size_t i = 0; i < v->size(); ++i) {
    const double t = static_cast<double>(i) / 8000.0;
    (*v)[i] = static_cast<std::int16_t>(12000 * std::sin(2 * std::numbers::pi * 440 * t));
  }
  return v;
}

round_result run_round(const options& o, int n, bool async_send,
                       const std::shared_ptr<const std::vector<std::int16_t>>& prompt) {
  asio::io_context io(1);
  sink k(o.sinks);
  std::vector<std::unique_ptr<rtp_stream>> streams(static_cast<std::size_t>(n));
  const udp::endpoint any(asio::ip::address_v4::loopback(), 0);
  for (int i = 0; i < n; ++i) {
    if (auto ec = rtp_stream::open(io.get_executor(), any, streams[static_cast<std::size_t>(i)])) {
      std::fprintf(stderr, "open stream %d: %s\n", i, ec.message().c_str());
      std::exit(1);
    }
    k.add_stream(streams[static_cast<std::size_t>(i)]->local_port(), i);
  }
  k.start();

  histogram lateness;
  round_result r;
  r.streams = n;
  r.async_send = async_send;
  auto on_sent = [&lateness](std::uint64_t, steady::time_point due, steady::time_point sent) {
    lateness.add(sent - due);
  };
  const auto t0 = steady::now() + 50ms;  // all streams opened and spawned before the first
  std::vector<std::unique_ptr<asio::steady_timer>> timers;
  for (int i = 0; i < n; ++i) {
    auto& timer = timers.emplace_back(std::make_unique<asio::steady_timer>(io));
    // Starts spread evenly over one packet interval, or all at once with --aligned.
    timer->expires_at(o.aligned ? t0 : t0 + 20ms * i / n);
    play_params p;
    p.remote = udp::endpoint(asio::ip::address_v4::loopback(),
                             k.ports()[static_cast<std::size_t>(i % o.sinks)]);
    p.codec = otpd::media::pcmu();
    p.telephone_event = 101;
    p.audio = prompt;
    p.on_sent = on_sent;
    p.async_send = async_send;
    rtp_stream* s = streams[static_cast<std::size_t>(i)].get();
    asio::co_spawn(
        io,
        [](asio::steady_timer& t, rtp_stream& st, play_params pp,
           round_result& rr) -> asio::awaitable<void> {
          co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
          play_result res = co_await st.play(std::move(pp));
          rr.sent += res.packets_sent;
          rr.late += res.packets_late;
          if (res.ec) ++rr.failed;
        }(*timer, *s, std::move(p), r),
        asio::detached);
  }

  const std::uint64_t drops_before = udp_rcvbuf_errors();
  rusage before{}, after{};
  ::getrusage(RUSAGE_THREAD, &before);
  const auto rq0 = run_queue_wait();
  const auto wall0 = steady::now();
  allocations = 0;
  counting = true;
  io.run();
  counting = false;
  const auto wall1 = steady::now();
  ::getrusage(RUSAGE_THREAD, &after);
  const auto rq1 = run_queue_wait();
  k.finish();

  r.seconds = std::chrono::duration<double>(wall1 - wall0).count();
  r.received = k.received();
  r.rq_wait_ms_s = std::chrono::duration<double, std::milli>(rq1 - rq0).count() / r.seconds;
  r.rcvbuf_errors = udp_rcvbuf_errors() - drops_before;
  r.p50 = lateness.percentile(0.50);
  r.p99 = lateness.percentile(0.99);
  r.max = lateness.max_us();
  r.arrival_p99 = k.arrival().percentile(0.99);
  const double cpu = cpu_seconds(after) - cpu_seconds(before);
  r.cpu_percent = 100.0 * cpu / r.seconds;
  r.cpu_us_packet = r.sent ? 1e6 * cpu / static_cast<double>(r.sent) : 0;
  // Per packet; the per-play allocations (coroutine frames, the sender) are included.
  r.allocs_packet = r.sent ? static_cast<double>(allocations) / static_cast<double>(r.sent) : 0;
  return r;
}

std::vector<int> parse_list(const char* s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoi(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--streams" && i + 1 < argc) {
      o.streams = parse_list(argv[++i]);
    } else if (a == "--seconds" && i + 1 < argc) {
      o.seconds = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--sinks" && i + 1 < argc) {
      o.sinks = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--mode" && i + 1 < argc) {
      const std::string m = argv[++i];
      o.async_modes = m == "async"  ? std::vector<bool>{true}
                      : m == "both" ? std::vector<bool>{false, true}
                                    : std::vector<bool>{false};
    } else if (a == "--aligned") {
      o.aligned = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--streams 100,500,1000,2000] [--seconds 10] "
                   "[--mode sync|async|both] [--aligned] [--sinks 4]\n",
                   argv[0]);
      return 2;
    }
  }
  // One socket per stream plus the sink's: raise the descriptor limit to the hard limit.
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &nofile);

  const auto prompt = make_prompt(o.seconds);
  std::printf(
      "%d s prompt per stream (PCMU, %d packets), starts %s, one io_context thread, "
      "sink: %d sockets + recvmmsg on another thread, %u CPUs\n",
      o.seconds, o.seconds * 50, o.aligned ? "aligned" : "spread over 20 ms", o.sinks,
      std::thread::hardware_concurrency());
  std::printf("%7s %5s %9s %9s %9s %9s %9s %7s %6s %9s %8s %8s %8s %8s %7s\n", "streams", "send",
              "sent", "received", "lost", "late>20ms", "p50 us", "p99 us", "max ms", "arr p99",
              "CPU %", "CPU/str", "us/pkt", "alloc/pkt", "rq ms/s");
  int sustained = 0;
  for (bool async_send : o.async_modes) {
    for (int n : o.streams) {
      const round_result r = run_round(o, n, async_send, prompt);
      std::printf(
          "%7d %5s %9llu %9llu %9lld %9llu %9.0f %7.0f %6.1f %7.1fms %7.1f%% %7.3f%% %8.2f "
          "%8.2f %7.1f\n",
          r.streams, r.async_send ? "async" : "sync", static_cast<unsigned long long>(r.sent),
          static_cast<unsigned long long>(r.received),
          static_cast<long long>(r.sent) - static_cast<long long>(r.received),
          static_cast<unsigned long long>(r.late), r.p50, r.p99, r.max / 1000.0,
          r.arrival_p99 / 1000.0, r.cpu_percent, r.cpu_percent / r.streams, r.cpu_us_packet,
          r.allocs_packet, r.rq_wait_ms_s);
      if (r.failed)
        std::printf("        %llu plays failed\n", static_cast<unsigned long long>(r.failed));
      if (r.rcvbuf_errors)
        std::printf("        sink receive-buffer drops: %llu\n",
                    static_cast<unsigned long long>(r.rcvbuf_errors));
      if (!async_send && r.p99 < 2000 && r.sent == static_cast<std::uint64_t>(n) * o.seconds * 50)
        sustained = std::max(sustained, n);
      std::fflush(stdout);
    }
  }
  std::printf("streams sustained with p99 send lateness < 2 ms (sync send): %d\n", sustained);
  return 0;
}
