// The store and cluster sections: SQLite by default, PostgreSQL with its connection settings
// (the URL never shown), Redis refused by name, and this node's name and lease period.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "config/loader.hpp"

namespace otpd::config {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view seal_key =
    "  code_seal_key: 00112233445566778899aabbccddeeff"
    "00112233445566778899aabbccddeeff\n";

// A valid file with `sections` added, and the seal key unless `sealed` is false.
std::string config_with(std::string_view sections, bool sealed = true) {
  std::string y =
      "api_keys: [{name: backend, sha256: "
      "db6bcf6a2a36ee93dafa7dfcdc40973da39f2e2843e4c6f76e08aefc767b0caa}]\n"
      "secrets:\n  code_mac_key: 0123456789abcdef0123456789abcdef\n";
  if (sealed) y += seal_key;
  return y + std::string(sections) +
         "routing:\n  carriers:\n    - {name: alpha, prefixes: [\"84\"], sender: {addr: BRAND}, "
         "binds: [{name: alpha-trx, host: 127.0.0.1, port: 2775, bind: trx, system_id: otpd, "
         "password: pw}]}\n";
}

load_result load_with(std::string_view sections, bool sealed = true, load_options o = {}) {
  return load_config(config_with(sections, sealed), "otpd.yaml", o);
}

// Every message, one per line.
std::string report(const load_result& r) { return check_config_report(r); }

// The single error's message; fails when there is not exactly one.
std::string the_error(const load_result& r) {
  EXPECT_EQ(r.errors.size(), 1u) << report(r);
  return r.errors.empty() ? std::string() : r.errors.front().message;
}

TEST(config_store, postgres_reads_every_setting) {
  auto r = load_with(
      "store:\n  kind: postgres\n  postgres:\n    url: ${env:PG}\n    pool_size: 8\n"
      "    statement_timeout: 2500ms\n    connect_timeout: 3s\n    sslmode: verify-full\n"
      "    sslrootcert: /etc/ssl/certs/ca-certificates.crt\n",
      true, [] {
        load_options o;
        o.getenv = [](const std::string&) -> std::optional<std::string> {
          return "host=a,b dbname=otpd password=hunter2 target_session_attrs=read-write";
        };
        return o;
      }());
  ASSERT_TRUE(r.ok()) << report(r);
  const store& s = r.config->state;
  EXPECT_EQ(s.kind, store_kind::postgres);
  EXPECT_EQ(s.pg.url.view(),
            "host=a,b dbname=otpd password=hunter2 target_session_attrs=read-write");
  EXPECT_EQ(s.pg.pool_size, 8);
  EXPECT_EQ(s.pg.statement_timeout, 2500ms);
  EXPECT_EQ(s.pg.connect_timeout, 3000ms);
  EXPECT_EQ(s.pg.sslmode, "verify-full");
  EXPECT_EQ(s.pg.sslrootcert, "/etc/ssl/certs/ca-certificates.crt");
}

TEST(config_store, sqlite_by_default_with_the_postgres_defaults_unused) {
  auto r = load_with("");
  ASSERT_TRUE(r.ok()) << report(r);
  EXPECT_EQ(r.config->state.kind, store_kind::sqlite);
  EXPECT_TRUE(r.config->state.pg.url.empty());
  EXPECT_EQ(r.config->state.pg.pool_size, 2);
  EXPECT_EQ(r.config->nodes.lease, 10s);
}

TEST(config_store, postgres_without_a_url_is_refused) {
  EXPECT_THAT(the_error(load_with("store: {kind: postgres}\n")), HasSubstr("store.postgres.url"));
  EXPECT_THAT(the_error(load_with("store: {kind: postgres, postgres: {pool_size: 2}}\n")),
              HasSubstr("store.postgres.url"));
}

TEST(config_store, the_url_is_never_shown) {
  // Not a string where one is expected, too long, and beside an unknown key: the URL and its
  // password stay out of every message.
  const std::string pw = "hunter2secret";
  for (const std::string& sections :
       {"store: {kind: postgres, postgres: {url: [postgres://u:" + pw + "@h/db]}}\n",
        "store: {kind: postgres, postgres: {url: \"postgres://u:" + pw + "@h/" +
            std::string(5000, 'd') + "\"}}\n",
        "store: {kind: postgres, postgres: {url: \"postgres://u:" + pw + "@h/db\", pool: 2}}\n"}) {
    auto r = load_with(sections);
    EXPECT_FALSE(r.ok());
    EXPECT_THAT(report(r), Not(HasSubstr(pw)));
  }
}

TEST(config_store, values_out_of_range_are_refused) {
  const std::string pg = "store:\n  kind: postgres\n  postgres:\n    url: host=h\n";
  EXPECT_THAT(the_error(load_with(pg + "    pool_size: 0\n")), HasSubstr("pool_size"));
  EXPECT_THAT(the_error(load_with(pg + "    pool_size: 65\n")), HasSubstr("pool_size"));
  EXPECT_TRUE(load_with(pg + "    pool_size: 64\n").ok());
  EXPECT_THAT(the_error(load_with(pg + "    sslmode: strict\n")),
              HasSubstr("disable, allow, prefer, require, verify-ca or verify-full"));
  EXPECT_THAT(the_error(load_with(pg + "    sslrootcert: /nonexistent/ca.pem\n")),
              HasSubstr("store.postgres.sslrootcert: cannot read /nonexistent/ca.pem"));
  EXPECT_THAT(the_error(load_with(pg + "    statement_timeout: 0s\n")),
              HasSubstr("statement_timeout"));
}

TEST(config_store, postgres_needs_the_seal_key) {
  const std::string e =
      the_error(load_with("store: {kind: postgres, postgres: {url: host=h}}\n", false));
  EXPECT_THAT(e, HasSubstr("secrets.code_seal_key"));
  EXPECT_TRUE(load_with("store: {kind: postgres, postgres: {url: host=h}}\n").ok());
}

TEST(config_store, redis_is_refused_naming_the_supported_kinds) {
  for (const char* sections :
       {"store: {kind: redis}\n", "store: {redis_url: \"redis://:pw@127.0.0.1:6379/0\"}\n"}) {
    const std::string e = the_error(load_with(sections));
    EXPECT_THAT(e, HasSubstr("Redis is not supported"));
    EXPECT_THAT(e, HasSubstr("sqlite"));
    EXPECT_THAT(e, HasSubstr("postgres"));
    EXPECT_THAT(e, Not(HasSubstr(":pw@")));
  }
}

TEST(config_cluster, node_and_lease) {
  auto r = load_with("cluster: {node: web-1.dc_a, lease: 15s}\n");
  ASSERT_TRUE(r.ok()) << report(r);
  EXPECT_EQ(r.config->nodes.node, "web-1.dc_a");
  EXPECT_EQ(r.config->nodes.lease, 15s);

  EXPECT_THAT(the_error(load_with("cluster: {node: \"web 1\"}\n")), HasSubstr("cluster.node"));
  EXPECT_THAT(the_error(load_with("cluster: {node: " + std::string(65, 'n') + "}\n")),
              HasSubstr("cluster.node"));
  EXPECT_TRUE(load_with("cluster: {node: " + std::string(64, 'n') + "}\n").ok());
  EXPECT_THAT(the_error(load_with("cluster: {lease: 2s}\n")), HasSubstr("cluster.lease"));
  EXPECT_THAT(the_error(load_with("cluster: {lease: 6m}\n")), HasSubstr("cluster.lease"));
  EXPECT_TRUE(load_with("cluster: {lease: 3s}\n").ok());
  EXPECT_TRUE(load_with("cluster: {lease: 5m}\n").ok());
}

TEST(config_cluster, the_node_is_the_host_name_by_default) {
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  auto r = load_with("");
  ASSERT_TRUE(r.ok()) << report(r);
  EXPECT_EQ(r.config->nodes.node, host);
}

}  // namespace
}  // namespace otpd::config
