#include "smpp/proto/describe.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "golden.hpp"

namespace otpd::smpp {
namespace {

const pdu& golden(std::string_view name) {
  for (const test::golden& g : test::goldens()) {
    if (g.name == name) return g.value;
  }
  throw std::logic_error("no golden " + std::string(name));
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

TEST(describe, submit_sm_shows_every_field) {
  const std::string d = describe(golden("submit_sm"));
  EXPECT_EQ(d.rfind("submit_sm seq=8 status=ESME_ROK ", 0), 0u) << d;
  for (const char* part :
       {"service_type=\"\"", "source=5/0:\"MyBank\"", "dest=1/1:\"447700900123\"", "esm_class=0x00",
        "protocol_id=0", "priority_flag=0", "schedule_delivery_time=\"\"",
        "validity_period=\"000000000500000R\"", "registered_delivery=0x01",
        "replace_if_present_flag=0", "data_coding=0x00", "sm_default_msg_id=0",
        "short_message=[40] 596f7572204d7942616e6b", "\"Your MyBank code is 482913. Valid 5 min.\"",
        "tlvs={}"}) {
    EXPECT_TRUE(contains(d, part)) << part << "\n" << d;
  }
  EXPECT_EQ(d.find('\n'), std::string::npos);
}

TEST(describe, binary_short_message_has_hex_only_and_tlvs_by_name) {
  const std::string d = describe(golden("submit_sm_tlvs"));
  EXPECT_TRUE(contains(d, "short_message=[4] 041f0440 ")) << d;
  EXPECT_TRUE(contains(d,
                       "tlvs={sar_msg_ref_num=4660 sar_total_segments=2 "
                       "sar_segment_seqnum=1 0x1400=616263 alert_on_message_delivery=}"))
      << d;
}

TEST(describe, receipt_tlvs) {
  const std::string d = describe(golden("deliver_sm"));
  EXPECT_TRUE(contains(d, "deliver_sm seq=256")) << d;
  EXPECT_TRUE(contains(d, "esm_class=0x04")) << d;
  EXPECT_TRUE(contains(d, "receipted_message_id=\"5f3a9c\" message_state=2")) << d;
  EXPECT_TRUE(contains(d, "stat:DELIVRD")) << d;
}

TEST(describe, password_is_never_printed) {
  const std::string d = describe(golden("bind_transmitter"));
  EXPECT_TRUE(contains(d, "password=***")) << d;
  EXPECT_FALSE(contains(d, "secret08")) << d;
  EXPECT_TRUE(contains(d, "system_id=\"SMPP3TEST\"")) << d;
  EXPECT_TRUE(contains(d, "interface_version=0x34")) << d;
  const std::string o = describe(golden("outbind"));
  EXPECT_TRUE(contains(o, "password=***")) << o;
  EXPECT_FALSE(contains(o, "\"pw\"")) << o;
}

TEST(describe, status_names_and_header_only_pdus) {
  EXPECT_EQ(describe(golden("generic_nack")), "generic_nack seq=7 status=ESME_RINVCMDID");
  EXPECT_EQ(describe(golden("bind_transceiver_resp")),
            "bind_transceiver_resp seq=3 status=ESME_RINVPASWD system_id=\"\" tlvs={}");
  EXPECT_EQ(describe(pdu{0x0401, 1, submit_sm_resp{}}),
            "submit_sm_resp seq=1 status=ESME_R0x00000401 message_id=\"\"");
}

TEST(describe, non_printable_bytes_in_strings_are_escaped) {
  submit_sm_resp r;
  r.message_id = std::string("a\x01\"b", 4);
  EXPECT_EQ(describe(pdu{0, 2, r}),
            "submit_sm_resp seq=2 status=ESME_ROK message_id=\"a\\x01\\\"b\"");
}

TEST(describe, message_payload_and_octet_tlvs) {
  const std::string d = describe(golden("data_sm"));
  EXPECT_TRUE(contains(d, "message_payload=[4] 00480069}")) << d;
  data_sm_resp r;
  r.tlvs = {{0x0423, std::string("\x03\x00\x0B", 3)}, {0x0427, std::string("\x00\x02", 2)}};
  const std::string e = describe(pdu{0, 1, r});
  // network_error_code is an octet string; a known tag with an odd length falls back to hex.
  EXPECT_TRUE(contains(e, "network_error_code=03000b message_state=0002")) << e;
}

TEST(describe, every_golden_renders) {
  for (const test::golden& g : test::goldens()) {
    const std::string d = describe(g.value);
    EXPECT_EQ(d.rfind(to_string(command_id_of(g.value)), 0), 0u) << d;
  }
}

// Each body's fields in wire order as SMPP 3.4 §4 lists them, an address (TON, NPI, digits) as
// one field and sm_length with short_message: written from the spec, not from the codec.
const std::map<command_id, std::vector<std::string>>& spec_fields() {
  static const std::vector<std::string> bind{"system_id", "password", "system_type",
                                             "interface_version", "address_range"};
  static const std::vector<std::string> bind_resp{"system_id", "tlvs"};
  static const std::vector<std::string> sm{"service_type",
                                           "source",
                                           "dest",
                                           "esm_class",
                                           "protocol_id",
                                           "priority_flag",
                                           "schedule_delivery_time",
                                           "validity_period",
                                           "registered_delivery",
                                           "replace_if_present_flag",
                                           "data_coding",
                                           "sm_default_msg_id",
                                           "short_message",
                                           "tlvs"};
  static const std::map<command_id, std::vector<std::string>> fields{
      {command_id::generic_nack, {}},
      {command_id::bind_receiver, bind},
      {command_id::bind_receiver_resp, bind_resp},
      {command_id::bind_transmitter, bind},
      {command_id::bind_transmitter_resp, bind_resp},
      {command_id::bind_transceiver, bind},
      {command_id::bind_transceiver_resp, bind_resp},
      {command_id::outbind, {"system_id", "password"}},
      {command_id::unbind, {}},
      {command_id::unbind_resp, {}},
      {command_id::enquire_link, {}},
      {command_id::enquire_link_resp, {}},
      {command_id::submit_sm, sm},
      {command_id::submit_sm_resp, {"message_id"}},
      {command_id::deliver_sm, sm},
      {command_id::deliver_sm_resp, {"message_id"}},
      {command_id::data_sm,
       {"service_type", "source", "dest", "esm_class", "registered_delivery", "data_coding",
        "tlvs"}},
      {command_id::data_sm_resp, {"message_id", "tlvs"}},
      {command_id::query_sm, {"message_id", "source"}},
      {command_id::query_sm_resp, {"message_id", "final_date", "message_state", "error_code"}},
      {command_id::cancel_sm, {"service_type", "message_id", "source", "dest"}},
      {command_id::cancel_sm_resp, {}},
      {command_id::replace_sm,
       {"message_id", "source", "schedule_delivery_time", "validity_period", "registered_delivery",
        "sm_default_msg_id", "short_message"}},
      {command_id::replace_sm_resp, {}},
      {command_id::alert_notification, {"source", "esme", "tlvs"}},
  };
  return fields;
}

// The names of `name=value` items after the header. With default bodies no value holds a space.
std::vector<std::string> field_names(const std::string& description) {
  std::istringstream in(description);
  std::string item;
  std::vector<std::string> names;
  for (int header = 0; header < 3 && in >> item; ++header) {
  }
  while (in >> item) names.push_back(item.substr(0, item.find('=')));
  return names;
}

template <std::size_t... I>
std::vector<pdu_body> every_body(std::index_sequence<I...>) {
  return {pdu_body(std::in_place_index<I>)...};
}

TEST(describe, every_pdu_type_names_every_field_in_wire_order) {
  const auto bodies = every_body(std::make_index_sequence<std::variant_size_v<pdu_body>>());
  ASSERT_EQ(bodies.size(), spec_fields().size());
  for (const pdu_body& body : bodies) {
    const command_id id = command_id_of(body);
    const auto expected = spec_fields().find(id);
    ASSERT_NE(expected, spec_fields().end()) << to_string(id);
    const std::string d = describe(pdu{0, 1, body});
    EXPECT_EQ(d.rfind(std::string(to_string(id)) + " seq=1 status=ESME_ROK", 0), 0u) << d;
    EXPECT_EQ(field_names(d), expected->second) << d;
  }
}

}  // namespace
}  // namespace otpd::smpp
