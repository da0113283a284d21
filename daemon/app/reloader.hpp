// SIGHUP and `otpctl reload`: read the file again. An invalid file is rejected with its errors
// and the running configuration kept. A valid one applies api_keys, policy, rate_limits,
// number_plan, templates and logging.level at once, and routing (carriers, binds, prefixes, the
// ported numbers file, read again) and the SIP trunks as a diff: what did not change stays up
// untouched, what was removed ends gracefully, what was added starts. The other sections
// (listeners, http, the rest of voice, store, secrets, webhooks) are compared with what is
// running and each one that changed is named in a log line: they take effect at the next
// restart (reload_plan.hpp decides which is which).
#pragma once

#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/object.hpp>

#include "config/loader.hpp"
#include "daemon/http/server.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/notify/sd_notify.hpp"
#include "daemon/process/process_policy.hpp"
#include "daemon/service/verification_service.hpp"

namespace otpd::app {

class reloader {
 public:
  // Reads `file` once now: the sections otpd runs with.
  reloader(boost::asio::any_io_executor ex, std::string file, process::env_secrets& env,
           service::verification_service& svc, http::server& api, log::logger& logger,
           const notify::notifier& systemd);

  // One reload: what happened, as a JSON object ({"outcome":"reloaded"|"rejected", ...}).
  boost::json::object reload_now();

  // Reloads at each SIGHUP until stop().
  void watch_sighup();
  void stop() { hup_.cancel(); }

 private:
  boost::json::object rejected(const std::vector<config::config_error>& errors);
  boost::json::object apply(config::load_result next, routing::route_table routes);

  std::string file_;
  process::env_secrets& env_;
  service::verification_service& svc_;
  http::server& api_;
  log::logger& logger_;
  const notify::notifier& systemd_;
  boost::asio::signal_set hup_;
  boost::json::object running_;  // the file's sections as they run (file_sections)
};

}  // namespace otpd::app
