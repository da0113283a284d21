// The otpd.yaml loader: defaults, each kind of error at the line and column it must point at,
// several errors at once, ${env:} / ${file:} references, carrier text defaults, secrets that
// never reach a message, the --check-config report, and the shipped example and sandbox files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "config/loader.hpp"

namespace otpd::config {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string good_hash = "db6bcf6a2a36ee93dafa7dfcdc40973da39f2e2843e4c6f76e08aefc767b0caa";
const std::string mac_key = "0123456789abcdef0123456789abcdef";  // 32 bytes

// A valid file in parts, routing last so that a test can append carriers to its list.
struct parts {
  std::string api_keys = "api_keys:\n  - name: backend\n    sha256: " + good_hash + "\n";
  std::string secrets = "secrets:\n  code_mac_key: " + mac_key + "\n";
  std::string sections;     // more top-level sections
  std::string alpha_extra;  // more keys of carrier alpha (indented by 6)
  std::string carriers;     // more carriers (list items indented by 4)
  std::string yaml() const {
    return api_keys + secrets + sections +
           "routing:\n"
           "  carriers:\n"
           "    - name: alpha\n"
           "      prefixes: [\"8486\", \"8496\"]\n"
           "      sender: {addr: BRAND}\n" +
           alpha_extra +
           "      binds:\n"
           "        - name: alpha-trx\n"
           "          host: 127.0.0.1\n"
           "          port: 2775\n"
           "          bind: trx\n"
           "          system_id: otpd\n"
           "          password: pw\n" +
           carriers;
  }
};

// A second carrier with one transceiver bind, `extra` keys included (indented by 6).
std::string carrier_yaml(std::string_view name, std::string_view extra = {},
                         std::string_view bind_name = {}) {
  const std::string bn = bind_name.empty() ? std::string(name) + "-trx" : std::string(bind_name);
  return "    - name: " + std::string(name) + "\n      sender: {addr: B}\n" + std::string(extra) +
         "      binds:\n        - {name: " + bn +
         ", host: h, port: 1, bind: trx, system_id: s, password: p}\n";
}

struct position {
  std::size_t line = 0;
  std::size_t column = 0;
};

// Where `needle` first occurs in `text`, 1-based, as an editor shows it; the test's own
// account of positions, independent of yaml-cpp's.
position pos(std::string_view text, std::string_view needle) {
  const std::size_t at = text.find(needle);
  EXPECT_NE(at, std::string_view::npos) << needle;
  if (at == std::string_view::npos) return {};
  position p{1, 1};
  for (std::size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

load_options with_env(std::map<std::string, std::string> env) {
  load_options o;
  o.getenv = [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return o;
}

std::string all_errors(const load_result& r) {
  std::string out;
  for (const auto& e : r.errors) out += to_string(e) + "\n";
  return out;
}

// The one error; fails the test when there is not exactly one.
config_error only_error(const load_result& r) {
  EXPECT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_FALSE(r.config);
  return r.errors.empty() ? config_error{} : r.errors.front();
}

// The one error, at the line and column where `needle` starts in `yaml`.
config_error only_error_at(const load_result& r, std::string_view yaml, std::string_view needle) {
  const config_error e = only_error(r);
  const position p = pos(yaml, needle);
  EXPECT_EQ(e.line, p.line) << to_string(e);
  EXPECT_EQ(e.column, p.column) << to_string(e);
  return e;
}

load_result load(const std::string& yaml, const load_options& o = {}) {
  return load_config(yaml, "otpd.yaml", o);
}

struct temp_file {
  explicit temp_file(std::string_view content) {
    char tmpl[] = "/tmp/otpd_loader_test_XXXXXX";
    const int fd = ::mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path = tmpl;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~temp_file() { std::remove(path.c_str()); }
  std::string path;
};

// ---- defaults ------------------------------------------------------------------------------

TEST(config_loader, minimal_file_gets_the_documented_defaults) {
  const parts p;
  auto r = load(p.yaml());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const config& c = *r.config;
  EXPECT_EQ(c.source, "otpd.yaml");
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].address, "127.0.0.1");
  EXPECT_EQ(c.listeners[0].port, 8080);
  EXPECT_FALSE(c.listeners[0].tls);
  ASSERT_EQ(c.api_keys.size(), 1u);
  EXPECT_EQ(c.api_keys[0].name, "backend");
  EXPECT_EQ(c.api_keys[0].sha256, good_hash);
  EXPECT_EQ(c.policy.code_length, 6);
  EXPECT_EQ(c.policy.ttl, 300s);
  EXPECT_EQ(c.policy.max_ttl, 600s);
  EXPECT_EQ(c.policy.max_checks, 5);
  EXPECT_EQ(c.policy.resend_cooldown, 30s);
  EXPECT_TRUE(c.policy.new_code_on_resend);
  EXPECT_EQ(c.policy.default_resend_channel, channel::voice);
  EXPECT_EQ(c.limits.per_number.size(), 2u);
  EXPECT_EQ(c.numbers.default_country_code, "84");
  EXPECT_EQ(c.text.sms.count("vi"), 1u);
  EXPECT_EQ(c.state.kind, store_kind::sqlite);
  EXPECT_EQ(c.state.sqlite_path, "state/otpd.db");
  EXPECT_EQ(c.keys.code_mac_key, mac_key);
  EXPECT_TRUE(c.keys.code_seal_key.empty());
  EXPECT_EQ(c.log.format, log_format::journal);
  EXPECT_FALSE(c.test.controllable_clock);
  EXPECT_TRUE(c.webhooks.url.empty());

  ASSERT_EQ(c.routes.carriers.size(), 1u);
  const carrier& a = c.routes.carriers[0];
  EXPECT_EQ(a.name, "alpha");
  EXPECT_THAT(a.prefixes, ElementsAre("8486", "8496"));
  // A brandname without TON/NPI is alphanumeric: TON 5 / NPI 0.
  EXPECT_EQ(a.sender, (smpp::address{5, 0, "BRAND"}));
  EXPECT_TRUE(a.request_receipts);
  EXPECT_TRUE(a.failover.empty());
  ASSERT_EQ(a.binds.size(), 1u);
  EXPECT_EQ(a.binds[0].session.name, "alpha-trx");
  EXPECT_EQ(a.binds[0].session.smpp.type, smpp::bind_type::transceiver);
  EXPECT_EQ(a.binds[0].session.smpp.password, "pw");
  EXPECT_EQ(a.binds[0].text.encoding.policy, smpp::text::coding_policy::auto_select);
}

TEST(config_loader, every_section_read_into_its_field) {
  parts p;
  p.sections = R"(listeners:
  - {address: "::1", port: 0}
  - {address: 0.0.0.0, port: 9000}
http: {max_body_bytes: 4096, max_header_bytes: 2048, read_timeout: 1500ms, idle_timeout: 2m, max_connections: 7}
policy:
  code_length: 8
  ttl: 2m
  max_ttl: 3m
  max_checks: 3
  max_sends: 4
  resend_cooldown: 45s
  cooldown_growth: 1.5
  new_code_on_resend: false
  default_resend_channel: sms
  fallback_on_sms_failure: true
  default_locale: en
rate_limits:
  per_number: [{max: 2, window: 5m}]
  per_api_key: []
  per_client_ip: [{max: 0, window: 1s}]
  per_prefix: [{max: 50, window: 1h}, {max: 500, window: 24h}]
  prefix_digits: 6
number_plan: {default_country_code: "+66", national_prefix: "", min_digits: 8, max_digits: 9}
templates:
  sms:
    en: "Code {code}, valid {minutes} min"
webhooks: {url: "https://hooks.example/otp", secret: "0123456789abcdef", timeout: 3s, max_attempts: 4, initial_backoff: 2s, max_backoff: 1m}
store: {kind: sqlite, sqlite_path: /tmp/x.db, retention: 48h}
logging: {format: json, level: debug}
testing: {controllable_clock: true}
)";
  p.secrets = "secrets:\n  code_mac_key: " + mac_key + "\n  code_seal_key: " + mac_key + "\n";
  auto r = load(p.yaml());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const config& c = *r.config;
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].address, "::1");
  EXPECT_EQ(c.listeners[0].port, 0);
  EXPECT_EQ(c.listeners[1].port, 9000);
  EXPECT_EQ(c.http.max_body_bytes, 4096u);
  EXPECT_EQ(c.http.max_header_bytes, 2048u);
  EXPECT_EQ(c.http.read_timeout, 1500ms);
  EXPECT_EQ(c.http.idle_timeout, 120'000ms);
  EXPECT_EQ(c.http.max_connections, 7u);
  EXPECT_EQ(c.policy.code_length, 8);
  EXPECT_EQ(c.policy.ttl, 120s);
  EXPECT_EQ(c.policy.max_ttl, 180s);
  EXPECT_EQ(c.policy.max_checks, 3);
  EXPECT_EQ(c.policy.max_sends, 4);
  EXPECT_EQ(c.policy.resend_cooldown, 45s);
  EXPECT_EQ(c.policy.cooldown_growth, 1.5);
  EXPECT_FALSE(c.policy.new_code_on_resend);
  EXPECT_EQ(c.policy.default_resend_channel, channel::sms);
  EXPECT_TRUE(c.policy.fallback_on_sms_failure);
  EXPECT_EQ(c.policy.default_locale, "en");
  ASSERT_EQ(c.limits.per_number.size(), 1u);
  EXPECT_EQ(c.limits.per_number[0].max, 2);
  EXPECT_EQ(c.limits.per_number[0].window, 300s);
  EXPECT_TRUE(c.limits.per_api_key.empty());
  EXPECT_EQ(c.limits.per_client_ip[0].max, 0);
  ASSERT_EQ(c.limits.per_prefix.size(), 2u);
  EXPECT_EQ(c.limits.per_prefix[1].window, 86'400s);
  EXPECT_EQ(c.limits.prefix_digits, 6);
  EXPECT_EQ(c.numbers.default_country_code, "66");
  EXPECT_EQ(c.numbers.national_prefix, "");
  EXPECT_EQ(c.numbers.max_digits, 9);
  // Given templates replace the built-in ones.
  EXPECT_EQ(c.text.sms,
            (std::map<std::string, std::string>{{"en", "Code {code}, valid {minutes} min"}}));
  EXPECT_EQ(c.webhooks.url, "https://hooks.example/otp");
  EXPECT_EQ(c.webhooks.secret, "0123456789abcdef");
  EXPECT_EQ(c.webhooks.timeout, 3s);
  EXPECT_EQ(c.webhooks.max_attempts, 4);
  EXPECT_EQ(c.webhooks.initial_backoff, 2s);
  EXPECT_EQ(c.webhooks.max_backoff, 60s);
  EXPECT_EQ(c.state.kind, store_kind::sqlite);
  EXPECT_EQ(c.state.sqlite_path, "/tmp/x.db");
  EXPECT_EQ(c.state.retention, 48h);
  EXPECT_EQ(c.keys.code_seal_key, mac_key);  // 32 bytes as given
  EXPECT_EQ(c.log.format, log_format::json);
  EXPECT_EQ(c.log.level, log_level::debug);
  EXPECT_TRUE(c.test.controllable_clock);
}

TEST(config_loader, carrier_text_defaults_apply_to_its_binds_key_by_key) {
  parts p;
  p.alpha_extra = "      text: {coding: ucs2, concat: sar, max_parts: 4}\n";
  p.carriers = R"(    - name: beta
      sender: {addr: "+84901234567"}
      text: {transliterate: true}
      binds:
        - {name: beta-tx, host: h, port: 1, bind: tx, system_id: s, password: p}
        - {name: beta-rx, host: h, port: 1, bind: rx, system_id: s, password: p, text: {coding: gsm7}}
)";
  auto r = load(p.yaml());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const auto& alpha = r.config->routes.carriers[0];
  EXPECT_EQ(alpha.text.encoding.policy, smpp::text::coding_policy::ucs2);
  const smpp::text_profile& t = alpha.binds[0].text;
  EXPECT_EQ(t.encoding.policy, smpp::text::coding_policy::ucs2);
  EXPECT_EQ(t.split.method, smpp::text::concat_method::sar);
  EXPECT_EQ(t.split.max_parts, 4u);

  const auto& beta = r.config->routes.carriers[1];
  // A number: international TON 1 / NPI 1, '+' dropped.
  EXPECT_EQ(beta.sender, (smpp::address{1, 1, "84901234567"}));
  EXPECT_TRUE(beta.binds[0].text.encoding.transliterate);
  EXPECT_EQ(beta.binds[0].text.encoding.policy, smpp::text::coding_policy::auto_select);
  // The bind's own coding wins; the carrier's transliterate still applies.
  EXPECT_EQ(beta.binds[1].text.encoding.policy, smpp::text::coding_policy::gsm7);
  EXPECT_TRUE(beta.binds[1].text.encoding.transliterate);
  EXPECT_EQ(beta.binds[1].session.smpp.type, smpp::bind_type::receiver);
}

// ---- each kind of error, where it is -------------------------------------------------------

TEST(config_loader, unknown_keys_at_every_level) {
  {
    parts p;
    p.sections = "polcy:\n  code_length: 6\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "polcy");
    EXPECT_THAT(e.message, HasSubstr("unknown key 'polcy' (did you mean 'policy'?)"));
  }
  {
    parts p;
    p.alpha_extra = "      prefixs: [\"8490\"]\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "prefixs");
    EXPECT_THAT(e.message, HasSubstr("unknown key 'routing.carriers[0].prefixs' (did you mean "
                                     "'routing.carriers[0].prefixes'?)"));
  }
  {
    parts p;
    p.carriers =
        "    - name: beta\n      sender: {addr: B}\n      binds:\n        - {name: b, host: "
        "h, port: 1, bind: trx, system_id: s, password: p, windw: 5}\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "windw");
    EXPECT_THAT(e.message, HasSubstr("unknown key 'routing.carriers[1].binds[0].windw' (did you "
                                     "mean 'routing.carriers[1].binds[0].window'?)"));
  }
}

TEST(config_loader, wrong_types) {
  {
    parts p;
    p.sections = "policy:\n  code_length: six\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "six");
    EXPECT_THAT(e.message,
                HasSubstr("policy.code_length: expected an integer from 4 to 10, got 'six'"));
  }
  {
    parts p;
    p.sections = "listeners: 127.0.0.1\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "127.0.0.1\n");
    EXPECT_THAT(e.message, HasSubstr("listeners: expected a list of listeners"));
  }
  {
    parts p;
    p.sections = "policy:\n  new_code_on_resend: sometimes\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "sometimes");
    EXPECT_THAT(e.message, HasSubstr("policy.new_code_on_resend: expected true or false"));
  }
  {
    parts p;
    p.sections = "policy:\n  default_resend_channel: fax\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "fax");
    EXPECT_THAT(e.message, HasSubstr("expected sms or voice, got 'fax'"));
  }
  {
    parts p;
    p.sections = "policy:\n  ttl: 300\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "300");
    EXPECT_THAT(e.message, HasSubstr("policy.ttl: expected a duration such as 500ms, 10s or 2m"));
  }
  {
    parts p;
    p.sections = "policy:\n  ttl: 1500ms\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "1500ms");
    EXPECT_THAT(e.message, HasSubstr("not a whole number of seconds"));
  }
  {
    parts p;
    p.carriers = carrier_yaml("beta", "      text: {coding: utf8}\n");
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "utf8");
    EXPECT_THAT(e.message, HasSubstr("routing.carriers[1].text.coding: expected auto, gsm7, "
                                     "latin1 or ucs2, got 'utf8'"));
  }
  {
    parts p;
    p.sections = "logging: {level: loud}\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "loud");
    EXPECT_THAT(e.message, HasSubstr("expected debug, info, notice, warning or error"));
  }
}

