#include "smpp/proto/status.hpp"

#include <cstdio>
#include <string>

namespace otpd::smpp {
namespace {

struct status_entry {
  std::uint32_t value;
  const char* name;
  const char* meaning;
};

// SMPP 3.4 §5.1.3 (Table 5-2), in ascending order of value.
constexpr status_entry status_table[] = {
    {0x00000000, "ESME_ROK", "no error"},
    {0x00000001, "ESME_RINVMSGLEN", "message length is invalid"},
    {0x00000002, "ESME_RINVCMDLEN", "command length is invalid"},
    {0x00000003, "ESME_RINVCMDID", "invalid command id"},
    {0x00000004, "ESME_RINVBNDSTS", "incorrect bind status for given command"},
    {0x00000005, "ESME_RALYBND", "ESME already in bound state"},
    {0x00000006, "ESME_RINVPRTFLG", "invalid priority flag"},
    {0x00000007, "ESME_RINVREGDLVFLG", "invalid registered delivery flag"},
    {0x00000008, "ESME_RSYSERR", "system error"},
    {0x0000000A, "ESME_RINVSRCADR", "invalid source address"},
    {0x0000000B, "ESME_RINVDSTADR", "invalid destination address"},
    {0x0000000C, "ESME_RINVMSGID", "message id is invalid"},
    {0x0000000D, "ESME_RBINDFAIL", "bind failed"},
    {0x0000000E, "ESME_RINVPASWD", "invalid password"},
    {0x0000000F, "ESME_RINVSYSID", "invalid system id"},
    {0x00000011, "ESME_RCANCELFAIL", "cancel sm failed"},
    {0x00000013, "ESME_RREPLACEFAIL", "replace sm failed"},
    {0x00000014, "ESME_RMSGQFUL", "message queue full"},
    {0x00000015, "ESME_RINVSERTYP", "invalid service type"},
    {0x00000033, "ESME_RINVNUMDESTS", "invalid number of destinations"},
    {0x00000034, "ESME_RINVDLNAME", "invalid distribution list name"},
    {0x00000040, "ESME_RINVDESTFLAG", "destination flag is invalid (submit_multi)"},
    {0x00000042, "ESME_RINVSUBREP", "invalid submit with replace request"},
    {0x00000043, "ESME_RINVESMCLASS", "invalid esm_class field data"},
    {0x00000044, "ESME_RCNTSUBDL", "cannot submit to distribution list"},
    {0x00000045, "ESME_RSUBMITFAIL", "submit_sm or submit_multi failed"},
    {0x00000048, "ESME_RINVSRCTON", "invalid source address TON"},
    {0x00000049, "ESME_RINVSRCNPI", "invalid source address NPI"},
    {0x00000050, "ESME_RINVDSTTON", "invalid destination address TON"},
    {0x00000051, "ESME_RINVDSTNPI", "invalid destination address NPI"},
    {0x00000053, "ESME_RINVSYSTYP", "invalid system_type field"},
    {0x00000054, "ESME_RINVREPFLAG", "invalid replace_if_present flag"},
    {0x00000055, "ESME_RINVNUMMSGS", "invalid number of messages"},
    {0x00000058, "ESME_RTHROTTLED", "throttling error"},
    {0x00000061, "ESME_RINVSCHED", "invalid scheduled delivery time"},
    {0x00000062, "ESME_RINVEXPIRY", "invalid message validity period"},
    {0x00000063, "ESME_RINVDFTMSGID", "predefined message invalid or not found"},
    {0x00000064, "ESME_RX_T_APPN", "ESME receiver temporary app error code"},
    {0x00000065, "ESME_RX_P_APPN", "ESME receiver permanent app error code"},
    {0x00000066, "ESME_RX_R_APPN", "ESME receiver reject message error code"},
    {0x00000067, "ESME_RQUERYFAIL", "query_sm request failed"},
    {0x000000C0, "ESME_RINVOPTPARSTREAM", "error in the optional part of the PDU body"},
    {0x000000C1, "ESME_ROPTPARNOTALLWD", "optional parameter not allowed"},
    {0x000000C2, "ESME_RINVPARLEN", "invalid parameter length"},
    {0x000000C3, "ESME_RMISSINGOPTPARAM", "expected optional parameter missing"},
    {0x000000C4, "ESME_RINVOPTPARAMVAL", "invalid optional parameter value"},
    {0x000000FE, "ESME_RDELIVERYFAILURE", "delivery failure (data_sm_resp)"},
    {0x000000FF, "ESME_RUNKNOWNERR", "unknown error"},
};

const status_entry* find_status(std::uint32_t v) noexcept {
  // 48 entries: a binary search keeps this cheap on the hot path of logging.
  std::size_t lo = 0;
  std::size_t hi = std::size(status_table);
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (status_table[mid].value < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < std::size(status_table) && status_table[lo].value == v ? &status_table[lo] : nullptr;
}

// SMPP 3.4 §5.1.3: 0x400..0x4FF are reserved for SMSC vendor-specific errors; everything
// else not in Table 5-2 is reserved.
const char* unlisted_meaning(std::uint32_t v) noexcept {
  return v >= 0x400 && v <= 0x4FF ? "SMSC vendor-specific error" : "reserved status";
}

// boost::system::error_category has a non-virtual destructor by design (categories are
// never deleted through a base pointer; they are function-local statics).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class command_status_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "smpp.command_status"; }
  std::string message(int ev) const override {
    const auto v = static_cast<std::uint32_t>(ev);
    if (const status_entry* e = find_status(v)) {
      return std::string(e->name) + ": " + e->meaning;
    }
    return std::string(status_name(v)) + ": " + unlisted_meaning(v);
  }
};

class error_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "smpp"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::invalid_command_length:
        return "invalid command_length";
      case errc::unknown_command_id:
        return "unknown command_id";
      case errc::truncated_body:
        return "PDU body truncated";
      case errc::c_string_unterminated:
        return "C-Octet String without its NUL";
      case errc::c_string_too_long:
        return "C-Octet String too long";
      case errc::sm_length_mismatch:
        return "sm_length invalid or past the PDU body";
      case errc::invalid_tlv:
        return "malformed optional parameter";
      case errc::invalid_tlv_length:
        return "optional parameter length not allowed";
      case errc::trailing_bytes:
        return "bytes after the last field of the PDU";
      case errc::response_timeout:
        return "no response within the response timeout";
      case errc::bind_timeout:
        return "no bind response within the bind timeout";
      case errc::enquire_link_timeout:
        return "the peer did not answer enquire_link";
      case errc::connection_closed:
        return "connection closed";
      case errc::unbound:
        return "session unbound";
      case errc::not_bound:
        return "session not bound";
      case errc::window_full:
        return "window full";
      case errc::deadline_passed:
        return "message deadline passed";
      case errc::unknown_outcome:
        return "outcome unknown: bind lost after the write";
      case errc::shutting_down:
        return "shutting down";
      case errc::no_bind_available:
        return "no bind available";
      case errc::unexpected_pdu:
        return "PDU not allowed in this session state";
      case errc::encoding_error:
        return "text cannot be encoded with the requested coding";
      case errc::invalid_field:
        return "field value cannot be encoded";
    }
    return "unknown smpp error " + std::to_string(ev);
  }
};
#pragma GCC diagnostic pop

