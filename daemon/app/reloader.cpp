#include "daemon/app/reloader.hpp"

#include <csignal>
#include <memory>

#include "daemon/app/config_file.hpp"
#include "daemon/app/reload_plan.hpp"

namespace otpd::app {

reloader::reloader(boost::asio::any_io_executor ex, std::string file, process::env_secrets& env,
                   service::verification_service& svc, http::server& api, log::logger& logger,
                   const notify::notifier& systemd)
    : file_(std::move(file)),
      env_(env),
      svc_(svc),
      api_(api),
      logger_(logger),
      systemd_(systemd),
      hup_(ex, SIGHUP),
      running_(file_sections(file_)) {}

void reloader::watch_sighup() {
  hup_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    reload_now();
    watch_sighup();
  });
}

boost::json::object reloader::reload_now() {
  systemd_.reloading();
  boost::json::object out;
  config::load_result next = load_checked(file_, env_);
  env_.scrub();  // a variable named for the first time by this file
  if (!next.ok()) {
    out = rejected(next.errors);
  } else if (log_config_warnings(next.warnings, logger_);
             auto routes = load_routes(*next.config, logger_)) {
    out = apply(std::move(next), std::move(*routes));
  } else {
    // Routing is always applied again, so that a changed ported-numbers file or a password
    // behind ${file:} is read; a file that has become invalid rejects the reload.
    logger_.warning("reload_rejected", {{"errors", 1}});
    out["outcome"] = "rejected";
    out["errors"] = boost::json::array{
        boost::json::string("routing: the routes or the ported-numbers file are invalid; "
                            "see the log")};
  }
  systemd_.ready();
  return out;
}

boost::json::object reloader::rejected(const std::vector<config::config_error>& errors) {
  boost::json::array listed;
  for (const auto& e : errors) {
    logger_.error("reload_error",
                  {{"file", e.file}, {"line", e.line}, {"column", e.column}, {"error", e.message}});
    listed.push_back(boost::json::string(e.file + ":" + std::to_string(e.line) + ":" +
                                         std::to_string(e.column) + ": " + e.message));
  }
  logger_.warning("reload_rejected", {{"errors", errors.size()}});
  boost::json::object out;
  out["outcome"] = "rejected";
  out["errors"] = std::move(listed);
  return out;
}

boost::json::object reloader::apply(config::load_result next, routing::route_table routes) {
  const boost::json::object now = file_sections(file_);
  const reload_plan plan = plan_reload(running_, now, svc_.has_dialer());
  adopt_applied(plan, now, running_);
  std::string later;
  boost::json::array later_list;
  for (const std::string& k : plan.restart_needed()) {
    later += (later.empty() ? "" : ",") + k;
    later_list.push_back(boost::json::string(k));
  }
  const std::size_t key_count = next.config->api_keys.size();
  api_.set_api_keys(http::api_key_auth(next.config->api_keys));
  logger_.set_level(log::options_from(next.config->log).min_level);
  auto applied = std::make_shared<const config::config>(std::move(*next.config));
  for (const std::string& change : svc_.reload(applied, std::move(routes), plan.apply_trunks)) {
    logger_.notice("reload_change", {{"change", change}});
  }
  logger_.notice("reloaded", {{"api_keys", key_count}, {"restart_needed_for", later}});
  boost::json::object out;
  out["outcome"] = "reloaded";
  out["restart_needed_for"] = std::move(later_list);
  return out;
}

}  // namespace otpd::app
