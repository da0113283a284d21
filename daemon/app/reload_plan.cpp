#include "daemon/app/reload_plan.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <string_view>

#include <boost/json/value.hpp>

namespace otpd::app {
namespace {

constexpr std::array<std::string_view, 6> live_sections = {
    "api_keys", "policy", "rate_limits", "number_plan", "templates", "logging"};

bool is_live(std::string_view name) {
  return std::find(live_sections.begin(), live_sections.end(), name) != live_sections.end();
}

// The voice section without its trunks (null when absent).
boost::json::value voice_without_trunks(const boost::json::object& doc) {
  const auto* v = doc.if_contains("voice");
  if (v == nullptr || !v->is_object()) return v ? *v : boost::json::value();
  boost::json::object o = v->as_object();
  o.erase("trunks");
  return boost::json::value(std::move(o));
}

bool differs(const boost::json::object& a, const boost::json::object& b, std::string_view key) {
  const auto* x = a.if_contains(key);
  const auto* y = b.if_contains(key);
  return x == nullptr || y == nullptr || *x != *y;
}

}  // namespace

std::vector<std::string> reload_plan::restart_needed() const {
  std::vector<std::string> names;
  for (const auto& c : changed) {
    if (c.change == section_change::restart_needed) names.push_back(c.name);
  }
  return names;
}

reload_plan plan_reload(const boost::json::object& running, const boost::json::object& next,
                        bool has_dialer) {
  reload_plan plan;
  plan.apply_trunks = has_dialer && running.contains("voice") && next.contains("voice") &&
                      voice_without_trunks(running) == voice_without_trunks(next);
  std::set<std::string, std::less<>> keys;
  for (const auto& kv : running) keys.emplace(kv.key());
  for (const auto& kv : next) keys.emplace(kv.key());
  for (const std::string& k : keys) {
    if (!differs(running, next, k)) continue;
    section_change change = section_change::restart_needed;
    if (is_live(k)) {
      change = section_change::live;
    } else if (k == "routing" || (k == "voice" && plan.apply_trunks)) {
      change = section_change::diff;
    }
    plan.changed.push_back({k, change});
  }
  return plan;
}

void adopt_applied(const reload_plan& plan, const boost::json::object& next,
                   boost::json::object& running) {
  for (const auto& c : plan.changed) {
    if (c.change == section_change::restart_needed) continue;
    const auto* v = next.if_contains(c.name);
    running[c.name] = v ? *v : boost::json::value();
  }
}

}  // namespace otpd::app
