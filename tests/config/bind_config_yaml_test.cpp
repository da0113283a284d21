// The bind-snippet loader: a good snippet in full, then each kind of error with the line and
// column it must point at, password references, and several errors reported together.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "config/bind_config_yaml.hpp"

namespace otpd::config {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

const char* const good_snippet = R"(name: viettel-trx-1
host: 127.0.0.1
port: 2775
tls: {enabled: false, ca_file: /nonexistent/ca.pem, verify: true, server_name: smsc.example}
bind: transceiver        # transmitter | receiver | transceiver
system_id: otpd
password: ${env:SMPP_PASSWORD}
system_type: ""
window: 10
tps: 0                   # 0 = unlimited
timeouts: {connect: 10s, bind: 10s, response: 500ms, enquire_link: 2m}
reconnect: {initial: 1s, max: 60s}
text: {coding: auto, transliterate: false, concat: udh8, packed: false, max_parts: 10}
)";

load_options with_env(std::map<std::string, std::string> env) {
  load_options o;
  o.getenv = [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return o;
}

// The one error of a snippet; fails the test when there is not exactly one.
config_error only_error(const bind_config_result& r) {
  EXPECT_EQ(r.errors.size(), 1u);
  if (r.errors.size() != 1) {
    for (const auto& e : r.errors) ADD_FAILURE() << "error: " << to_string(e);
  }
  return r.errors.empty() ? config_error{} : r.errors.front();
}

// A minimal valid snippet with `extra` appended (a later key of the same name would be a
// duplicate, so tests append only keys not present here).
std::string minimal(std::string_view extra = {}) {
  return "name: b\nhost: h\nport: 2775\nbind: trx\nsystem_id: otpd\npassword: pw\n" +
         std::string(extra);
}

// A temporary file removed at the end of the test.
struct temp_file {
  explicit temp_file(std::string_view content) {
    char tmpl[] = "/tmp/otpd_config_test_XXXXXX";
    const int fd = ::mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path = tmpl;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~temp_file() { std::remove(path.c_str()); }
  std::string path;
};

TEST(bind_config_yaml, good_snippet_fills_every_field) {
  auto r = load_bind_config(good_snippet, "bind.yaml", with_env({{"SMPP_PASSWORD", "s3cret"}}));
  for (const auto& e : r.errors) ADD_FAILURE() << to_string(e);
  ASSERT_TRUE(r.ok());
  const smpp::bind_config& b = *r.config;
  EXPECT_EQ(b.session.name, "viettel-trx-1");
  EXPECT_EQ(b.session.endpoint.host, "127.0.0.1");
  EXPECT_EQ(b.session.endpoint.port, 2775);
  EXPECT_FALSE(b.session.endpoint.tls);
  EXPECT_TRUE(b.session.endpoint.verify_peer);
  EXPECT_EQ(b.session.endpoint.ca_file, "/nonexistent/ca.pem");  // not checked: TLS is off
  EXPECT_EQ(b.session.endpoint.tls_server_name, "smsc.example");
  EXPECT_EQ(b.session.endpoint.connect_timeout, 10s);
  EXPECT_EQ(b.session.smpp.type, smpp::bind_type::transceiver);
  EXPECT_EQ(b.session.smpp.system_id, "otpd");
  EXPECT_EQ(b.session.smpp.password, "s3cret");
  EXPECT_EQ(b.session.smpp.system_type, "");
  EXPECT_EQ(b.session.smpp.window, 10u);
  EXPECT_EQ(b.session.smpp.flow.max_tps, 0.0);
  EXPECT_EQ(b.session.smpp.bind_timeout, 10s);
  EXPECT_EQ(b.session.smpp.response_timeout, 500ms);
  EXPECT_EQ(b.session.smpp.enquire_link_interval, 2min);
  EXPECT_EQ(b.session.reconnect.initial_delay, 1s);
  EXPECT_EQ(b.session.reconnect.max_delay, 60s);
  EXPECT_EQ(b.text.encoding.policy, smpp::text::coding_policy::auto_select);
  EXPECT_FALSE(b.text.encoding.transliterate);
  EXPECT_EQ(b.text.split.method, smpp::text::concat_method::udh8);
  EXPECT_EQ(b.text.split.packing, smpp::text::gsm7_packing::unpacked);
  EXPECT_EQ(b.text.split.max_parts, 10u);
}

TEST(bind_config_yaml, block_style_and_other_values) {
  auto r = load_bind_config(minimal("tps: 12.5\nwindow: 1\n"
                                    "text:\n  coding: ucs2\n  transliterate: true\n"
                                    "  concat: sar\n  packed: true\n  max_parts: 255\n"
                                    "timeouts:\n  enquire_link: 0s\n"),
                            "b.yaml");
  ASSERT_TRUE(r.ok()) << to_string(r.errors.front());
  const smpp::bind_config& b = *r.config;
  EXPECT_EQ(b.session.smpp.type, smpp::bind_type::transceiver);  // "trx" accepted
  EXPECT_EQ(b.session.smpp.password, "pw");                      // a literal
  EXPECT_EQ(b.session.smpp.flow.max_tps, 12.5);
  EXPECT_EQ(b.text.encoding.policy, smpp::text::coding_policy::ucs2);
  EXPECT_TRUE(b.text.encoding.transliterate);
  EXPECT_EQ(b.text.split.method, smpp::text::concat_method::sar);
  EXPECT_EQ(b.text.split.packing, smpp::text::gsm7_packing::packed);
  EXPECT_EQ(b.text.split.max_parts, 255u);
  EXPECT_EQ(b.session.smpp.enquire_link_interval, 0s);
}

TEST(bind_config_yaml, unknown_key_names_its_place_and_suggests) {
  auto r = load_bind_config(minimal("windw: 10\n"), "b.yaml");
  const config_error e = only_error(r);
  EXPECT_EQ(e.file, "b.yaml");
  EXPECT_EQ(e.line, 7u);
  EXPECT_EQ(e.column, 1u);
  EXPECT_THAT(e.message, HasSubstr("unknown key 'windw'"));
  EXPECT_THAT(e.message, HasSubstr("did you mean 'window'"));
  EXPECT_EQ(to_string(e).rfind("b.yaml:7:1: unknown key", 0), 0u) << to_string(e);
}

TEST(bind_config_yaml, unknown_nested_key) {
  auto r = load_bind_config(minimal("timeouts: {connect: 1s, respons: 2s}\n"), "b.yaml");
  const config_error e = only_error(r);
  EXPECT_EQ(e.line, 7u);
  EXPECT_EQ(e.column, 25u);
  EXPECT_THAT(e.message, HasSubstr("unknown key 'timeouts.respons'"));
  EXPECT_THAT(e.message, HasSubstr("did you mean 'timeouts.response'"));
}

TEST(bind_config_yaml, wrong_types) {
  {
    auto r = load_bind_config(minimal("window: ten\n"), "b.yaml");
    const config_error e = only_error(r);
    EXPECT_EQ(e.line, 7u);
    EXPECT_EQ(e.column, 9u);
    EXPECT_THAT(e.message, HasSubstr("window: expected an integer from 1 to 1000, got 'ten'"));
  }
  {
    auto r = load_bind_config(minimal("tls: yes\n"), "b.yaml");
    const config_error e = only_error(r);
    EXPECT_EQ(e.line, 7u);
    EXPECT_EQ(e.column, 6u);
    EXPECT_THAT(e.message, HasSubstr("tls: expected a mapping"));
  }
  {
    auto r = load_bind_config(minimal("text:\n  transliterate: maybe\n"), "b.yaml");
    const config_error e = only_error(r);
    EXPECT_EQ(e.line, 8u);
    EXPECT_EQ(e.column, 18u);
    EXPECT_THAT(e.message, HasSubstr("text.transliterate: expected true or false, got 'maybe'"));
  }
  {
    auto r = load_bind_config(minimal("timeouts: {bind: 10}\n"), "b.yaml");
    const config_error e = only_error(r);
    EXPECT_EQ(e.line, 7u);
    EXPECT_EQ(e.column, 18u);
    EXPECT_THAT(e.message,
                HasSubstr("timeouts.bind: expected a duration such as 500ms, 10s or 2m"));
  }
  {
    auto r = load_bind_config(minimal("system_type: [a, b]\n"), "b.yaml");
    const config_error e = only_error(r);
    EXPECT_EQ(e.line, 7u);
    EXPECT_THAT(e.message, HasSubstr("system_type: expected a string, got a list"));
  }
  {
    auto r = load_bind_config(minimal("text: {coding: utf8}\n"), "b.yaml");
    const config_error e = only_error(r);
    EXPECT_THAT(e.message,
                HasSubstr("text.coding: expected auto, gsm7, latin1 or ucs2, got 'utf8'"));
  }
  {
    auto r = load_bind_config(
        "name: b\nhost: h\nport: 2775\nbind: tx-ish\nsystem_id: otpd\n"
        "password: pw\n",
        "b.yaml");
    const config_error e = only_error(r);
    EXPECT_EQ(e.line, 4u);
    EXPECT_EQ(e.column, 7u);
    EXPECT_THAT(e.message, HasSubstr("bind: expected transmitter, receiver or transceiver"));
  }
}

TEST(bind_config_yaml, out_of_range_values) {
  {
    auto r = load_bind_config(
        "name: b\nhost: h\nport: 70000\nbind: trx\nsystem_id: otpd\n"
        "password: pw\n",
        "b.yaml");
    const config_error e = only_error(r);
    EXPECT_EQ(e.line, 3u);
    EXPECT_EQ(e.column, 7u);
    EXPECT_THAT(e.message,
                HasSubstr("port: 70000 is out of range; expected an integer from 1 to 65535"));
  }
  {
    auto r = load_bind_config(minimal("text: {max_parts: 0}\n"), "b.yaml");
    const config_error e = only_error(r);
    EXPECT_THAT(e.message, HasSubstr("text.max_parts: 0 is out of range"));
  }
  {
    auto r = load_bind_config(minimal("timeouts: {response: 0s}\n"), "b.yaml");
    const config_error e = only_error(r);
    EXPECT_THAT(e.message,
                HasSubstr("timeouts.response: 0s is out of range; expected from 1ms to 1h"));
  }
  {
    auto r = load_bind_config(minimal("reconnect: {initial: 5s, max: 1s}\n"), "b.yaml");
    const config_error e = only_error(r);
    EXPECT_EQ(e.column, 31u);
    EXPECT_THAT(e.message, HasSubstr("reconnect.max: 1s is shorter than reconnect.initial (5s)"));
  }
  {
    auto r = load_bind_config(
        "name: b\nhost: h\nport: 1\nbind: trx\n"
        "system_id: a-very-long-system-id\npassword: pw\n",
        "b.yaml");
    const config_error e = only_error(r);
    EXPECT_EQ(e.line, 5u);
    EXPECT_THAT(e.message, HasSubstr("at most 15"));
  }
  {
    auto r = load_bind_config(minimal("tps: -1\n"), "b.yaml");
    const config_error e = only_error(r);
    EXPECT_THAT(e.message, HasSubstr("tps: -1 is out of range"));
  }
}

TEST(bind_config_yaml, missing_required_keys) {
  auto r = load_bind_config("name: b\nhost: h\nbind: trx\nsystem_id: otpd\n", "b.yaml");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.errors[0].line, 1u);
  EXPECT_EQ(r.errors[0].column, 1u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("missing required key 'port'"));
  EXPECT_THAT(r.errors[1].message, HasSubstr("missing required key 'password'"));

  // Keys the caller supplies itself (the CLI's flags) may be left out.
  load_options o;
  o.supplied_keys = {"port", "password"};
  auto r2 = load_bind_config("name: b\nhost: h\nbind: trx\nsystem_id: otpd\n", "b.yaml", o);
  EXPECT_TRUE(r2.ok());

  // A supplied password is not resolved: its ${env:} variable need not be set. Other supplied
  // keys are still checked.
  auto r3 = load_bind_config(
      "name: b\nhost: h\nport: x\nbind: trx\nsystem_id: otpd\n"
      "password: ${env:UNSET_HERE}\n",
      "b.yaml", [&] {
        load_options w = with_env({});
        w.supplied_keys = {"port", "password"};
        return w;
      }());
  const config_error e = only_error(r3);
  EXPECT_EQ(e.line, 3u);
  EXPECT_THAT(e.message, HasSubstr("port: expected an integer"));
}

TEST(bind_config_yaml, empty_values_and_duplicates) {
  {
    auto r = load_bind_config(minimal("system_type:\n"), "b.yaml");
    const config_error e = only_error(r);
    EXPECT_EQ(e.line, 7u);
    EXPECT_THAT(e.message, HasSubstr("write \"\" for an empty one"));
  }
  {
    auto r = load_bind_config(minimal("port: 2776\n"), "b.yaml");
    const config_error e = only_error(r);
    EXPECT_EQ(e.line, 7u);
    EXPECT_EQ(e.column, 1u);
    EXPECT_THAT(e.message, HasSubstr("duplicate key 'port' (first given at line 3)"));
  }
  {
    auto r = load_bind_config("", "b.yaml");
    const config_error e = only_error(r);
    EXPECT_THAT(e.message, HasSubstr("empty"));
  }
  {
    auto r = load_bind_config("- a\n- b\n", "b.yaml");
    const config_error e = only_error(r);
    EXPECT_THAT(e.message, HasSubstr("expected a mapping"));
  }
}

TEST(bind_config_yaml, syntax_error_has_a_position) {
  auto r = load_bind_config("name: b\nhost: [127.0.0.1\nport: 1\n", "b.yaml");
  const config_error e = only_error(r);
  EXPECT_GT(e.line, 0u);
  EXPECT_THAT(e.message, HasSubstr("YAML syntax error"));
}

TEST(bind_config_yaml, env_reference) {
  auto r =
      load_bind_config(minimal().replace(minimal().find("password: pw"), 12, "password: ${env:PW}"),
                       "b.yaml", with_env({{"PW", "fromenv"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->session.smpp.password, "fromenv");

  auto missing = load_bind_config(
      minimal().replace(minimal().find("password: pw"), 12, "password: ${env:NOT_SET_HERE}"),
      "b.yaml", with_env({}));
  const config_error e = only_error(missing);
  EXPECT_EQ(e.line, 6u);
  EXPECT_EQ(e.column, 11u);
  EXPECT_THAT(e.message, HasSubstr("environment variable NOT_SET_HERE"));
  EXPECT_THAT(e.message, HasSubstr("is not set"));

  // The process environment by default.
  ::setenv("OTPD_CONFIG_TEST_PW", "procenv", 1);
  auto r3 = load_bind_config(
      minimal().replace(minimal().find("password: pw"), 12, "password: ${env:OTPD_CONFIG_TEST_PW}"),
      "b.yaml");
  ::unsetenv("OTPD_CONFIG_TEST_PW");
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3.config->session.smpp.password, "procenv");
}

TEST(bind_config_yaml, file_reference_and_errors_never_show_the_password) {
  temp_file pw("filepw\n");  // the newline an editor adds is not part of it
  auto r = load_bind_config(
      minimal().replace(minimal().find("password: pw"), 12, "password: ${file:" + pw.path + "}"),
      "b.yaml");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->session.smpp.password, "filepw");

  auto missing = load_bind_config(
      minimal().replace(minimal().find("password: pw"), 12, "password: ${file:/nonexistent/pw}"),
      "b.yaml");
  const config_error e = only_error(missing);
  EXPECT_EQ(e.line, 6u);
  EXPECT_THAT(e.message, HasSubstr("cannot read /nonexistent/pw"));

  temp_file long_pw("longer-than-eight\n");
  auto too_long = load_bind_config(minimal().replace(minimal().find("password: pw"), 12,
                                                     "password: ${file:" + long_pw.path + "}"),
                                   "b.yaml");
  const config_error e2 = only_error(too_long);
  EXPECT_THAT(e2.message, HasSubstr("at most 8"));
  EXPECT_THAT(e2.message, Not(HasSubstr("longer-than-eight")));

  auto literal = load_bind_config(
      minimal().replace(minimal().find("password: pw"), 12, "password: toolongsecret"), "b.yaml");
  const config_error e3 = only_error(literal);
  EXPECT_THAT(e3.message, Not(HasSubstr("toolongsecret")));

  auto unknown = load_bind_config(
      minimal().replace(minimal().find("password: pw"), 12, "password: ${vault:x}"), "b.yaml");
  EXPECT_THAT(only_error(unknown).message, HasSubstr("unknown reference ${vault:x}"));
}

TEST(bind_config_yaml, relative_file_reference_is_relative_to_the_snippet) {
  temp_file pw("relpw");
  const std::filesystem::path p(pw.path);
  temp_file snippet(minimal().replace(minimal().find("password: pw"), 12,
                                      "password: ${file:" + p.filename().string() + "}"));
  auto r = load_bind_config_file(snippet.path);
  ASSERT_TRUE(r.ok()) << to_string(r.errors.front());
  EXPECT_EQ(r.config->session.smpp.password, "relpw");
}

TEST(bind_config_yaml, tls_ca_file_is_checked_when_enabled) {
  auto r = load_bind_config(minimal("tls:\n  enabled: true\n  ca_file: /nonexistent/ca.pem\n"),
                            "b.yaml");
  const config_error e = only_error(r);
  EXPECT_EQ(e.line, 9u);
  EXPECT_EQ(e.column, 12u);
  EXPECT_THAT(e.message, HasSubstr("tls.ca_file: cannot read /nonexistent/ca.pem"));
}

TEST(bind_config_yaml, several_errors_at_once_in_file_order) {
  const char* bad = R"(name: b
host: h
port: 0
bind: trx
system_id: otpd
password: ${env:NOPE}
window: 0
tps: fast
timeouts: {connect: 10, bind: 1s}
text: {coding: gsm8, concat: udh9, max_parts: 300}
extra: 1
)";
  auto r = load_bind_config(bad, "carrier.yaml", with_env({}));
  EXPECT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 9u);
  const std::vector<std::pair<std::size_t, std::string>> expected = {
      {3, "port"},         {6, "password"},         {7, "window"},
      {8, "tps"},          {9, "timeouts.connect"}, {10, "text.coding"},
      {10, "text.concat"}, {10, "text.max_parts"},  {11, "unknown key 'extra'"},
  };
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r.errors[i].line, expected[i].first) << to_string(r.errors[i]);
    EXPECT_THAT(r.errors[i].message, HasSubstr(expected[i].second));
    EXPECT_EQ(r.errors[i].file, "carrier.yaml");
  }
}

