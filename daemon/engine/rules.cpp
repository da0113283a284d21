#include "daemon/engine/rules.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include <openssl/evp.h>

namespace otpd::engine {
namespace {

using config::channel;
using smpp::dlr::message_state;

attempt* find_attempt(verification& v, int number) noexcept {
  for (auto& a : v.attempts) {
    if (a.number == number) return &a;
  }
  return nullptr;
}

void finish(verification& v, verification_status s, sys_time at) noexcept {
  v.status = s;
  v.completed_at = at;
}

attempt new_attempt(const verification& v, channel via, sys_time now) {
  attempt a;
  a.number = v.attempts.empty() ? 1 : v.attempts.back().number + 1;
  a.via = via;
  a.status = attempt_status::queued;
  a.created_at = now;
  return a;
}

bool is_failure(attempt_status s) noexcept {
  switch (s) {
    case attempt_status::failed:
    case attempt_status::undelivered:
    case attempt_status::no_answer:
    case attempt_status::busy:
    case attempt_status::rejected:
    case attempt_status::hung_up_early:  // the code was not heard in full
      return true;
    default:
      return false;
  }
}

// Sets the code material: the MAC always, the sealed copy only when the policy re-reads it.
void store_code(verification& v, const config::otp_policy& policy, const code_protector& protector,
                std::string_view code) {
  v.code_mac = protector.mac(v.id, code);
  v.code_sealed = must_seal(policy) ? protector.seal(v.id, code) : std::string{};
}

// What follows from the failure of `failed` (an attempt of v that has just changed to a
// failure): a fallback, the undeliverable status, or nothing.
void after_failure(verification& v, const config::otp_policy& policy, const attempt& failed,
                   sys_time now, delivery_effect& effect) noexcept {
  if (v.status != verification_status::pending || now >= v.expires_at) return;
  const bool latest = !v.attempts.empty() && v.attempts.back().number == failed.number;
  const bool send_left = v.sends < policy.max_sends;
  if (failed.via == channel::sms && latest && send_left && policy.fallback_on_sms_failure) {
    effect.start_fallback = true;
    return;
  }
  if (send_left) return;  // the user can still ask for another send
  const bool all_failed = std::all_of(v.attempts.begin(), v.attempts.end(),
                                      [](const attempt& a) { return is_failure(a.status); });
  if (all_failed) {
    finish(v, verification_status::undeliverable, now);
    effect.became_undeliverable = true;
  }
}

}  // namespace

bool must_seal(const config::otp_policy& policy) noexcept { return !policy.new_code_on_resend; }

seconds cooldown_after(const config::otp_policy& policy, int sends) noexcept {
  const double base = static_cast<double>(policy.resend_cooldown.count());
  const double cap = static_cast<double>(std::max(policy.max_ttl, policy.resend_cooldown).count());
  const int exponent = std::max(0, sends - 1);
  double wait = base * std::pow(policy.cooldown_growth, exponent);
  // pow may overflow to inf for silly growth factors; the cap keeps the cast defined.
  if (!(wait <= cap)) wait = cap;
  if (wait < 0) wait = 0;
  return seconds{static_cast<seconds::rep>(std::ceil(wait))};
}

bool well_formed_code(std::string_view code, int length) noexcept {
  return code.size() == static_cast<std::size_t>(length) &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// --- create ----------------------------------------------------------------------------------

start_outcome start(verification& v, const config::otp_policy& policy, sys_time now,
                    const start_params& params, const code_protector& protector,
                    std::string_view code) {
  if (params.ttl && params.ttl->count() <= 0) return start_outcome::invalid_ttl;
  // NIST SP 800-63B-4 §3.1.3: a limited lifetime; docs/architecture.md §4: default 300 s, at most
  // 600 s.
  const seconds ttl = std::min(params.ttl.value_or(policy.ttl), policy.max_ttl);

  v.status = verification_status::pending;
  v.created_at = now;
  v.expires_at = now + ttl;
  v.completed_at.reset();
  v.code_length = static_cast<int>(code.size());
  store_code(v, policy, protector, code);
  v.checks = 0;
  v.max_checks = policy.max_checks;
  v.attempts.clear();
  v.attempts.push_back(new_attempt(v, params.via, now));
  v.sends = 1;
  v.next_resend_at = now + cooldown_after(policy, v.sends);
  return start_outcome::started;
}

bool expire_if_due(verification& v, sys_time now) noexcept {
  if (v.status != verification_status::pending || now < v.expires_at) return false;
  finish(v, verification_status::expired, v.expires_at);
  return true;
}

// --- check -----------------------------------------------------------------------------------

check_result check(verification& v, sys_time now, std::string_view code,
                   const code_protector& protector) {
  expire_if_due(v, now);
  switch (v.status) {
    case verification_status::pending:
      break;
    case verification_status::approved:
      return {check_outcome::already_approved, 0};
    case verification_status::canceled:
      return {check_outcome::canceled, 0};
    case verification_status::expired:
      return {check_outcome::expired, 0};
    case verification_status::max_attempts_reached:
      return {check_outcome::max_attempts_reached, 0};
    case verification_status::blocked:
    case verification_status::undeliverable:
      return {check_outcome::not_checkable, 0};
  }
  if (v.checks >= v.max_checks) {
    // Only reachable with a row written by an older rule set; settle it now.
    finish(v, verification_status::max_attempts_reached, now);
    return {check_outcome::max_attempts_reached, 0};
  }
  // Count before comparing: a check is spent whatever happens next.
  ++v.checks;
  if (protector.verify(v.id, code, v.code_mac)) {
    finish(v, verification_status::approved, now);
    return {check_outcome::approved, v.max_checks - v.checks};
  }
  const int remaining = v.max_checks - v.checks;
  if (remaining <= 0) finish(v, verification_status::max_attempts_reached, now);
  return {check_outcome::incorrect, std::max(remaining, 0)};
}

// --- resend ----------------------------------------------------------------------------------

resend_result resend(verification& v, const config::otp_policy& policy, sys_time now, channel via,
                     const code_protector& protector, std::string_view fresh_code,
                     resend_trigger trigger) {
  resend_result r;
  expire_if_due(v, now);
  if (v.status == verification_status::expired) {
    r.outcome = resend_outcome::expired;
    return r;
  }
  if (is_final(v.status)) {
    r.outcome = resend_outcome::final_state;
    return r;
  }
  if (v.sends >= policy.max_sends) {
    r.outcome = resend_outcome::max_sends_reached;
    return r;
  }
  if (trigger == resend_trigger::user && now < v.next_resend_at) {
    r.outcome = resend_outcome::cooldown;
    // Retry-After in whole seconds, rounded up so that a client honouring it is not refused.
    r.retry_after = std::chrono::ceil<seconds>(v.next_resend_at - now);
    return r;
  }

  if (policy.new_code_on_resend) {
    if (!well_formed_code(fresh_code, v.code_length)) {
      throw std::invalid_argument("resend needs a fresh code of the verification's length");
    }
    store_code(v, policy, protector, fresh_code);
    r.code.assign(fresh_code);
  } else {
    auto same = protector.unseal(v.id, v.code_sealed);
    if (!same) {
      r.outcome = resend_outcome::code_unavailable;
      return r;
    }
    r.code = std::move(*same);
    wipe(*same);  // a short string leaves its bytes behind when moved from
  }

  v.attempts.push_back(new_attempt(v, via, now));
  ++v.sends;
  // expires_at is left alone: a resend never extends the lifetime (docs/architecture.md §4).
  v.next_resend_at = now + cooldown_after(policy, v.sends);
  r.outcome = resend_outcome::accepted;
  r.attempt_number = v.attempts.back().number;
  return r;
}

// --- cancel ----------------------------------------------------------------------------------

cancel_outcome cancel(verification& v, sys_time now) noexcept {
  if (expire_if_due(v, now)) return cancel_outcome::expired;
  if (v.status != verification_status::pending) return cancel_outcome::already_final;
  finish(v, verification_status::canceled, now);
  return cancel_outcome::canceled;
}

// --- attempt outcomes ------------------------------------------------------------------------

delivery_effect on_submitted(verification& v, int attempt_number, sys_time now,
                             std::string_view carrier, std::string_view bind,
                             std::vector<std::string> message_ids) {
  delivery_effect effect;
  attempt* a = find_attempt(v, attempt_number);
  if (a == nullptr) return effect;
  // A receipt may be processed before the submit response (it travels on another bind): do
  // not move a delivered / undelivered attempt back to submitted.
  if (a->status == attempt_status::queued) a->status = attempt_status::submitted;
  a->submitted_at = now;
  a->carrier.assign(carrier);
  a->bind.assign(bind);
  a->message_ids = std::move(message_ids);
  a->outcome_unknown = false;
  effect.updated = true;
  return effect;
}

delivery_effect on_submit_unknown(verification& v, int attempt_number, sys_time now,
                                  std::string_view carrier, std::string_view bind) {
  delivery_effect effect;
  attempt* a = find_attempt(v, attempt_number);
  if (a == nullptr) return effect;
  if (a->status == attempt_status::queued) a->status = attempt_status::submitted;
  a->submitted_at = now;
  a->carrier.assign(carrier);
  a->bind.assign(bind);
  a->outcome_unknown = true;
  effect.updated = true;
  return effect;
}

delivery_effect on_submit_failed(verification& v, const config::otp_policy& policy,
                                 int attempt_number, sys_time now,
                                 std::optional<std::uint32_t> smpp_status, std::string_view error) {
  delivery_effect effect;
  attempt* a = find_attempt(v, attempt_number);
  if (a == nullptr) return effect;
  const bool was_failure = is_failure(a->status);
  a->status = attempt_status::failed;
  a->completed_at = now;
  a->smpp_status = smpp_status;
  a->error.assign(error);
  effect.updated = true;
  if (!was_failure) after_failure(v, policy, *a, now, effect);
  return effect;
}

delivery_effect on_receipt(verification& v, const config::otp_policy& policy, int attempt_number,
                           sys_time now, message_state state, std::string_view err) {
  delivery_effect effect;
  attempt* a = find_attempt(v, attempt_number);
  if (a == nullptr) return effect;
  a->dlr_stat = smpp::dlr::to_string(state);
  a->dlr_err.assign(err);
  effect.updated = true;
  switch (state) {
    case message_state::delivered:
      if (a->status != attempt_status::undelivered) {
        a->status = attempt_status::delivered;
        a->completed_at = now;
      }
      return effect;
    case message_state::undeliverable:
    case message_state::expired:
    case message_state::deleted:
    case message_state::rejected: {
      const bool was_failure = is_failure(a->status);
      a->status = attempt_status::undelivered;
      a->completed_at = now;
      if (!was_failure) after_failure(v, policy, *a, now, effect);
      return effect;
    }
    case message_state::enroute:
    case message_state::accepted:
    case message_state::unknown:
      // Not a delivery verdict (ACCEPTD: read on behalf of the subscriber, SMPP 3.4 §5.2.28):
      // the stat is recorded, the status stays.
      return effect;
  }
  return effect;
}

delivery_effect on_call_outcome(verification& v, const config::otp_policy& policy,
                                int attempt_number, sys_time now, attempt_status status,
                                std::optional<int> sip_code, std::string_view reason) {
  delivery_effect effect;
  attempt* a = find_attempt(v, attempt_number);
  if (a == nullptr) return effect;
  const bool was_failure = is_failure(a->status);
  a->status = status;
  if (sip_code) a->sip_code = sip_code;
  a->sip_reason.assign(reason);
  if (status == attempt_status::completed || is_failure(status)) a->completed_at = now;
  effect.updated = true;
  if (!was_failure && is_failure(status)) after_failure(v, policy, *a, now, effect);
  return effect;
}

delivery_effect on_call_not_placed(verification& v, const config::otp_policy& policy,
                                   int attempt_number, sys_time now, std::string_view error) {
  delivery_effect effect;
  attempt* a = find_attempt(v, attempt_number);
  if (a == nullptr) return effect;
  // Only a call that never started: once it rang (or failed) it was a send.
  if (a->via != channel::voice || a->status != attempt_status::queued) return effect;
  a->status = attempt_status::failed;
  a->completed_at = now;
  a->error.assign(error);
  effect.updated = true;
  // No call left otpd: the send is given back (once: the attempt is no longer queued).
  if (v.sends > 0) --v.sends;
  after_failure(v, policy, *a, now, effect);
  return effect;
}

// --- idempotency -----------------------------------------------------------------------------

std::string request_hash(std::string_view canonical_body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(canonical_body.data(), canonical_body.size(), md, &len, EVP_sha256(), nullptr) !=
      1) {
    throw std::runtime_error("SHA-256 failed");
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(2 * len, '\0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 0x0f];
  }
  return out;
}

idempotency_match match_idempotent(const verification& existing, std::string_view hash) noexcept {
  return existing.request_hash == hash ? idempotency_match::same_request
                                       : idempotency_match::different_request;
}

}  // namespace otpd::engine