TEST(config_loader, out_of_range_values) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"policy:\n  code_length: 3\n", "3\n",
       "policy.code_length: 3 is out of range; expected an integer from 4 to 10"},
      {"policy:\n  code_length: 11\n", "11\n", "policy.code_length: 11 is out of range"},
      {"policy:\n  ttl: 15m\n", "15m", "policy.ttl: 15m is out of range; expected from 1s to 10m"},
      {"policy:\n  max_ttl: 11m\n", "11m", "policy.max_ttl: 11m is out of range"},
      {"policy:\n  ttl: 6m\n  max_ttl: 5m\n", "6m",
       "policy.ttl: 6m is longer than policy.max_ttl (5m)"},
      {"policy:\n  max_ttl: 2m\n", "2m",
       "policy.max_ttl: 2m is shorter than policy.ttl (5m, the default)"},
      {"policy:\n  resend_cooldown: 5m\n", "5m\n", "leaves no time to resend within policy.ttl"},
      {"listeners:\n  - {address: 127.0.0.1, port: 70000}\n", "70000",
       "listeners[0].port: 70000 is out of range; expected an integer from 0 to 65535"},
      {"rate_limits:\n  per_number:\n    - {max: 3, window: 0s}\n", "0s",
       "rate_limits.per_number[0].window: 0s is out of range; expected from 1s to 744h"},
      {"rate_limits:\n  per_number:\n    - {max: -1, window: 1m}\n", "-1",
       "rate_limits.per_number[0].max: -1 is out of range"},
      {"http: {max_body_bytes: 0}\n", "0}", "http.max_body_bytes: 0 is out of range"},
      {"number_plan: {min_digits: 9, max_digits: 8}\n", "max_digits",
       "number_plan: min_digits (9) is larger than max_digits (8)"},
  };
  for (const auto& [section, needle, message] : cases) {
    parts p;
    p.sections = section;
    const std::string y = p.yaml();
    auto r = load(y);
    auto e = only_error(r);
    // The range errors point at the value; the min/max comparison at the second key.
    const position at = pos(y, needle);
    EXPECT_EQ(e.line, at.line) << to_string(e);
    if (needle != "max_digits") {
      EXPECT_EQ(e.column, at.column) << to_string(e);
    }
    EXPECT_THAT(e.message, HasSubstr(message)) << section;
  }
  {
    parts p;
    p.carriers = carrier_yaml("beta", "", "beta-x")
                     .replace(carrier_yaml("beta", "", "beta-x").find("port: 1"), 7, "port: 0");
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "0, bind");
    EXPECT_THAT(e.message, HasSubstr("routing.carriers[1].binds[0].port: 0 is out of range"));
  }
}

