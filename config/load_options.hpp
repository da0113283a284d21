// What config/'s loaders share: the error they report, the options they take, and the duration
// syntax of every YAML file otpd reads ("500ms", "10s", "2m", "1h").
//
// Every problem is reported, not just the first, each with the file, line and column it is at
// and what was expected there, so that an operator fixes a file in one pass. Errors never quote
// a secret. No YAML type appears here.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "smpp/net/flow_control.hpp"

namespace otpd::config {

struct config_error {
  std::string file;        // as given to the loader ("<string>" for in-memory YAML)
  std::size_t line = 0;    // 1-based; 0 when the error is about the file as a whole
  std::size_t column = 0;  // 1-based
  std::string message;     // what is wrong and what was expected
  friend bool operator==(const config_error&, const config_error&) = default;
};

// "file:line:column: message" (the form compilers use, so editors can jump to it), or
// "file: message" when the error has no position.
std::string to_string(const config_error& e);

struct load_options {
  // Bind snippets only (load_bind_config): top-level keys that may be left out because the
  // caller supplies them itself (the CLI's --host, --password-file, ...). A supplied key that
  // is present is still checked, except the password, which is then not resolved (its ${env:}
  // variable need not be set). The full configuration ignores this.
  std::set<std::string, std::less<>> supplied_keys;
  // Looks up ${env:NAME}; the process environment when empty (tests pass their own).
  std::function<std::optional<std::string>(const std::string&)> getenv;
  // Reads a file the configuration names: ${file:path} references, TLS certificates and keys,
  // the ported-numbers file. nullopt means "cannot read". The file system when empty (tests
  // pass their own, so that an example naming /run/credentials/... loads anywhere).
  std::function<std::optional<std::string>(const std::filesystem::path&)> read_file;
  // Where a relative path is resolved (${file:path} and the files above): the YAML file's
  // directory by default, the working directory for in-memory YAML.
  std::optional<std::filesystem::path> base_directory;
};

// Parses "500ms", "10s", "2m", "1h" (a whole number and a unit; "0s" is zero). nullopt for
// anything else, including overflow.
std::optional<smpp::duration> parse_duration(std::string_view text) noexcept;

// A duration as the loader reads it back, in the largest unit that divides it exactly
// ("1500ms", "10s", "2m"): for printing settings.
std::string format_duration(smpp::duration d);

}  // namespace otpd::config
