// End-to-end harness: the built otpd binary as a child process, configured from a YAML file
// written into a temporary directory (secrets through ${env:...} references set in the child's
// environment), in front of one or more node-smpp SMSC stand-ins (tests/support/smsc_process).
//
// - otpd_process: writes the configuration, starts otpd, waits for its "listening" line, reads
//   the bound port from it and keeps every line otpd writes (stdout and stderr).
// - http_call: a small blocking HTTP/1.1 client over POSIX sockets (one connection per call,
//   "Connection: close"), with a deadline on every read and write.
// - webhook_receiver: a tiny HTTP server on 127.0.0.1 (port 0) that records each request.
//
// Nothing here sleeps to synchronise: waits are on log lines, SMSC events, received webhooks,
// or HTTP polling with a deadline for state changes.
#pragma once

#include <sys/types.h>

#include <boost/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/child_process.hpp"

namespace otpd::test::e2e {

// A TCP port on 127.0.0.1 where nothing listens: the socket is bound (so that the port is not
// handed out again while the test runs) but never listens, so connections are refused.
class closed_port {
 public:
  closed_port();
  ~closed_port();
  closed_port(const closed_port&) = delete;
  closed_port& operator=(const closed_port&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// The secrets of every test configuration. They reach otpd only through its environment.
inline constexpr std::string_view api_key = "e2e-api-key-5f3a9c0b7d21";
inline constexpr std::string_view smsc_password = "e2ePw7q";  // at most 8 characters
inline constexpr std::string_view webhook_secret = "e2e-webhook-secret-8b1d44e0";
inline constexpr std::string_view mac_key =
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

// `node smsc.js` flags for a stand-in that accepts the account otpd uses.
std::vector<std::string> smsc_flags(std::vector<std::string> extra = {});

// A directory under $TMPDIR (or /tmp), removed with its content at the end.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// --- HTTP client -------------------------------------------------------------------------------

struct http_response {
  int status = 0;                              // 0: no response (connection failed or closed early)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  boost::json::value json;  // the body parsed, when it is JSON (else null)

  std::optional<std::string> header(std::string_view name) const;
  // For problem+json answers: the slug at the end of "type" ("" when absent).
  std::string problem_slug() const;
  const boost::json::object& obj() const;  // json as an object (an empty one if it is not)
};

// One request on a new connection to 127.0.0.1:port. Adds Host, Content-Length (when a body
// is given or the method is POST) and Connection: close. Never throws on HTTP errors.
http_response http_call(std::uint16_t port, std::string_view method, std::string_view target,
                        const std::vector<std::pair<std::string, std::string>>& headers = {},
                        std::optional<std::string> body = std::nullopt,
                        std::chrono::milliseconds timeout = 15s);

// Writes `bytes` as they are on a new connection, then reads the response until the server
// closes or the deadline passes. For requests the client above would not build.
http_response raw_exchange(std::uint16_t port, std::string_view bytes,
                           std::chrono::milliseconds timeout = 15s);

// Parses an HTTP response (status line, headers, body by Content-Length or to the end).
http_response parse_response(std::string_view raw);

// --- otpd configuration ------------------------------------------------------------------------

struct bind_spec {
  std::string name;
  std::uint16_t port = 0;
  std::string kind = "transceiver";
  std::string timeouts = "{connect: 2s, bind: 5s, response: 10s}";  // YAML flow map
  std::string extra_yaml;  // more keys of the bind, one per line, written as they are (indented)
};

struct carrier_spec {
  std::string name;
  std::vector<std::string> prefixes;
  std::vector<bind_spec> binds;
  std::vector<std::string> failover;
  std::string extra_yaml;  // more keys of the carrier, one per line, written as they are
};

// One carrier "vn" serving every +84 number through one transceiver to `smsc_port`.
carrier_spec vietnam_carrier(std::uint16_t smsc_port);

struct otpd_options {
  std::vector<carrier_spec> carriers;
  // Keys under policy:, rate_limits:, http: (value written as is, YAML flow style).
  std::map<std::string, std::string> policy;
  std::map<std::string, std::string> rate_limits;  // unset kinds are [] (off)
  std::map<std::string, std::string> http;
  std::string log_level = "info";
  bool controllable_clock = true;
  // Content of the ported-numbers file; empty: no file.
  std::string ported_numbers;
  // http://127.0.0.1:PORT/path; empty: no webhooks.
  std::string webhook_url;
  // secrets.code_seal_key (32 bytes): needed by policy new_code_on_resend: false.
  std::string code_seal_key;
  // store.kind: sqlite (in state_dir), or postgres (whose settings go in store_yaml).
  std::string store_kind = "sqlite";
  // The SQLite file; empty: `state_dir`/otpd.db. Several nodes share one.
  std::filesystem::path database;
  // More keys under store: ("sqlite_max_bytes: 131072"), one per line.
  std::string store_yaml;
  // The ops section (/healthz, /readyz, /metrics): its own port on 127.0.0.1, chosen by the OS.
  std::string ops_yaml = "ops:\n  address: 127.0.0.1\n  port: 0\n";
  // Appended to the file as is (further sections).
  std::string extra_yaml;
  // More environment variables for otpd ("NAME=value"), e.g. NOTIFY_SOCKET.
  std::vector<std::string> environment;
};

// The YAML text for `opts`, with the database at `state_dir`/otpd.db and the ported-numbers
// file (when any) at `state_dir`/ported.csv (written by otpd_process).
std::string config_yaml(const otpd_options& opts, const std::filesystem::path& state_dir);

// --- otpd as a child process -------------------------------------------------------------------

// The environment otpd_process gives otpd ("NAME=value"): the secrets config_yaml() names as
// ${env:...}. For starting otpd some other way (e.g. inside a mount namespace).
std::vector<std::string> otpd_secrets_environment();

class otpd_process {
 public:
  // Writes `state_dir`/otpd.yaml, starts otpd --config in `state_dir` and waits for its
  // "listening" line. Throws std::runtime_error (with otpd's output) when it does not come.
  otpd_process(const otpd_options& opts, const std::filesystem::path& state_dir,
               std::chrono::milliseconds start_timeout = 30s);
  // Stops otpd (SIGTERM) if it still runs and fails the test on any sanitizer report.
  ~otpd_process();

  otpd_process(const otpd_process&) = delete;
  otpd_process& operator=(const otpd_process&) = delete;

  std::uint16_t port() const noexcept { return port_; }  // the API listener
  // The ops listener (/healthz, /readyz, /metrics), from its "ops_listening" line; 0: none.
  std::uint16_t ops_port() const noexcept { return ops_port_; }
  pid_t pid() const noexcept { return child_->pid(); }

  // Every line otpd has written so far (stdout and stderr).
  std::vector<std::string> lines() const;
  std::string output() const;  // the same, joined, for failure messages
  // Waits for a line for which pred is true (lines from index `from` on).
  std::optional<std::string> wait_for_line(const std::function<bool(std::string_view)>& pred,
                                           std::chrono::milliseconds timeout, std::size_t from = 0);

  // Polls GET /readyz (on the ops listener) until 200; false at the deadline.
  bool wait_ready(std::chrono::milliseconds timeout = 20s);
  // Polls GET /metrics (on the ops listener) until otpd_smpp_bind_up{carrier,bind} is 1; false
  // at the deadline.
  bool wait_bound(std::string_view carrier, std::string_view bind,
                  std::chrono::milliseconds timeout = 20s);

  // The API with the test's bearer key (auth = false: without Authorization).
  http_response post(std::string_view target, const boost::json::value& body,
                     std::vector<std::pair<std::string, std::string>> headers = {},
                     bool auth = true);
  http_response get(std::string_view target, bool auth = true);
  // GET on the ops listener, without a key (/metrics, /readyz, /healthz); on the API listener
  // when otpd has no ops listener.
  http_response ops_get(std::string_view target);
  http_response call(std::string_view method, std::string_view target,
                     std::vector<std::pair<std::string, std::string>> headers,
                     std::optional<std::string> body, bool auth = true);

  // POST /v1/testing/clock; fails the test unless it answers 200.
  void advance_clock(std::chrono::seconds s);

  // GET /v1/verifications/{id} until pred holds for the body; the last body either way.
  boost::json::object poll_verification(const std::string& id,
                                        const std::function<bool(const boost::json::object&)>& pred,
                                        std::chrono::milliseconds timeout = 15s);

  // SIGKILL, then reap: no graceful shutdown at all.
  void kill9();
  // SIGTERM and wait (bounded); returns the wait status.
  int stop();
  // Waits for otpd to exit by itself (after a signal the test sent); its wait status, or
  // nullopt at the deadline. Fails the test on any sanitizer report once it has exited.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running() { return child_->running(); }

 private:
  void on_line(std::string_view line);
  void check_sanitizers();

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  bool ended_ = false;
  std::uint16_t port_ = 0;
  std::uint16_t ops_port_ = 0;
  bool stopped_ = false;
  std::unique_ptr<child_process> child_;
};

// --- SMS ---------------------------------------------------------------------------------------

// The text of an SMSC "submit" event (short_message hex, data_coding, esm_class UDHI), as
// bytes: GSM-7 unpacked / Latin-1 as is, UCS2 reduced to its ASCII characters.
std::string sms_text(const boost::json::object& submit_event);
// The first run of exactly `digits` decimal digits in the text ("" when none).
std::string code_in(std::string_view text, std::size_t digits = 6);
// Destination address of a submit event.
std::string dest_of(const boost::json::object& submit_event);

// --- metrics -----------------------------------------------------------------------------------

// The value of one series (name with its labels, as exported) in a /metrics body; -1 when
// absent.
double metric(const std::string& body, std::string_view series);

// --- webhooks ----------------------------------------------------------------------------------

struct received_request {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class webhook_receiver {
 public:
  webhook_receiver();  // listens on 127.0.0.1, port chosen by the OS
  ~webhook_receiver();
  webhook_receiver(const webhook_receiver&) = delete;
  webhook_receiver& operator=(const webhook_receiver&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // The first request from index `from` on for which pred holds.
  std::optional<received_request> wait_for(const std::function<bool(const received_request&)>& pred,
                                           std::chrono::milliseconds timeout, std::size_t from = 0);
  std::vector<received_request> requests() const;

 private:
  void run();
  void serve(int fd);

  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<received_request> requests_;
  std::thread thread_;
};

// Hex HMAC-SHA256(key, data), lower case.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

}  // namespace otpd::test::e2e