TEST(config_loader, missing_required_keys) {
  {
    auto r = load("logging: {level: info}\n");
    ASSERT_EQ(r.errors.size(), 3u) << all_errors(r);
    for (const auto& e : r.errors) {
      EXPECT_EQ(e.line, 1u);
      EXPECT_EQ(e.column, 1u);
    }
    EXPECT_THAT(r.errors[0].message, HasSubstr("missing required key 'api_keys'"));
    EXPECT_THAT(r.errors[1].message, HasSubstr("missing required key 'routing'"));
    EXPECT_THAT(r.errors[2].message, HasSubstr("missing required key 'secrets'"));
  }
  {
    parts p;
    p.carriers = "    - name: beta\n      prefixes: [\"8490\"]\n";
    const std::string y = p.yaml();
    auto r = load(y);
    ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
    const position at = pos(y, "name: beta");
    for (const auto& e : r.errors) {
      EXPECT_EQ(e.line, at.line);
      EXPECT_EQ(e.column, at.column);
    }
    EXPECT_THAT(r.errors[0].message,
                HasSubstr("missing required key 'routing.carriers[1].sender'"));
    EXPECT_THAT(r.errors[1].message, HasSubstr("missing required key 'routing.carriers[1].binds'"));
  }
  {
    parts p;
    p.carriers =
        "    - name: beta\n      sender: {addr: B}\n      binds:\n        - name: beta-tx\n"
        "          host: h\n          bind: tx\n          system_id: s\n";
    const std::string y = p.yaml();
    auto r = load(y);
    ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
    EXPECT_EQ(r.errors[0].line, pos(y, "name: beta-tx").line);
    EXPECT_EQ(r.errors[0].column, pos(y, "name: beta-tx").column);
    EXPECT_THAT(r.errors[0].message,
                HasSubstr("missing required key 'routing.carriers[1].binds[0].port'"));
    EXPECT_THAT(r.errors[1].message,
                HasSubstr("missing required key 'routing.carriers[1].binds[0].password'"));
  }
  {
    parts p;
    p.secrets = "secrets: {code_seal_key: " + mac_key + "}\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "{code_seal_key");
    EXPECT_THAT(e.message, HasSubstr("missing required key 'secrets.code_mac_key'"));
  }
  {
    auto e = only_error(load(""));
    EXPECT_EQ(e.line, 0u);
    EXPECT_THAT(e.message, HasSubstr("the configuration is empty"));
  }
}

TEST(config_loader, duplicate_names) {
  {
    parts p;
    p.carriers = carrier_yaml("alpha", "", "alpha-2");
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "alpha\n      sender: {addr: B}");
    EXPECT_THAT(e.message, HasSubstr("routing.carriers[1].name: carrier 'alpha' is already "
                                     "defined at line 8"));
  }
  {
    parts p;
    p.carriers = carrier_yaml("beta", "", "alpha-trx");
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "alpha-trx,");
    EXPECT_THAT(e.message, HasSubstr("routing.carriers[1].binds[0].name: bind 'alpha-trx' is "
                                     "already defined at line 12"));
  }
  {
    parts p;
    p.api_keys += "  - name: backend\n    sha256: " + std::string(64, 'a') + "\n";
    const std::string y = p.yaml();
    auto e = only_error(load(y));
    EXPECT_EQ(e.line, 4u);
    EXPECT_EQ(e.column, 11u);
    EXPECT_THAT(e.message, HasSubstr("api_keys[1].name: the name 'backend' is already used by the "
                                     "key at line 2"));
  }
  {
    parts p;
    p.api_keys += "  - name: other\n    sha256: " + good_hash + "\n";
    const std::string y = p.yaml();
    auto e = only_error(load(y));
    EXPECT_EQ(e.line, 4u);
    EXPECT_THAT(e.message, HasSubstr("the same key as 'backend'"));
  }
  {
    parts p;
    p.sections = "secrets:\n  code_mac_key: " + mac_key + "\n";
    const std::string y = p.yaml();
    auto e = only_error(load(y));
    EXPECT_EQ(e.line, 6u);
    EXPECT_EQ(e.column, 1u);
    EXPECT_THAT(e.message, HasSubstr("duplicate key 'secrets' (first given at line 4)"));
  }
  {
    parts p;
    p.sections = "templates:\n  sms:\n    vi: \"{code}\"\n    vi: \"again {code}\"\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "vi: \"again");
    EXPECT_THAT(e.message, HasSubstr("duplicate key 'templates.sms.vi'"));
  }
}

TEST(config_loader, prefixes_must_be_e164_digits_and_routed_once) {
  parts p;
  p.carriers =
      carrier_yaml("beta", "      prefixes: [\"84-90\", \"090\", \"+8490\", 8496, \"84a\"]\n");
  const std::string y = p.yaml();
  auto r = load(y);
  ASSERT_EQ(r.errors.size(), 4u) << all_errors(r);
  const position dash = pos(y, "\"84-90\"");
  EXPECT_EQ(r.errors[0].line, dash.line);
  EXPECT_EQ(r.errors[0].column, dash.column);
  EXPECT_THAT(r.errors[0].message, HasSubstr("routing.carriers[1].prefixes[0]: expected up to 15 "
                                             "digits of an E.164 number"));
  EXPECT_EQ(r.errors[1].column, pos(y, "\"090\"").column);
  EXPECT_THAT(r.errors[1].message, HasSubstr("starts with 0"));
  EXPECT_THAT(r.errors[1].message, HasSubstr("8490 rather than 090"));
  EXPECT_EQ(r.errors[2].column, pos(y, "8496, ").column);
  EXPECT_THAT(r.errors[2].message,
              HasSubstr("prefix 8496 is already routed to carrier 'alpha' at line 9"));
  EXPECT_THAT(r.errors[3].message, HasSubstr("prefixes[4]: expected up to 15 digits"));

  // A '+' is allowed and dropped; a shorter prefix beside a longer one is the point of
  // longest-prefix routing.
  parts ok;
  ok.carriers = carrier_yaml("beta", "      prefixes: [\"+8490\", \"84\"]\n");
  auto r2 = load(ok.yaml());
  ASSERT_TRUE(r2.ok()) << all_errors(r2);
  EXPECT_THAT(r2.config->routes.carriers[1].prefixes, ElementsAre("8490", "84"));
}

TEST(config_loader, failover_names_known_carriers_other_than_itself) {
  parts p;
  p.alpha_extra = "      failover: [beta]\n";
  p.carriers = carrier_yaml("beta", "      failover: [alpha, gamma, beta, alpha]\n");
  const std::string y = p.yaml();
  auto r = load(y);
  ASSERT_EQ(r.errors.size(), 3u) << all_errors(r);
  EXPECT_EQ(r.errors[0].line, pos(y, "gamma").line);
  EXPECT_EQ(r.errors[0].column, pos(y, "gamma").column);
  EXPECT_THAT(r.errors[0].message, HasSubstr("routing.carriers[1].failover[1]: unknown carrier "
                                             "'gamma'; expected one of: alpha, beta"));
  EXPECT_EQ(r.errors[1].column, pos(y, "beta, alpha]").column);
  EXPECT_THAT(r.errors[1].message, HasSubstr("carrier 'beta' cannot fail over to itself"));
  EXPECT_THAT(r.errors[2].message, HasSubstr("'alpha' is already in this failover list"));

  parts ok;
  ok.alpha_extra = "      failover: [beta]\n";
  ok.carriers = carrier_yaml("beta", "      failover: [alpha]\n");
  auto r2 = load(ok.yaml());
  ASSERT_TRUE(r2.ok()) << all_errors(r2);
  EXPECT_THAT(r2.config->routes.carriers[0].failover, ElementsAre("beta"));
}

