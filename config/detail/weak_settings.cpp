#include "config/detail/weak_settings.hpp"

#include <string>

#include "config/link_local.hpp"

namespace otpd::config::detail {

void read_code_length(yaml_reader& r, const field* length, const field* allow, otp_policy& p) {
  bool allowed = false;
  if (allow) {
    if (auto b = r.get_bool(*allow, "policy.allow_short_codes")) allowed = *b;
    p.allow_short_codes = allowed;
  }
  if (!length) return;
  auto n = r.get_integer(*length, "policy.code_length", 4, 10);
  if (!n) return;
  const std::string digits = std::to_string(*n);
  if (*n < min_code_length && !allowed) {
    r.error(yaml_reader::mark_of(*length),
            "policy.code_length: " + digits + " digits is below the minimum of " +
                std::to_string(min_code_length) +
                " (NIST SP 800-63B-4: at least 6 digits for a code sent out of band); set "
                "policy.allow_short_codes: true to accept shorter codes");
    return;
  }
  if (*n < min_code_length) {
    r.warning(yaml_reader::mark_of(*length),
              "policy.code_length: " + digits +
                  "-digit codes are allowed by policy.allow_short_codes; NIST SP 800-63B-4 asks "
                  "for at least " +
                  std::to_string(min_code_length) + " digits");
  }
  p.code_length = static_cast<int>(*n);
}

void check_webhook_host(yaml_reader& r, const field& f, std::string_view url) {
  if (literal_is_link_local(url_host(url))) {
    r.error(yaml_reader::mark_of(f),
            "webhooks.url: the host is a link-local address (169.254.0.0/16, fe80::/10, where "
            "cloud metadata services answer); webhooks are never sent there");
  }
}

}  // namespace otpd::config::detail
