#include "smpp/proto/tlv.hpp"

#include <algorithm>

namespace otpd::smpp {
namespace {

using enum tlv_type;

// SMPP 3.4 §5.3.2, sorted by tag. Lengths are those of the value part (§5.3.2.x "Value").
constexpr tlv_traits traits_table[] = {
    {tlv_tag::dest_addr_subunit, "dest_addr_subunit", u8, 1, 1},      // §5.3.2.1
    {tlv_tag::dest_network_type, "dest_network_type", u8, 1, 1},      // §5.3.2.3
    {tlv_tag::dest_bearer_type, "dest_bearer_type", u8, 1, 1},        // §5.3.2.5
    {tlv_tag::dest_telematics_id, "dest_telematics_id", u16, 2, 2},   // §5.3.2.7
    {tlv_tag::source_addr_subunit, "source_addr_subunit", u8, 1, 1},  // §5.3.2.2
    {tlv_tag::source_network_type, "source_network_type", u8, 1, 1},  // §5.3.2.4
    {tlv_tag::source_bearer_type, "source_bearer_type", u8, 1, 1},    // §5.3.2.6
    // §5.3.2.8 gives a 1-octet value; SMPP 5.0 and several stacks use 2 octets (like
    // dest_telematics_id). Both are accepted: refusing a whole deliver_sm over an
    // informational field would only make the SMSC retry it forever.
    {tlv_tag::source_telematics_id, "source_telematics_id", u8, 1, 2},
    {tlv_tag::qos_time_to_live, "qos_time_to_live", u32, 4, 4},  // §5.3.2.9
    {tlv_tag::payload_type, "payload_type", u8, 1, 1},           // §5.3.2.10
    {tlv_tag::additional_status_info_text, "additional_status_info_text", c_string, 1,
     256},                                                                     // §5.3.2.11
    {tlv_tag::receipted_message_id, "receipted_message_id", c_string, 1, 65},  // §5.3.2.12
    {tlv_tag::ms_msg_wait_facilities, "ms_msg_wait_facilities", u8, 1, 1},     // §5.3.2.13
    {tlv_tag::privacy_indicator, "privacy_indicator", u8, 1, 1},               // §5.3.2.14
    {tlv_tag::source_subaddress, "source_subaddress", octets, 2, 23},          // §5.3.2.15
    {tlv_tag::dest_subaddress, "dest_subaddress", octets, 2, 23},              // §5.3.2.16
    {tlv_tag::user_message_reference, "user_message_reference", u16, 2, 2},    // §5.3.2.17
    {tlv_tag::user_response_code, "user_response_code", u8, 1, 1},             // §5.3.2.18
    {tlv_tag::source_port, "source_port", u16, 2, 2},                          // §5.3.2.20
    {tlv_tag::destination_port, "destination_port", u16, 2, 2},                // §5.3.2.21
    {tlv_tag::sar_msg_ref_num, "sar_msg_ref_num", u16, 2, 2},                  // §5.3.2.22
    {tlv_tag::language_indicator, "language_indicator", u8, 1, 1},             // §5.3.2.19
    {tlv_tag::sar_total_segments, "sar_total_segments", u8, 1, 1},             // §5.3.2.23
    {tlv_tag::sar_segment_seqnum, "sar_segment_seqnum", u8, 1, 1},             // §5.3.2.24
    {tlv_tag::sc_interface_version, "sc_interface_version", u8, 1, 1},         // §5.3.2.25
    {tlv_tag::callback_num_pres_ind, "callback_num_pres_ind", u8, 1, 1},       // §5.3.2.37
    {tlv_tag::callback_num_atag, "callback_num_atag", octets, 0, 65},          // §5.3.2.38
    {tlv_tag::number_of_messages, "number_of_messages", u8, 1, 1},             // §5.3.2.39
    {tlv_tag::callback_num, "callback_num", octets, 4, 19},                    // §5.3.2.36
    {tlv_tag::dpf_result, "dpf_result", u8, 1, 1},                             // §5.3.2.28
    {tlv_tag::set_dpf, "set_dpf", u8, 1, 1},                                   // §5.3.2.29
    {tlv_tag::ms_availability_status, "ms_availability_status", u8, 1, 1},     // §5.3.2.30
    // §5.3.2.31 says 3 octets; some SMSCs send an empty value in receipts. Accepted so that
    // the receipt is not refused (and retried forever) over a diagnostic field.
    {tlv_tag::network_error_code, "network_error_code", octets, 0, 3},
    // §5.3.2.32: no maximum beyond what the 16-bit length allows.
    {tlv_tag::message_payload, "message_payload", octets, 0, 0xFFFF},
    {tlv_tag::delivery_failure_reason, "delivery_failure_reason", u8, 1, 1},         // §5.3.2.33
    {tlv_tag::more_messages_to_send, "more_messages_to_send", u8, 1, 1},             // §5.3.2.34
    {tlv_tag::message_state, "message_state", u8, 1, 1},                             // §5.3.2.35
    {tlv_tag::ussd_service_op, "ussd_service_op", octets, 1, 1},                     // §5.3.2.44
    {tlv_tag::display_time, "display_time", u8, 1, 1},                               // §5.3.2.26
    {tlv_tag::sms_signal, "sms_signal", u16, 2, 2},                                  // §5.3.2.40
    {tlv_tag::ms_validity, "ms_validity", u8, 1, 1},                                 // §5.3.2.27
    {tlv_tag::alert_on_message_delivery, "alert_on_message_delivery", empty, 0, 0},  // §5.3.2.41
    {tlv_tag::its_reply_type, "its_reply_type", u8, 1, 1},                           // §5.3.2.42
    {tlv_tag::its_session_info, "its_session_info", octets, 2, 2},                   // §5.3.2.43
};

constexpr bool table_sorted() {
  for (std::size_t i = 1; i < std::size(traits_table); ++i) {
    if (traits_table[i - 1].tag >= traits_table[i].tag) return false;
  }
  return true;
}
static_assert(table_sorted(), "binary search needs the table sorted by tag");

template <std::size_t N>
void put_be(std::string& out, std::uint32_t v) {
  out.resize(N);
  for (std::size_t i = 0; i < N; ++i) {
    out[i] = static_cast<char>((v >> (8 * (N - 1 - i))) & 0xFF);
  }
}

template <std::size_t N>
std::optional<std::uint32_t> get_be(const tlv_list& list, tlv_tag tag) noexcept {
  const tlv* t = find_tlv(list, tag);
  if (t == nullptr || t->value.size() != N) return std::nullopt;
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < N; ++i) v = (v << 8) | static_cast<std::uint8_t>(t->value[i]);
  return v;
}

tlv& slot_for(tlv_list& list, tlv_tag tag) {
  const auto raw = static_cast<std::uint16_t>(tag);
  auto it = std::find_if(list.begin(), list.end(), [raw](const tlv& t) { return t.tag == raw; });
  if (it != list.end()) return *it;
  return list.emplace_back(tlv{raw, {}});
}

}  // namespace

