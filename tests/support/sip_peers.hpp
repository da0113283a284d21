// Real SIP peers for integration tests, started as child processes on 127.0.0.1 with ports chosen
// at run time, waited for with deadlines and stopped by PID (see child_process.hpp):
//
// baresip_process: baresip 1.0.0 (Debian baresip-core) as the called phone, one account (user
// "callee" by default) on UDP and TCP 127.0.0.1:<port>, codecs PCMU and PCMA, no sound device
// (aubridge "nil" as source and player), and module sndfile writing what it decodes (what the
// caller sent, after the jitter buffer) to <recordings_dir>/dump-<date-time>-dec.wav (and what it
// sent to ...-enc.wav). Files are named by the second: keep recorded calls >= 1 s apart. The
// port is picked free and baresip restarted on another one if the bind fails (it exits 98);
// baresip 1.0.0 cannot listen on port 0 (UDP and TCP would get different ports) and also
// listens for TLS on TCP port+1. Readiness: its "baresip is ready." line.
// Answer modes, as baresip 1.0.0 allows them:
//  - auto_answer (default): 180 Ringing then 200 at once (account ;answermode=auto).
//  - ring: 180 Ringing and nothing more (;answermode=manual) until the test calls accept() (200)
//    or hangup() (486 "Rejected"), or the caller cancels.
//  - busy: 180 Ringing, then 486 "Rejected" as soon as the call shows up: manual answer plus the
//    stdio UI command /hangup, sent by the harness on the "Incoming call" line. baresip 1.0.0
//    has no way to reject without the 180 first: call_max_calls 0 means "no limit", and menu's
//    /hangup takes no status code.
//  - hangup_after: answers (auto), then sends BYE (/hangup) `hangup_after` after "Call
//    established".
//  - reject with 603: not possible with baresip 1.0.0 (it only ever rejects with 486, 488 or
//    404); kamailio_process's reject_code does it (the proxy answers 603 once authenticated).
// Commands (/hangup, /accept, ...) go to the stdio UI module on baresip's stdin (command()).
// baresip hangs up by itself some seconds after answering when no RTP arrives.
//
// kamailio_process: kamailio 5.6 from tests/peers/sip/kamailio.cfg (a template), foreground
// (-DD -E), small memory (-m 16 -M 4), runtime dir, pid file and working dir in a temporary
// directory; UDP and TCP on 127.0.0.1:<picked port> (restarted on another on a bind failure).
// Readiness: it answers an OPTIONS probe. Behaviour:
//  - INVITE without Proxy-Authorization: 407 with Proxy-Authenticate (realm, nonce,
//    qop="auth", MD5), nonces valid 60 s; a stale nonce is challenged again.
//  - INVITE with credentials for username()/password(): Record-Route (;lr=on), relayed to the
//    forward destination (the callee, e.g. a baresip_process); ACK and BYE follow the
//    Record-Route (loose routing). With reject_code set (e.g. 603) it answers that instead.
//  - wrong password or unknown username: 403 Forbidden.
//  - other methods outside a dialog: 405; OPTIONS to the proxy: 200.
// Its log (stderr) is captured; the script logs "otpd-test: ..." lines for each decision.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/child_process.hpp"

namespace otpd::test {

// A port on 127.0.0.1 that was free for both UDP and TCP a moment ago (bound to port 0, then
// closed): the caller must retry with another when its bind fails. Throws std::system_error.
std::uint16_t pick_free_port();

// tests/peers/sip in the source tree (SIPp scenarios, the kamailio.cfg template).
std::string sip_peers_dir();

// A directory under $TMPDIR (or /tmp) removed with its contents by the destructor.
class temp_dir {
 public:
  explicit temp_dir(std::string_view prefix = "otpd-test");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

// The lines a child writes (stdout, and stderr where merged), kept so that tests can wait for
// one with a deadline. '\r' also ends a line (baresip redraws its status line with it).
class output_log {
 public:
  using clock = std::chrono::steady_clock;

  void append(std::string_view text);
  void close();  // the child's output ended: waits return false at once from then on

  // The index of the first line from `from` on that contains `substring` (or matches `re`,
  // std::regex_search), or -1 when the deadline passes or the output has ended without one.
  std::ptrdiff_t wait_for(std::string_view substring, clock::time_point deadline,
                          std::size_t from = 0) const;
  std::ptrdiff_t wait_for(const std::regex& re, clock::time_point deadline,
                          std::size_t from = 0) const;
  std::size_t size() const;
  std::vector<std::string> lines() const;
  // The last `n` lines, one per line, for error messages.
  std::string tail(std::size_t n = 40) const;

 private:
  template <class Match>
  std::ptrdiff_t wait_for_match(const Match& match, clock::time_point deadline,
                                std::size_t from) const;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<std::string> lines_;
  bool closed_ = false;
};

class baresip_process {
 public:
  using clock = std::chrono::steady_clock;

  enum class answer_mode { auto_answer, ring, busy, hangup_after };

