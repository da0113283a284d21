// otpd.yaml -> config::config, validated, with every error at once.
//
// The file's sections and keys mirror config.hpp in snake_case; docs/configuration.md and
// config/otpd.example.yaml describe each one. Where a member name is terse the section is named
// after its type instead:
//
//   listeners, http, api_keys, policy, webhooks       (members of the same name)
//   rate_limits -> limits, number_plan -> numbers, templates -> text, routing -> routes,
//   store -> state, secrets -> keys, logging -> log, testing -> test
//
// Each carrier's binds are read by the bind-snippet code (bind_config_yaml.hpp), over the
// carrier's `text:` defaults. Any scalar may be ${env:NAME} or ${file:path} (a systemd
// credential: the trailing newline is dropped). API keys are kept only as SHA-256 hashes.
// Errors never quote a secret. yaml-cpp stays inside config/: no YAML type appears here.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/load_options.hpp"

namespace otpd::config {

struct load_result {
  std::optional<otpd::config::config> config;  // set only when errors is empty
  std::vector<config_error> errors;            // in file order
  // Accepted settings that weaken a default on purpose (policy.allow_short_codes with a
  // code_length under 6); kept whether or not there are errors.
  std::vector<config_error> warnings;
  bool ok() const noexcept { return errors.empty() && config.has_value(); }
};

// Loads otpd.yaml from a file. An unreadable file is one error with line 0. Relative paths in
// the file (${file:...}, TLS files, the ported-numbers file) are taken from the file's
// directory unless opts.base_directory says otherwise; the SQLite path is taken as written
// (relative to the daemon's working directory).
load_result load_config_file(const std::filesystem::path& path, const load_options& opts = {});

// Loads otpd.yaml from memory; `source_name` stands for the file in errors and in
// config::source.
load_result load_config(std::string_view yaml, std::string_view source_name = "<string>",
                        const load_options& opts = {});

// What `otpd --check-config FILE` prints: each warning as "file:line:column: warning: message",
// then "OK\n", or each error as "file:line:column: message" on a line of its own. The caller
// exits 0 when r.ok(), 1 otherwise.
std::string check_config_report(const load_result& r);

// Lowercase hex of SHA-256(key): how api_key::sha256 is computed, and how a presented bearer
// key is hashed before it is compared.
std::string api_key_sha256(std::string_view key);

}  // namespace otpd::config
