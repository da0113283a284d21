#include "daemon/app/startup.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/secret.hpp"
#include "daemon/app/postgres_check.hpp"
#include "daemon/process/process_policy.hpp"
#include "daemon/store/postgres_store.hpp"
#include "daemon/store/sqlite_store.hpp"

namespace otpd::app {

void log_process_protection(log::logger& logger) {
  // mlock is refused without CAP_IPC_LOCK past RLIMIT_MEMLOCK (LimitMEMLOCK= in the unit):
  // the secrets are then still out of cores, only swappable.
  const secret_counts held = count_secrets();
  logger.notice("process_protection", {{"core_dumps", process::dumpable()},
                                       {"secrets", held.held},
                                       {"secrets_not_locked", held.unlocked}});
}

namespace {

std::unique_ptr<service::store> open_sqlite(const config::config& cfg, log::logger& logger) {
  std::unique_ptr<service::store> db;
  service::sqlite_options store_options;
  store_options.max_size_bytes = cfg.state.sqlite_max_bytes;
  std::string why;
  if (auto ec =
          service::open_sqlite_store(cfg.state.sqlite_path.string(), store_options, db, why)) {
    logger.error("store_open_failed", {{"path", cfg.state.sqlite_path.string()},
                                       {"error", why.empty() ? ec.message() : why}});
    return nullptr;
  }
  return db;
}

// store.postgres.pool_size connections, each for a store thread of its own; the first one
// migrates the schema (the others find it done). Empty when one cannot be opened.
std::vector<std::unique_ptr<service::store>> open_postgres(const config::config& cfg,
                                                           log::logger& logger) {
  service::postgres_options options = postgres_options_of(cfg.state.pg);
  std::vector<std::unique_ptr<service::store>> out;
  for (int i = 0; i < cfg.state.pg.pool_size; ++i) {
    std::unique_ptr<service::store> db;
    std::string why;
    if (auto ec = service::open_postgres_store(options, db, why)) {
      logger.error("store_open_failed",
                   {{"kind", "postgres"}, {"error", why.empty() ? ec.message() : why}});
      out.clear();
      break;
    }
    out.push_back(std::move(db));
  }
  wipe(options.conninfo);
  return out;
}

}  // namespace

std::vector<std::unique_ptr<service::store>> open_stores(const config::config& cfg,
                                                         log::logger& logger) {
  const bool postgres = cfg.state.kind == config::store_kind::postgres;
  std::vector<std::unique_ptr<service::store>> stores;
  if (postgres) {
    stores = open_postgres(cfg, logger);
  } else if (auto db = open_sqlite(cfg, logger)) {
    stores.push_back(std::move(db));  // one connection: SQLite has one writer at a time
  }
  if (!stores.empty()) {
    // The name this node's leases and attempts carry in a shared store (cluster.node).
    logger.notice("store_open", {{"kind", postgres ? "postgres" : "sqlite"},
                                 {"connections", stores.size()},
                                 {"node", cfg.nodes.node}});
  }
  return stores;
}

bool state_folder_writable(const config::config& cfg, log::logger& logger) {
  // What the journal does there: list the folder, create and append to files.
  const std::filesystem::path folder = cfg.state.state_folder();
  if (::access(folder.c_str(), R_OK | W_OK | X_OK) == 0) return true;
  const int err = errno;
  logger.error("state_folder_unusable",
               {{"path", folder.string()},
                {"error", std::string(std::strerror(err)) +
                              " (the folder of store.sqlite_path holds the SMS send journal)"}});
  return false;
}

bool make_dialer(boost::asio::any_io_executor ex, const config::config& cfg, log::logger& logger,
                 std::unique_ptr<service::voice_dialer>& out) {
  if (cfg.calls.trunks.empty()) return true;
  std::vector<std::string> locales;
  for (const auto& [locale, text] : cfg.text.sms) locales.push_back(locale);
  std::string why;
  if (auto ec = service::voice_dialer::create(ex, cfg.calls, cfg.numbers, locales,
                                              cfg.policy.default_locale, out, why)) {
    logger.error("voice_prompts_failed", {{"error", why}});
    return false;
  }
  logger.notice("voice_ready", {{"trunks", cfg.calls.trunks.size()}});
  return true;
}

}  // namespace otpd::app
