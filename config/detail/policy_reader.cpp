// The `policy`, `rate_limits` and `number_plan` sections: how codes live, how often they may be
// asked for, and how numbers are written.
#include <string>

#include "config/detail/config_loader.hpp"
#include "config/detail/weak_settings.hpp"

namespace otpd::config::detail {
namespace {

using namespace std::chrono_literals;

// policy.ttl and policy.max_ttl, and that the one fits in the other; false when either is
// wrong (then what depends on the lifetime is not judged against it).
bool read_lifetimes(yaml_reader& r, const field_map& m, otp_policy& p) {
  bool times_ok = true;
  const field* ttl = find(m, "ttl");
  const field* max_ttl = find(m, "max_ttl");
  if (ttl) {
    auto s = r.get_seconds(*ttl, "policy.ttl", 1s, hard_max_ttl);
    if (s) p.ttl = *s;
    times_ok = times_ok && s;
  }
  if (max_ttl) {
    auto s = r.get_seconds(*max_ttl, "policy.max_ttl", 1s, hard_max_ttl);
    if (s) p.max_ttl = *s;
    times_ok = times_ok && s;
  }
  if (times_ok && p.ttl > p.max_ttl) {
    if (ttl) {
      r.error(yaml_reader::mark_of(*ttl), "policy.ttl: " + format_duration(p.ttl) +
                                              " is longer than policy.max_ttl (" +
                                              format_duration(p.max_ttl) + ")");
    } else {
      r.error(yaml_reader::mark_of(*max_ttl), "policy.max_ttl: " + format_duration(p.max_ttl) +
                                                  " is shorter than policy.ttl (" +
                                                  format_duration(p.ttl) + ", the default)");
    }
  }
  return times_ok;
}

// policy.max_checks, max_sends and resend_cooldown, which must leave time to resend.
void read_attempts(yaml_reader& r, const field_map& m, bool times_ok, otp_policy& p) {
  if (const field* v = find(m, "max_checks")) {
    if (auto n = r.get_integer(*v, "policy.max_checks", 1, 10)) p.max_checks = static_cast<int>(*n);
  }
  bool sends_ok = true;
  if (const field* v = find(m, "max_sends")) {
    auto n = r.get_integer(*v, "policy.max_sends", 1, 20);
    if (n) p.max_sends = static_cast<int>(*n);
    sends_ok = n.has_value();
  }
  if (const field* v = find(m, "resend_cooldown")) {
    if (auto s = r.get_seconds(*v, "policy.resend_cooldown", 0s, hard_max_ttl)) {
      p.resend_cooldown = *s;
      if (times_ok && sends_ok && p.max_sends > 1 && p.resend_cooldown >= p.ttl) {
        r.error(yaml_reader::mark_of(*v),
                "policy.resend_cooldown: " + format_duration(*s) +
                    " leaves no time to resend within policy.ttl (" + format_duration(p.ttl) +
                    "); shorten it, or set policy.max_sends: 1 to allow no resend");
      }
    }
  }
  if (const field* v = find(m, "cooldown_growth")) {
    if (auto n = r.get_number(*v, "policy.cooldown_growth", 1, 10)) p.cooldown_growth = *n;
  }
}

}  // namespace

void config_loader::load_policy(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "policy",
                     {"code_length", "allow_short_codes", "ttl", "max_ttl", "max_checks",
                      "max_sends", "resend_cooldown", "cooldown_growth", "new_code_on_resend",
                      "default_resend_channel", "fallback_on_sms_failure", "default_locale"});
  if (!m) return;
  otp_policy& p = c_.policy;
  read_code_length(r_, find(*m, "code_length"), find(*m, "allow_short_codes"), p);
  const bool times_ok = read_lifetimes(r_, *m, p);
  read_attempts(r_, *m, times_ok, p);
  if (const field* v = find(*m, "new_code_on_resend")) {
    if (auto b = r_.get_bool(*v, "policy.new_code_on_resend")) p.new_code_on_resend = *b;
    new_code_field_ = *v;
  }
  if (const field* v = find(*m, "default_resend_channel")) {
    static constexpr channel channels[] = {channel::sms, channel::voice};
    if (auto i =
            r_.get_choice(*v, "policy.default_resend_channel", {"sms", "voice"}, "sms or voice")) {
      p.default_resend_channel = channels[*i];
    }
  }
  if (const field* v = find(*m, "fallback_on_sms_failure")) {
    if (auto b = r_.get_bool(*v, "policy.fallback_on_sms_failure")) p.fallback_on_sms_failure = *b;
  }
  if (const field* v = find(*m, "default_locale")) {
    if (auto s =
            r_.get_string(*v, "policy.default_locale", {.max_length = 35, .allow_empty = false})) {
      if (is_locale(*s)) {
        p.default_locale = *s;
        locale_field_ = *v;
      } else {
        r_.error(yaml_reader::mark_of(*v),
                 "policy.default_locale: expected a language tag such as vi, en or en-GB, got '" +
                     *s + "'");
      }
    }
  }
}