bool is_status(const boost::system::error_code& ec, command_status s) noexcept {
  return ec.category() == command_status_category() &&
         static_cast<std::uint32_t>(ec.value()) == static_cast<std::uint32_t>(s);
}

bool is_errc(const boost::system::error_code& ec) noexcept {
  return ec.category() == error_category();
}

}  // namespace

const boost::system::error_category& command_status_category() noexcept {
  static const command_status_category_impl instance;
  return instance;
}

const boost::system::error_category& error_category() noexcept {
  static const error_category_impl instance;
  return instance;
}

const char* status_name(std::uint32_t status) noexcept {
  if (const status_entry* e = find_status(status)) return e->name;
  // Unlisted values: a few per-thread buffers so that several calls in one log statement
  // keep their own text.
  thread_local char buffers[4][24];
  thread_local unsigned next = 0;
  char* buf = buffers[next++ % 4];
  std::snprintf(buf, sizeof buffers[0], "ESME_R0x%08X", static_cast<unsigned>(status));
  return buf;
}

command_status status_for(const boost::system::error_code& ec) noexcept {
  if (!ec) return command_status::ok;
  if (ec.category() == command_status_category()) {
    return static_cast<command_status>(static_cast<std::uint32_t>(ec.value()));
  }
  if (!is_errc(ec)) return command_status::system_error;
  switch (static_cast<errc>(ec.value())) {
    // SMPP 3.4 §2.7 / §3.3: a PDU that cannot be framed gets generic_nack ESME_RINVCMDLEN,
    // an unknown command generic_nack ESME_RINVCMDID.
    case errc::invalid_command_length:
      return command_status::invalid_cmd_length;
    case errc::unknown_command_id:
      return command_status::invalid_cmd_id;
    // A body whose fields do not fit the PDU: the response carries ESME_RINVMSGLEN.
    case errc::truncated_body:
    case errc::c_string_unterminated:
    case errc::c_string_too_long:
    case errc::sm_length_mismatch:
    case errc::trailing_bytes:
      return command_status::invalid_msg_length;
    // SMPP 3.4 §5.1.3: TLV stream faults and lengths.
    case errc::invalid_tlv:
      return command_status::invalid_optional_part;
    case errc::invalid_tlv_length:
      return command_status::invalid_param_length;
    default:
      return command_status::system_error;
  }
}

