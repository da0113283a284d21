// The `ops` section of otpd.yaml: the listener for /healthz, /readyz and /metrics. Internal.
#pragma once

#include <vector>

#include "config/config.hpp"
#include "config/detail/yaml_reader.hpp"

namespace otpd::config::detail {

// Reads `ops` (f: null when the section is absent) into `out` and refuses a port that an API
// listener of `api` already uses: the default 8081 included, so that a configuration whose
// listeners sit on 8081 says so instead of failing to bind at start-up.
void read_ops(yaml_reader& r, const field* f, const std::vector<http_listener>& api,
              ops_listener& out);

}  // namespace otpd::config::detail
