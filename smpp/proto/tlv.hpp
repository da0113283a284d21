// Typed access to SMPP 3.4 optional parameters (§5.3). A tlv_list keeps every parameter as it
// came off the wire, in order; these helpers read and write the known ones by tag.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "smpp/proto/pdu.hpp"

namespace otpd::smpp {

// SMPP 3.4 §5.3.2 (Table 5-7)
enum class tlv_tag : std::uint16_t {
  dest_addr_subunit = 0x0005,
  dest_network_type = 0x0006,
  dest_bearer_type = 0x0007,
  dest_telematics_id = 0x0008,
  source_addr_subunit = 0x000D,
  source_network_type = 0x000E,
  source_bearer_type = 0x000F,
  source_telematics_id = 0x0010,
  qos_time_to_live = 0x0017,
  payload_type = 0x0019,
  additional_status_info_text = 0x001D,
  receipted_message_id = 0x001E,
  ms_msg_wait_facilities = 0x0030,
  privacy_indicator = 0x0201,
  source_subaddress = 0x0202,
  dest_subaddress = 0x0203,
  user_message_reference = 0x0204,
  user_response_code = 0x0205,
  source_port = 0x020A,
  destination_port = 0x020B,
  sar_msg_ref_num = 0x020C,
  language_indicator = 0x020D,
  sar_total_segments = 0x020E,
  sar_segment_seqnum = 0x020F,
  sc_interface_version = 0x0210,
  callback_num_pres_ind = 0x0302,
  callback_num_atag = 0x0303,
  number_of_messages = 0x0304,
  callback_num = 0x0381,
  dpf_result = 0x0420,
  set_dpf = 0x0421,
  ms_availability_status = 0x0422,
  network_error_code = 0x0423,
  message_payload = 0x0424,
  delivery_failure_reason = 0x0425,
  more_messages_to_send = 0x0426,
  message_state = 0x0427,
  ussd_service_op = 0x0501,
  display_time = 0x1201,
  sms_signal = 0x1203,
  ms_validity = 0x1204,
  alert_on_message_delivery = 0x130C,
  its_reply_type = 0x1380,
  its_session_info = 0x1383,
};

// How the value of a known tag is typed on the wire (§5.3.2).
enum class tlv_type : std::uint8_t {
  u8,        // Integer, 1 octet
  u16,       // Integer, 2 octets
  u32,       // Integer, 4 octets
  c_string,  // C-Octet String (NUL included in the length)
  octets,    // Octet String
  empty,     // no value (alert_on_message_delivery)
};

struct tlv_traits {
  tlv_tag tag;
  const char* name;
  tlv_type type;
  std::uint16_t min_length;  // inclusive, per §5.3.2
  std::uint16_t max_length;  // inclusive
};

// Traits of a known tag, or nullptr for tags SMPP 3.4 does not define (kept verbatim).
const tlv_traits* find_tlv_traits(std::uint16_t tag) noexcept;

// Whether a known tag's value length is one the spec allows (unknown tags: always true).
bool tlv_length_valid(std::uint16_t tag, std::size_t length) noexcept;

// Readers: the first TLV with the tag, if present and of the right size.
const tlv* find_tlv(const tlv_list& list, tlv_tag tag) noexcept;
std::optional<std::uint8_t> get_u8(const tlv_list& list, tlv_tag tag) noexcept;
std::optional<std::uint16_t> get_u16(const tlv_list& list, tlv_tag tag) noexcept;
std::optional<std::uint32_t> get_u32(const tlv_list& list, tlv_tag tag) noexcept;
// A C-Octet String value without its terminating NUL (tolerates a missing NUL).
std::optional<std::string_view> get_c_string(const tlv_list& list, tlv_tag tag) noexcept;
std::optional<std::string_view> get_octets(const tlv_list& list, tlv_tag tag) noexcept;

// Writers: replace the first TLV with the tag, or append one.
void set_u8(tlv_list& list, tlv_tag tag, std::uint8_t v);
void set_u16(tlv_list& list, tlv_tag tag, std::uint16_t v);
void set_u32(tlv_list& list, tlv_tag tag, std::uint32_t v);
void set_c_string(tlv_list& list, tlv_tag tag, std::string_view v);  // appends the NUL
void set_octets(tlv_list& list, tlv_tag tag, std::string_view v);

}  // namespace otpd::smpp
