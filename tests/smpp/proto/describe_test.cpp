#include "smpp/proto/describe.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace otpd::smpp
