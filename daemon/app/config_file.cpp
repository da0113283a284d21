#include "daemon/app/config_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "common/secret.hpp"
#include "config/yaml_json.hpp"
#include "daemon/engine/template_check.hpp"

namespace otpd::app {
namespace {

// The whole file as text; nullopt (errno set) when it cannot be opened.
std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return std::nullopt;
  std::string text;
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  std::fclose(f);
  return text;
}

bool load_ported(const std::filesystem::path& file, routing::route_table& routes,
                 log::logger& logger) {
  std::optional<std::string> text = read_file(file);
  if (!text) {
    logger.error("ported_numbers_unreadable",
                 {{"file", file.string()}, {"error", std::strerror(errno)}});
    return false;
  }
  std::vector<routing::ported_error> errs;
  if (!routes.load_ported(*text, errs)) {
    for (const auto& e : errs) {
      logger.error("ported_numbers_invalid", {{"line", e.line}, {"error", e.message}});
    }
    return false;
  }
  return true;
}

}  // namespace

config::load_result load_checked(const std::string& file, process::env_secrets& env) {
  config::load_options opts;
  opts.getenv = [&env](const std::string& name) { return env.get(name); };
  config::load_result r = config::load_config_file(file, opts);
  if (!r.ok()) return r;
  r.errors = engine::check_templates(*r.config);
  if (!r.errors.empty()) r.config.reset();
  return r;
}

void log_config_warnings(const std::vector<config::config_error>& warnings, log::logger& logger) {
  for (const auto& w : warnings) {
    logger.warning(
        "config_warning",
        {{"file", w.file}, {"line", w.line}, {"column", w.column}, {"warning", w.message}});
  }
}

std::optional<routing::route_table> load_routes(const config::config& cfg, log::logger& logger) {
  auto errors = std::vector<std::string>{};
  auto routes = routing::route_table::build(cfg.routes.carriers, errors);
  if (!routes) {
    for (const auto& e : errors) logger.error("routing_invalid", {{"error", e}});
    return std::nullopt;
  }
  if (cfg.routes.ported_numbers_file &&
      !load_ported(*cfg.routes.ported_numbers_file, *routes, logger)) {
    return std::nullopt;
  }
  return routes;
}

boost::json::object file_sections(const std::string& file) {
  std::string text;
  std::ifstream in;
  in.rdbuf()->pubsetbuf(nullptr, 0);
  in.open(file, std::ios::binary | std::ios::ate);
  if (in) {
    text.resize(static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0)));
    in.seekg(0);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
  }
  auto doc = config::yaml_to_json(text);
  wipe(text);
  if (!doc || !doc->is_object()) return boost::json::object{};
  config::fingerprint_values(*doc, {"password", "secret", "code_mac_key", "code_seal_key", "url"});
  return doc->as_object();
}

}  // namespace otpd::app
