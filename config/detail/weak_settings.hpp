// Settings an attacker profits from, checked where the loader reads them: codes shorter than
// NIST SP 800-63B-4 allows, webhook URLs aimed at link-local (cloud metadata) addresses.
// Internal to config/ (names yaml-cpp types through yaml_reader.hpp).
#pragma once

#include <string_view>

#include "config/config.hpp"
#include "config/detail/yaml_reader.hpp"

namespace otpd::config::detail {

// NIST SP 800-63B-4 §3.1.3.1 (out-of-band authenticators): a secret of at least 6 digits.
inline constexpr int min_code_length = 6;

// policy.code_length (4..10) and policy.allow_short_codes: under 6 digits is an error unless
// allowed, and then a warning. Either field may be absent.
void read_code_length(yaml_reader& r, const field* length, const field* allow, otp_policy& p);

// An error when the host of webhooks.url (given as `url`, never quoted: it may carry
// credentials) is a literal link-local address.
void check_webhook_host(yaml_reader& r, const field& f, std::string_view url);

}  // namespace otpd::config::detail
