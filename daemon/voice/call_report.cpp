#include "daemon/voice/call_report.hpp"

namespace otpd::service {

attempt_status attempt_status_for(voice::call_state s) noexcept {
  switch (s) {
    case voice::call_state::completed:
      return attempt_status::completed;
    case voice::call_state::hung_up_early:
      return attempt_status::hung_up_early;
    case voice::call_state::busy:
      return attempt_status::busy;
    case voice::call_state::no_answer:
      return attempt_status::no_answer;
    case voice::call_state::rejected:
      return attempt_status::rejected;
    default:
      return attempt_status::failed;
  }
}

std::vector<std::pair<std::string, std::string>> calls_counted(
    const std::vector<std::string>& failed_over, const std::string& last_trunk,
    voice::call_state final_state) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& t : failed_over) out.emplace_back(t, "failed_over");
  out.emplace_back(last_trunk.empty() ? std::string("none") : last_trunk,
                   voice::to_string(final_state));
  return out;
}

}  // namespace otpd::service
