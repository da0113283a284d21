#include "daemon/app/startup.hpp"

#include <string>
#include <vector>

#include "common/secret.hpp"
#include "daemon/process/process_policy.hpp"
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

std::unique_ptr<service::store> open_store(const config::config& cfg, log::logger& logger) {
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
