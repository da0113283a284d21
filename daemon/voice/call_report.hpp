// How a call attempt is reported: the attempt status its final state is recorded as, and what
// otpd_voice_calls_total counts for it. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/model.hpp"
#include "voice/call/call_outcome.hpp"

namespace otpd::service {

// What the service records on a voice attempt: a call's progress or its end.
struct call_record {
  attempt_status status = attempt_status::failed;
  std::string trunk;  // empty: leave the attempt's carrier
  int sip_code = 0;   // 0: none (the attempt keeps what it had)
  std::string reason;
  std::string error;                      // empty: none
  std::optional<sys_time> invite_at;      // when the INVITE left: the attempt's submitted_at
  std::optional<std::int64_t> played_ms;  // answered calls: prompt sent to the callee
  bool placed = true;                     // false: no INVITE left, the send is given back
};

// completed, hung_up_early, busy, no_answer, rejected as themselves; anything else failed.
attempt_status attempt_status_for(voice::call_state s) noexcept;

// The (trunk, outcome) pairs otpd_voice_calls_total counts for one attempt: each trunk that
// could not carry the call and passed it to the next one `failed_over`, then the trunk that had
// it last with the call's final state (trunk "none" when no trunk took it). One count per call
// a trunk was asked to carry: the outcomes of a trunk sum to the calls it was given.
std::vector<std::pair<std::string, std::string>> calls_counted(
    const std::vector<std::string>& failed_over, const std::string& last_trunk,
    voice::call_state final_state);

}  // namespace otpd::service