TEST(bind_config_yaml, unreadable_file) {
  auto r = load_bind_config_file("/nonexistent/bind.yaml");
  const config_error e = only_error(r);
  EXPECT_EQ(e.line, 0u);
  EXPECT_EQ(to_string(e), "/nonexistent/bind.yaml: cannot read: No such file or directory");
}

TEST(bind_config_yaml, durations) {
  EXPECT_EQ(parse_duration("500ms"), std::chrono::duration_cast<smpp::duration>(500ms));
  EXPECT_EQ(parse_duration("10s"), std::chrono::duration_cast<smpp::duration>(10s));
  EXPECT_EQ(parse_duration("2m"), std::chrono::duration_cast<smpp::duration>(2min));
  EXPECT_EQ(parse_duration("1h"), std::chrono::duration_cast<smpp::duration>(1h));
  EXPECT_EQ(parse_duration("0s"), smpp::duration::zero());
  for (const char* bad : {"", "10", "s", "-1s", "1.5s", "10 s", "10sec", "99999999999999999999s"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
  EXPECT_EQ(format_duration(std::chrono::milliseconds(1500)), "1500ms");
  EXPECT_EQ(format_duration(10s), "10s");
  EXPECT_EQ(format_duration(2min), "2m");
  EXPECT_EQ(format_duration(0s), "0s");
}

}  // namespace
}  // namespace otpd::config
