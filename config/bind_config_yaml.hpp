// One SMPP bind described in YAML (a "bind snippet"), loaded into smpp::bind_config.
//
//   name: viettel-trx-1
//   host: 127.0.0.1
//   port: 2775
//   tls: {enabled: false, ca_file: /etc/otpd/ca.pem, verify: true, server_name: smsc.example}
//   bind: transceiver                 # transmitter | receiver | transceiver
//   system_id: otpd
//   password: ${env:SMPP_PASSWORD}    # or ${file:/path}, or a literal
//   system_type: ""
//   window: 10
//   tps: 0                            # 0 = unlimited
//   timeouts: {connect: 10s, bind: 10s, response: 10s, enquire_link: 30s}
//   reconnect: {initial: 1s, max: 60s}
//   text: {coding: auto, transliterate: false, concat: udh8, packed: false, max_parts: 10}
//
// The same code reads each bind of a carrier in otpd.yaml (config/loader.hpp). Every problem
// is reported, not just the first, each with the file, line and column it is at and what was
// expected there, so that an operator fixes a file in one pass. Errors never quote a password.
// config_error, load_options and parse_duration live in config/load_options.hpp. yaml-cpp stays
// inside config/: this header exposes only otpd types.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "config/load_options.hpp"
#include "smpp/net/bind_config.hpp"

namespace otpd::config {

struct bind_config_result {
  std::optional<smpp::bind_config> config;  // set only when errors is empty
  std::vector<config_error> errors;
  bool ok() const noexcept { return errors.empty() && config.has_value(); }
};

// Loads a snippet from a file. An unreadable file is one error with line 0. Required keys:
// name, host, port, bind, system_id, password (less load_options::supplied_keys). Any value may
// be ${env:NAME} or ${file:path}.
bind_config_result load_bind_config_file(const std::filesystem::path& path,
                                         const load_options& opts = {});

// Loads a snippet from memory; `source_name` stands for the file in errors.
bind_config_result load_bind_config(std::string_view yaml,
                                    std::string_view source_name = "<string>",
                                    const load_options& opts = {});

}  // namespace otpd::config
