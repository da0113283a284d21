// Error codes of the SIP layer, as two boost::system categories:
//  - status_category(): the final status a peer sent (RFC 3261 §21), so that
//    error_code(486, status_category()) reads "486 Busy Here";
//  - errc: what we detected locally (malformed messages, limits, transaction timeouts).
// Predicates map codes to call outcomes so that callers never compare raw integers.
#pragma once

#include <type_traits>

#include <boost/system/error_code.hpp>

namespace otpd::sip {

// Errors detected by otpd itself.
enum class errc {
  // parsing (RFC 3261 §7, §25)
  malformed_start_line = 1,  // neither "METHOD URI SIP/2.0" nor "SIP/2.0 CODE REASON"
  unsupported_version,       // a SIP-Version other than SIP/2.0
  malformed_header,          // a header line without a colon, an empty or invalid name
  invalid_content_length,    // Content-Length not a number, or two that disagree
  missing_content_length,    // no Content-Length on a stream transport (RFC 3261 §18.3)
  truncated,                 // fewer body bytes than Content-Length, or no end of headers
  headers_too_large,         // start line and headers above limits::max_header_bytes
  too_many_headers,          // more header lines than limits::max_headers
  body_too_large,            // Content-Length above limits::max_body_bytes
  missing_header,            // a mandatory header (Via, CSeq, ...) is absent
  // header values
  malformed_uri,        // RFC 3261 §19.1
  malformed_via,        // RFC 3261 §20.42
  malformed_name_addr,  // From / To / Contact / Route (RFC 3261 §20.10)
  malformed_cseq,       // RFC 3261 §20.16
  // digest authentication (RFC 7616, RFC 3261 §22)
  malformed_challenge,    // WWW-Authenticate / Proxy-Authenticate unreadable or incomplete
  unsupported_scheme,     // not "Digest"
  unsupported_algorithm,  // not MD5, MD5-sess, SHA-256 or SHA-256-sess
  unsupported_qop,        // qop offered but without "auth"
  // transactions (RFC 3261 §17)
  transaction_timeout,  // Timer B or F fired: no final response (RFC 3261 §17.1.1.2, §17.1.2.2)
  transport_error,      // the transport reported a failure (RFC 3261 §17.1.4)
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

// RFC 3261 §21 status codes, for readable code; any integer 100..699 is valid in the category.
enum class status : int {
  trying = 100,
  ringing = 180,
  session_progress = 183,
  ok = 200,
  moved_temporarily = 302,
  bad_request = 400,
  unauthorized = 401,
  forbidden = 403,
  not_found = 404,
  proxy_authentication_required = 407,
  request_timeout = 408,
  temporarily_unavailable = 480,
  call_does_not_exist = 481,
  busy_here = 486,
  request_terminated = 487,
  not_acceptable_here = 488,
  server_internal_error = 500,
  service_unavailable = 503,
  server_timeout = 504,
  version_not_supported = 505,
  busy_everywhere = 600,
  decline = 603,
};

// The category of peer-reported statuses: message() is "CODE Reason-Phrase".
const boost::system::error_category& status_category() noexcept;

inline boost::system::error_code make_error_code(status s) noexcept {
  return {static_cast<int>(s), status_category()};
}
inline boost::system::error_code status_error(int code) noexcept {
  return {code, status_category()};
}

// The RFC 3261 §21 reason phrase of a code ("Busy Here"), or a generic one by class.
const char* reason_phrase(int code) noexcept;

// docs/architecture.md §6: how a call ended, from the final response or a local error.
enum class call_outcome { answered, busy, no_answer, rejected, failed };
// 486/600 busy; 408/480/487 and transaction_timeout no answer; 603 rejected; a 2xx (or no
// error) answered; everything else failed.
call_outcome outcome_for(const boost::system::error_code& ec) noexcept;

// A 401/407 that a request with credentials may answer (RFC 3261 §22.2).
bool is_auth_challenge(const boost::system::error_code& ec) noexcept;

}  // namespace otpd::sip

namespace boost::system {
template <>
struct is_error_code_enum<otpd::sip::errc> : std::true_type {};
template <>
struct is_error_code_enum<otpd::sip::status> : std::true_type {};
}  // namespace boost::system
