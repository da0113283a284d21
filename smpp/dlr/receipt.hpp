// Delivery receipts: a deliver_sm / data_sm that reports the fate of a message we submitted.
//
// Two carriers of the same facts, often both present and not always in agreement:
//  - the optional parameters receipted_message_id, message_state and network_error_code
//    (SMPP 3.4 §5.3.2.12, §5.3.2.35, §5.3.2.31), preferred when present and well formed;
//  - the short_message text of SMPP 3.4 Appendix B, parsed leniently because vendors vary it:
//    "id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
//     stat:DDDDDDD err:E text: . . ."
//
// The "text:" field repeats the start of the original message, which for otpd holds the OTP
// code. The parser stops at "text:" and never looks past it, never copies the short_message,
// and the result has no field for it; unknown fields ("msgid:", "imsi:", ...) are skipped
// without being stored.
//
// Decoding never throws on bad input: it returns an error_code of receipt_category().
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/system/error_code.hpp>

#include "smpp/proto/pdu.hpp"

namespace otpd::smpp::dlr {

// SMPP 3.4 §5.2.28 message_state values (also the message_state TLV, §5.3.2.35).
enum class message_state : std::uint8_t {
  enroute = 1,
  delivered = 2,
  expired = 3,
  deleted = 4,
  undeliverable = 5,
  accepted = 6,
  unknown = 7,
  rejected = 8,
};

// The Appendix B stat spelling: "ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV",
// "ACCEPTD", "UNKNOWN", "REJECTD".
const char* to_string(message_state s) noexcept;

// Final states cannot change any more (SMPP 5.0 §4.7.15 classifies them; 3.4 does not):
// delivered, expired, deleted, undeliverable, accepted, rejected. ENROUTE is intermediate,
// and UNKNOWN ("message is in invalid state") says nothing final, so neither is.
bool is_final(message_state s) noexcept;

// The state an Appendix B "stat:" value stands for, ASCII case-insensitively: the seven-letter
// names and common variants ("DELIVERED", "UNDELIVERABLE", "UNDELIVERED", "FAILED",
// "REJECTED", "ACCEPTED", ...). nullopt for anything else.
std::optional<message_state> parse_stat(std::string_view stat) noexcept;

// What kind of receipt a PDU is, from esm_class bits 5-2 (SMPP 3.4 §5.2.12, deliver_sm).
enum class receipt_kind : std::uint8_t {
  smsc_delivery_receipt,      // xx0001xx
  sme_delivery_ack,           // xx0010xx
  sme_manual_ack,             // xx0100xx
  intermediate_notification,  // xx1000xx: never final, whatever the state says
  inferred,                   // esm_class says nothing, but the content reads as a receipt
};

// The kind esm_class announces, or nullopt when it announces none of them.
std::optional<receipt_kind> receipt_kind_of(std::uint8_t esm_class) noexcept;

// Where a value of the result came from.
enum class value_source : std::uint8_t { none, tlv, text };

// An Appendix B date (YYMMDDhhmm, or YYMMDDhhmmss as many SMSCs send). The raw text is kept
// whatever it is; time is set only when it is a valid date, read as UTC in 2000-2099.
struct receipt_date {
  std::string raw;
  std::optional<std::chrono::sys_seconds> time;
  bool present() const noexcept { return !raw.empty(); }
  friend bool operator==(const receipt_date&, const receipt_date&) = default;
};

// SMPP 3.4 §5.3.2.31 network_error_code: network type (1 ANSI-136, 2 IS-95, 3 GSM) and a
// big-endian 16-bit error code.
struct network_error {
  std::uint8_t network_type = 0;
  std::uint16_t code = 0;
  friend bool operator==(const network_error&, const network_error&) = default;
};

struct receipt {
  receipt_kind kind = receipt_kind::inferred;

  // The receipted message id as received: the TLV when present, else the text "id:".
  std::string id;
  value_source id_source = value_source::none;
  // The text "id:" also when the TLV won: some SMSCs spell the two differently (hex vs
  // decimal), so correlation may try both.
  std::string text_id;

  // The state: the TLV when present and in 1..8, else the text "stat:" when recognised.
  std::optional<message_state> state;
  value_source state_source = value_source::none;

  std::string stat;                       // the "stat:" text, raw (may be empty)
  std::string err;                        // the "err:" text, raw (may be empty)
  std::optional<std::uint32_t> err_code;  // err as a decimal number, when it is one
  std::optional<std::uint32_t> sub;       // "sub:" (messages submitted), when numeric
  std::optional<std::uint32_t> dlvrd;     // "dlvrd:" (messages delivered), when numeric
  receipt_date submit_date;
  receipt_date done_date;
  std::optional<network_error> network_error_code;  // TLV only

  // The state is final and the PDU is not an intermediate notification.
  bool is_final = false;

  friend bool operator==(const receipt&, const receipt&) = default;
};

enum class errc {
  not_a_receipt = 1,   // neither esm_class nor the content say "receipt"
  missing_message_id,  // a receipt without a usable receipted_message_id or "id:"
};

const boost::system::error_category& receipt_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), receipt_category()};
}

// Decodes a deliver_sm or data_sm as a receipt. A PDU whose esm_class announces a receipt
// (SMPP 3.4 §5.2.12) is one as long as it carries an id; one whose esm_class message type is
// 0 counts only when its text reads as Appendix B (an "id:", a recognised "stat:" and one of
// sub / dlvrd / dates / err) or it carries both receipted_message_id and message_state. The
// text is short_message, or the message_payload TLV when short_message is empty (always for
// data_sm). A state that cannot be read is not an error: state stays empty, is_final false.
// On error `out` is reset.
boost::system::error_code parse_receipt(const pdu& p, receipt& out);
boost::system::error_code parse_receipt(const deliver_sm& sm, receipt& out);
boost::system::error_code parse_receipt(const data_sm& sm, receipt& out);

// The Appendix B text alone (kind inferred, no TLVs); it must carry a non-empty "id:".
boost::system::error_code parse_receipt_text(std::string_view text, receipt& out);

// An Appendix B date: YYMMDDhhmm or YYMMDDhhmmss, UTC, years 2000-2099.
std::optional<std::chrono::sys_seconds> parse_receipt_date(std::string_view raw) noexcept;

// A receipt's stat as a metric label: one of the SMPP 3.4 Appendix B states (DELIVRD, EXPIRED,
// DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD, ENROUTE), matched regardless of case and given
// in upper case; "none" when empty; "other" for anything else, so that an SMSC cannot create
// new series at will.
std::string_view receipt_stat_label(std::string_view stat) noexcept;

}  // namespace otpd::smpp::dlr

namespace boost::system {
template <>
struct is_error_code_enum<otpd::smpp::dlr::errc> : std::true_type {};
}  // namespace boost::system