void config_loader::load_rate_limits(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "rate_limits",
                     {"per_number", "per_api_key", "per_client_ip", "per_prefix", "prefix_digits"});
  if (!m) return;
  rate_limits& l = c_.limits;
  if (const field* v = find(*m, "per_number"))
    load_limit_list(*v, "rate_limits.per_number", l.per_number);
  if (const field* v = find(*m, "per_api_key")) {
    load_limit_list(*v, "rate_limits.per_api_key", l.per_api_key);
  }
  if (const field* v = find(*m, "per_client_ip")) {
    load_limit_list(*v, "rate_limits.per_client_ip", l.per_client_ip);
  }
  if (const field* v = find(*m, "per_prefix"))
    load_limit_list(*v, "rate_limits.per_prefix", l.per_prefix);
  if (const field* v = find(*m, "prefix_digits")) {
    if (auto n = r_.get_integer(*v, "rate_limits.prefix_digits", 1, max_e164_digits)) {
      l.prefix_digits = static_cast<int>(*n);
    }
  }
}

void config_loader::load_limit_list(const field& f, const std::string& path,
                                    std::vector<rate_limit>& out) {
  auto list = r_.items(f, path, "a list of limits, each {max, window} ([] for none)");
  if (!list) return;
  out.clear();
  for (std::size_t i = 0; i < list->size(); ++i) {
    const field& item = (*list)[i];
    const std::string p = item_path(path, i);
    auto m = r_.fields(item.value, yaml_reader::mark_of(item), p, {"max", "window"});
    if (!m) continue;
    r_.require(*m, item.value, p, "max", "events allowed per window; 0 for no limit");
    r_.require(*m, item.value, p, "window", "a duration such as 10m or 24h");
    rate_limit l;
    if (const field* v = find(*m, "max")) {
      if (auto n = r_.get_integer(*v, sub_path(p, "max"), 0, 1'000'000'000))
        l.max = static_cast<int>(*n);
    }
    if (const field* v = find(*m, "window")) {
      if (auto s = r_.get_seconds(*v, sub_path(p, "window"), 1s, 31 * 24h)) l.window = *s;
    }
    out.push_back(l);
  }
}

void config_loader::load_number_plan(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "number_plan",
                     {"default_country_code", "national_prefix", "min_digits", "max_digits"});
  if (!m) return;
  number_plan& n = c_.numbers;
  if (const field* v = find(*m, "default_country_code")) {
    const std::string p = "number_plan.default_country_code";
    if (auto s = r_.get_string(*v, p, {.allow_empty = false})) {
      std::string cc = s->starts_with('+') ? s->substr(1) : *s;
      // ITU-T E.164: country codes are one to three digits and never start with 0.
      if (all_digits(cc) && cc.size() <= 3 && cc[0] != '0') {
        n.default_country_code = cc;
      } else {
        r_.error(yaml_reader::mark_of(*v),
                 p + ": expected a country code of 1 to 3 digits such as 84, got '" + *s + "'");
      }
    }
  }
  if (const field* v = find(*m, "national_prefix")) {
    const std::string p = "number_plan.national_prefix";
    if (auto s = r_.get_string(*v, p)) {
      if (s->empty() || (all_digits(*s) && s->size() <= 3)) {
        n.national_prefix = *s;
      } else {
        r_.error(yaml_reader::mark_of(*v),
                 p + ": expected up to 3 digits such as 0 (or \"\" for none), got '" + *s + "'");
      }
    }
  }
  bool ok = true;
  const field* min = find(*m, "min_digits");
  const field* max = find(*m, "max_digits");
  if (min) {
    auto d = r_.get_integer(*min, "number_plan.min_digits", 1, max_e164_digits);
    if (d) n.min_digits = static_cast<int>(*d);
    ok = ok && d;
  }
  if (max) {
    auto d = r_.get_integer(*max, "number_plan.max_digits", 1, max_e164_digits);
    if (d) n.max_digits = static_cast<int>(*d);
    ok = ok && d;
  }
  if (ok && n.min_digits > n.max_digits) {
    const field* at = max ? max : min;
    r_.error(yaml_reader::mark_of(*at), "number_plan: min_digits (" + std::to_string(n.min_digits) +
                                            ") is larger than max_digits (" +
                                            std::to_string(n.max_digits) + ")");
  } else if (ok && n.default_country_code.size() + static_cast<std::size_t>(n.max_digits) >
                       max_e164_digits) {
    r_.error(yaml_reader::mark_of(max ? *max : *min),
             "number_plan.max_digits: " + std::to_string(n.max_digits) +
                 " digits after country code " + n.default_country_code +
                 " exceed the 15 digits of an E.164 number");
  }
}

}  // namespace otpd::config::detail