const tlv_traits* find_tlv_traits(std::uint16_t tag) noexcept {
  const auto* first = std::begin(traits_table);
  const auto* last = std::end(traits_table);
  const auto* it = std::lower_bound(first, last, tag, [](const tlv_traits& t, std::uint16_t v) {
    return static_cast<std::uint16_t>(t.tag) < v;
  });
  return it != last && static_cast<std::uint16_t>(it->tag) == tag ? it : nullptr;
}

bool tlv_length_valid(std::uint16_t tag, std::size_t length) noexcept {
  const tlv_traits* t = find_tlv_traits(tag);
  return t == nullptr || (length >= t->min_length && length <= t->max_length);
}

const tlv* find_tlv(const tlv_list& list, tlv_tag tag) noexcept {
  const auto raw = static_cast<std::uint16_t>(tag);
  for (const tlv& t : list) {
    if (t.tag == raw) return &t;
  }
  return nullptr;
}

std::optional<std::uint8_t> get_u8(const tlv_list& list, tlv_tag tag) noexcept {
  if (auto v = get_be<1>(list, tag)) return static_cast<std::uint8_t>(*v);
  return std::nullopt;
}

std::optional<std::uint16_t> get_u16(const tlv_list& list, tlv_tag tag) noexcept {
  if (auto v = get_be<2>(list, tag)) return static_cast<std::uint16_t>(*v);
  return std::nullopt;
}

std::optional<std::uint32_t> get_u32(const tlv_list& list, tlv_tag tag) noexcept {
  return get_be<4>(list, tag);
}

std::optional<std::string_view> get_c_string(const tlv_list& list, tlv_tag tag) noexcept {
  const tlv* t = find_tlv(list, tag);
  if (t == nullptr) return std::nullopt;
  std::string_view v = t->value;
  // Many SMSCs send receipted_message_id without its NUL (length = strlen); stop at the
  // first NUL if there is one, else take the whole value.
  if (const auto nul = v.find('\0'); nul != std::string_view::npos) v = v.substr(0, nul);
  return v;
}

std::optional<std::string_view> get_octets(const tlv_list& list, tlv_tag tag) noexcept {
  const tlv* t = find_tlv(list, tag);
  if (t == nullptr) return std::nullopt;
  return std::string_view(t->value);
}

void set_u8(tlv_list& list, tlv_tag tag, std::uint8_t v) {
  put_be<1>(slot_for(list, tag).value, v);
}
void set_u16(tlv_list& list, tlv_tag tag, std::uint16_t v) {
  put_be<2>(slot_for(list, tag).value, v);
}
void set_u32(tlv_list& list, tlv_tag tag, std::uint32_t v) {
  put_be<4>(slot_for(list, tag).value, v);
}

void set_c_string(tlv_list& list, tlv_tag tag, std::string_view v) {
  std::string& s = slot_for(list, tag).value;
  s.assign(v);
  s.push_back('\0');
}

void set_octets(tlv_list& list, tlv_tag tag, std::string_view v) {
  slot_for(list, tag).value.assign(v);
}

}  // namespace otpd::smpp