TEST(config_loader, reconnect_queue_waits_less_than_a_code_lives) {
  {
    auto r = load(parts{}.yaml());
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config->routes.carriers[0].queue.max_wait, 5s);
    EXPECT_EQ(r.config->routes.carriers[0].queue.size, 1000u);
  }
  {
    parts p;
    p.alpha_extra = "      reconnect_queue: {max_wait: 1500ms, size: 20}\n";
    p.carriers = carrier_yaml("beta", "      reconnect_queue: {max_wait: 0s}\n");
    auto r = load(p.yaml());
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config->routes.carriers[0].queue.max_wait, 1500ms);
    EXPECT_EQ(r.config->routes.carriers[0].queue.size, 20u);
    EXPECT_EQ(r.config->routes.carriers[1].queue.max_wait, 0s);
  }
  {
    // Not shorter than the code's lifetime (policy.ttl, read after nothing in particular).
    parts p;
    p.sections = "policy: {ttl: 30s}\n";
    p.alpha_extra = "      reconnect_queue: {max_wait: 30s}\n";
    const std::string y = p.yaml();
    const config_error e = only_error_at(load(y), y, "30s}\n      binds");
    EXPECT_THAT(e.message, HasSubstr("routing.carriers[0].reconnect_queue.max_wait: 30s is not "
                                     "shorter than policy.ttl (30s)"));
  }
  {
    parts p;
    p.alpha_extra = "      reconnect_queue: {size: 0, max_wait: 11m, wait: 1s}\n";
    const std::string y = p.yaml();
    auto r = load(y);
    ASSERT_EQ(r.errors.size(), 3u) << all_errors(r);
    const std::string all = all_errors(r);
    EXPECT_THAT(all, HasSubstr("reconnect_queue.size"));
    EXPECT_THAT(all, HasSubstr("reconnect_queue.max_wait"));
    EXPECT_THAT(all, HasSubstr("unknown key 'routing.carriers[0].reconnect_queue.wait'"));
  }
}

TEST(config_loader, carriers_need_binds_that_can_send_and_receive_receipts) {
  {
    parts p;
    p.carriers =
        "    - name: beta\n      sender: {addr: B}\n      binds:\n"
        "        - {name: b, host: h, port: 1, bind: rx, system_id: s, password: p}\n";
    const std::string y = p.yaml();
    auto e = only_error(load(y));
    EXPECT_EQ(e.line, pos(y, "- {name: b,").line);
    EXPECT_THAT(e.message,
                HasSubstr("routing.carriers[1].binds: no transmitter or transceiver bind"));
  }
  {
    parts p;
    p.carriers =
        "    - name: beta\n      sender: {addr: B}\n      binds:\n"
        "        - {name: b, host: h, port: 1, bind: tx, system_id: s, password: p}\n";
    auto e = only_error(load(p.yaml()));
    EXPECT_THAT(e.message, HasSubstr("no receiver or transceiver bind, so delivery receipts"));
    // Without receipts a transmitter alone is enough.
    p.carriers.insert(p.carriers.find("      binds:"), "      request_receipts: false\n");
    auto r = load(p.yaml());
    EXPECT_TRUE(r.ok()) << all_errors(r);
  }
  {
    parts p;
    p.carriers = "    - name: beta\n      sender: {addr: B}\n      binds: []\n";
    auto e = only_error(load(p.yaml()));
    EXPECT_THAT(e.message, HasSubstr("routing.carriers[1].binds: expected at least one bind"));
  }
}

TEST(config_loader, senders) {
  {
    parts p;
    p.carriers = carrier_yaml("beta").replace(carrier_yaml("beta").find("{addr: B}"), 9,
                                              "{addr: TWELVECHARSX}");
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "TWELVECHARSX");
    EXPECT_THAT(e.message, HasSubstr("cannot be an alphanumeric sender (TON 5)"));
    EXPECT_THAT(e.message, HasSubstr("at most 11"));
  }
  {
    parts p;
    p.carriers = carrier_yaml("beta").replace(carrier_yaml("beta").find("{addr: B}"), 9,
                                              "{addr: BRAND, ton: 1}");
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "BRAND, ton");
    EXPECT_THAT(e.message, HasSubstr("expected digits for TON 1"));
  }
  {
    parts p;
    p.carriers = carrier_yaml("beta").replace(carrier_yaml("beta").find("{addr: B}"), 9,
                                              "{addr: \"8077\", ton: 3, npi: 0}");
    auto r = load(p.yaml());
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config->routes.carriers[1].sender, (smpp::address{3, 0, "8077"}));
  }
}

TEST(config_loader, listeners) {
  {
    parts p;
    p.sections = "listeners:\n  - {address: localhost, port: 80}\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "localhost");
    EXPECT_THAT(e.message, HasSubstr("listeners[0].address: expected an IPv4 or IPv6 address"));
  }
  {
    parts p;
    p.sections =
        "listeners:\n  - {address: 127.0.0.1, port: 8080}\n  - {address: 0.0.0.0, port: 8080}\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "{address: 0.0.0.0");
    EXPECT_THAT(e.message, HasSubstr("overlaps the listener at line 7"));
  }
  {
    parts p;
    p.sections =
        "listeners:\n  - address: 127.0.0.1\n    tls:\n      certificate_file: "
        "/nonexistent/otpd/cert.pem\n";
    const std::string y = p.yaml();
    auto r = load(y);
    ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
    EXPECT_THAT(r.errors[0].message,
                HasSubstr("missing required key 'listeners[0].tls.private_key_file'"));
    EXPECT_EQ(r.errors[1].line, pos(y, "/nonexistent/otpd/cert.pem").line);
    EXPECT_THAT(r.errors[1].message, HasSubstr("listeners[0].tls.certificate_file: cannot read "
                                               "/nonexistent/otpd/cert.pem: No such file"));
  }
  {
    temp_file cert("PEM");
    parts p;
    p.sections = "listeners:\n  - address: 127.0.0.1\n    tls: {certificate_file: " + cert.path +
                 ", private_key_file: " + cert.path + "}\n";
    auto r = load(p.yaml());
    ASSERT_TRUE(r.ok()) << all_errors(r);
    ASSERT_TRUE(r.config->listeners[0].tls);
    EXPECT_EQ(r.config->listeners[0].tls->certificate_file, cert.path);
  }
}

TEST(config_loader, templates) {
  {
    parts p;
    p.sections = "templates:\n  sms:\n    vi: \"Ma cua ban\"\n";
    p.sections += "policy: {default_locale: vi}\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "\"Ma cua ban\"");
    EXPECT_THAT(e.message, HasSubstr("templates.sms.vi: the text has no {code} placeholder"));
  }
  {
    parts p;
    p.sections = "templates:\n  sms:\n    vi: \"Ma {code}, {minuts} phut\"\n";
    auto e = only_error(load(p.yaml()));
    EXPECT_THAT(e.message, HasSubstr("unknown placeholder {minuts}"));
  }
  {
    parts p;
    p.sections = "templates:\n  sms:\n    en: \"Code {code}\"\n";  // default_locale stays vi
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "sms:");
    EXPECT_THAT(e.message, HasSubstr("policy.default_locale: templates.sms has no text for 'vi' "
                                     "(it has: en)"));
  }
}

TEST(config_loader, number_plan) {
  parts p;
  p.sections = "number_plan: {default_country_code: \"084\", national_prefix: x, max_digits: 14}\n";
  const std::string y = p.yaml();
  auto r = load(y);
  ASSERT_EQ(r.errors.size(), 3u) << all_errors(r);
  EXPECT_EQ(r.errors[0].column, pos(y, "\"084\"").column);
  EXPECT_THAT(r.errors[0].message,
              HasSubstr("default_country_code: expected a country code of 1 to 3"));
  EXPECT_THAT(r.errors[1].message, HasSubstr("national_prefix: expected up to 3 digits"));
  EXPECT_THAT(r.errors[2].message, HasSubstr("exceed the 15 digits of an E.164 number"));
}

