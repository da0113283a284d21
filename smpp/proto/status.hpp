// Error codes of the SMPP layer, as two boost::system categories:
//  - command_status: what the peer reported in a PDU header (SMPP 3.4 §5.1.3);
//  - errc: what we detected locally (malformed input, timeouts, lost binds).
// Predicates decide recovery so that callers never compare raw integers.
#pragma once

#include <cstdint>
#include <type_traits>

#include <boost/system/error_code.hpp>

namespace otpd::smpp {

// SMPP 3.4 §5.1.3 (Table 5-2), plus the common vendor values in the reserved range.
enum class command_status : std::uint32_t {
  ok = 0x00000000,                            // ESME_ROK
  invalid_msg_length = 0x00000001,            // ESME_RINVMSGLEN
  invalid_cmd_length = 0x00000002,            // ESME_RINVCMDLEN
  invalid_cmd_id = 0x00000003,                // ESME_RINVCMDID
  invalid_bind_status = 0x00000004,           // ESME_RINVBNDSTS
  already_bound = 0x00000005,                 // ESME_RALYBND
  invalid_priority = 0x00000006,              // ESME_RINVPRTFLG
  invalid_reg_delivery = 0x00000007,          // ESME_RINVREGDLVFLG
  system_error = 0x00000008,                  // ESME_RSYSERR
  invalid_source_addr = 0x0000000A,           // ESME_RINVSRCADR
  invalid_dest_addr = 0x0000000B,             // ESME_RINVDSTADR
  invalid_message_id = 0x0000000C,            // ESME_RINVMSGID
  bind_failed = 0x0000000D,                   // ESME_RBINDFAIL
  invalid_password = 0x0000000E,              // ESME_RINVPASWD
  invalid_system_id = 0x0000000F,             // ESME_RINVSYSID
  cancel_failed = 0x00000011,                 // ESME_RCANCELFAIL
  replace_failed = 0x00000013,                // ESME_RREPLACEFAIL
  message_queue_full = 0x00000014,            // ESME_RMSGQFUL
  invalid_service_type = 0x00000015,          // ESME_RINVSERTYP
  invalid_num_dests = 0x00000033,             // ESME_RINVNUMDESTS
  invalid_dl_name = 0x00000034,               // ESME_RINVDLNAME
  invalid_dest_flag = 0x00000040,             // ESME_RINVDESTFLAG
  invalid_submit_with_replace = 0x00000042,   // ESME_RINVSUBREP
  invalid_esm_class = 0x00000043,             // ESME_RINVESMCLASS
  cannot_submit_to_dl = 0x00000044,           // ESME_RCNTSUBDL
  submit_failed = 0x00000045,                 // ESME_RSUBMITFAIL
  invalid_source_ton = 0x00000048,            // ESME_RINVSRCTON
  invalid_source_npi = 0x00000049,            // ESME_RINVSRCNPI
  invalid_dest_ton = 0x00000050,              // ESME_RINVDSTTON
  invalid_dest_npi = 0x00000051,              // ESME_RINVDSTNPI
  invalid_system_type = 0x00000053,           // ESME_RINVSYSTYP
  invalid_replace_flag = 0x00000054,          // ESME_RINVREPFLAG
  invalid_num_msgs = 0x00000055,              // ESME_RINVNUMMSGS
  throttled = 0x00000058,                     // ESME_RTHROTTLED
  invalid_schedule = 0x00000061,              // ESME_RINVSCHED
  invalid_expiry = 0x00000062,                // ESME_RINVEXPIRY
  invalid_predefined_msg = 0x00000063,        // ESME_RINVDFTMSGID
  rx_temp_app_error = 0x00000064,             // ESME_RX_T_APPN
  rx_perm_app_error = 0x00000065,             // ESME_RX_P_APPN
  rx_reject_app_error = 0x00000066,           // ESME_RX_R_APPN
  query_failed = 0x00000067,                  // ESME_RQUERYFAIL
  invalid_optional_part = 0x000000C0,         // ESME_RINVOPTPARSTREAM
  optional_param_not_allowed = 0x000000C1,    // ESME_ROPTPARNOTALLWD
  invalid_param_length = 0x000000C2,          // ESME_RINVPARLEN
  missing_optional_param = 0x000000C3,        // ESME_RMISSINGOPTPARAM
  invalid_optional_param_value = 0x000000C4,  // ESME_RINVOPTPARAMVAL
  delivery_failure = 0x000000FE,              // ESME_RDELIVERYFAILURE
  unknown_error = 0x000000FF,                 // ESME_RUNKNOWNERR
};

const boost::system::error_category& command_status_category() noexcept;

inline boost::system::error_code make_error_code(command_status s) noexcept {
  return {static_cast<int>(s), command_status_category()};
}

// The SMPP name of a status ("ESME_RTHROTTLED"), or "ESME_R0x%08X"-style text for others.
const char* status_name(std::uint32_t status) noexcept;

// Errors detected by otpd itself.
enum class errc {
  // framing and decoding (each maps to the status a response must carry: status_for())
  invalid_command_length = 1,  // command_length < 16 or above the configured maximum
  unknown_command_id,          // not an SMPP 3.4 command
  truncated_body,              // a mandatory field runs past command_length
  c_string_unterminated,       // a C-Octet String without its NUL within its maximum size
  c_string_too_long,           // a C-Octet String longer than the spec allows
  sm_length_mismatch,          // sm_length points past the body
  invalid_tlv,                 // TLV header or length runs past the PDU
  invalid_tlv_length,          // a known TLV with a length the spec forbids
  trailing_bytes,              // bytes after the last field of a PDU that takes no TLVs
  // session
  response_timeout,      // no response to a request within its timeout
  bind_timeout,          // no bind response within the bind timeout
  enquire_link_timeout,  // the peer did not answer enquire_link: dead peer
  connection_closed,     // the peer closed the connection
  unbound,               // the session was unbound (by us or the peer)
  not_bound,             // an operation needed a bound session
  window_full,           // no window room
  deadline_passed,       // the message's deadline passed before it could be written
  unknown_outcome,       // written, but the bind dropped before a response: do not resubmit
  shutting_down,         // the session or pool is stopping
  no_bind_available,     // no bound session in the pool can take the message
  unexpected_pdu,        // a PDU that is not allowed in the current state
  encoding_error,        // text could not be encoded with the requested coding
  // encoding (appended: existing values keep their numbers)
  invalid_field,  // encode: a NUL inside a C-Octet String, or a time neither empty nor 16 chars
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

// The command_status a response or generic_nack must carry for a decode error (SMPP 3.4
// §2.7 / §5.1.3): invalid_command_length -> ESME_RINVCMDLEN, unknown_command_id ->
// ESME_RINVCMDID, truncated or malformed bodies -> ESME_RINVMSGLEN, TLV faults ->
// ESME_RINVOPTPARSTREAM / ESME_RINVPARLEN, others -> ESME_RSYSERR.
command_status status_for(const boost::system::error_code& ec) noexcept;

// Recovery predicates.
// The bind must be torn down and re-established (framing lost, dead peer, bind state wrong).
bool requires_rebind(const boost::system::error_code& ec) noexcept;
// The SMSC asks us to slow down (ESME_RTHROTTLED, ESME_RMSGQFUL).
bool is_throttling(const boost::system::error_code& ec) noexcept;
// The message may be tried again on another bind or carrier (throttling, transient SMSC
// failures, window full, a bind lost before the message was written).
bool is_retryable(const boost::system::error_code& ec) noexcept;
// The message itself was refused for good (bad destination, bad coding, ...).
bool is_permanent_rejection(const boost::system::error_code& ec) noexcept;

}  // namespace otpd::smpp

namespace boost::system {
template <>
struct is_error_code_enum<otpd::smpp::command_status> : std::true_type {};
template <>
struct is_error_code_enum<otpd::smpp::errc> : std::true_type {};
}  // namespace boost::system
