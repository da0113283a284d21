// SMPP 3.4 protocol data units as plain values.
//
// A PDU is a header (status, sequence number) and a body held in a std::variant; the
// command_id is derived from the body's type, never stored twice. Octet strings (including
// short_message) are std::string used as byte containers. Optional parameters are kept as an
// ordered list of raw TLVs so that unknown ones re-encode byte for byte; typed access lives in
// tlv.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace otpd::smpp {

// SMPP 3.4 §5.1.2.1
enum class command_id : std::uint32_t {
  generic_nack = 0x80000000,
  bind_receiver = 0x00000001,
  bind_receiver_resp = 0x80000001,
  bind_transmitter = 0x00000002,
  bind_transmitter_resp = 0x80000002,
  query_sm = 0x00000003,
  query_sm_resp = 0x80000003,
  submit_sm = 0x00000004,
  submit_sm_resp = 0x80000004,
  deliver_sm = 0x00000005,
  deliver_sm_resp = 0x80000005,
  unbind = 0x00000006,
  unbind_resp = 0x80000006,
  replace_sm = 0x00000007,
  replace_sm_resp = 0x80000007,
  cancel_sm = 0x00000008,
  cancel_sm_resp = 0x80000008,
  bind_transceiver = 0x00000009,
  bind_transceiver_resp = 0x80000009,
  outbind = 0x0000000B,
  enquire_link = 0x00000015,
  enquire_link_resp = 0x80000015,
  alert_notification = 0x00000102,
  data_sm = 0x00000103,
  data_sm_resp = 0x80000103,
};

// SMPP 3.4 §2.2.1: responses have bit 31 set.
constexpr bool is_response(command_id id) noexcept {
  return (static_cast<std::uint32_t>(id) & 0x80000000u) != 0;
}

// SMPP 3.4 §3.2: every PDU starts with four big-endian 32-bit fields.
inline constexpr std::size_t header_length = 16;

// One optional parameter, exactly as carried on the wire (SMPP 3.4 §3.2.4.1).
struct tlv {
  std::uint16_t tag = 0;
  std::string value;  // raw octets, length = value.size()
  friend bool operator==(const tlv&, const tlv&) = default;
};
using tlv_list = std::vector<tlv>;

// SMPP 3.4 §5.2.5 / §5.2.6 / §5.2.8
struct address {
  std::uint8_t ton = 0;
  std::uint8_t npi = 0;
  std::string addr;
  friend bool operator==(const address&, const address&) = default;
};

// bind_transmitter / bind_receiver / bind_transceiver share one layout (SMPP 3.4 §4.1).
struct bind_fields {
  std::string system_id;
  std::string password;
  std::string system_type;
  std::uint8_t interface_version = 0x34;
  address address_range;
  friend bool operator==(const bind_fields&, const bind_fields&) = default;
};
struct bind_transmitter : bind_fields {};
struct bind_receiver : bind_fields {};
struct bind_transceiver : bind_fields {};

// The bind responses: the body may be absent when command_status != 0 (SMPP 3.4 §4.1.2).
struct bind_resp_fields {
  std::string system_id;
  tlv_list tlvs;  // sc_interface_version
  friend bool operator==(const bind_resp_fields&, const bind_resp_fields&) = default;
};
struct bind_transmitter_resp : bind_resp_fields {};
struct bind_receiver_resp : bind_resp_fields {};
struct bind_transceiver_resp : bind_resp_fields {};

// SMPP 3.4 §4.1.7
struct outbind {
  std::string system_id;
  std::string password;
  friend bool operator==(const outbind&, const outbind&) = default;
};

// Header-only PDUs.
struct unbind {
  friend bool operator==(const unbind&, const unbind&) = default;
};
struct unbind_resp {
  friend bool operator==(const unbind_resp&, const unbind_resp&) = default;
};
struct enquire_link {
  friend bool operator==(const enquire_link&, const enquire_link&) = default;
};
struct enquire_link_resp {
  friend bool operator==(const enquire_link_resp&, const enquire_link_resp&) = default;
};
struct generic_nack {
  friend bool operator==(const generic_nack&, const generic_nack&) = default;
};