// ---- api keys and secrets: hashed, checked, never shown ------------------------------------

TEST(config_loader, api_key_in_plain_text_is_refused_without_showing_it) {
  {
    parts p;
    p.api_keys = "api_keys:\n  - my-plain-key-123456\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "my-plain");
    EXPECT_THAT(e.message, HasSubstr("api_keys[0]: a key written in plain text is refused"));
    EXPECT_THAT(e.message, Not(HasSubstr("my-plain-key")));
  }
  {
    parts p;
    p.api_keys = "api_keys:\n  - name: k\n    secret: my-plain-key-123456\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "my-plain");
    EXPECT_THAT(e.message,
                HasSubstr("api_keys[0].secret: a key written in the file itself is refused"));
    EXPECT_THAT(e.message, Not(HasSubstr("my-plain-key")));
  }
  {
    parts p;
    p.api_keys = "api_keys:\n  - name: k\n    sha256: my-plain-key-123456\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "my-plain");
    EXPECT_THAT(e.message, HasSubstr("api_keys[0].sha256: expected 64 hexadecimal digits"));
    EXPECT_THAT(e.message, Not(HasSubstr("my-plain-key")));
  }
  {
    parts p;
    p.api_keys = "api_keys:\n  - name: k\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "name: k");
    EXPECT_THAT(e.message, HasSubstr("missing required key 'api_keys[0].sha256'"));
  }
  {
    parts p;
    p.api_keys = "api_keys:\n  - {name: k, sha256: " + good_hash + ", secret: \"${env:K}\"}\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "secret:");
    EXPECT_THAT(e.message, HasSubstr("give either sha256 or secret, not both"));
  }
  {
    parts p;
    p.api_keys = "api_keys: []\n";
    auto e = only_error(load(p.yaml()));
    EXPECT_THAT(e.message, HasSubstr("api_keys: expected at least one key"));
  }
}

TEST(config_loader, a_secret_in_the_place_of_a_section_is_not_shown) {
  {
    parts p;
    p.secrets = "secrets: my-mac-key-in-the-wrong-place\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "my-mac-key");
    EXPECT_THAT(e.message, HasSubstr("secrets: expected a mapping"));
    EXPECT_THAT(e.message, HasSubstr("got a single value (not shown)"));
    EXPECT_THAT(e.message, Not(HasSubstr("my-mac-key")));
  }
  {
    parts p;
    p.api_keys = "api_keys: my-api-key-in-the-wrong-place\n";
    auto e = only_error(load(p.yaml()));
    EXPECT_THAT(e.message, HasSubstr("api_keys: expected a list of keys"));
    EXPECT_THAT(e.message, Not(HasSubstr("my-api-key")));
  }
  {
    parts p;
    p.sections = "webhooks: https://user:hunter2@hooks.example\n";
    auto e = only_error(load(p.yaml()));
    EXPECT_THAT(e.message, Not(HasSubstr("hunter2")));
  }
}

TEST(config_loader, api_key_secret_reference_is_hashed_at_load_time) {
  EXPECT_EQ(api_key_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
  EXPECT_EQ(api_key_sha256("sandbox-key"), good_hash);

  temp_file key("a-long-enough-backend-key\n");
  parts p;
  p.api_keys = "api_keys:\n  - name: bank\n    secret: ${file:" + key.path + "}\n" +
               "  - name: shop\n    sha256: " + std::string(64, 'A') + "\n";
  auto r = load(p.yaml());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->api_keys[0].sha256, api_key_sha256("a-long-enough-backend-key"));
  EXPECT_EQ(r.config->api_keys[1].sha256, std::string(64, 'a'));  // lowercased

  parts short_key;
  short_key.api_keys = "api_keys:\n  - name: bank\n    secret: ${env:KEY}\n";
  auto e = only_error(load(short_key.yaml(), with_env({{"KEY", "tiny-key"}})));
  EXPECT_THAT(e.message, HasSubstr("api_keys[0].secret: the value of ${env:KEY} is 8 bytes long; "
                                   "at least 16"));
  EXPECT_THAT(e.message, Not(HasSubstr("tiny-key")));
}

TEST(config_loader, secret_keys_are_checked_and_never_shown) {
  {
    parts p;
    p.secrets = "secrets:\n  code_mac_key: short-mac-key\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "short-mac-key");
    EXPECT_THAT(e.message,
                HasSubstr("secrets.code_mac_key: the value is 13 bytes long; at least 32"));
    EXPECT_THAT(e.message, Not(HasSubstr("short-mac-key")));
  }
  {
    parts p;
    p.secrets = "secrets:\n  code_mac_key: ${env:MAC}\n";
    auto e = only_error(load(p.yaml(), with_env({{"MAC", "env-short-mac"}})));
    EXPECT_THAT(e.message, HasSubstr("the value of ${env:MAC} is 13 bytes long"));
    EXPECT_THAT(e.message, Not(HasSubstr("env-short-mac")));
  }
  {
    // 64 hex digits are decoded; 32 bytes are taken as they are; anything else is refused.
    const std::string hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    parts p;
    p.secrets = "secrets:\n  code_mac_key: " + mac_key + "\n  code_seal_key: " + hex + "\n";
    auto r = load(p.yaml());
    ASSERT_TRUE(r.ok()) << all_errors(r);
    ASSERT_EQ(r.config->keys.code_seal_key.size(), 32u);
    for (std::size_t i = 0; i < 32; ++i) {
      EXPECT_EQ(static_cast<unsigned char>(r.config->keys.code_seal_key.view()[i]), i);
    }
    p.secrets = "secrets:\n  code_mac_key: " + mac_key +
                "\n  code_seal_key: seal-key-of-31-bytes-xxxxxxxxxx\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "seal-key-of");
    EXPECT_THAT(e.message, HasSubstr("secrets.code_seal_key: the value is 31 bytes long; expected "
                                     "a 32-byte AES-256-GCM key"));
    EXPECT_THAT(e.message, Not(HasSubstr("seal-key-of")));
  }
  {
    // Re-reading the same code needs the seal key.
    parts p;
    p.sections = "policy:\n  new_code_on_resend: false\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "false");
    EXPECT_THAT(e.message, HasSubstr("policy.new_code_on_resend: false re-reads the same code"));
    EXPECT_THAT(e.message, HasSubstr("secrets.code_seal_key"));
  }
}

TEST(config_loader, webhooks) {
  {
    parts p;
    p.sections = "webhooks: {url: \"ftp://user:hunter2@example\", secret: 0123456789abcdef}\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "\"ftp://");
    EXPECT_THAT(e.message, HasSubstr("webhooks.url: expected an http:// or https:// URL"));
    EXPECT_THAT(e.message, Not(HasSubstr("hunter2")));
  }
  {
    parts p;
    p.sections = "webhooks: {url: \"https://\", secret: 0123456789abcdef}\n";
    auto e = only_error(load(p.yaml()));
    EXPECT_THAT(e.message, HasSubstr("with a host"));
  }
  {
    parts p;
    p.sections = "webhooks:\n  url: https://hooks.example/otp\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "url:");
    EXPECT_THAT(e.message, HasSubstr("missing required key 'webhooks.secret'"));
  }
  {
    parts p;
    p.sections = "webhooks:\n  url: https://hooks.example/otp\n  secret: short\n";
    auto e = only_error(load(p.yaml()));
    EXPECT_THAT(e.message, HasSubstr("webhooks.secret: the value is 5 bytes long; at least 16"));
  }
}

// Link-local hosts (cloud metadata services) are refused when the URL names them literally;
// a name that resolves there is refused by the sender when it connects.
TEST(config_loader, webhook_urls_aimed_at_link_local_addresses) {
  for (const std::string url :
       {"http://169.254.169.254/latest/meta-data", "https://u:hunter2@169.254.0.1:8443/hook",
        "http://2852039166/", "http://[fe80::1]:8080/hook", "http://[fe80::a%25eth0]/",
        "http://[::ffff:169.254.169.254]/"}) {
    parts p;
    p.sections = "webhooks: {url: \"" + url + "\", secret: 0123456789abcdef}\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "\"http");
    EXPECT_THAT(e.message, HasSubstr("webhooks.url: the host is a link-local address")) << url;
    EXPECT_THAT(e.message, Not(HasSubstr("hunter2")));
  }
  for (const std::string url :
       {"http://169.253.1.1/", "http://[fec0::1]/", "http://169.254.example/",
        "https://hooks.example/169.254.169.254"}) {
    parts p;
    p.sections = "webhooks: {url: \"" + url + "\", secret: 0123456789abcdef}\n";
    auto r = load(p.yaml());
    EXPECT_TRUE(r.ok()) << url << ": " << all_errors(r);
  }
}

