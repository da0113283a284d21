#include "golden.hpp"

namespace otpd::smpp::test {
namespace {

pdu make(std::uint32_t status, std::uint32_t seq, pdu_body body) {
  pdu p;
  p.command_status = status;
  p.sequence_number = seq;
  p.body = std::move(body);
  return p;
}

address addr(std::uint8_t ton, std::uint8_t npi, std::string a) { return {ton, npi, std::move(a)}; }

std::vector<golden> build() {
  std::vector<golden> g;

  // --- §4.3.1 generic_nack: header only ------------------------------------------------------
  g.push_back({"generic_nack",
               cat({
                   {0x00, 0x00, 0x00, 0x10},  // command_length 16
                   {0x80, 0x00, 0x00, 0x00},  // command_id generic_nack
                   {0x00, 0x00, 0x00, 0x03},  // command_status ESME_RINVCMDID
                   {0x00, 0x00, 0x00, 0x07},  // sequence_number 7
               }),
               make(0x03, 7, generic_nack{})});

  // --- §4.1.1 bind_transmitter -----------------------------------------------------------------
  {
    bind_transmitter b;
    b.system_id = "SMPP3TEST";
    b.password = "secret08";
    b.system_type = "SUBMIT1";
    b.interface_version = 0x34;
    b.address_range = addr(1, 1, "");
    g.push_back({"bind_transmitter",
                 cat({
                     {0x00, 0x00, 0x00, 0x2F},  // command_length 47
                     {0x00, 0x00, 0x00, 0x02},  // bind_transmitter
                     {0x00, 0x00, 0x00, 0x00},  // command_status 0
                     {0x00, 0x00, 0x00, 0x01},  // sequence_number 1
                     str("SMPP3TEST"),
                     {0x00},  // system_id (10)
                     str("secret08"),
                     {0x00},  // password (9, the maximum)
                     str("SUBMIT1"),
                     {0x00},  // system_type (8)
                     {0x34},  // interface_version 3.4
                     {0x01},  // addr_ton international
                     {0x01},  // addr_npi ISDN
                     {0x00},  // address_range NULL
                 }),
                 make(0, 1, b)});
  }

  // --- §4.1.2 bind_transmitter_resp ------------------------------------------------------------
  {
    bind_transmitter_resp b;
    b.system_id = "SMSC01";
    g.push_back({"bind_transmitter_resp",
                 cat({
                     {0x00, 0x00, 0x00, 0x17},  // command_length 23
                     {0x80, 0x00, 0x00, 0x02},  // bind_transmitter_resp
                     {0x00, 0x00, 0x00, 0x00},  // ESME_ROK
                     {0x00, 0x00, 0x00, 0x01},  // sequence_number 1
                     str("SMSC01"),
                     {0x00},  // system_id (7), no TLVs
                 }),
                 make(0, 1, b)});
  }

  // --- §4.1.3 bind_receiver --------------------------------------------------------------------
  {
    bind_receiver b;
    b.system_id = "otpd";
    b.password = "secret";
    b.system_type = "";
    b.interface_version = 0x34;
    b.address_range = addr(0, 0, "");
    g.push_back({"bind_receiver",
                 cat({
                     {0x00, 0x00, 0x00, 0x21},  // command_length 33
                     {0x00, 0x00, 0x00, 0x01},  // bind_receiver
                     {0x00, 0x00, 0x00, 0x00},  // command_status 0
                     {0x00, 0x00, 0x00, 0x02},  // sequence_number 2
                     str("otpd"),
                     {0x00},  // system_id (5)
                     str("secret"),
                     {0x00},  // password (7)
                     {0x00},  // system_type NULL
                     {0x34},  // interface_version
                     {0x00},  // addr_ton unknown
                     {0x00},  // addr_npi unknown
                     {0x00},  // address_range NULL
                 }),
                 make(0, 2, b)});
  }

  // --- §4.1.4 bind_receiver_resp with sc_interface_version (§5.3.2.25) -------------------------
  {
    bind_receiver_resp b;
    b.system_id = "SMSC";
    b.tlvs = {{0x0210, "\x34"}};
    g.push_back({"bind_receiver_resp",
                 cat({
                     {0x00, 0x00, 0x00, 0x1A},  // command_length 26
                     {0x80, 0x00, 0x00, 0x01},  // bind_receiver_resp
                     {0x00, 0x00, 0x00, 0x00},  // ESME_ROK
                     {0x00, 0x00, 0x00, 0x02},  // sequence_number 2
                     str("SMSC"),
                     {0x00},        // system_id (5)
                     {0x02, 0x10},  // TLV tag sc_interface_version
                     {0x00, 0x01},  //     length 1
                     {0x34},        //     value 3.4
                 }),
                 make(0, 2, b)});
  }

  // --- §4.1.5 bind_transceiver -----------------------------------------------------------------
  {
    bind_transceiver b;
    b.system_id = "otpd_trx";
    b.password = "pw";
    b.system_type = "OTP";
    b.interface_version = 0x34;
    b.address_range = addr(1, 1, "^44");
    g.push_back({"bind_transceiver",
                 cat({
                     {0x00, 0x00, 0x00, 0x27},  // command_length 39
                     {0x00, 0x00, 0x00, 0x09},  // bind_transceiver
                     {0x00, 0x00, 0x00, 0x00},  // command_status 0
                     {0x00, 0x00, 0x00, 0x03},  // sequence_number 3
                     str("otpd_trx"),
                     {0x00},  // system_id (9)
                     str("pw"),
                     {0x00},  // password (3)
                     str("OTP"),
                     {0x00},  // system_type (4)
                     {0x34},  // interface_version
                     {0x01},  // addr_ton international
                     {0x01},  // addr_npi ISDN
                     str("^44"),
                     {0x00},  // address_range (4): a regular expression (§5.2.7)
                 }),
                 make(0, 3, b)});
  }

  // --- §4.1.6 bind_transceiver_resp refused: no body (§4.1.2 note: "not returned") -------------
  g.push_back({"bind_transceiver_resp",
               cat({
                   {0x00, 0x00, 0x00, 0x10},  // command_length 16
                   {0x80, 0x00, 0x00, 0x09},  // bind_transceiver_resp
                   {0x00, 0x00, 0x00, 0x0E},  // ESME_RINVPASWD
                   {0x00, 0x00, 0x00, 0x03},  // sequence_number 3
               }),
               make(0x0E, 3, bind_transceiver_resp{})});

  // --- §4.1.7 outbind --------------------------------------------------------------------------
  {
    outbind b;
    b.system_id = "SMSC";
    b.password = "pw";
    g.push_back({"outbind",
                 cat({
                     {0x00, 0x00, 0x00, 0x18},  // command_length 24
                     {0x00, 0x00, 0x00, 0x0B},  // outbind
                     {0x00, 0x00, 0x00, 0x00},  // command_status 0
                     {0x00, 0x00, 0x00, 0x04},  // sequence_number 4
                     str("SMSC"),
                     {0x00},  // system_id (5)
                     str("pw"),
                     {0x00},  // password (3)
                 }),
                 make(0, 4, b)});
  }

  // --- §4.2 unbind / unbind_resp, §4.11 enquire_link / enquire_link_resp -----------------------
  g.push_back({"unbind",
               cat({{0x00, 0x00, 0x00, 0x10},    // command_length 16
                    {0x00, 0x00, 0x00, 0x06},    // unbind
                    {0x00, 0x00, 0x00, 0x00},    // command_status 0
                    {0x00, 0x00, 0x00, 0x05}}),  // sequence_number 5
               make(0, 5, unbind{})});
  g.push_back({"unbind_resp",
               cat({{0x00, 0x00, 0x00, 0x10},    // command_length 16
                    {0x80, 0x00, 0x00, 0x06},    // unbind_resp
                    {0x00, 0x00, 0x00, 0x00},    // ESME_ROK
                    {0x00, 0x00, 0x00, 0x05}}),  // sequence_number 5
               make(0, 5, unbind_resp{})});
  g.push_back({"enquire_link",
               cat({{0x00, 0x00, 0x00, 0x10},    // command_length 16
                    {0x00, 0x00, 0x00, 0x15},    // enquire_link
                    {0x00, 0x00, 0x00, 0x00},    // command_status 0
                    {0x7F, 0xFF, 0xFF, 0xFF}}),  // sequence_number 0x7FFFFFFF (§5.1.4 maximum)
               make(0, 0x7FFFFFFF, enquire_link{})});
  g.push_back({"enquire_link_resp",
               cat({{0x00, 0x00, 0x00, 0x10},    // command_length 16
                    {0x80, 0x00, 0x00, 0x15},    // enquire_link_resp
                    {0x00, 0x00, 0x00, 0x00},    // ESME_ROK
                    {0x7F, 0xFF, 0xFF, 0xFF}}),  // sequence_number 0x7FFFFFFF
               make(0, 0x7FFFFFFF, enquire_link_resp{})});

  // --- §4.4.1 submit_sm: an OTP from an alphanumeric sender --------------------------------
  {
    submit_sm b;
    b.service_type = "";
    b.source = addr(5, 0, "MyBank");
    b.dest = addr(1, 1, "447700900123");
    b.validity_period = "000000000500000R";
    b.registered_delivery = 1;
    b.short_message = std::string(otp_text);
    g.push_back({"submit_sm",
                 cat({
                     {0x00, 0x00, 0x00, 0x6B},  // command_length 107
                     {0x00, 0x00, 0x00, 0x04},  // submit_sm
                     {0x00, 0x00, 0x00, 0x00},  // command_status 0
                     {0x00, 0x00, 0x00, 0x08},  // sequence_number 8
                     {0x00},                    // service_type NULL (default)
                     {0x05},                    // source_addr_ton alphanumeric
                     {0x00},                    // source_addr_npi unknown
                     str("MyBank"),
                     {0x00},  // source_addr (7)
                     {0x01},  // dest_addr_ton international
                     {0x01},  // dest_addr_npi ISDN (E.164)
                     str("447700900123"),
                     {0x00},  // destination_addr (13)
                     {0x00},  // esm_class default
                     {0x00},  // protocol_id
                     {0x00},  // priority_flag
                     {0x00},  // schedule_delivery_time NULL: now
                     str("000000000500000R"),
                     {0x00},         // validity_period: relative, 5 minutes
                     {0x01},         // registered_delivery: receipt
                     {0x00},         // replace_if_present_flag
                     {0x00},         // data_coding SMSC default
                     {0x00},         // sm_default_msg_id
                     {0x28},         // sm_length 40
                     str(otp_text),  // short_message
                 }),
                 make(0, 8, b)});
  }

  // --- §4.4.1 submit_sm: one UCS2 part of a concatenated message, TLVs known and unknown -------
  {
    submit_sm b;
    b.source = addr(5, 0, "MyBank");
    b.dest = addr(1, 1, "447700900123");
    b.data_coding = 0x08;
    b.short_message = std::string("\x04\x1F\x04\x40", 4);
    b.tlvs = {
        {0x020C, std::string("\x12\x34", 2)},  // sar_msg_ref_num 0x1234
        {0x020E, "\x02"},                      // sar_total_segments 2
        {0x020F, "\x01"},                      // sar_segment_seqnum 1
        {0x1400, "abc"},                       // vendor-specific: kept verbatim
        {0x130C, ""},                          // alert_on_message_delivery (no value)
    };
    g.push_back({"submit_sm_tlvs",
                 cat({
                     {0x00, 0x00, 0x00, 0x52},  // command_length 82
                     {0x00, 0x00, 0x00, 0x04},  // submit_sm
                     {0x00, 0x00, 0x00, 0x00},  // command_status 0
                     {0x00, 0x00, 0x00, 0x09},  // sequence_number 9
                     {0x00},                    // service_type NULL
                     {0x05, 0x00},              // source ton alphanumeric, npi unknown
                     str("MyBank"),
                     {0x00},        // source_addr (7)
                     {0x01, 0x01},  // dest ton international, npi ISDN
                     str("447700900123"),
                     {0x00},                    // destination_addr (13)
                     {0x00, 0x00, 0x00},        // esm_class, protocol_id, priority_flag
                     {0x00},                    // schedule_delivery_time NULL
                     {0x00},                    // validity_period NULL
                     {0x00, 0x00},              // registered_delivery, replace_if_present
                     {0x08},                    // data_coding UCS2
                     {0x00},                    // sm_default_msg_id
                     {0x04},                    // sm_length 4
                     {0x04, 0x1F, 0x04, 0x40},  // short_message: U+041F U+0440
                     {0x02, 0x0C, 0x00, 0x02},  // sar_msg_ref_num, length 2
                     {0x12, 0x34},              //     0x1234
                     {0x02, 0x0E, 0x00, 0x01},  // sar_total_segments, length 1
                     {0x02},                    //     2
                     {0x02, 0x0F, 0x00, 0x01},  // sar_segment_seqnum, length 1
                     {0x01},                    //     1
                     {0x14, 0x00, 0x00, 0x03},  // tag 0x1400 (vendor range), length 3
                     str("abc"),                //     raw value
                     {0x13, 0x0C, 0x00, 0x00},  // alert_on_message_delivery, length 0
                 }),
                 make(0, 9, b)});
  }

  // --- §4.4.2 submit_sm_resp -------------------------------------------------------------------
  g.push_back({"submit_sm_resp",
               cat({
                   {0x00, 0x00, 0x00, 0x17},  // command_length 23
                   {0x80, 0x00, 0x00, 0x04},  // submit_sm_resp
                   {0x00, 0x00, 0x00, 0x00},  // ESME_ROK
                   {0x00, 0x00, 0x00, 0x08},  // sequence_number 8
                   str("5f3a9c"),
                   {0x00},  // message_id (7)
               }),
               make(0, 8, submit_sm_resp{"5f3a9c"})});

  // --- §4.6.1 deliver_sm carrying a delivery receipt (Appendix B) ------------------------------
  {
    deliver_sm b;
    b.source = addr(1, 1, "447700900123");
    b.dest = addr(5, 0, "MyBank");
    b.esm_class = 0x04;  // §5.2.12: SMSC delivery receipt
    b.short_message = std::string(receipt_text);
    b.tlvs = {{0x001E, std::string("5f3a9c\0", 7)}, {0x0427, "\x02"}};
    g.push_back({"deliver_sm",
                 cat({
                     {0x00, 0x00, 0x00, 0xA5},  // command_length 165
                     {0x00, 0x00, 0x00, 0x05},  // deliver_sm
                     {0x00, 0x00, 0x00, 0x00},  // command_status 0
                     {0x00, 0x00, 0x01, 0x00},  // sequence_number 256
                     {0x00},                    // service_type NULL
                     {0x01, 0x01},              // source ton/npi: the handset
                     str("447700900123"),
                     {0x00},        // source_addr (13)
                     {0x05, 0x00},  // dest ton/npi: our sender id
                     str("MyBank"),
                     {0x00},                    // destination_addr (7)
                     {0x04},                    // esm_class: delivery receipt
                     {0x00, 0x00},              // protocol_id, priority_flag
                     {0x00},                    // schedule_delivery_time NULL
                     {0x00},                    // validity_period NULL
                     {0x00, 0x00, 0x00, 0x00},  // registered_delivery .. sm_default_msg_id
                     {0x62},                    // sm_length 98
                     str(receipt_text),         // short_message
                     {0x00, 0x1E, 0x00, 0x07},  // receipted_message_id, length 7
                     str("5f3a9c"),
                     {0x00},                    //     C-Octet String
                     {0x04, 0x27, 0x00, 0x01},  // message_state, length 1
                     {0x02},                    //     DELIVERED (§5.2.28)
                 }),
                 make(0, 256, b)});
  }

  // --- §4.6.2 deliver_sm_resp ------------------------------------------------------------------
  g.push_back({"deliver_sm_resp",
               cat({
                   {0x00, 0x00, 0x00, 0x11},  // command_length 17
                   {0x80, 0x00, 0x00, 0x05},  // deliver_sm_resp
                   {0x00, 0x00, 0x00, 0x00},  // ESME_ROK
                   {0x00, 0x00, 0x01, 0x00},  // sequence_number 256
                   {0x00},                    // message_id NULL (unused)
               }),
               make(0, 256, deliver_sm_resp{})});

  // --- §4.7.1 data_sm with message_payload -----------------------------------------------------
  {
    data_sm b;
    b.source = addr(5, 0, "MyBank");
    b.dest = addr(1, 1, "447700900123");
    b.registered_delivery = 1;
    b.data_coding = 0x08;
    b.tlvs = {{0x0424, std::string("\x00\x48\x00\x69", 4)}};
    g.push_back({"data_sm",
                 cat({
                     {0x00, 0x00, 0x00, 0x34},  // command_length 52
                     {0x00, 0x00, 0x01, 0x03},  // data_sm
                     {0x00, 0x00, 0x00, 0x00},  // command_status 0
                     {0x00, 0x00, 0x00, 0x0A},  // sequence_number 10
                     {0x00},                    // service_type NULL
                     {0x05, 0x00},              // source ton/npi
                     str("MyBank"),
                     {0x00},        // source_addr (7)
                     {0x01, 0x01},  // dest ton/npi
                     str("447700900123"),
                     {0x00},                    // destination_addr (13)
                     {0x00},                    // esm_class
                     {0x01},                    // registered_delivery
                     {0x08},                    // data_coding UCS2
                     {0x04, 0x24, 0x00, 0x04},  // message_payload, length 4
                     {0x00, 0x48, 0x00, 0x69},  //     "Hi" in UCS2
                 }),
                 make(0, 10, b)});
  }

  // --- §4.7.2 data_sm_resp ---------------------------------------------------------------------
  {
    data_sm_resp b;
    b.message_id = "abc";
    b.tlvs = {{0x0425, std::string("\x00", 1)}};
    g.push_back({"data_sm_resp",
                 cat({
                     {0x00, 0x00, 0x00, 0x19},  // command_length 25
                     {0x80, 0x00, 0x01, 0x03},  // data_sm_resp
                     {0x00, 0x00, 0x00, 0x00},  // ESME_ROK
                     {0x00, 0x00, 0x00, 0x0A},  // sequence_number 10
                     str("abc"),
                     {0x00},                    // message_id (4)
                     {0x04, 0x25, 0x00, 0x01},  // delivery_failure_reason, length 1
                     {0x00},                    //     destination unavailable
                 }),
                 make(0, 10, b)});
  }

  // --- §4.8.1 query_sm / §4.8.2 query_sm_resp --------------------------------------------------
  g.push_back({"query_sm",
               cat({
                   {0x00, 0x00, 0x00, 0x20},  // command_length 32
                   {0x00, 0x00, 0x00, 0x03},  // query_sm
                   {0x00, 0x00, 0x00, 0x00},  // command_status 0
                   {0x00, 0x00, 0x00, 0x0B},  // sequence_number 11
                   str("5f3a9c"),
                   {0x00},        // message_id (7)
                   {0x05, 0x00},  // source ton/npi
                   str("MyBank"),
                   {0x00},  // source_addr (7)
               }),
               make(0, 11, query_sm{"5f3a9c", addr(5, 0, "MyBank")})});
  g.push_back({"query_sm_resp",
               cat({
                   {0x00, 0x00, 0x00, 0x2A},  // command_length 42
                   {0x80, 0x00, 0x00, 0x03},  // query_sm_resp
                   {0x00, 0x00, 0x00, 0x00},  // ESME_ROK
                   {0x00, 0x00, 0x00, 0x0B},  // sequence_number 11
                   str("5f3a9c"),
                   {0x00},  // message_id (7)
                   str("240101120100000+"),
                   {0x00},  // final_date (17): absolute, UTC
                   {0x02},  // message_state DELIVERED
                   {0x00},  // error_code
               }),
               make(0, 11, query_sm_resp{"5f3a9c", "240101120100000+", 2, 0})});

  // --- §4.9.1 cancel_sm / §4.9.2 cancel_sm_resp ------------------------------------------------
  g.push_back(
      {"cancel_sm",
       cat({
           {0x00, 0x00, 0x00, 0x30},  // command_length 48
           {0x00, 0x00, 0x00, 0x08},  // cancel_sm
           {0x00, 0x00, 0x00, 0x00},  // command_status 0
           {0x00, 0x00, 0x00, 0x0C},  // sequence_number 12
           {0x00},                    // service_type NULL
           str("5f3a9c"),
           {0x00},        // message_id (7)
           {0x05, 0x00},  // source ton/npi
           str("MyBank"),
           {0x00},        // source_addr (7)
           {0x01, 0x01},  // dest ton/npi
           str("447700900123"),
           {0x00},  // destination_addr (13)
       }),
       make(0, 12, cancel_sm{"", "5f3a9c", addr(5, 0, "MyBank"), addr(1, 1, "447700900123")})});
  g.push_back({"cancel_sm_resp",
               cat({{0x00, 0x00, 0x00, 0x10},    // command_length 16
                    {0x80, 0x00, 0x00, 0x08},    // cancel_sm_resp
                    {0x00, 0x00, 0x00, 0x00},    // ESME_ROK
                    {0x00, 0x00, 0x00, 0x0C}}),  // sequence_number 12
               make(0, 12, cancel_sm_resp{})});

  // --- §4.10.1 replace_sm / §4.10.2 replace_sm_resp --------------------------------------------
  g.push_back({"replace_sm",
               cat({
                   {0x00, 0x00, 0x00, 0x40},  // command_length 64
                   {0x00, 0x00, 0x00, 0x07},  // replace_sm
                   {0x00, 0x00, 0x00, 0x00},  // command_status 0
                   {0x00, 0x00, 0x00, 0x0D},  // sequence_number 13
                   str("5f3a9c"),
                   {0x00},        // message_id (7)
                   {0x05, 0x00},  // source ton/npi
                   str("MyBank"),
                   {0x00},  // source_addr (7)
                   {0x00},  // schedule_delivery_time NULL
                   str("000000001000000R"),
                   {0x00},              // validity_period: relative, 10 minutes
                   {0x01},              // registered_delivery
                   {0x00},              // sm_default_msg_id
                   {0x0B},              // sm_length 11
                   str("Code 654321"),  // short_message
               }),
               make(0, 13,
                    replace_sm{"5f3a9c", addr(5, 0, "MyBank"), "", "000000001000000R", 1, 0,
                               "Code 654321"})});
  g.push_back({"replace_sm_resp",
               cat({{0x00, 0x00, 0x00, 0x10},    // command_length 16
                    {0x80, 0x00, 0x00, 0x07},    // replace_sm_resp
                    {0x00, 0x00, 0x00, 0x00},    // ESME_ROK
                    {0x00, 0x00, 0x00, 0x0D}}),  // sequence_number 13
               make(0, 13, replace_sm_resp{})});

  // --- §4.12.1 alert_notification --------------------------------------------------------------
  g.push_back({"alert_notification",
               cat({
                   {0x00, 0x00, 0x00, 0x2B},  // command_length 43
                   {0x00, 0x00, 0x01, 0x02},  // alert_notification
                   {0x00, 0x00, 0x00, 0x00},  // command_status 0
                   {0x00, 0x00, 0x00, 0x0E},  // sequence_number 14
                   {0x01, 0x01},              // source ton/npi
                   str("447700900123"),
                   {0x00},        // source_addr (13)
                   {0x00, 0x00},  // esme ton/npi
                   str("otpd"),
                   {0x00},                    // esme_addr (5)
                   {0x04, 0x22, 0x00, 0x01},  // ms_availability_status, length 1
                   {0x00},                    //     available
               }),
               make(0, 14,
                    alert_notification{addr(1, 1, "447700900123"),
                                       addr(0, 0, "otpd"),
                                       {{0x0422, std::string("\x00", 1)}}})});
  return g;
}

}  // namespace

const std::vector<golden>& goldens() {
  static const std::vector<golden> g = build();
  return g;
}

}  // namespace otpd::smpp::test
