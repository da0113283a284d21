// otpd's configuration as typed values: what config/loader.cpp produces from otpd.yaml after
// validation. Plain structs with the defaults of docs/architecture.md §4; no YAML type appears
// here.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/secret.hpp"
#include "smpp/dlr/message_id.hpp"
#include "smpp/net/bind_config.hpp"

namespace otpd::config {

using seconds = std::chrono::seconds;
using milliseconds = std::chrono::milliseconds;

struct tls_server {
  std::filesystem::path certificate_file;  // PEM chain
  std::filesystem::path private_key_file;  // PEM
};

struct http_listener {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: the OS picks (the bound port is logged and reported)
  std::optional<tls_server> tls;
};

// The operations listener: /healthz, /readyz and /metrics without an API key, for Prometheus
// and load balancers. A port of its own (loopback by default), because /metrics and /readyz
// name API keys, carriers and volumes that callers of the API have no business reading.
struct ops_listener {
  bool enabled = true;  // false: no ops listener
  std::string address = "127.0.0.1";
  std::uint16_t port = 8081;  // 0: the OS picks (the bound port is logged); never an API port
  // /readyz and /metrics on the API listeners as well, for setups with a single port: explicit,
  // since it shows them to every client that reaches the API.
  bool on_api_listeners = false;
};

struct http_limits {
  std::size_t max_body_bytes = 16 * 1024;
  std::size_t max_header_bytes = 8 * 1024;
  milliseconds read_timeout{10'000};  // a whole request, headers and body
  milliseconds idle_timeout{60'000};  // keep-alive between requests
  std::size_t max_connections = 10'000;
};

struct api_key {
  std::string name;    // shown in logs and metrics, never the secret
  std::string sha256;  // lowercase hex of SHA-256(secret); the secret itself is not kept
};

enum class channel : std::uint8_t { sms, voice };

struct otp_policy {
  int code_length = 6;             // 6..10; 4 and 5 only with allow_short_codes
  bool allow_short_codes = false;  // a warning at load: NIST SP 800-63B-4 asks for 6
  seconds ttl{300};                // default lifetime; a request may ask for less
  seconds max_ttl{600};            // hard maximum (NIST SP 800-63B)
  int max_checks = 5;              // per verification, successful one included
  int max_sends = 5;               // SMS and calls, first one included
  seconds resend_cooldown{30};     // before the first resend (the app's countdown)
  double cooldown_growth = 2.0;    // each later resend waits this much longer
  bool new_code_on_resend = true;  // false: the same code is read again (kept sealed)
  channel default_resend_channel = channel::voice;
  bool fallback_on_sms_failure = false;  // start the voice channel when the SMS fails
  std::string default_locale = "vi";
};

// One limit: at most `max` events per `window` for the key.
struct rate_limit {
  int max = 0;  // 0: no limit
  seconds window{0};
};

struct rate_limits {
  std::vector<rate_limit> per_number{{3, seconds{600}}, {10, seconds{86'400}}};
  std::vector<rate_limit> per_api_key{{100, seconds{1}}};
  std::vector<rate_limit> per_client_ip{{10, seconds{60}}};
  // Against SMS pumping: sends per destination prefix (the prefix length in digits of E.164).
  std::vector<rate_limit> per_prefix{{1000, seconds{3600}}};
  int prefix_digits = 5;
};

struct number_plan {
  std::string default_country_code = "84";  // for numbers typed without one
  std::string national_prefix = "0";        // trunk prefix dropped from national numbers
  int min_digits = 8;                       // national significant number, after the prefix
  int max_digits = 11;
};

// Where a value was written in the configuration file (1-based; 0 when it was not written
// there, e.g. a default): for checks that run after loading and still report
// file:line:column (daemon/engine/template_check.hpp).
struct source_position {
  std::size_t line = 0;
  std::size_t column = 0;
  friend bool operator==(const source_position&, const source_position&) = default;
};

// Templates per locale; "{code}" is replaced by the code, "{minutes}" by the lifetime. The
// loader normalises each text to NFC (Unicode UAX #15), so that decomposed Vietnamese costs no
// more units on the air than precomposed.
struct templates {
  std::map<std::string, std::string> sms{
      {"vi", "Ma xac thuc cua ban la {code}. Hieu luc {minutes} phut."},
      {"en", "Your verification code is {code}. It expires in {minutes} minutes."}};
  std::map<std::string, source_position> sms_at;  // where each text was written, by locale
};

struct carrier {
  std::string name;
  source_position at;                 // where the carrier was written (its list item)
  std::vector<std::string> prefixes;  // E.164 digits without '+', e.g. "8486", "8496"
  smpp::address sender;               // TON 5 / NPI 0 for a brandname, 1/1 for a number
  // The carrier's text defaults (coding, transliteration, concatenation). The loader has
  // already applied them to each of `binds`, whose own `text:` settings win; kept for display.
  smpp::text_profile text;
  std::vector<smpp::bind_config> binds;
  std::vector<source_position> binds_at;  // where each bind was written, as `binds`
  std::vector<std::string> failover;      // carriers to try, in order, when this one cannot send
  bool request_receipts = true;
  std::size_t max_queue = 10'000;
  // While no bind of the carrier can send (a reconnect), new SMS wait for one this long, at
  // most `size` of them at once; past either, the request is refused with 503 and Retry-After.
  // Always shorter than policy.ttl. max_wait 0: refused at once.
  struct reconnect_queue {
    milliseconds max_wait{5'000};
    std::size_t size = 1'000;
  } queue;
  // How the SMSC spells message ids in submit_sm_resp and in receipts (any bind of the
  // carrier may carry a receipt, so this is per carrier): fixed, or learned.
  smpp::dlr::id_config message_ids;
};

struct routing {
  std::vector<carrier> carriers;
  std::optional<std::filesystem::path> ported_numbers_file;  // CSV lines "number,carrier"
};

// A SIP trunk for voice calls (docs/architecture.md §6).
struct voice_trunk {
  std::string name;
  std::string uri;                // the next hop: sip:host[:port][;transport=tcp]
  std::string transport = "udp";  // udp | tcp
  std::string domain;             // the Request-URI's host; empty: the next hop's host
  std::string username;           // digest credentials; empty: none
  secret password;
  std::string caller_id;                    // From user part
  std::string local_address = "127.0.0.1";  // SIP and RTP sockets bind here
  // How the callee is written in the Request-URI: "+e164" (+84912345678), "e164"
  // (84912345678) or "national" (0912345678, with number_plan's national prefix).
  std::string number_format = "+e164";
  int max_calls = 100;           // calls in progress at once on this trunk
  double calls_per_second = 10;  // new calls per second
  int priority = 0;              // lower first; equal priorities share the load
  milliseconds ring_timeout{30'000};
  milliseconds max_call{180'000};
  // Where the trunk's SDP answers may send our RTP: CIDRs ("203.0.113.0/24", "2001:db8::/48",
  // or one address), validated at load. Empty: the next hop's resolved address(es) only.
  std::vector<std::string> media_networks;
  friend bool operator==(const voice_trunk&, const voice_trunk&) = default;
};

struct voice {
  std::vector<voice_trunk> trunks;  // none: the voice channel answers 501
  // Recorded clips (<folder>/<locale>/<clip>.wav) used instead of synthesised ones.
  std::optional<std::filesystem::path> prompts_folder;
  int words_per_minute = 130;  // espeak-ng's speed for synthesised clips
  int repeats = 2;             // how many times the code is read
  milliseconds digit_pause{600};
  char replay_key = '*';  // RFC 4733 key that reads the code again; '\0': none
  // How long a call may wait for a trunk's calls_per_second before it fails
  // no_trunk_available (calls wait in the order they came).
  milliseconds rate_wait{5000};
};

struct webhook {
  std::string url;  // http:// or https://; empty: none
  otpd::secret secret;
  seconds timeout{5};
  int max_attempts = 10;
  seconds initial_backoff{1};
  seconds max_backoff{600};
};

enum class store_kind : std::uint8_t { sqlite, postgres };

// The shared store of several nodes (docs/scale-out.md).
struct postgres {
  // A libpq connection string or URL ("host=a,b ... target_session_attrs=read-write"), by
  // reference (${file:}/${env:}): it may hold the password.
  secret url;
  int pool_size = 2;                     // connections, each on a store thread of its own
  milliseconds statement_timeout{5000};  // a statement running longer is cancelled: 503
  milliseconds connect_timeout{5000};    // per host tried
  std::string sslmode;                   // libpq's: disable ... verify-full; empty: libpq's default
  std::filesystem::path sslrootcert;     // CA file for verify-ca / verify-full; empty: none
};

struct store {
  store_kind kind = store_kind::sqlite;
  std::filesystem::path sqlite_path = "state/otpd.db";
  std::uint64_t sqlite_max_bytes = 0;  // 0: no cap; past it writes fail as on a full disk
  seconds retention{7 * 86'400};       // finished verifications kept this long, then purged
  postgres pg;                         // kind: postgres

  // This node's own folder, with either kind: sqlite_path's (the SMS send journal is there).
  std::filesystem::path state_folder() const {
    std::filesystem::path f = sqlite_path.parent_path();
    return f.empty() ? std::filesystem::path(".") : f;
  }
};

// This node among several sharing a store (docs/scale-out.md).
struct cluster {
  // Unique among the nodes sharing the store; empty: the host name. Names the node's leases
  // and the attempts it sends.
  std::string node;
  // A bind, the purge and the node itself are held by leases of this period, renewed every
  // third of it: a node that dies loses them, and another takes them over, within 2 periods.
  milliseconds lease{10000};
};

struct secrets {
  secret code_mac_key;   // >= 32 bytes: keys the MAC of codes at rest
  secret code_seal_key;  // 32 bytes (AES-256-GCM) when codes must be re-read
};

enum class log_format : std::uint8_t { journal, json };
enum class log_level : std::uint8_t { debug, info, notice, warning, error };

struct logging {
  log_format format = log_format::journal;
  log_level level = log_level::info;
};

// The operator's control socket (otpctl): a Unix socket, protected by its file permissions.
struct admin {
  std::filesystem::path socket;  // empty: none
};

// The daemon process itself.
struct process {
  // A crash or watchdog kill leaves a core (and gcore / ptrace by the same user work): for
  // debugging only, since a core holds the codes in flight. Off: the process is not dumpable
  // (PR_SET_DUMPABLE 0), which also makes /proc/PID/mem readable by root only.
  bool core_dumps = false;
  // At SIGTERM, how long the SMS and calls already started may take to reach their outcome
  // before the binds unbind regardless; keep it under the unit's TimeoutStopSec=.
  milliseconds shutdown_drain{20000};
};

struct testing {
  bool controllable_clock = false;  // POST /v1/testing/clock: for integration tests only
};

struct config {
  std::vector<http_listener> listeners{http_listener{}};
  ops_listener ops;
  http_limits http;
  std::vector<api_key> api_keys;
  otp_policy policy;
  rate_limits limits;
  number_plan numbers;
  templates text;
  routing routes;
  voice calls;
  webhook webhooks;
  store state;
  cluster nodes;
  secrets keys;
  logging log;
  admin control;
  process proc;
  testing test;
  std::filesystem::path source;  // the file it came from
};

}  // namespace otpd::config