TEST(config_loader, codes_shorter_than_six_digits_need_allow_short_codes) {
  for (const char* length : {"4", "5"}) {
    parts p;
    p.sections = std::string("policy:\n  code_length: ") + length + "\n";
    const std::string y = p.yaml();
    auto e = only_error(load(y));
    const position at = pos(y, std::string("code_length: ") + length);  // the value, after it
    EXPECT_EQ(e.line, at.line);
    EXPECT_EQ(e.column, at.column + 13);
    EXPECT_THAT(e.message, HasSubstr(std::string("policy.code_length: ") + length +
                                     " digits is below the minimum of 6"));
    EXPECT_THAT(e.message, HasSubstr("NIST SP 800-63B-4"));
    EXPECT_THAT(e.message, HasSubstr("policy.allow_short_codes: true"));
  }
  {
    parts p;
    p.sections = "policy:\n  code_length: 5\n  allow_short_codes: true\n";
    const std::string y = p.yaml();
    auto r = load(y);
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config->policy.code_length, 5);
    EXPECT_TRUE(r.config->policy.allow_short_codes);
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_EQ(r.warnings[0].line, pos(y, "code_length: 5").line);
    EXPECT_THAT(r.warnings[0].message,
                HasSubstr("policy.code_length: 5-digit codes are allowed by "
                          "policy.allow_short_codes; NIST SP 800-63B-4 asks for at least 6"));
    // --check-config: the warning, then OK.
    EXPECT_EQ(check_config_report(r), "otpd.yaml:" + std::to_string(r.warnings[0].line) + ":" +
                                          std::to_string(r.warnings[0].column) +
                                          ": warning: " + r.warnings[0].message + "\nOK\n");
  }
  {
    // Six digits or more need nothing and warn about nothing, allowed or not.
    parts p;
    p.sections = "policy:\n  code_length: 6\n  allow_short_codes: true\n";
    auto r = load(p.yaml());
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_TRUE(r.warnings.empty());
    EXPECT_EQ(check_config_report(r), "OK\n");
  }
  {
    parts p;
    p.sections = "policy:\n  allow_short_codes: maybe\n";
    const std::string y = p.yaml();
    auto e = only_error_at(load(y), y, "maybe");
    EXPECT_THAT(e.message, HasSubstr("policy.allow_short_codes"));
  }
}

TEST(config_loader, store) {
  parts p;
  p.sections = "store: {kind: redis}\n";
  const std::string y = p.yaml();
  auto e = only_error_at(load(y), y, "redis");
  EXPECT_THAT(e.message, HasSubstr("store.kind: Redis is not supported"));
  EXPECT_THAT(e.message, HasSubstr("sqlite (one node) and postgres"));
  p.sections = "store:\n  redis_url: \"redis://:pw@h:6379/0\"\n";
  const std::string url = p.yaml();
  e = only_error_at(load(url), url, "\"redis://");
  EXPECT_THAT(e.message, HasSubstr("store.redis_url: Redis is not supported"));
}

// ---- references ----------------------------------------------------------------------------

TEST(config_loader, env_references_for_any_value) {
  parts p;
  p.carriers =
      "    - name: beta\n      sender: {addr: \"${env:SENDER}\"}\n      binds:\n"
      "        - name: beta-trx\n          host: ${env:HOST}\n          port: ${env:PORT}\n"
      "          bind: trx\n          system_id: s\n          password: ${env:PW}\n";
  const std::string y = p.yaml();
  auto r = load(
      y, with_env({{"SENDER", "BETA"}, {"HOST", "10.0.0.1"}, {"PORT", "2776"}, {"PW", "envpw"}}));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const carrier& beta = r.config->routes.carriers[1];
  EXPECT_EQ(beta.sender.addr, "BETA");
  EXPECT_EQ(beta.binds[0].session.endpoint.host, "10.0.0.1");
  EXPECT_EQ(beta.binds[0].session.endpoint.port, 2776);
  EXPECT_EQ(beta.binds[0].session.smpp.password, "envpw");

  // A missing variable, and one that is not what the key expects.
  auto bad = load(y, with_env({{"SENDER", "BETA"}, {"HOST", "10.0.0.1"}, {"PORT", "x27"}}));
  ASSERT_EQ(bad.errors.size(), 2u) << all_errors(bad);
  EXPECT_EQ(bad.errors[0].line, pos(y, "${env:PORT}").line);
  EXPECT_EQ(bad.errors[0].column, pos(y, "${env:PORT}").column);
  EXPECT_THAT(bad.errors[0].message,
              HasSubstr("routing.carriers[1].binds[0].port: expected an integer from 1 to 65535, "
                        "got 'x27' (from ${env:PORT})"));
  EXPECT_EQ(bad.errors[1].line, pos(y, "${env:PW}").line);
  EXPECT_EQ(bad.errors[1].column, pos(y, "${env:PW}").column);
  EXPECT_THAT(bad.errors[1].message, HasSubstr("routing.carriers[1].binds[0].password: environment "
                                               "variable PW (from ${env:PW}) is not set"));
}

TEST(config_loader, file_references_and_unreadable_files) {
  temp_file key(mac_key + "\n");  // a credential file ends with a newline that is not the key
  parts p;
  p.secrets = "secrets:\n  code_mac_key: ${file:" + key.path + "}\n";
  auto r = load(p.yaml());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->keys.code_mac_key, mac_key);

  parts missing;
  missing.secrets = "secrets:\n  code_mac_key: ${file:/nonexistent/otpd/mac}\n";
  const std::string y = missing.yaml();
  auto e = only_error_at(load(y), y, "${file:");
  EXPECT_THAT(e.message, HasSubstr("secrets.code_mac_key: cannot read /nonexistent/otpd/mac (from "
                                   "${file:/nonexistent/otpd/mac}): No such file or directory"));

  parts unknown;
  unknown.secrets = "secrets:\n  code_mac_key: ${vault:otpd/mac}\n";
  EXPECT_THAT(
      only_error(load(unknown.yaml())).message,
      HasSubstr("unknown reference ${vault:otpd/mac}; expected ${env:NAME} or ${file:/path}"));

  // A hook stands in for the file system.
  load_options o;
  std::vector<std::string> asked;
  o.read_file = [&](const std::filesystem::path& path) -> std::optional<std::string> {
    asked.push_back(path.string());
    return mac_key;
  };
  parts hooked;
  hooked.secrets = "secrets:\n  code_mac_key: ${file:keys/mac}\n";
  o.base_directory = "/etc/otpd";
  auto r2 = load(hooked.yaml(), o);
  ASSERT_TRUE(r2.ok()) << all_errors(r2);
  EXPECT_THAT(asked, ElementsAre("/etc/otpd/keys/mac"));  // relative to the base directory
}

TEST(config_loader, file_relative_references_follow_the_config_file) {
  temp_file key(mac_key);
  parts p;
  p.secrets =
      "secrets:\n  code_mac_key: ${file:" + std::filesystem::path(key.path).filename().string() +
      "}\n";
  temp_file cfg(p.yaml());
  auto r = load_config_file(cfg.path);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->keys.code_mac_key, mac_key);
  EXPECT_EQ(r.config->source, cfg.path);

  auto none = load_config_file("/nonexistent/otpd.yaml");
  const config_error e = only_error(none);
  EXPECT_EQ(to_string(e), "/nonexistent/otpd.yaml: cannot read: No such file or directory");
}

TEST(config_loader, process_core_dumps_is_off_unless_asked) {
  parts p;
  auto r = load(p.yaml());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_FALSE(r.config->proc.core_dumps);
  p.sections = "process:\n  core_dumps: true\n";
  r = load(p.yaml());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_TRUE(r.config->proc.core_dumps);
  p.sections = "process:\n  core_dump: true\n";
  EXPECT_THAT(only_error(load(p.yaml())).message, HasSubstr("core_dump"));
}

TEST(config_loader, process_shutdown_drain_defaults_to_twenty_seconds_and_is_bounded) {
  parts p;
  auto r = load(p.yaml());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->proc.shutdown_drain, std::chrono::seconds(20));
  p.sections = "process:\n  shutdown_drain: 1500ms\n";
  r = load(p.yaml());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->proc.shutdown_drain, std::chrono::milliseconds(1500));
  p.sections = "process:\n  shutdown_drain: 0s\n";
  r = load(p.yaml());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->proc.shutdown_drain, std::chrono::milliseconds(0));
  p.sections = "process:\n  shutdown_drain: 11m\n";
  EXPECT_THAT(only_error(load(p.yaml())).message, HasSubstr("process.shutdown_drain"));
}

