#include "smpp/proto/tlv.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace otpd::smpp {
namespace {

// SMPP 3.4 §5.3.2: tag, name and allowed value lengths, as the specification states them
// (with the two documented tolerances: source_telematics_id 1..2, network_error_code 0..3).
struct expected_tlv {
  std::uint16_t tag;
  const char* name;
  tlv_type type;
  std::uint16_t min;
  std::uint16_t max;
};
constexpr expected_tlv spec[] = {
    {0x0005, "dest_addr_subunit", tlv_type::u8, 1, 1},
    {0x0006, "dest_network_type", tlv_type::u8, 1, 1},
    {0x0007, "dest_bearer_type", tlv_type::u8, 1, 1},
    {0x0008, "dest_telematics_id", tlv_type::u16, 2, 2},
    {0x000D, "source_addr_subunit", tlv_type::u8, 1, 1},
    {0x000E, "source_network_type", tlv_type::u8, 1, 1},
    {0x000F, "source_bearer_type", tlv_type::u8, 1, 1},
    {0x0010, "source_telematics_id", tlv_type::u8, 1, 2},
    {0x0017, "qos_time_to_live", tlv_type::u32, 4, 4},
    {0x0019, "payload_type", tlv_type::u8, 1, 1},
    {0x001D, "additional_status_info_text", tlv_type::c_string, 1, 256},
    {0x001E, "receipted_message_id", tlv_type::c_string, 1, 65},
    {0x0030, "ms_msg_wait_facilities", tlv_type::u8, 1, 1},
    {0x0201, "privacy_indicator", tlv_type::u8, 1, 1},
    {0x0202, "source_subaddress", tlv_type::octets, 2, 23},
    {0x0203, "dest_subaddress", tlv_type::octets, 2, 23},
    {0x0204, "user_message_reference", tlv_type::u16, 2, 2},
    {0x0205, "user_response_code", tlv_type::u8, 1, 1},
    {0x020A, "source_port", tlv_type::u16, 2, 2},
    {0x020B, "destination_port", tlv_type::u16, 2, 2},
    {0x020C, "sar_msg_ref_num", tlv_type::u16, 2, 2},
    {0x020D, "language_indicator", tlv_type::u8, 1, 1},
    {0x020E, "sar_total_segments", tlv_type::u8, 1, 1},
    {0x020F, "sar_segment_seqnum", tlv_type::u8, 1, 1},
    {0x0210, "sc_interface_version", tlv_type::u8, 1, 1},
    {0x0302, "callback_num_pres_ind", tlv_type::u8, 1, 1},
    {0x0303, "callback_num_atag", tlv_type::octets, 0, 65},
    {0x0304, "number_of_messages", tlv_type::u8, 1, 1},
    {0x0381, "callback_num", tlv_type::octets, 4, 19},
    {0x0420, "dpf_result", tlv_type::u8, 1, 1},
    {0x0421, "set_dpf", tlv_type::u8, 1, 1},
    {0x0422, "ms_availability_status", tlv_type::u8, 1, 1},
    {0x0423, "network_error_code", tlv_type::octets, 0, 3},
    {0x0424, "message_payload", tlv_type::octets, 0, 0xFFFF},
    {0x0425, "delivery_failure_reason", tlv_type::u8, 1, 1},
    {0x0426, "more_messages_to_send", tlv_type::u8, 1, 1},
    {0x0427, "message_state", tlv_type::u8, 1, 1},
    {0x0501, "ussd_service_op", tlv_type::octets, 1, 1},
    {0x1201, "display_time", tlv_type::u8, 1, 1},
    {0x1203, "sms_signal", tlv_type::u16, 2, 2},
    {0x1204, "ms_validity", tlv_type::u8, 1, 1},
    {0x130C, "alert_on_message_delivery", tlv_type::empty, 0, 0},
    {0x1380, "its_reply_type", tlv_type::u8, 1, 1},
    {0x1383, "its_session_info", tlv_type::octets, 2, 2},
};

TEST(tlv, traits_of_every_tag_in_the_spec) {
  for (const expected_tlv& e : spec) {
    const tlv_traits* t = find_tlv_traits(e.tag);
    ASSERT_NE(t, nullptr) << e.name;
    EXPECT_EQ(static_cast<std::uint16_t>(t->tag), e.tag);
    EXPECT_STREQ(t->name, e.name);
    EXPECT_EQ(t->type, e.type) << e.name;
    EXPECT_EQ(t->min_length, e.min) << e.name;
    EXPECT_EQ(t->max_length, e.max) << e.name;
  }
}

TEST(tlv, only_the_spec_tags_are_known) {
  std::set<std::uint16_t> known;
  for (const expected_tlv& e : spec) known.insert(e.tag);
  for (std::uint32_t tag = 0; tag <= 0xFFFF; ++tag) {
    const auto t = static_cast<std::uint16_t>(tag);
    EXPECT_EQ(find_tlv_traits(t) != nullptr, known.count(t) == 1) << std::hex << tag;
  }
}

TEST(tlv, length_validity) {
  EXPECT_TRUE(tlv_length_valid(0x020E, 1));
  EXPECT_FALSE(tlv_length_valid(0x020E, 0));
  EXPECT_FALSE(tlv_length_valid(0x020E, 2));
  EXPECT_TRUE(tlv_length_valid(0x001E, 65));
  EXPECT_FALSE(tlv_length_valid(0x001E, 66));
  EXPECT_FALSE(tlv_length_valid(0x0381, 3));
  EXPECT_TRUE(tlv_length_valid(0x0381, 4));
  EXPECT_TRUE(tlv_length_valid(0x1400, 0));  // unknown: anything
  EXPECT_TRUE(tlv_length_valid(0x1400, 65535));
}

TEST(tlv, integer_accessors_are_big_endian) {
  tlv_list l;
  set_u8(l, tlv_tag::message_state, 2);
  set_u16(l, tlv_tag::sar_msg_ref_num, 0x1234);
  set_u32(l, tlv_tag::qos_time_to_live, 0xDEADBEEF);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[1].value, std::string("\x12\x34", 2));
  EXPECT_EQ(l[2].value, "\xDE\xAD\xBE\xEF");
  EXPECT_EQ(get_u8(l, tlv_tag::message_state), 2);
  EXPECT_EQ(get_u16(l, tlv_tag::sar_msg_ref_num), 0x1234);
  EXPECT_EQ(get_u32(l, tlv_tag::qos_time_to_live), 0xDEADBEEFu);
  EXPECT_EQ(get_u8(l, tlv_tag::set_dpf), std::nullopt);
}

