#include "tests/support/sip_peers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#ifndef OTPD_SOURCE_DIR
#error "OTPD_SOURCE_DIR must name the source tree (set by tests/support/CMakeLists.txt)"
#endif

namespace otpd::test {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Start attempts when the picked port turns out to be taken by the time the peer binds it.
constexpr int max_start_attempts = 5;

std::system_error errno_error(const std::string& what) {
  return std::system_error(errno, std::generic_category(), what);
}

class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

bool can_bind(int type, std::uint16_t port) {
  fd_guard s(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (s.get() < 0) throw errno_error("socket");
  auto sa = loopback(port);
  return ::bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
}

int poll_timeout_ms(output_log::clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - output_log::clock::now());
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, INT_MAX));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// One SIP OPTIONS probe per 200 ms (RFC 3261 §17.1.2.2 Timer E starts at 500 ms; shorter here
// to start tests sooner) until any response arrives from 127.0.0.1:port or the deadline passes
// or `alive` says the peer has exited.
bool options_probe(std::uint16_t port, output_log::clock::time_point deadline,
                   const std::function<bool()>& alive) {
  fd_guard s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) throw errno_error("socket");
  auto local = loopback(0);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    throw errno_error("bind");
  }
  socklen_t len = sizeof local;
  ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&local), &len);
  const std::uint16_t local_port = ntohs(local.sin_port);
  auto peer = loopback(port);
  for (int n = 1; output_log::clock::now() < deadline; ++n) {
    if (!alive()) return false;
    const std::string via = "127.0.0.1:" + std::to_string(local_port);
    const std::string target = "sip:127.0.0.1:" + std::to_string(port);
    const std::string request = "OPTIONS " + target + " SIP/2.0\r\n" + "Via: SIP/2.0/UDP " + via +
                                ";branch=z9hG4bK-otpd-probe-" + std::to_string(n) + ";rport\r\n" +
                                "From: <sip:probe@" + via + ">;tag=otpd-probe\r\n" + "To: <" +
                                target + ">\r\n" + "Call-ID: otpd-probe-" +
                                std::to_string(local_port) + "\r\n" + "CSeq: " + std::to_string(n) +
                                " OPTIONS\r\n" + "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    ::sendto(s.get(), request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&peer),
             sizeof peer);
    const auto until = std::min(deadline, output_log::clock::now() + 200ms);
    pollfd p{s.get(), POLLIN, 0};
    while (::poll(&p, 1, poll_timeout_ms(until)) > 0) {
      char buf[4096];
      ssize_t got = ::recv(s.get(), buf, sizeof buf, 0);
      if (got > 0 && std::string_view(buf, static_cast<std::size_t>(got)).starts_with("SIP/2.0 ")) {
        return true;
      }
      // ECONNREFUSED (ICMP port unreachable): not bound yet; wait out the interval.
      if (got < 0 && errno != ECONNREFUSED && errno != EINTR) throw errno_error("recv");
    }
  }
  return false;
}

}  // namespace

std::uint16_t pick_free_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    fd_guard s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (s.get() < 0) throw errno_error("socket");
    auto sa = loopback(0);
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      throw errno_error("bind");
    socklen_t len = sizeof sa;
    if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
      throw errno_error("getsockname");
    }
    const std::uint16_t port = ntohs(sa.sin_port);
    if (port != 0 && can_bind(SOCK_DGRAM, port)) return port;
  }
  throw std::runtime_error("pick_free_port: no port free for both TCP and UDP");
}

std::string sip_peers_dir() { return std::string(OTPD_SOURCE_DIR) + "/tests/peers/sip"; }

// temp_dir

temp_dir::temp_dir(std::string_view prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" +
                        std::string(prefix) + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw errno_error("mkdtemp " + pattern);
  path_ = std::move(pattern);
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

// output_log

void output_log::append(std::string_view text) {
  std::lock_guard lock(mutex_);
  while (true) {
    auto cr = text.find('\r');
    std::string_view part = text.substr(0, cr);
    if (!part.empty()) lines_.emplace_back(part);
    if (cr == std::string_view::npos) break;
    text.remove_prefix(cr + 1);
  }
  changed_.notify_all();
}

void output_log::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  changed_.notify_all();
}