  struct options {
    std::string user = "callee";
    answer_mode mode = answer_mode::auto_answer;
    // For answer_mode::hangup_after: from "Call established" to the BYE.
    std::chrono::milliseconds hangup_after{std::chrono::seconds(2)};
    // Deadline for "baresip is ready." at each start attempt.
    std::chrono::milliseconds start_timeout{std::chrono::seconds(20)};
    // Echo baresip's output to stderr (the test log) as it comes.
    bool echo_output = false;
  };

  baresip_process();
  explicit baresip_process(options opts);
  ~baresip_process();

  baresip_process(const baresip_process&) = delete;
  baresip_process& operator=(const baresip_process&) = delete;

  std::uint16_t sip_port() const noexcept { return port_; }
  const std::string& user() const noexcept { return opts_.user; }
  // "127.0.0.1:<port>" (for a proxy's forward destination) and "sip:<user>@127.0.0.1:<port>".
  std::string host_port() const;
  std::string uri() const;
  pid_t pid() const noexcept { return child_->pid(); }

  // Where sndfile writes; recordings() lists the decode-side files (*-dec.wav, what the caller
  // sent) present now, sorted by name (that is, by time).
  const std::string& recordings_dir() const noexcept { return dir_->path(); }
  std::vector<std::string> recordings() const;
  // Waits until baresip has closed `count` decode-side recordings since start (the call's
  // audio stream ended: inotify IN_CLOSE_WRITE, so the WAV header is final). Returns their
  // paths in the order they were closed; fewer when the deadline passes first.
  std::vector<std::string> wait_for_recordings(std::size_t count,
                                               std::chrono::milliseconds timeout);

  // baresip's output (stdout and stderr). wait_for_output returns the index of the first line
  // from `from` on that contains `substring` / matches `re`, or -1 after the timeout. Lines of
  // interest: "Incoming call from", "Call established", "session closed", "terminated",
  // "call: rejecting incoming call".
  const output_log& output() const noexcept { return *log_; }
  std::ptrdiff_t wait_for_output(std::string_view substring, std::chrono::milliseconds timeout,
                                 std::size_t from = 0) const;
  std::ptrdiff_t wait_for_output(const std::regex& re, std::chrono::milliseconds timeout,
                                 std::size_t from = 0) const;

  // A command for the stdio UI, without the leading '/' ("hangup", "accept", "listcalls").
  // False when baresip no longer reads its stdin.
  bool command(std::string_view cmd);
  // Raw key presses for the stdio UI: during a call, digits, '*' and '#' are sent as RFC 4733
  // telephone-events.
  bool send_keys(std::string_view keys);
  bool accept() { return command("accept"); }
  bool hangup() { return command("hangup"); }

  // SIGTERM, then SIGKILL after a bounded wait; returns the wait status. Also the destructor.
  int stop();

 private:
  void write_config(std::uint16_t port) const;
  void on_line(std::string_view line);
  void hangup_loop();
  void drain_inotify();

  options opts_;
  std::unique_ptr<temp_dir> dir_;  // config, accounts and the recordings
  std::string config_dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<output_log> log_;  // one per start attempt
  std::unique_ptr<child_process> child_;
  int inotify_fd_ = -1;
  mutable std::mutex mutex_;  // guards closed_recordings_, established_, stopping_
  std::condition_variable changed_;
  std::vector<std::string> closed_recordings_;
  std::vector<clock::time_point> established_;
  bool stopping_ = false;
  std::thread hangup_thread_;
};

class kamailio_process {
 public:
  struct options {
    std::string username = "otpd";
    std::string password = "s3cret";
    std::string realm = "otpd.test";
    // Where authenticated INVITEs go, "host:port" (e.g. baresip_process::host_port()).
    std::string forward;
    // Non-zero: authenticated INVITEs get this final response instead of being relayed.
    int reject_code = 0;
    std::string reject_reason = "Decline";
    std::chrono::milliseconds start_timeout{std::chrono::seconds(20)};
    bool echo_output = false;
  };

  explicit kamailio_process(options opts);
  ~kamailio_process();

  kamailio_process(const kamailio_process&) = delete;
  kamailio_process& operator=(const kamailio_process&) = delete;

  std::uint16_t sip_port() const noexcept { return port_; }
  const std::string& username() const noexcept { return opts_.username; }
  const std::string& password() const noexcept { return opts_.password; }
  const std::string& realm() const noexcept { return opts_.realm; }
  std::string host_port() const;
  pid_t pid() const noexcept { return child_->pid(); }

  // kamailio's log (stderr); the script's own lines start with "otpd-test:".
  const output_log& output() const noexcept { return *log_; }
  std::ptrdiff_t wait_for_output(std::string_view substring, std::chrono::milliseconds timeout,
                                 std::size_t from = 0) const;

  int stop();

  static std::string config_template_path();

 private:
  options opts_;
  std::unique_ptr<temp_dir> dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<output_log> log_;  // one per start attempt
  std::unique_ptr<child_process> child_;
};

}  // namespace otpd::test