bool requires_rebind(const boost::system::error_code& ec) noexcept {
  if (is_errc(ec)) {
    switch (static_cast<errc>(ec.value())) {
      case errc::invalid_command_length:  // framing lost: the stream cannot be resynchronised
      case errc::enquire_link_timeout:    // dead peer or half-open TCP
      case errc::connection_closed:
      case errc::bind_timeout:
      case errc::unbound:
        return true;
      default:
        return false;
    }
  }
  // The SMSC no longer considers us bound (§5.1.3 ESME_RINVBNDSTS), or says we already are
  // (ESME_RALYBND: a stale session after a blip), or could not frame what we sent (a
  // generic_nack ESME_RINVCMDLEN means the two ends disagree on the byte stream).
  return is_status(ec, command_status::invalid_bind_status) ||
         is_status(ec, command_status::already_bound) ||
         is_status(ec, command_status::invalid_cmd_length);
}

bool is_throttling(const boost::system::error_code& ec) noexcept {
  return is_status(ec, command_status::throttled) ||
         is_status(ec, command_status::message_queue_full);
}

bool is_retryable(const boost::system::error_code& ec) noexcept {
  if (is_errc(ec)) {
    switch (static_cast<errc>(ec.value())) {
      // The message was not written (or not accepted for writing): it may go elsewhere.
      // response_timeout and unknown_outcome are deliberately absent: the SMSC may have the
      // message, and resubmitting would send the code twice (docs/architecture.md §5).
      case errc::window_full:
      case errc::not_bound:
      case errc::no_bind_available:
      case errc::connection_closed:
      case errc::enquire_link_timeout:
      case errc::bind_timeout:
      case errc::unbound:
        return true;
      default:
        return false;
    }
  }
  if (ec.category() != command_status_category()) return false;
  switch (static_cast<command_status>(static_cast<std::uint32_t>(ec.value()))) {
    case command_status::throttled:
    case command_status::message_queue_full:
    case command_status::system_error:         // transient SMSC fault
    case command_status::rx_temp_app_error:    // ESME_RX_T_APPN: temporary by definition
    case command_status::submit_failed:        // generic; most SMSCs use it for transient faults
    case command_status::invalid_bind_status:  // this bind's state, not the message
      return true;
    default:
      return false;
  }
}

bool is_permanent_rejection(const boost::system::error_code& ec) noexcept {
  if (is_errc(ec)) return static_cast<errc>(ec.value()) == errc::encoding_error;
  if (ec.category() != command_status_category()) return false;
  switch (static_cast<command_status>(static_cast<std::uint32_t>(ec.value()))) {
    // The content or addressing of the message is wrong: resending it unchanged fails again.
    case command_status::invalid_msg_length:
    case command_status::invalid_priority:
    case command_status::invalid_reg_delivery:
    case command_status::invalid_source_addr:
    case command_status::invalid_dest_addr:
    case command_status::invalid_service_type:
    case command_status::invalid_num_dests:
    case command_status::invalid_dl_name:
    case command_status::invalid_dest_flag:
    case command_status::invalid_submit_with_replace:
    case command_status::invalid_esm_class:
    case command_status::cannot_submit_to_dl:
    case command_status::invalid_source_ton:
    case command_status::invalid_source_npi:
    case command_status::invalid_dest_ton:
    case command_status::invalid_dest_npi:
    case command_status::invalid_replace_flag:
    case command_status::invalid_schedule:
    case command_status::invalid_expiry:
    case command_status::invalid_predefined_msg:
    case command_status::rx_perm_app_error:    // ESME_RX_P_APPN
    case command_status::rx_reject_app_error:  // ESME_RX_R_APPN
    case command_status::invalid_optional_part:
    case command_status::optional_param_not_allowed:
    case command_status::invalid_param_length:
    case command_status::missing_optional_param:
    case command_status::invalid_optional_param_value:
      return true;
    default:
      return false;
  }
}

}  // namespace otpd::smpp
