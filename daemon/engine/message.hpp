// What the SMS says and how long the network may keep it: the remaining lifetime of the code
// (for submit_sm validity_period, SMPP 3.4 §5.2.15, and the "{minutes}" of the text) and the
// template of the recipient's locale. Pure: the time is passed in.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "daemon/model.hpp"

namespace otpd::engine {

// Whole seconds left before expires_at, rounded down (an SMS must not outlive its code), never
// negative. The SMPP layer turns it into validity_period / the message deadline.
std::chrono::seconds remaining_validity(const service::verification& v,
                                        service::sys_time now) noexcept;

// The "{minutes}" shown to the user: whole minutes rounded down (telling less than the truth
// is harmless, telling more makes a code fail early) after 5 s of slack, so that a fresh
// 5-minute code does not say 4; at least 1 while any time is left.
int validity_minutes(std::chrono::seconds remaining) noexcept;

// The template key used for `locale`: the exact key, else the same ignoring case with '_' read
// as '-' ("vi_VN" = "vi-VN"), else its primary language ("vi-VN" -> "vi", RFC 5646 §2.2.1),
// else `default_locale` (the policy's), else nullopt (configuration validation should make the
// default exist).
std::optional<std::string> pick_locale(const config::templates& text, std::string_view locale,
                                       std::string_view default_locale);

struct rendered_sms {
  std::string text;    // holds the code: never log it (docs/architecture.md §4)
  std::string locale;  // the template key used
};

// The template of pick_locale() with every "{code}" and "{minutes}" replaced; other braces are
// left as written. nullopt when no template fits.
std::optional<rendered_sms> render_sms(const config::templates& text, std::string_view locale,
                                       std::string_view default_locale, std::string_view code,
                                       std::chrono::seconds remaining);

}  // namespace otpd::engine
