// The field list of each PDU body, written once: encode, decode, the encoded size and
// describe() are visitors over walk(). Internal to otpd_smpp_proto.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "smpp/proto/pdu.hpp"

namespace otpd::smpp::detail {

// Maximum sizes of C-Octet Strings, NUL included (SMPP 3.4 §4, "Var. max N").
inline constexpr std::size_t max_system_id = 16;      // §4.1.1
inline constexpr std::size_t max_password = 9;        // §4.1.1
inline constexpr std::size_t max_system_type = 13;    // §4.1.1
inline constexpr std::size_t max_address_range = 41;  // §4.1.1, §5.2.7
inline constexpr std::size_t max_service_type = 6;    // §5.2.11
inline constexpr std::size_t max_sm_addr = 21;        // §4.4.1 source_addr / destination_addr
inline constexpr std::size_t max_long_addr = 65;   // §4.7.1 data_sm, §4.12.1 alert_notification
inline constexpr std::size_t max_message_id = 65;  // §5.2.23
inline constexpr std::size_t time_length = 17;     // §7.1: 16 characters and the NUL
inline constexpr std::size_t max_sm_length = 254;  // §5.2.21
inline constexpr std::size_t max_tlv_value = 0xFFFF;  // §3.2.4.1: 16-bit length

// A visitor offers, each with the field's name first:
//   u8(name, v)             an Integer 1
//   cstr(name, s, max)      a C-Octet String of at most `max` bytes, NUL included
//   time(name, s)           an absolute or relative time (§7.1)
//   sm(name, s)             sm_length and short_message (§5.2.21)
//   tlvs(name, list)        the optional parameters, to the end of the PDU
// and may offer three more that default to the above: flags(name, v) for a bit field
// (esm_class, registered_delivery, data_coding, interface_version), secret(name, s, max) for
// the bind password and address(name, a, max) for TON, NPI and the digits as one field. The
// codec sees only wire types; describe() wants the finer ones. Bodies are passed const or not as
// the visitor needs.

// Forced inline so that the visitor (a local of its caller) is split into registers; left to
// itself GCC 12 keeps walk() out of line and the round trip costs ~25% more. The names are
// string literals that a codec visitor ignores, so they cost nothing there.
template <class F, class V>
[[gnu::always_inline]] inline void walk_flags(F& f, std::string_view name, V& v) {
  if constexpr (requires { f.flags(name, v); }) {
    f.flags(name, v);
  } else {
    f.u8(name, v);
  }
}

template <class F, class S>
[[gnu::always_inline]] inline void walk_secret(F& f, std::string_view name, S& s, std::size_t max) {
  if constexpr (requires { f.secret(name, s, max); }) {
    f.secret(name, s, max);
  } else {
    f.cstr(name, s, max);
  }
}

template <class F, class A>
[[gnu::always_inline]] inline void walk_address(F& f, std::string_view name, A& a,
                                                std::size_t max) {
  if constexpr (requires { f.address(name, a, max); }) {
    f.address(name, a, max);
  } else {
    f.u8("ton", a.ton);
    f.u8("npi", a.npi);
    f.cstr(name, a.addr, max);
  }
}

template <class F, class B>
[[gnu::always_inline]] inline void walk(F& f, B& b) {
  using T = std::remove_const_t<B>;
  if constexpr (std::is_base_of_v<bind_fields, T>) {  // §4.1.1, §4.1.3, §4.1.5
    f.cstr("system_id", b.system_id, max_system_id);
    walk_secret(f, "password", b.password, max_password);
    f.cstr("system_type", b.system_type, max_system_type);
    walk_flags(f, "interface_version", b.interface_version);
    walk_address(f, "address_range", b.address_range, max_address_range);
  } else if constexpr (std::is_base_of_v<bind_resp_fields, T>) {  // §4.1.2, §4.1.4, §4.1.6
    f.cstr("system_id", b.system_id, max_system_id);
    f.tlvs("tlvs", b.tlvs);
  } else if constexpr (std::is_same_v<T, outbind>) {  // §4.1.7
    f.cstr("system_id", b.system_id, max_system_id);
    walk_secret(f, "password", b.password, max_password);
  } else if constexpr (std::is_base_of_v<sm_fields, T>) {  // §4.4.1, §4.6.1
    f.cstr("service_type", b.service_type, max_service_type);
    walk_address(f, "source", b.source, max_sm_addr);
    walk_address(f, "dest", b.dest, max_sm_addr);
    walk_flags(f, "esm_class", b.esm_class);
    f.u8("protocol_id", b.protocol_id);
    f.u8("priority_flag", b.priority_flag);
    f.time("schedule_delivery_time", b.schedule_delivery_time);
    f.time("validity_period", b.validity_period);
    walk_flags(f, "registered_delivery", b.registered_delivery);
    f.u8("replace_if_present_flag", b.replace_if_present_flag);
    walk_flags(f, "data_coding", b.data_coding);
    f.u8("sm_default_msg_id", b.sm_default_msg_id);
    f.sm("short_message", b.short_message);
    f.tlvs("tlvs", b.tlvs);
  } else if constexpr (std::is_same_v<T, submit_sm_resp> ||   // §4.4.2
                       std::is_same_v<T, deliver_sm_resp>) {  // §4.6.2
    f.cstr("message_id", b.message_id, max_message_id);
  } else if constexpr (std::is_same_v<T, data_sm>) {  // §4.7.1
    f.cstr("service_type", b.service_type, max_service_type);
    walk_address(f, "source", b.source, max_long_addr);
    walk_address(f, "dest", b.dest, max_long_addr);
    walk_flags(f, "esm_class", b.esm_class);
    walk_flags(f, "registered_delivery", b.registered_delivery);
    walk_flags(f, "data_coding", b.data_coding);
    f.tlvs("tlvs", b.tlvs);
  } else if constexpr (std::is_same_v<T, data_sm_resp>) {  // §4.7.2
    f.cstr("message_id", b.message_id, max_message_id);
    f.tlvs("tlvs", b.tlvs);
  } else if constexpr (std::is_same_v<T, query_sm>) {  // §4.8.1
    f.cstr("message_id", b.message_id, max_message_id);
    walk_address(f, "source", b.source, max_sm_addr);
  } else if constexpr (std::is_same_v<T, query_sm_resp>) {  // §4.8.2
    f.cstr("message_id", b.message_id, max_message_id);
    f.time("final_date", b.final_date);
    f.u8("message_state", b.message_state);
    f.u8("error_code", b.error_code);
  } else if constexpr (std::is_same_v<T, cancel_sm>) {  // §4.9.1
    f.cstr("service_type", b.service_type, max_service_type);
    f.cstr("message_id", b.message_id, max_message_id);
    walk_address(f, "source", b.source, max_sm_addr);
    walk_address(f, "dest", b.dest, max_sm_addr);
  } else if constexpr (std::is_same_v<T, replace_sm>) {  // §4.10.1
    f.cstr("message_id", b.message_id, max_message_id);
    walk_address(f, "source", b.source, max_sm_addr);
    f.time("schedule_delivery_time", b.schedule_delivery_time);
    f.time("validity_period", b.validity_period);
    walk_flags(f, "registered_delivery", b.registered_delivery);
    f.u8("sm_default_msg_id", b.sm_default_msg_id);
    f.sm("short_message", b.short_message);
  } else if constexpr (std::is_same_v<T, alert_notification>) {  // §4.12.1
    walk_address(f, "source", b.source, max_long_addr);
    walk_address(f, "esme", b.esme, max_long_addr);
    f.tlvs("tlvs", b.tlvs);
  } else {
    // Header-only PDUs: generic_nack, unbind(_resp), enquire_link(_resp), cancel_sm_resp,
    // replace_sm_resp (§4.3, §4.2, §4.11, §4.9.2, §4.10.2).
    static_assert(std::is_empty_v<T>);
    (void)f;
    (void)b;
  }
}

}  // namespace otpd::smpp::detail