template <class Match>
std::ptrdiff_t output_log::wait_for_match(const Match& match, clock::time_point deadline,
                                          std::size_t from) const {
  std::unique_lock lock(mutex_);
  std::size_t next = from;
  while (true) {
    for (; next < lines_.size(); ++next) {
      if (match(lines_[next])) return static_cast<std::ptrdiff_t>(next);
    }
    if (closed_) return -1;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && next == lines_.size()) {
      return -1;
    }
  }
}

std::ptrdiff_t output_log::wait_for(std::string_view substring, clock::time_point deadline,
                                    std::size_t from) const {
  return wait_for_match(
      [substring](const std::string& line) { return line.find(substring) != std::string::npos; },
      deadline, from);
}

std::ptrdiff_t output_log::wait_for(const std::regex& re, clock::time_point deadline,
                                    std::size_t from) const {
  return wait_for_match([&re](const std::string& line) { return std::regex_search(line, re); },
                        deadline, from);
}

std::size_t output_log::size() const {
  std::lock_guard lock(mutex_);
  return lines_.size();
}

std::vector<std::string> output_log::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::string output_log::tail(std::size_t n) const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (std::size_t i = lines_.size() > n ? lines_.size() - n : 0; i < lines_.size(); ++i) {
    out += "  | " + lines_[i] + "\n";
  }
  return out;
}

// baresip_process

baresip_process::baresip_process() : baresip_process(options{}) {}

baresip_process::baresip_process(options opts) : opts_(std::move(opts)) {
  dir_ = std::make_unique<temp_dir>("otpd-baresip");
  config_dir_ = dir_->path() + "/config";
  fs::create_directory(config_dir_);
  // The recordings live at the top of the temporary directory; the config in a subfolder, so
  // that recordings() sees only WAV files.
  inotify_fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_fd_ < 0) throw errno_error("inotify_init1");
  if (::inotify_add_watch(inotify_fd_, dir_->path().c_str(), IN_CLOSE_WRITE) < 0) {
    throw errno_error("inotify_add_watch " + dir_->path());
  }

  std::string failures;
  for (int attempt = 1; attempt <= max_start_attempts; ++attempt) {
    port_ = pick_free_port();
    write_config(port_);
    log_ = std::make_unique<output_log>();
    child_process::options copts;
    copts.merge_stderr = true;
    copts.working_directory = dir_->path();
    copts.on_end = [log = log_.get()] { log->close(); };
    child_ = std::make_unique<child_process>(
        std::vector<std::string>{"baresip", "-f", config_dir_},
        [this](std::string_view line) { on_line(line); }, std::move(copts));
    const auto deadline = clock::now() + opts_.start_timeout;
    if (log_->wait_for("baresip is ready.", deadline) >= 0) {
      if (opts_.mode == answer_mode::hangup_after) {
        hangup_thread_ = std::thread([this] { hangup_loop(); });
      }
      return;
    }
    const int status = child_->stop(2s);
    const bool port_taken = log_->wait_for("Address already in use", clock::now()) >= 0;
    failures += "attempt " + std::to_string(attempt) + " on port " + std::to_string(port_) + ": " +
                describe_wait_status(status) + "\n" + log_->tail();
    child_.reset();
    if (!port_taken) break;
  }
  ::close(inotify_fd_);
  throw std::runtime_error("baresip_process: baresip did not become ready:\n" + failures);
}

baresip_process::~baresip_process() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (hangup_thread_.joinable()) hangup_thread_.join();
  // Stopped (its reader thread, which calls on_line, joined) before the pointer is cleared.
  if (child_) child_->stop();
  child_.reset();
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

