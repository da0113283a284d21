#include "daemon/service/json_view.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace otpd::service {

std::string rfc3339(sys_time t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int, so that no truncation is possible
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

boost::json::object to_json(const verification& v, const config::otp_policy& policy, sys_time now) {
  boost::json::object o;
  o["id"] = v.id;
  o["to"] = mask_number(v.to);
  o["locale"] = v.locale;
  o["status"] = to_string(v.status);
  o["created_at"] = rfc3339(v.created_at);
  o["expires_at"] = rfc3339(v.expires_at);
  if (v.completed_at) o["completed_at"] = rfc3339(*v.completed_at);
  if (v.status == verification_status::pending) {
    o["next_resend_at"] = rfc3339(std::max(v.next_resend_at, now));
  }
  o["checks_remaining"] = std::max(0, v.max_checks - v.checks);
  o["sends_remaining"] = std::max(0, policy.max_sends - v.sends);
  boost::json::array attempts;
  for (const attempt& a : v.attempts) {
    boost::json::object j;
    j["number"] = a.number;
    j["channel"] = to_string(a.via);
    j["status"] = to_string(a.status);
    j["created_at"] = rfc3339(a.created_at);
    if (a.submitted_at) j["submitted_at"] = rfc3339(*a.submitted_at);
    if (a.completed_at) j["completed_at"] = rfc3339(*a.completed_at);
    if (!a.carrier.empty()) j["carrier"] = a.carrier;
    if (!a.message_ids.empty()) j["parts"] = a.message_ids.size();
    if (a.smpp_status) j["smpp_status"] = *a.smpp_status;
    if (a.outcome_unknown) j["outcome_unknown"] = true;
    if (!a.dlr_stat.empty()) j["dlr_stat"] = a.dlr_stat;
    if (!a.dlr_err.empty()) j["dlr_err"] = a.dlr_err;
    if (a.sip_code) j["sip_code"] = *a.sip_code;
    if (!a.sip_reason.empty()) j["sip_reason"] = a.sip_reason;
    if (a.played_ms) j["played_seconds"] = static_cast<double>(*a.played_ms) / 1000.0;
    if (!a.error.empty()) j["error"] = a.error;
    attempts.push_back(std::move(j));
  }
  o["attempts"] = std::move(attempts);
  return o;
}

}  // namespace otpd::service
