// The `store` and `cluster` sections of otpd.yaml: where the state lives (SQLite for one node,
// PostgreSQL shared by several: docs/scale-out.md) and this node's name among them.
#include <unistd.h>

#include <array>
#include <climits>
#include <string>

#include "config/detail/config_loader.hpp"

namespace otpd::config::detail {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t max_node_name = 64;

// What a configuration written for an older otpd may still hold: refused by name, so that two
// nodes configured that way are not each left with a private SQLite file (the store they asked
// for being silently replaced).
constexpr std::string_view no_redis =
    "Redis is not supported: the kinds are sqlite (one node) and postgres (several nodes, "
    "store.postgres.url)";

std::string host_name() {
  std::array<char, HOST_NAME_MAX + 1> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) return {};
  return std::string(buf.data());
}

}  // namespace

void config_loader::load_store(const field& f) {
  if (f.value.IsMap() && f.value["redis_url"]) {
    r_.error(f.value["redis_url"].Mark(), "store.redis_url: " + std::string(no_redis));
  }
  auto m = r_.fields(
      f.value, yaml_reader::mark_of(f), "store",
      {"kind", "sqlite_path", "sqlite_max_bytes", "retention", "postgres", "redis_url"}, true);
  if (!m) return;
  store& s = c_.state;
  if (const field* v = find(*m, "kind")) {
    static constexpr store_kind kinds[] = {store_kind::sqlite, store_kind::postgres};
    if (v->value.IsScalar() && v->value.Scalar() == "redis") {
      r_.error(yaml_reader::mark_of(*v), "store.kind: " + std::string(no_redis));
    } else if (auto i =
                   r_.get_choice(*v, "store.kind", {"sqlite", "postgres"}, "sqlite or postgres")) {
      s.kind = kinds[*i];
      if (s.kind == store_kind::postgres) postgres_kind_field_ = *v;
    }
  }
  if (const field* v = find(*m, "sqlite_path")) {
    // As written: state belongs under the daemon's working (or systemd State) directory, not
    // beside the configuration.
    if (auto p = r_.get_string(*v, "store.sqlite_path", {.allow_empty = false})) s.sqlite_path = *p;
  }
  if (const field* v = find(*m, "sqlite_max_bytes")) {
    if (auto n = r_.get_integer(*v, "store.sqlite_max_bytes", 0, 1LL << 44)) {
      if (*n != 0 && *n < (64 << 10)) {
        r_.error(yaml_reader::mark_of(*v),
                 "store.sqlite_max_bytes: expected 0 (no cap) or at least 65536");
      } else {
        s.sqlite_max_bytes = static_cast<std::uint64_t>(*n);
      }
    }
  }
  if (const field* v = find(*m, "retention")) {
    if (auto d = r_.get_seconds(*v, "store.retention", 1h, 366 * 24h)) s.retention = *d;
  }
  if (const field* v = find(*m, "postgres")) load_postgres(*v);
  if (s.kind == store_kind::postgres && s.pg.url.empty() && postgres_kind_field_ &&
      (find(*m, "postgres") == nullptr)) {
    r_.error(yaml_reader::mark_of(*postgres_kind_field_),
             "store.kind: postgres needs store.postgres.url, a libpq connection string or URL "
             "(e.g. ${file:/run/credentials/otpd.service/postgres_url})");
  }
}

void config_loader::load_postgres(const field& f) {
  auto m = r_.fields(
      f.value, yaml_reader::mark_of(f), "store.postgres",
      {"url", "pool_size", "statement_timeout", "connect_timeout", "sslmode", "sslrootcert"}, true);
  if (!m) return;
  postgres& pg = c_.state.pg;
  // Shown in no message: the connection string may hold the password.
  if (const field* v = find(*m, "url")) {
    if (auto s =
            r_.get_secret(*v, "store.postgres.url", {.max_length = 4096, .allow_empty = false})) {
      pg.url = std::move(*s);
    }
  } else if (c_.state.kind == store_kind::postgres) {
    r_.error(f.value.Mark(),
             "missing required key 'store.postgres.url' (a libpq connection string or URL; "
             "give ${file:/path} or ${env:NAME}, since it may hold the password)");
  }
  if (const field* v = find(*m, "pool_size")) {
    if (auto n = r_.get_integer(*v, "store.postgres.pool_size", 1, 64))
      pg.pool_size = static_cast<int>(*n);
  }
  if (const field* v = find(*m, "statement_timeout")) {
    if (auto d = r_.get_duration(*v, "store.postgres.statement_timeout", 100ms, 10min))
      pg.statement_timeout = std::chrono::duration_cast<milliseconds>(*d);
  }
  if (const field* v = find(*m, "connect_timeout")) {
    // libpq counts connect_timeout in whole seconds, 2 at least.
    if (auto d = r_.get_seconds(*v, "store.postgres.connect_timeout", 2s, 5min))
      pg.connect_timeout = std::chrono::duration_cast<milliseconds>(*d);
  }
  if (const field* v = find(*m, "sslmode")) {
    static constexpr std::string_view modes[] = {"disable", "allow",     "prefer",
                                                 "require", "verify-ca", "verify-full"};
    if (auto i = r_.get_choice(*v, "store.postgres.sslmode",
                               {modes[0], modes[1], modes[2], modes[3], modes[4], modes[5]},
                               "disable, allow, prefer, require, verify-ca or verify-full")) {
      pg.sslmode = std::string(modes[*i]);
    }
  }
  if (const field* v = find(*m, "sslrootcert")) {
    if (auto p = input_file(*v, "store.postgres.sslrootcert")) pg.sslrootcert = *p;
  }
}

void config_loader::load_cluster(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "cluster", {"node", "lease"});
  if (!m) return;
  if (const field* v = find(*m, "node")) {
    if (auto s = r_.get_string(*v, "cluster.node",
                               {.max_length = max_node_name, .allow_empty = false})) {
      if (is_label(*s)) {
        c_.nodes.node = *s;
      } else {
        r_.error(yaml_reader::mark_of(*v),
                 "cluster.node: expected 1 to 64 letters, digits, '.', "
                 "'_' or '-', got '" +
                     *s + "'");
      }
    }
  }
  if (const field* v = find(*m, "lease")) {
    if (auto d = r_.get_duration(*v, "cluster.lease", 3s, 5min))
      c_.nodes.lease = std::chrono::duration_cast<milliseconds>(*d);
  }
}

void config_loader::check_store_across() {
  // A node without a bind of the carrier hands the SMS to one that has it, code sealed with
  // the key every node shares (docs/scale-out.md).
  if (c_.state.kind == store_kind::postgres && !seal_key_given_ && postgres_kind_field_) {
    r_.error(yaml_reader::mark_of(*postgres_kind_field_),
             "store.kind: postgres hands SMS between nodes with their code sealed: give "
             "secrets.code_seal_key, the same on every node (openssl rand -hex 32)");
  }
  // Resolved here, so that --check-config shows a host name that cannot name a node, and a
  // reload compares the same name.
  if (c_.nodes.node.empty() && !r_.failed()) {
    const std::string host = host_name();
    if (host.empty() || host.size() > max_node_name || !is_label(host)) {
      r_.error(YAML::Mark(), "cluster.node: the host name ('" + host +
                                 "') cannot name this node; set cluster.node");
    } else {
      c_.nodes.node = host;
    }
  }
}

}  // namespace otpd::config::detail