void baresip_process::write_config(std::uint16_t port) const {
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  // Comments must not follow values on the same line in the accounts file; in config a '#'
  // starts a comment anywhere.
  std::string config =
      "# Generated by otpd's tests/support/sip_peers.cpp (baresip_process).\n"
      "poll_method\tepoll\n"
      "sip_listen\t" +
      listen +
      "\n"
      // Media on loopback too (SDP c=127.0.0.1), not the host's first interface: otpd sends RTP
      // only to its trunk's next hop, and tests use nothing but 127.0.0.0/8.
      "net_interface\t127.0.0.1\n"
      "call_local_timeout\t120\n"
      "call_max_calls\t4\n"
      // No sound device: aubridge's "nil" device is a source of silence and a sink.
      "audio_player\taubridge,nil\n"
      "audio_source\taubridge,nil\n"
      "audio_alert\taubridge,nil\n"
      "audio_level\tno\n"
      "rtcp_mux\tno\n"
      "jitter_buffer_delay\t5-10\n"
      "rtp_stats\tno\n"
      "module_path\t/usr/lib/baresip/modules\n"
      "module\tstdio.so\n"  // commands on stdin (/hangup, /accept)
      "module\tg711.so\n"
      "module\tsndfile.so\n"
      "module\taubridge.so\n"
      "module_tmp\taccount.so\n"
      "module_app\tmenu.so\n"
      "snd_path\t" +
      dir_->path() + "\n";
  write_file(config_dir_ + "/config", config);
  const char* answermode =
      opts_.mode == answer_mode::ring || opts_.mode == answer_mode::busy ? "manual" : "auto";
  // regint=0: no registrar, the account only receives.
  write_file(config_dir_ + "/accounts", "<sip:" + opts_.user + "@" + listen + ">;answermode=" +
                                            answermode + ";audio_codecs=PCMU,PCMA;regint=0\n");
}

void baresip_process::on_line(std::string_view line) {
  // Runs on the reader thread, which starts before child_ is set: child_ is used only for lines
  // that come after a call arrives, long after the constructor has set it.
  if (opts_.echo_output) std::cerr << "baresip: " << line << '\n';
  log_->append(line);
  const auto now = clock::now();
  if (line.find("Incoming call from") != std::string_view::npos &&
      opts_.mode == answer_mode::busy) {
    // Called on the reader thread; write_stdin has its own lock and never waits for output.
    child_->write_stdin("/hangup\n");
  }
  if (line.find("Call established") != std::string_view::npos) {
    std::lock_guard lock(mutex_);
    established_.push_back(now);
    changed_.notify_all();
  }
}

void baresip_process::hangup_loop() {
  std::unique_lock lock(mutex_);
  std::size_t handled = 0;
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || established_.size() > handled; });
    if (stopping_) return;
    const auto when = established_[handled++] + opts_.hangup_after;
    if (changed_.wait_until(lock, when, [&] { return stopping_; })) return;
    lock.unlock();
    child_->write_stdin("/hangup\n");
    lock.lock();
  }
}

std::string baresip_process::host_port() const { return "127.0.0.1:" + std::to_string(port_); }

std::string baresip_process::uri() const { return "sip:" + opts_.user + "@" + host_port(); }

std::vector<std::string> baresip_process::recordings() const {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir_->path())) {
    const std::string path = entry.path().string();
    if (entry.is_regular_file() && ends_with(path, "-dec.wav")) files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

void baresip_process::drain_inotify() {
  alignas(inotify_event) char buf[4096];
  while (true) {
    ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
    if (n <= 0) return;  // EAGAIN: nothing more for now
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      if (ev->len > 0) {
        std::string name(ev->name);
        if (ends_with(name, "-dec.wav")) {
          std::lock_guard lock(mutex_);
          closed_recordings_.push_back(dir_->path() + "/" + name);
        }
      }
      p += sizeof(inotify_event) + ev->len;
    }
  }
}

std::vector<std::string> baresip_process::wait_for_recordings(std::size_t count,
                                                              std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (true) {
    drain_inotify();
    {
      std::lock_guard lock(mutex_);
      if (closed_recordings_.size() >= count || clock::now() >= deadline) {
        return closed_recordings_;
      }
    }
    pollfd p{inotify_fd_, POLLIN, 0};
    ::poll(&p, 1, poll_timeout_ms(deadline));
  }
}