// submit_sm (§4.4.1) and deliver_sm (§4.6.1) share one layout; in deliver_sm the schedule and
// validity fields must be NULL but are still parsed.
struct sm_fields {
  std::string service_type;
  address source;
  address dest;
  std::uint8_t esm_class = 0;
  std::uint8_t protocol_id = 0;
  std::uint8_t priority_flag = 0;
  std::string schedule_delivery_time;
  std::string validity_period;
  std::uint8_t registered_delivery = 0;
  std::uint8_t replace_if_present_flag = 0;
  std::uint8_t data_coding = 0;
  std::uint8_t sm_default_msg_id = 0;
  std::string short_message;  // 0..254 octets; sm_length is derived
  tlv_list tlvs;
  friend bool operator==(const sm_fields&, const sm_fields&) = default;
};
struct submit_sm : sm_fields {};
struct deliver_sm : sm_fields {};

// submit_sm_resp (§4.4.2), deliver_sm_resp (§4.6.2): the body may be absent on error.
struct submit_sm_resp {
  std::string message_id;
  friend bool operator==(const submit_sm_resp&, const submit_sm_resp&) = default;
};
struct deliver_sm_resp {
  std::string message_id;  // unused, NULL
  friend bool operator==(const deliver_sm_resp&, const deliver_sm_resp&) = default;
};

// SMPP 3.4 §4.7.1
struct data_sm {
  std::string service_type;
  address source;
  address dest;
  std::uint8_t esm_class = 0;
  std::uint8_t registered_delivery = 0;
  std::uint8_t data_coding = 0;
  tlv_list tlvs;
  friend bool operator==(const data_sm&, const data_sm&) = default;
};
// SMPP 3.4 §4.7.2
struct data_sm_resp {
  std::string message_id;
  tlv_list tlvs;
  friend bool operator==(const data_sm_resp&, const data_sm_resp&) = default;
};

// SMPP 3.4 §4.8.1 / §4.8.2
struct query_sm {
  std::string message_id;
  address source;
  friend bool operator==(const query_sm&, const query_sm&) = default;
};
struct query_sm_resp {
  std::string message_id;
  std::string final_date;
  std::uint8_t message_state = 0;
  std::uint8_t error_code = 0;
  friend bool operator==(const query_sm_resp&, const query_sm_resp&) = default;
};

// SMPP 3.4 §4.9.1 / §4.9.2
struct cancel_sm {
  std::string service_type;
  std::string message_id;
  address source;
  address dest;
  friend bool operator==(const cancel_sm&, const cancel_sm&) = default;
};
struct cancel_sm_resp {
  friend bool operator==(const cancel_sm_resp&, const cancel_sm_resp&) = default;
};

// SMPP 3.4 §4.10.1 / §4.10.2
struct replace_sm {
  std::string message_id;
  address source;
  std::string schedule_delivery_time;
  std::string validity_period;
  std::uint8_t registered_delivery = 0;
  std::uint8_t sm_default_msg_id = 0;
  std::string short_message;
  friend bool operator==(const replace_sm&, const replace_sm&) = default;
};
struct replace_sm_resp {
  friend bool operator==(const replace_sm_resp&, const replace_sm_resp&) = default;
};

// SMPP 3.4 §4.12.1
struct alert_notification {
  address source;
  address esme;
  tlv_list tlvs;  // ms_availability_status
  friend bool operator==(const alert_notification&, const alert_notification&) = default;
};

// The order of alternatives is part of the API: command_id_of() maps each index to its id.
using pdu_body =
    std::variant<generic_nack, bind_receiver, bind_receiver_resp, bind_transmitter,
                 bind_transmitter_resp, bind_transceiver, bind_transceiver_resp, outbind, unbind,
                 unbind_resp, enquire_link, enquire_link_resp, submit_sm, submit_sm_resp,
                 deliver_sm, deliver_sm_resp, data_sm, data_sm_resp, query_sm, query_sm_resp,
                 cancel_sm, cancel_sm_resp, replace_sm, replace_sm_resp, alert_notification>;

struct pdu {
  std::uint32_t command_status = 0;
  std::uint32_t sequence_number = 0;
  pdu_body body;
  friend bool operator==(const pdu&, const pdu&) = default;
};

// The command_id that the body's type stands for.
command_id command_id_of(const pdu_body& body) noexcept;
inline command_id command_id_of(const pdu& p) noexcept { return command_id_of(p.body); }

// A printable name ("submit_sm_resp"), or "unknown" for ids outside SMPP 3.4.
const char* to_string(command_id id) noexcept;

// The response type for a request type (submit_sm -> submit_sm_resp, ...); generic_nack for
// PDUs that have none (outbind, alert_notification, responses themselves).
command_id response_id_for(command_id request) noexcept;

}  // namespace otpd::smpp
