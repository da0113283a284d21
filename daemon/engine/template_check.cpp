#include "daemon/engine/template_check.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "daemon/engine/message.hpp"
#include "smpp/text/explain.hpp"

namespace otpd::engine {
namespace {

struct worst_case {
  std::string code;
  std::chrono::seconds remaining{0};
};

// Every code digit takes one unit in every coding, so the longest code is the worst; the most
// minutes a text can say come from the longest lifetime a request may ask for.
worst_case worst_case_of(const config::otp_policy& p) {
  worst_case w;
  w.code.assign(static_cast<std::size_t>(std::max(p.code_length, 1)), '8');
  w.remaining = std::max(p.ttl, p.max_ttl);
  return w;
}

bool can_send(const smpp::bind_config& b) {
  return b.session.smpp.type != smpp::bind_type::receiver;
}

config::source_position where(const config::config& c, const config::carrier& carrier,
                              const std::string& locale) {
  if (auto it = c.text.sms_at.find(locale); it != c.text.sms_at.end() && it->second.line != 0) {
    return it->second;
  }
  return carrier.at;
}

// The reasons `text` cannot go out through the carrier's sending binds, one per distinct reason,
// each with the bind it was found on.
std::vector<std::pair<std::string, std::string>> reasons_for(const config::carrier& carrier,
                                                             const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const smpp::bind_config& b : carrier.binds) {
    if (!can_send(b)) continue;
    std::string why = smpp::text::why_unsendable(text, b.text.encoding, b.text.split);
    if (why.empty()) continue;
    const bool known =
        std::any_of(out.begin(), out.end(), [&](const auto& r) { return r.second == why; });
    if (!known) out.emplace_back(b.session.name, std::move(why));
  }
  return out;
}

}  // namespace

std::vector<config::config_error> check_templates(const config::config& c) {
  std::vector<config::config_error> errors;
  const worst_case w = worst_case_of(c.policy);
  const std::string assumed =
      " (rendered with a " + std::to_string(w.code.size()) +
      "-digit code and {minutes} = " + std::to_string(validity_minutes(w.remaining)) + ")";
  for (const config::carrier& carrier : c.routes.carriers) {
    const auto senders = std::count_if(carrier.binds.begin(), carrier.binds.end(), can_send);
    for (const auto& [locale, unused] : c.text.sms) {
      std::optional<rendered_sms> text =
          render_sms(c.text, locale, c.policy.default_locale, w.code, w.remaining);
      if (!text) continue;
      for (const auto& [bind, why] : reasons_for(carrier, text->text)) {
        const config::source_position at = where(c, carrier, locale);
        std::string message = "templates.sms." + locale + ": carrier '" + carrier.name + "'";
        if (senders > 1) message += " (bind '" + bind + "')";
        message += " cannot send this text: " + why + assumed;
        errors.push_back({c.source.string(), at.line, at.column, std::move(message)});
      }
    }
  }
  std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return errors;
}

}  // namespace otpd::engine