std::ptrdiff_t baresip_process::wait_for_output(std::string_view substring,
                                                std::chrono::milliseconds timeout,
                                                std::size_t from) const {
  return log_->wait_for(substring, clock::now() + timeout, from);
}

std::ptrdiff_t baresip_process::wait_for_output(const std::regex& re,
                                                std::chrono::milliseconds timeout,
                                                std::size_t from) const {
  return log_->wait_for(re, clock::now() + timeout, from);
}

bool baresip_process::command(std::string_view cmd) {
  return child_->write_stdin("/" + std::string(cmd) + "\n");
}

bool baresip_process::send_keys(std::string_view keys) {
  return child_->write_stdin(std::string(keys));
}

int baresip_process::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (hangup_thread_.joinable()) hangup_thread_.join();
  return child_->stop();
}

// kamailio_process

std::string kamailio_process::config_template_path() { return sip_peers_dir() + "/kamailio.cfg"; }

kamailio_process::kamailio_process(options opts) : opts_(std::move(opts)) {
  if (opts_.forward.empty()) throw std::invalid_argument("kamailio_process: no forward target");
  dir_ = std::make_unique<temp_dir>("otpd-kamailio");
  const std::string run_dir = dir_->path() + "/run";
  fs::create_directory(run_dir);
  const std::string cfg_path = dir_->path() + "/kamailio.cfg";
  const std::string templ = read_file(config_template_path());

  std::string failures;
  for (int attempt = 1; attempt <= max_start_attempts; ++attempt) {
    port_ = pick_free_port();
    std::string cfg = templ;
    replace_all(cfg, "@PORT@", std::to_string(port_));
    replace_all(cfg, "@FORWARD@", opts_.forward);
    replace_all(cfg, "@REJECT_CODE@", std::to_string(opts_.reject_code));
    replace_all(cfg, "@REJECT_REASON@", opts_.reject_reason);
    replace_all(cfg, "@REALM@", opts_.realm);
    replace_all(cfg, "@USER@", opts_.username);
    replace_all(cfg, "@PASSWORD@", opts_.password);
    write_file(cfg_path, cfg);

    log_ = std::make_unique<output_log>();
    child_process::options copts;
    copts.merge_stderr = true;
    copts.working_directory = dir_->path();
    copts.on_end = [log = log_.get()] { log->close(); };
    const bool echo = opts_.echo_output;
    // -DD: no daemon, the main process stays our child; -E: log to stderr; small memory pools.
    child_ = std::make_unique<child_process>(
        std::vector<std::string>{"kamailio", "-f", cfg_path, "-DD", "-E", "-m", "16", "-M", "4",
                                 "-Y", run_dir, "-P", run_dir + "/kamailio.pid", "-w",
                                 dir_->path()},
        [log = log_.get(), echo](std::string_view line) {
          if (echo) std::cerr << "kamailio: " << line << '\n';
          log->append(line);
        },
        std::move(copts));
    const auto deadline = output_log::clock::now() + opts_.start_timeout;
    if (options_probe(port_, deadline, [this] { return child_->running(); })) return;
    const int status = child_->stop(2s);
    const bool port_taken = log_->wait_for("Address already in use", output_log::clock::now()) >= 0;
    failures += "attempt " + std::to_string(attempt) + " on port " + std::to_string(port_) + ": " +
                describe_wait_status(status) + "\n" + log_->tail();
    child_.reset();
    if (!port_taken) break;
  }
  throw std::runtime_error("kamailio_process: kamailio did not answer OPTIONS:\n" + failures);
}

kamailio_process::~kamailio_process() = default;  // child_process stops kamailio

std::string kamailio_process::host_port() const { return "127.0.0.1:" + std::to_string(port_); }

std::ptrdiff_t kamailio_process::wait_for_output(std::string_view substring,
                                                 std::chrono::milliseconds timeout,
                                                 std::size_t from) const {
  return log_->wait_for(substring, output_log::clock::now() + timeout, from);
}

int kamailio_process::stop() { return child_->stop(); }

}  // namespace otpd::test
