// The verification and its attempts: what otpd keeps and what the API shows.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace otpd::service {

using sys_time = std::chrono::system_clock::time_point;
using config::channel;

// docs/architecture.md §3
enum class verification_status : std::uint8_t {
  pending,
  approved,
  canceled,
  expired,
  max_attempts_reached,
  blocked,
  undeliverable,
};
const char* to_string(verification_status s) noexcept;
std::optional<verification_status> verification_status_from(std::string_view s) noexcept;
inline bool is_final(verification_status s) noexcept { return s != verification_status::pending; }

enum class attempt_status : std::uint8_t {
  queued,       // accepted, not yet on the wire
  submitted,    // the SMSC accepted it (or it was written and its outcome is unknown)
  delivered,    // receipt DELIVRD
  undelivered,  // receipt UNDELIV / EXPIRED / REJECTD / DELETED
  failed,       // refused by the SMSC, or could not be sent
  ringing,
  answered,
  completed,  // answered, and the code was read in full at least once
  no_answer,
  busy,
  rejected,
  hung_up_early,  // answered, and the callee hung up before the code was read in full once
};
const char* to_string(attempt_status s) noexcept;
std::optional<attempt_status> attempt_status_from(std::string_view s) noexcept;
const char* to_string(channel c) noexcept;
std::optional<channel> channel_from(std::string_view s) noexcept;

struct attempt {
  int number = 0;  // 1-based, in order of creation
  channel via = channel::sms;
  attempt_status status = attempt_status::queued;
  sys_time created_at{};
  std::optional<sys_time> submitted_at;
  std::optional<sys_time> completed_at;
  std::string carrier;
  std::string bind;
  std::vector<std::string> message_ids;  // one per part, as the SMSC spelled them
  std::optional<std::uint32_t> smpp_status;
  bool outcome_unknown = false;  // written, no response: never resubmitted
  std::string dlr_stat;          // receipt "stat:" (DELIVRD, UNDELIV, ...)
  std::string dlr_err;           // receipt "err:"
  std::optional<int> sip_code;
  std::string sip_reason;
  std::optional<std::int64_t> played_ms;  // a call's prompt sent to the callee, once answered
  std::string error;  // short machine-readable reason when failed ("no_route", ...)
  // The node sending it (cluster.node); empty while an SMS waits in the handoff queue, and in
  // rows written before nodes were named (taken as the local node's).
  std::string node;
  friend bool operator==(const attempt&, const attempt&) = default;
};

struct verification {
  std::string id;  // random, URL-safe
  std::string to;  // E.164 with '+'
  std::string locale;
  std::string api_key;  // the key's name
  std::string client_ip;
  verification_status status = verification_status::pending;
  sys_time created_at{};
  sys_time expires_at{};
  std::optional<sys_time> completed_at;
  int code_length = 6;
  std::string code_mac;     // HMAC-SHA256 over id and code: never the code itself
  std::string code_sealed;  // AES-256-GCM of the code, only when it must be re-read
  int checks = 0;           // checks made so far
  int max_checks = 5;
  int sends = 0;  // attempts made so far
  sys_time next_resend_at{};
  std::string idempotency_key;
  std::string request_hash;  // SHA-256 of the request body, for Idempotency-Key reuse
  std::vector<attempt> attempts;
  std::int64_t version = 0;  // bumped by every store write
  friend bool operator==(const verification&, const verification&) = default;
};

// "+8490****567": country code and the first two national digits, the last three. In general
// the first four digits after '+' and the last three; fewer than ten digits, or anything not
// '+' and digits: everything masked (model.cpp).
std::string mask_number(std::string_view e164);

}  // namespace otpd::service
