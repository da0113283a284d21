// Rate-limit checks for one send (docs/architecture.md §4; OWASP ASVS 5.0 V6 anti-automation; SMS
// pumping defence per destination prefix): which counters a create or a resend must pass, as the
// store's limit_check list, and which problem answers a refusal.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "daemon/store/store.hpp"

namespace otpd::engine {

enum class limit_kind : std::uint8_t { number, api_key, client_ip, prefix };

// The problem type slug of a refusal: rate_limited_number, rate_limited_api_key,
// rate_limited_ip, rate_limited_prefix.
const char* problem_slug(limit_kind k) noexcept;

struct limit_subject {
  std::string_view to;         // E.164, with or without '+'
  std::string_view api_key;    // the key's name; empty: not checked
  std::string_view client_ip;  // as passed in the request; empty: not checked
};

struct limit_plan {
  std::vector<service::limit_check> checks;
  std::vector<limit_kind> kinds;  // kinds[i] is what checks[i] limits
};

// One check per configured limit with max > 0 and a window > 0, in the order number, api key,
// client ip, prefix. Keys carry the window ("num:+84912345678@600") so that two limits on the
// same subject never share a counter: "num:", "key:", "ip:", "pfx:" + the first
// rate_limits.prefix_digits digits of the number (without '+').
limit_plan plan_limits(const config::rate_limits& limits, const limit_subject& subject);

// The kind of the check that refused (limit_result::failed_index); number when out of range.
limit_kind refused_by(const limit_plan& plan, const service::limit_result& result) noexcept;

}  // namespace otpd::engine