TEST(tlv, readers_refuse_a_value_of_the_wrong_size) {
  tlv_list l = {{0x0427, std::string("\x00\x02", 2)}};
  EXPECT_EQ(get_u8(l, tlv_tag::message_state), std::nullopt);
  EXPECT_EQ(get_u16(l, tlv_tag::message_state), 2);  // the raw reader is size-driven
}

TEST(tlv, setters_replace_the_first_and_keep_order) {
  tlv_list l = {{0x1400, "x"}, {0x0427, "\x01"}, {0x0427, "\x03"}};
  set_u8(l, tlv_tag::message_state, 2);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[1].value, "\x02");
  EXPECT_EQ(l[2].value, "\x03");
  EXPECT_EQ(find_tlv(l, tlv_tag::message_state), &l[1]);
}

TEST(tlv, c_string_accessors) {
  tlv_list l;
  set_c_string(l, tlv_tag::receipted_message_id, "5f3a9c");
  EXPECT_EQ(l[0].value, std::string("5f3a9c\0", 7));
  EXPECT_EQ(get_c_string(l, tlv_tag::receipted_message_id), "5f3a9c");
  // Without the NUL, as many SMSCs send it.
  l[0].value = "5f3a9c";
  EXPECT_EQ(get_c_string(l, tlv_tag::receipted_message_id), "5f3a9c");
  EXPECT_EQ(get_c_string(l, tlv_tag::additional_status_info_text), std::nullopt);
}

TEST(tlv, octet_accessors) {
  tlv_list l;
  set_octets(l, tlv_tag::message_payload, std::string_view("\x00\x41", 2));
  EXPECT_EQ(get_octets(l, tlv_tag::message_payload), std::string_view("\x00\x41", 2));
  set_octets(l, tlv_tag::message_payload, "");
  EXPECT_EQ(get_octets(l, tlv_tag::message_payload), "");
  EXPECT_EQ(l.size(), 1u);
}

}  // namespace
}  // namespace otpd::smpp
