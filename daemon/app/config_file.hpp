// The configuration file as the daemon reads it: at start, for --check-config and at each
// reload.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "config/loader.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/process/process_policy.hpp"
#include "daemon/routing/route_table.hpp"

namespace otpd::app {

// Loaded, then every SMS template checked against every carrier that may carry it (the loader
// knows the file, the engine what an SMS says; errors keep the file's positions).
config::load_result load_checked(const std::string& file, process::env_secrets& env);

// What the file weakens on purpose (policy.allow_short_codes), at start and at each reload.
void log_config_warnings(const std::vector<config::config_error>& warnings, log::logger& logger);

// The route table of cfg.routes with its ported-numbers file; nullopt (errors logged) when
// either is invalid.
std::optional<routing::route_table> load_routes(const config::config& cfg, log::logger& logger);

// The file's top-level sections as JSON, for comparing a reload with what runs (see
// reload_plan.hpp). A secret written in the file itself is kept only as a fingerprint (and the
// text read unbuffered, straight into a string that is wiped). Empty when unreadable.
boost::json::object file_sections(const std::string& file);

}  // namespace otpd::app