TEST(config_loader, files_others_may_write_are_refused) {
  // A ${file:} secret its group may write: whoever can write it can swap the key.
  temp_file key(mac_key);
  ASSERT_EQ(::chmod(key.path.c_str(), 0620), 0);
  parts p;
  p.secrets = "secrets:\n  code_mac_key: ${file:" + key.path + "}\n";
  temp_file cfg(p.yaml());
  ASSERT_EQ(::chmod(cfg.path.c_str(), 0600), 0);
  auto r = load_config_file(cfg.path);
  EXPECT_THAT(only_error(r).message,
              HasSubstr("cannot read " + key.path + " (from ${file:" + key.path +
                        "}): writable by its group or by others (mode 0620); otpd refuses it: "
                        "chmod go-w " +
                        key.path));

  // The configuration file itself, writable by others.
  ASSERT_EQ(::chmod(key.path.c_str(), 0600), 0);
  ASSERT_TRUE(load_config_file(cfg.path).ok());
  ASSERT_EQ(::chmod(cfg.path.c_str(), 0646), 0);
  const config_error e = only_error(load_config_file(cfg.path));
  EXPECT_EQ(e.line, 0u);
  EXPECT_THAT(e.message, HasSubstr("cannot read: writable by its group or by others (mode 0646)"));
}

// ---- all at once, and the report -----------------------------------------------------------

TEST(config_loader, several_errors_at_once_in_file_order) {
  const std::string y = R"(listeners:
  - {address: 127.0.0.1, port: 99999}
api_keys:
  - name: backend
    sha256: nothex
policy:
  code_length: 12
  ttl: 20m
secrets:
  code_mac_key: tooshort
routing:
  carriers:
    - name: viettel
      prefixes: ["086"]
      sender: {addr: BRAND}
      failover: [nobody]
      binds:
        - {name: v1, host: h, port: 1, bind: trx, system_id: s, password: toolongpassword}
logging: {format: xml}
extra: 1
)";
  auto r = load(y);
  EXPECT_FALSE(r.config);
  const std::vector<std::pair<std::size_t, std::string>> expected = {
      {2, "listeners[0].port"},         {5, "api_keys[0].sha256"},
      {7, "policy.code_length"},        {8, "policy.ttl"},
      {10, "secrets.code_mac_key"},     {14, "prefixes[0]"},
      {16, "unknown carrier 'nobody'"}, {18, "binds[0].password"},
      {19, "logging.format"},           {20, "unknown key 'extra'"},
  };
  ASSERT_EQ(r.errors.size(), expected.size()) << all_errors(r);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r.errors[i].line, expected[i].first) << to_string(r.errors[i]);
    EXPECT_THAT(r.errors[i].message, HasSubstr(expected[i].second));
    EXPECT_EQ(r.errors[i].file, "otpd.yaml");
  }
  // None of the secrets appears.
  const std::string report = check_config_report(r);
  EXPECT_THAT(report, Not(HasSubstr("tooshort")));
  EXPECT_THAT(report, Not(HasSubstr("toolongpassword")));
}

TEST(config_loader, check_config_report) {
  EXPECT_EQ(check_config_report(load(parts{}.yaml())), "OK\n");

  parts p;
  p.sections = "policy: {code_length: 3, max_checks: 0}\n";
  auto r = load(p.yaml());
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(check_config_report(r), to_string(r.errors[0]) + "\n" + to_string(r.errors[1]) + "\n");
  EXPECT_EQ(
      check_config_report(r).rfind("otpd.yaml:6:23: policy.code_length: 3 is out of range", 0), 0u)
      << check_config_report(r);

  auto syntax = load("api_keys: [\n");
  const config_error e = only_error(syntax);
  EXPECT_GT(e.line, 0u);
  EXPECT_THAT(check_config_report(syntax), HasSubstr("YAML syntax error"));
}

// ---- the shipped files ---------------------------------------------------------------------

const std::filesystem::path source_dir = OTPD_SOURCE_DIR;

TEST(config_files, example_loads_with_its_credentials) {
  // Stands in for /run/credentials/otpd.service/... and the other files the example names.
  std::vector<std::string> asked;
  load_options o;
  o.read_file = [&](const std::filesystem::path& p) -> std::optional<std::string> {
    asked.push_back(p.string());
    const std::string name = p.filename().string();
    if (name.ends_with("-smpp-password")) return "smpp-pw\n";
    if (name.starts_with("code_")) return std::string(64, 'c') + "\n";
    return "credential-of-thirty-two-bytes-x\n";
  };
  auto r = load_config_file(source_dir / "config/otpd.example.yaml", o);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const config& c = *r.config;
  EXPECT_THAT(asked, ::testing::Contains("/run/credentials/otpd.service/code_mac_key"));
  EXPECT_THAT(asked, ::testing::Contains("/etc/otpd/tls/fullchain.pem"));

  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_TRUE(c.listeners[1].tls);
  ASSERT_EQ(c.api_keys.size(), 2u);
  EXPECT_EQ(c.api_keys[1].sha256, api_key_sha256("credential-of-thirty-two-bytes-x"));
  EXPECT_EQ(c.keys.code_seal_key, std::string(32, '\xcc'));
  EXPECT_EQ(c.routes.ported_numbers_file, "/var/lib/otpd/ported-numbers.csv");

  std::vector<std::string> names;
  for (const carrier& k : c.routes.carriers) names.push_back(k.name);
  EXPECT_THAT(names, ElementsAre("viettel", "vinaphone", "mobifone", "vietnamobile", "gmobile",
                                 "itel", "wintel"));
  const carrier& viettel = c.routes.carriers[0];
  EXPECT_EQ(viettel.prefixes.size(), 12u);
  EXPECT_EQ(viettel.sender, (smpp::address{5, 0, "MYBRAND"}));
  EXPECT_THAT(viettel.failover, ElementsAre("vinaphone", "mobifone"));
  ASSERT_EQ(viettel.binds.size(), 2u);
  EXPECT_EQ(viettel.binds[0].session.smpp.type, smpp::bind_type::transmitter);
  EXPECT_EQ(viettel.binds[1].session.smpp.type, smpp::bind_type::receiver);
  EXPECT_EQ(viettel.binds[0].session.smpp.password, "smpp-pw");
  // The carrier's GSM-7 with transliteration, and the bind's own max_parts.
  EXPECT_EQ(viettel.binds[0].text.encoding.policy, smpp::text::coding_policy::gsm7);
  EXPECT_TRUE(viettel.binds[0].text.encoding.transliterate);
  EXPECT_EQ(viettel.binds[0].text.split.max_parts, 5u);
  EXPECT_EQ(viettel.binds[1].text.split.max_parts, 10u);
  for (const carrier& k : c.routes.carriers) {
    EXPECT_EQ(k.sender.ton, 5) << k.name;
    EXPECT_EQ(k.sender.npi, 0) << k.name;
    EXPECT_FALSE(k.failover.empty()) << k.name;
    EXPECT_FALSE(k.prefixes.empty()) << k.name;
  }
  EXPECT_EQ(c.text.sms.count("vi"), 1u);
}

TEST(config_files, example_documents_every_key_with_a_comment) {
  std::ifstream in(source_dir / "config/otpd.example.yaml");
  ASSERT_TRUE(in);
  std::string line, previous;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string_view s(line);
    s.remove_prefix(std::min(s.find_first_not_of(' '), s.size()));
    if (s.starts_with("- ")) s.remove_prefix(2);
    const std::size_t colon = s.find(':');
    const bool key_line =
        colon != std::string_view::npos && colon > 0 &&
        std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(colon),
                    [](char ch) { return (ch >= 'a' && ch <= 'z') || ch == '_'; });
    const std::string_view prev = std::string_view(previous).substr(
        std::min(previous.find_first_not_of(' '), previous.size()));
    if (key_line) {
      EXPECT_TRUE(line.find('#') != std::string::npos || prev.starts_with("#"))
          << "line " << n << " has no comment: " << line;
    }
    if (!line.empty()) previous = line;
  }
}

