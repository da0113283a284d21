// The verification rules of docs/architecture.md §4 as pure functions over a verification, the
// policy and the time: no I/O, no clock, no randomness (codes are drawn by the caller and passed
// in, so that tests are deterministic). Each returns a typed outcome; the HTTP layer maps it to a
// status and a problem type (the suggested mapping is on each enumerator).
//
// Sources: NIST SP 800-63B-4 §3.1.3 (look-up secrets / out-of-band codes: single use, limited
// lifetime, limited attempts), OWASP ASVS 5.0 V6 (constant-time compare, rate limiting, no
// reset of the failure count on resend), Twilio Verify / Vonage Verify limits for sends.
//
// Times: a verification is valid on [created_at, expires_at): at exactly expires_at it is
// expired. A resend is allowed from exactly next_resend_at on. Whenever a rule moves a
// verification to a final status it sets completed_at (to expires_at for an expiry: that is
// when it ended, whoever noticed).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "daemon/engine/codes.hpp"
#include "daemon/model.hpp"
#include "smpp/dlr/receipt.hpp"

namespace otpd::engine {

using service::attempt;
using service::attempt_status;
using service::sys_time;
using service::verification;
using service::verification_status;
using std::chrono::seconds;

// Whether the policy keeps a sealed copy of the code: only when a resend re-reads the same
// code (new_code_on_resend = false). Otherwise only the MAC exists (docs/architecture.md §4).
bool must_seal(const config::otp_policy& policy) noexcept;

// How long to wait before the next send once `sends` sends have been made:
// resend_cooldown * cooldown_growth^(sends - 1), rounded up to whole seconds and capped at
// max_ttl (waiting longer than any code lives is pointless). With the defaults: 30 s after the
// first send, 60 s after the second, 120 s after the third.
seconds cooldown_after(const config::otp_policy& policy, int sends) noexcept;

// Whether `code` has the shape of a code of this verification (digits only, the right length).
// The HTTP layer may answer 400 for a malformed code without spending a check; check() itself
// counts whatever it is given.
bool well_formed_code(std::string_view code, int length) noexcept;

// --- create ----------------------------------------------------------------------------------

struct start_params {
  std::optional<seconds> ttl;  // requested lifetime: capped at policy.max_ttl
  config::channel via = config::channel::sms;
};

enum class start_outcome : std::uint8_t {
  started,
  invalid_ttl,  // 400/422: a requested ttl of zero or less
};

// Starts `v` (its id already set, other identity fields — to, locale, api_key, ... — are the
// caller's): status pending, expires_at = now + min(ttl or policy.ttl, policy.max_ttl), the
// code's MAC (and sealed copy when must_seal()), checks 0, max_checks from the policy, the
// first attempt (queued), sends 1, next_resend_at = now + cooldown_after(policy, 1).
// `code` is from generate_code(policy.code_length). Throws std::logic_error when the policy
// must seal but the protector has no seal key (configuration validation prevents it).
start_outcome start(verification& v, const config::otp_policy& policy, sys_time now,
                    const start_params& params, const code_protector& protector,
                    std::string_view code);

// Marks a pending verification past its expiry as expired. True when it changed.
bool expire_if_due(verification& v, sys_time now) noexcept;

// --- check -----------------------------------------------------------------------------------

enum class check_outcome : std::uint8_t {
  approved,              // 200; status approved, completed_at = now
  incorrect,             // 422 incorrect_code with checks_remaining; at 0 the status has become
                         // max_attempts_reached (this answer is still "incorrect": the code was
                         // compared; the next check gets max_attempts_reached)
  max_attempts_reached,  // 410: no check left (nothing compared, nothing counted)
  expired,               // 410: at or past expires_at (the status becomes expired)
  already_approved,      // 409: single use (NIST SP 800-63B-4 §3.1.3)
  canceled,              // 409
  not_checkable,         // 409: blocked or undeliverable
};

struct check_result {
  check_outcome outcome = check_outcome::incorrect;
  int checks_remaining = 0;
};

// One check of `code`. Only a pending, unexpired verification compares: checks + 1, then a
// constant-time MAC compare (code_protector::verify). A new code from a resend does not reset
// `checks` (ASVS V6: the failure count belongs to the verification, not to the code).
check_result check(verification& v, sys_time now, std::string_view code,
                   const code_protector& protector);

// --- resend ----------------------------------------------------------------------------------

enum class resend_trigger : std::uint8_t {
  user,      // POST .../resend: the cooldown applies
  fallback,  // the SMS failed and policy.fallback_on_sms_failure: no cooldown, same limits
};

enum class resend_outcome : std::uint8_t {
  accepted,           // 202: a new attempt (attempt_number) to send with `code`
  cooldown,           // 429 resend_cooldown, Retry-After: retry_after
  max_sends_reached,  // 429 max_sends_reached: no more sends for this verification (no
                      // Retry-After: none will be allowed)
  expired,            // 410 (the status becomes expired)
  final_state,        // 409: approved, canceled, max_attempts_reached, blocked, undeliverable
  code_unavailable,   // 500: the same code must be read again but no sealed copy opens
};

struct resend_result {
  resend_outcome outcome = resend_outcome::final_state;
  seconds retry_after{0};  // whole seconds, rounded up, for cooldown
  int attempt_number = 0;  // the new attempt when accepted
  std::string code;        // the code to send when accepted: never log it
};

// A resend over `via`. Refusals in this order: final status (409; expired status 410), expiry
// (410), sends >= policy.max_sends (429), before next_resend_at (429, user trigger only).
// Accepted: a new queued attempt, sends + 1, next_resend_at = now + cooldown_after(sends);
// expires_at never moves (docs/architecture.md §4). With policy.new_code_on_resend the code is
// `fresh_code` (from generate_code(v.code_length)) and replaces the MAC (and the sealed copy
// when sealing); otherwise the sealed code is read back and fresh_code is ignored.
resend_result resend(verification& v, const config::otp_policy& policy, sys_time now,
                     config::channel via, const code_protector& protector,
                     std::string_view fresh_code, resend_trigger trigger = resend_trigger::user);

// --- cancel ----------------------------------------------------------------------------------

enum class cancel_outcome : std::uint8_t {
  canceled,       // 200; completed_at = now
  already_final,  // 409
  expired,        // 409 (or 410): it had expired; the status becomes expired
};

cancel_outcome cancel(verification& v, sys_time now) noexcept;

// --- what happened to an attempt ---------------------------------------------------------------

// What the caller should do after an attempt changed.
struct delivery_effect {
  bool updated = false;  // the attempt exists and was changed
  // Start a voice attempt now: resend(v, policy, now, channel::voice, ...,
  // resend_trigger::fallback). Set when the latest attempt, an SMS, has just failed, the
  // verification is pending and unexpired, policy.fallback_on_sms_failure, and a send is left.
  bool start_fallback = false;
  // The verification has just become undeliverable (see on_submit_failed).
  bool became_undeliverable = false;
};

// The SMSC accepted every part: status submitted with the message ids (one per part).
delivery_effect on_submitted(verification& v, int attempt_number, sys_time now,
                             std::string_view carrier, std::string_view bind,
                             std::vector<std::string> message_ids);

// Written but no response came (docs/architecture.md §5): submitted with outcome_unknown; never
// resent.
delivery_effect on_submit_unknown(verification& v, int attempt_number, sys_time now,
                                  std::string_view carrier, std::string_view bind);

// The SMS could not be sent: refused by the SMSC (smpp_status) or never written (no route, no
// bind, deadline passed: `error` says which, e.g. "no_route", "no_bind_available").
//
// The undeliverable rule: a pending, unexpired verification becomes undeliverable when every
// one of its attempts has ended in failure (failed, undelivered, no_answer, busy, rejected),
// none is still under way or delivered, and no send is left (sends >= policy.max_sends) — the
// user cannot get any code any more. While a send is left it stays pending: the user may ask
// again, or a fallback starts (start_fallback instead).
delivery_effect on_submit_failed(verification& v, const config::otp_policy& policy,
                                 int attempt_number, sys_time now,
                                 std::optional<std::uint32_t> smpp_status, std::string_view error);

// A delivery receipt (already matched to the attempt by message id). DELIVRD -> delivered;
// UNDELIV, EXPIRED, DELETED, REJECTD -> undelivered; ENROUTE, ACCEPTD, UNKNOWN only record the
// stat. For a message in several parts, undelivered wins over delivered (the lost part may
// hold the code) and stays. Effects as for on_submit_failed, only on the change to undelivered.
delivery_effect on_receipt(verification& v, const config::otp_policy& policy, int attempt_number,
                           sys_time now, smpp::dlr::message_state state, std::string_view err);

// A call's progress or end (ringing, answered, completed, hung_up_early, no_answer, busy,
// rejected, failed). hung_up_early is a failure: the code was not heard in full.
// Failures count for the undeliverable rule; a call never triggers a fallback.
delivery_effect on_call_outcome(verification& v, const config::otp_policy& policy,
                                int attempt_number, sys_time now, attempt_status status,
                                std::optional<int> sip_code, std::string_view reason);

// A voice attempt for which no call was placed: no trunk took it within its wait for room and
// rate (`error` "no_trunk_available"), its prompt could not be made, otpd was shutting down.
// Nothing reached the phone, so the send is given back (sends - 1: it does not count against
// max_sends; next_resend_at stays, the cooldown still paces the asking). The attempt fails
// with `error` and counts for the undeliverable rule as any failure. Only a queued voice
// attempt changes.
delivery_effect on_call_not_placed(verification& v, const config::otp_policy& policy,
                                   int attempt_number, sys_time now, std::string_view error);

// --- idempotency -----------------------------------------------------------------------------

// Lowercase hex SHA-256 of the canonical request body (the HTTP layer canonicalises).
std::string request_hash(std::string_view canonical_body);

enum class idempotency_match : std::uint8_t {
  same_request,       // answer with the stored verification
  different_request,  // 422: the key was used with another body
};

idempotency_match match_idempotent(const verification& existing,
                                   std::string_view request_hash) noexcept;

}  // namespace otpd::engine