TEST(config_files, sandbox_loads_with_the_run_script_variables) {
  const auto env = with_env({{"OTPD_SANDBOX_SMSC_PORT", "40123"},
                             {"OTPD_SANDBOX_SMSC_PASSWORD", "sbx1234"},
                             {"OTPD_SANDBOX_CODE_MAC_KEY", std::string(64, 'f')},
                             {"OTPD_SANDBOX_SIP_URI", "sip:127.0.0.1:5062"}});
  auto r = load_config_file(source_dir / "config/sandbox.yaml", env);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const config& c = *r.config;
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].address, "127.0.0.1");
  EXPECT_EQ(c.listeners[0].port, 8080);
  ASSERT_EQ(c.api_keys.size(), 1u);
  EXPECT_EQ(c.api_keys[0].sha256, api_key_sha256("sandbox-key"));
  EXPECT_EQ(c.state.kind, store_kind::sqlite);
  EXPECT_EQ(c.state.sqlite_path, "./state/otpd.db");
  EXPECT_FALSE(c.test.controllable_clock);
  EXPECT_EQ(c.keys.code_mac_key, std::string(64, 'f'));
  ASSERT_EQ(c.routes.carriers.size(), 1u);
  const carrier& s = c.routes.carriers[0];
  EXPECT_EQ(s.name, "sandbox");
  EXPECT_THAT(s.prefixes, ElementsAre("84"));
  ASSERT_EQ(s.binds.size(), 1u);
  EXPECT_EQ(s.binds[0].session.smpp.type, smpp::bind_type::transceiver);
  EXPECT_EQ(s.binds[0].session.endpoint.host, "127.0.0.1");
  EXPECT_EQ(s.binds[0].session.endpoint.port, 40123);
  ASSERT_EQ(c.calls.trunks.size(), 1u);
  EXPECT_EQ(c.calls.trunks[0].uri, "sip:127.0.0.1:5062");
  EXPECT_EQ(c.calls.trunks[0].number_format, "e164");
  EXPECT_EQ(s.binds[0].session.smpp.system_id, "otpd");
  EXPECT_EQ(s.binds[0].session.smpp.password, "sbx1234");

  // Without the variables, each is named.
  auto bare = load_config_file(source_dir / "config/sandbox.yaml", with_env({}));
  ASSERT_EQ(bare.errors.size(), 4u) << all_errors(bare);
  EXPECT_THAT(bare.errors[0].message, HasSubstr("OTPD_SANDBOX_SMSC_PORT"));
  EXPECT_THAT(bare.errors[1].message, HasSubstr("OTPD_SANDBOX_SMSC_PASSWORD"));
  EXPECT_THAT(bare.errors[2].message, HasSubstr("OTPD_SANDBOX_SIP_URI"));
  EXPECT_THAT(bare.errors[3].message, HasSubstr("OTPD_SANDBOX_CODE_MAC_KEY"));
}

TEST(config_loader, voice_trunks_and_prompts) {
  parts p;
  p.sections = R"(voice:
  repeats: 3
  digit_pause: 400ms
  replay_key: "#"
  words_per_minute: 120
  rate_wait: 2500ms
  trunks:
    - name: carrier-sip
      uri: sip:127.0.0.1:5070;transport=tcp
      username: otpd
      password: ${env:OTPD_TEST_TRUNK_PASSWORD}
      caller_id: "1900"
      number_format: national
      max_calls: 50
      calls_per_second: 2.5
      priority: 1
      ring_timeout: 20s
    - name: backup
      uri: sip:127.0.0.2
)";
  ::setenv("OTPD_TEST_TRUNK_PASSWORD", "trunk-secret", 1);
  const std::string y = p.yaml();
  auto r = load(y);
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().message;
  const auto& v = r.config->calls;
  EXPECT_EQ(v.repeats, 3);
  EXPECT_EQ(v.digit_pause, std::chrono::milliseconds(400));
  EXPECT_EQ(v.replay_key, '#');
  EXPECT_EQ(v.words_per_minute, 120);
  EXPECT_EQ(v.rate_wait, std::chrono::milliseconds(2500));
  ASSERT_EQ(v.trunks.size(), 2u);
  const auto& t = v.trunks[0];
  EXPECT_EQ(t.name, "carrier-sip");
  EXPECT_EQ(t.transport, "tcp");  // from the URI
  EXPECT_EQ(t.password, "trunk-secret");
  EXPECT_EQ(t.caller_id, "1900");
  EXPECT_EQ(t.number_format, "national");
  EXPECT_EQ(t.max_calls, 50);
  EXPECT_DOUBLE_EQ(t.calls_per_second, 2.5);
  EXPECT_EQ(t.priority, 1);
  EXPECT_EQ(t.ring_timeout, std::chrono::seconds(20));
  EXPECT_EQ(v.trunks[1].transport, "udp");
  EXPECT_EQ(v.trunks[1].ring_timeout, std::chrono::seconds(30));
}

TEST(config_loader, voice_errors_name_the_key_and_never_show_the_password) {
  parts p;
  p.sections = R"(voice:
  replay_key: "**"
  rate_wait: 30s
  trunks:
    - name: a
      uri: sip:user@host
      password: hunter22
    - name: a
      uri: sip:10.0.0.1
      local_address: 0.0.0.0
)";
  const std::string y = p.yaml();
  auto r = load(y);
  std::string all;
  for (const auto& e : r.errors) all += e.message + "\n";
  EXPECT_THAT(all, HasSubstr("voice.replay_key: expected one of 0-9, * or #"));
  EXPECT_THAT(all, HasSubstr("voice.trunks[0].uri: expected sip:host"));
  EXPECT_THAT(all, HasSubstr("missing required key 'voice.trunks[0].username'"));
  EXPECT_THAT(all, HasSubstr("voice.trunks[1].name: trunk 'a' is already defined at line"));
  EXPECT_THAT(all, HasSubstr("voice.trunks[1].local_address: expected the IP address"));
  EXPECT_THAT(all, HasSubstr("voice.rate_wait"));
  EXPECT_THAT(all, Not(HasSubstr("hunter22")));
  EXPECT_EQ(r.errors.size(), 6u) << all;
}

TEST(config_loader, trunk_media_networks_are_cidrs_of_either_family) {
  parts p;
  p.sections = R"(voice:
  trunks:
    - name: carrier
      uri: sip:198.51.100.10
      media_networks: [203.0.113.0/24, 198.51.100.7, 2001:db8:1::/48, 0.0.0.0/0]
    - name: backup
      uri: sip:198.51.100.20
)";
  auto r = load(p.yaml());
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  const auto& t = r.config->calls.trunks;
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].media_networks, (std::vector<std::string>{"203.0.113.0/24", "198.51.100.7",
                                                           "2001:db8:1::/48", "0.0.0.0/0"}));
  EXPECT_TRUE(t[1].media_networks.empty());  // the next hop's address
}

TEST(config_loader, a_bad_media_network_is_refused_where_it_is_written) {
  const std::pair<std::string, std::string> cases[] = {
      {"10.1.0.0/8", "bits are set past the prefix length (the network is 10.0.0.0/8)"},
      {"10.0.0.0/33", "the prefix length must be 0 to 32"},
      {"2001:db8::/129", "the prefix length must be 0 to 128"},
      {"media.carrier.example", "not an IPv4 or IPv6 address"},
      {"10.0.0.0/x", "the prefix length must be 0 to 32"},
  };
  for (const auto& [bad, why] : cases) {
    parts p;
    p.sections =
        "voice:\n  trunks:\n    - name: carrier\n      uri: sip:198.51.100.10\n"
        "      media_networks: [203.0.113.0/24, " +
        bad + "]\n";
    const std::string y = p.yaml();
    const config_error e = only_error_at(load(y), y, bad + "]");
    EXPECT_THAT(e.message, HasSubstr("voice.trunks[0].media_networks[1]: expected a network"));
    EXPECT_THAT(e.message, HasSubstr("'" + bad + "': " + why)) << e.message;
  }
  // An empty list would leave the trunk no media at all; a scalar is not a list.
  parts empty;
  empty.sections =
      "voice:\n  trunks:\n    - name: c\n      uri: sip:198.51.100.10\n      media_networks: []\n";
  const std::string ey = empty.yaml();
  EXPECT_THAT(only_error_at(load(ey), ey, "[]").message,
              HasSubstr("voice.trunks[0].media_networks: expected at least one network"));
  parts scalar;
  scalar.sections =
      "voice:\n  trunks:\n    - name: c\n      uri: sip:198.51.100.10\n"
      "      media_networks: 203.0.113.0/24\n";
  const std::string sy = scalar.yaml();
  EXPECT_THAT(only_error_at(load(sy), sy, "203.0.113.0/24").message,
              HasSubstr("voice.trunks[0].media_networks: expected a list of networks"));
}

}  // namespace
}  // namespace otpd::config
