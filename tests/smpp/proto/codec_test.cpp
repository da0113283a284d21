// Golden vectors, round trips and the codec's rules (lenient responses, strict lengths).
#include "smpp/proto/codec.hpp"

#include <gtest/gtest.h>

#include "golden.hpp"
#include "smpp/proto/status.hpp"
#include "smpp/proto/tlv.hpp"

namespace otpd::smpp {
namespace {

using test::as_bytes;
using test::as_string;
using test::bytes;
using test::cat;
using test::str;

boost::system::error_code decode_bytes(const bytes& b, pdu& out, decode_info* info = nullptr) {
  return decode(std::span<const std::uint8_t>(b.data(), b.size()), out, info);
}

bytes encode_bytes(const pdu& p, boost::system::error_code& ec) {
  std::string out;
  ec = encode(p, out);
  return as_bytes(out);
}

// A header followed by `body`, with command_length computed.
bytes with_header(std::uint32_t id, std::uint32_t status, std::uint32_t seq, const bytes& body) {
  const auto len = static_cast<std::uint32_t>(16 + body.size());
  bytes out;
  for (const std::uint32_t v : {len, id, status, seq}) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<std::uint8_t>(v >> shift));
  }
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

class golden_test : public ::testing::TestWithParam<test::golden> {};

TEST_P(golden_test, decodes_to_expected_value) {
  const test::golden& g = GetParam();
  pdu p;
  decode_info info;
  const auto ec = decode_bytes(g.wire, p, &info);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(info.header_valid);
  EXPECT_EQ(info.raw_command_id, static_cast<std::uint32_t>(command_id_of(g.value)));
  EXPECT_EQ(p, g.value);
}

TEST_P(golden_test, encodes_to_exact_bytes) {
  const test::golden& g = GetParam();
  boost::system::error_code ec;
  const bytes out = encode_bytes(g.value, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(out, g.wire);
  EXPECT_EQ(encoded_size(g.value), g.wire.size());
}

TEST_P(golden_test, round_trips_both_ways) {
  const test::golden& g = GetParam();
  pdu decoded;
  ASSERT_FALSE(decode_bytes(g.wire, decoded));
  boost::system::error_code ec;
  EXPECT_EQ(encode_bytes(decoded, ec), g.wire);
  ASSERT_FALSE(ec);
  pdu again;
  ASSERT_FALSE(decode_bytes(encode_bytes(g.value, ec), again));
  EXPECT_EQ(again, g.value);
}

TEST_P(golden_test, decodes_into_a_pdu_holding_another_body) {
  // The variant switches alternative; stale fields of the previous body must not leak.
  const test::golden& g = GetParam();
  for (const test::golden& other : test::goldens()) {
    pdu p;
    ASSERT_FALSE(decode_bytes(other.wire, p));
    ASSERT_FALSE(decode_bytes(g.wire, p)) << "after " << other.name;
    EXPECT_EQ(p, g.value) << "after " << other.name;
  }
}

INSTANTIATE_TEST_SUITE_P(all_pdus, golden_test, ::testing::ValuesIn(test::goldens()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(codec, goldens_cover_every_pdu_type) {
  std::vector<bool> seen(std::variant_size_v<pdu_body>, false);
  for (const test::golden& g : test::goldens()) seen[g.value.body.index()] = true;
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_TRUE(seen[i]) << "variant index " << i;
}

TEST(codec, encode_appends_to_existing_output) {
  const test::golden& g = test::goldens().front();
  std::string out = "prefix";
  ASSERT_FALSE(encode(g.value, out));
  EXPECT_EQ(out, "prefix" + as_string(g.wire));
}

// --- reuse of the destination ------------------------------------------------------------------

TEST(codec, decode_reuses_string_and_tlv_capacity_of_the_same_alternative) {
  const auto& gs = test::goldens();
  const auto it =
      std::find_if(gs.begin(), gs.end(), [](auto& g) { return g.name == "submit_sm_tlvs"; });
  ASSERT_NE(it, gs.end());
  pdu p;
  // First a long text so that short_message leaves the small-string buffer.
  submit_sm big = std::get<submit_sm>(it->value.body);
  big.short_message.assign(200, 'x');
  big.tlvs[3].value.assign(100, 'v');
  pdu src{0, 1, big};
  std::string wire;
  ASSERT_FALSE(encode(src, wire));
  ASSERT_FALSE(
      decode(std::span(reinterpret_cast<const std::uint8_t*>(wire.data()), wire.size()), p));
  const auto& s1 = std::get<submit_sm>(p.body);
  const char* sm_data = s1.short_message.data();
  const tlv* tlv_data = s1.tlvs.data();
  const char* vendor_value = s1.tlvs[3].value.data();

  ASSERT_FALSE(decode_bytes(it->wire, p));
  const auto& s2 = std::get<submit_sm>(p.body);
  EXPECT_EQ(s2.short_message.data(), sm_data);  // same buffer: no allocation
  EXPECT_EQ(s2.tlvs.data(), tlv_data);
  EXPECT_EQ(s2.tlvs[3].value.data(), vendor_value);
  EXPECT_EQ(p, it->value);
}

TEST(codec, decode_drops_surplus_tlvs_of_a_reused_body) {
  const auto& gs = test::goldens();
  const auto with =
      std::find_if(gs.begin(), gs.end(), [](auto& g) { return g.name == "submit_sm_tlvs"; });
  const auto without =
      std::find_if(gs.begin(), gs.end(), [](auto& g) { return g.name == "submit_sm"; });
  pdu p;
  ASSERT_FALSE(decode_bytes(with->wire, p));
  ASSERT_FALSE(decode_bytes(without->wire, p));
  EXPECT_TRUE(std::get<submit_sm>(p.body).tlvs.empty());
  EXPECT_EQ(p, without->value);
}

// --- TLVs ---------------------------------------------------------------------------------------

// A minimal submit_sm body (all NULL) followed by `tlvs`.
bytes submit_sm_with(const bytes& tlvs) {
  return with_header(0x00000004, 0, 42,
                     cat({{0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                           0x00, 0x00, 0x00, 0x00, 0x00},  // 17 NULL/zero mandatory fields
                          tlvs}));
}

TEST(codec, minimal_submit_sm_has_seventeen_mandatory_octets) {
  pdu p;
  ASSERT_FALSE(decode_bytes(submit_sm_with({}), p));
  EXPECT_EQ(std::get<submit_sm>(p.body), submit_sm{});
}

TEST(codec, unknown_tlvs_keep_order_and_bytes) {
  const bytes tlvs = cat({
      {0xFF, 0xFF, 0x00, 0x02, 0xDE, 0xAD},  // unknown tag 0xFFFF
      {0x02, 0x04, 0x00, 0x02, 0x00, 0x2A},  // user_message_reference 42
      {0x40, 0x00, 0x00, 0x00},              // unknown tag 0x4000, empty
      {0xFF, 0xFF, 0x00, 0x01, 0x01},        // 0xFFFF again: duplicates are kept
  });
  const bytes wire = submit_sm_with(tlvs);
  pdu p;
  ASSERT_FALSE(decode_bytes(wire, p));
  const auto& b = std::get<submit_sm>(p.body);
  ASSERT_EQ(b.tlvs.size(), 4u);
  EXPECT_EQ(b.tlvs[0], (tlv{0xFFFF, "\xDE\xAD"}));
  EXPECT_EQ(get_u16(b.tlvs, tlv_tag::user_message_reference), 42);
  EXPECT_EQ(b.tlvs[2], (tlv{0x4000, ""}));
  EXPECT_EQ(b.tlvs[3], (tlv{0xFFFF, "\x01"}));
  boost::system::error_code ec;
  EXPECT_EQ(encode_bytes(p, ec), wire);
}

TEST(codec, known_tlv_with_forbidden_length_is_rejected) {
  pdu p;
  // sar_total_segments must be 1 octet (§5.3.2.23).
  EXPECT_EQ(decode_bytes(submit_sm_with({0x02, 0x0E, 0x00, 0x02, 0x00, 0x02}), p),
            errc::invalid_tlv_length);
  // receipted_message_id is at most 65 octets (§5.3.2.12).
  bytes long_id = {0x00, 0x1E, 0x00, 0x42};
  long_id.resize(long_id.size() + 0x42, 'a');
  EXPECT_EQ(decode_bytes(submit_sm_with(long_id), p), errc::invalid_tlv_length);
  // alert_on_message_delivery takes no value (§5.3.2.41).
  EXPECT_EQ(decode_bytes(submit_sm_with({0x13, 0x0C, 0x00, 0x01, 0x00}), p),
            errc::invalid_tlv_length);
}

TEST(codec, malformed_tlv_stream_is_rejected) {
  pdu p;
  EXPECT_EQ(decode_bytes(submit_sm_with({0x02, 0x0E, 0x00}), p), errc::invalid_tlv);  // 3 octets
  EXPECT_EQ(decode_bytes(submit_sm_with({0x02, 0x0E, 0x00, 0x01}), p), errc::invalid_tlv);
  EXPECT_EQ(decode_bytes(submit_sm_with({0x14, 0x00, 0x00, 0x05, 'a', 'b'}), p), errc::invalid_tlv);
}

TEST(codec, tlvs_after_pdus_that_take_none_are_trailing_bytes) {
  pdu p;
  EXPECT_EQ(decode_bytes(with_header(0x00000015, 0, 1, {0x02, 0x10, 0x00, 0x01, 0x34}), p),
            errc::trailing_bytes);  // enquire_link
  EXPECT_EQ(
      decode_bytes(
          with_header(0x00000003, 0, 1, cat({str("id"), {0x00}, {0x00, 0x00, 0x00}, {0x99}})), p),
      errc::trailing_bytes);  // query_sm + one octet
}

// --- C-Octet Strings and sm_length ---------------------------------------------------------------

TEST(codec, c_string_at_its_maximum_is_accepted_and_one_more_is_too_long) {
  pdu p;
  // submit_sm_resp message_id: Var. max 65 (§4.4.2).
  bytes id64 = str(std::string(64, '7'));
  id64.push_back(0);
  ASSERT_FALSE(decode_bytes(with_header(0x80000004, 0, 1, id64), p));
  EXPECT_EQ(std::get<submit_sm_resp>(p.body).message_id, std::string(64, '7'));
  bytes id65 = str(std::string(65, '7'));
  id65.push_back(0);
  EXPECT_EQ(decode_bytes(with_header(0x80000004, 0, 1, id65), p), errc::c_string_too_long);

  // bind password: Var. max 9 (§4.1.1).
  const bytes bind_body =
      cat({str("sys"), {0x00}, str("123456789"), {0x00}, {0x00}, {0x34, 0x00, 0x00, 0x00}});
  EXPECT_EQ(decode_bytes(with_header(0x00000002, 0, 1, bind_body), p), errc::c_string_too_long);
}

TEST(codec, c_string_running_into_the_end_is_unterminated) {
  pdu p;
  EXPECT_EQ(decode_bytes(with_header(0x80000004, 0, 1, str("abc")), p),
            errc::c_string_unterminated);
  EXPECT_EQ(decode_bytes(with_header(0x80000004, 0, 1, {}), p), errc::truncated_body);
}

TEST(codec, data_sm_and_alert_notification_take_65_octet_addresses) {
  // §4.7.1 and §4.12.1 allow 65 octets where submit_sm allows 21.
  const std::string addr64(64, '1');
  const bytes body = cat({{0x00},
                          {0x01, 0x01},
                          str(addr64),
                          {0x00},
                          {0x01, 0x01},
                          str(addr64),
                          {0x00},
                          {0x00, 0x00, 0x00}});
  pdu p;
  ASSERT_FALSE(decode_bytes(with_header(0x00000103, 0, 1, body), p));
  EXPECT_EQ(std::get<data_sm>(p.body).dest.addr, addr64);

  const bytes sm_body = cat({{0x00}, {0x01, 0x01}, str(std::string(21, '1')), {0x00}});
  EXPECT_EQ(decode_bytes(with_header(0x00000004, 0, 1, sm_body), p), errc::c_string_too_long);
}

TEST(codec, sm_length_beyond_the_body_or_above_254_is_rejected) {
  bytes wire = submit_sm_with({});
  wire.back() = 0x01;  // sm_length 1 with nothing after it
  pdu p;
  EXPECT_EQ(decode_bytes(wire, p), errc::sm_length_mismatch);

  bytes body(16, 0x00);
  body.push_back(0xFF);  // sm_length 255 (§5.2.21: at most 254)
  body.resize(body.size() + 255, 'a');
  EXPECT_EQ(decode_bytes(with_header(0x00000004, 0, 1, body), p), errc::sm_length_mismatch);

  body = bytes(16, 0x00);
  body.push_back(0xFE);  // 254 is the maximum
  body.resize(body.size() + 254, 'a');
  ASSERT_FALSE(decode_bytes(with_header(0x00000004, 0, 1, body), p));
  EXPECT_EQ(std::get<submit_sm>(p.body).short_message.size(), 254u);
}

TEST(codec, time_fields_are_decoded_leniently) {
  // Some SMSCs send final_date shorter than 16 characters: keep it, let the caller judge.
  const bytes body = cat({str("id"), {0x00}, str("2401011201"), {0x00}, {0x02, 0x00}});
  pdu p;
  ASSERT_FALSE(decode_bytes(with_header(0x80000003, 0, 1, body), p));
  EXPECT_EQ(std::get<query_sm_resp>(p.body).final_date, "2401011201");
}

// --- header ------------------------------------------------------------------------------------

TEST(codec, short_input_has_no_readable_header) {
  const bytes wire = test::goldens().front().wire;
  for (std::size_t n = 0; n < 16; ++n) {
    pdu p;
    decode_info info;
    info.header_valid = true;
    EXPECT_EQ(decode(std::span(wire.data(), n), p, &info), errc::invalid_command_length);
    EXPECT_FALSE(info.header_valid);
  }
}

TEST(codec, command_length_must_match_the_input) {
  bytes wire = with_header(0x00000015, 0, 77, {});
  wire[3] = 0x11;  // claims 17
  pdu p;
  decode_info info;
  EXPECT_EQ(decode_bytes(wire, p, &info), errc::invalid_command_length);
  EXPECT_TRUE(info.header_valid);
  EXPECT_EQ(p.sequence_number, 77u);
}

TEST(codec, unknown_command_id_keeps_header_for_the_generic_nack) {
  // submit_multi (§4.5) is not in the variant: the caller answers generic_nack ESME_RINVCMDID.
  const bytes wire = with_header(0x00000021, 0, 0x1234, {0x00});
  pdu p;
  decode_info info;
  const auto ec = decode_bytes(wire, p, &info);
  EXPECT_EQ(ec, errc::unknown_command_id);
  EXPECT_TRUE(info.header_valid);
  EXPECT_EQ(info.raw_command_id, 0x21u);
  EXPECT_EQ(p.sequence_number, 0x1234u);
  EXPECT_EQ(status_for(ec), command_status::invalid_cmd_id);
}

TEST(codec, errors_keep_sequence_and_status) {
  const bytes wire = with_header(0x00000004, 0x00000000, 99, {0x00, 0x05, 0x00, 'a'});
  pdu p;
  decode_info info;
  EXPECT_EQ(decode_bytes(wire, p, &info), errc::c_string_unterminated);
  EXPECT_EQ(p.sequence_number, 99u);
  EXPECT_EQ(info.raw_command_id, 4u);
}

// --- lenient responses -------------------------------------------------------------------------

TEST(codec, error_responses_without_body_are_accepted) {
  struct body_less {
    std::uint32_t id;
    std::size_t index;
  };
  for (const body_less c : {body_less{0x80000004, pdu_body(submit_sm_resp{}).index()},
                            body_less{0x80000001, pdu_body(bind_receiver_resp{}).index()},
                            body_less{0x80000002, pdu_body(bind_transmitter_resp{}).index()},
                            body_less{0x80000009, pdu_body(bind_transceiver_resp{}).index()},
                            body_less{0x80000103, pdu_body(data_sm_resp{}).index()},
                            body_less{0x80000003, pdu_body(query_sm_resp{}).index()}}) {
    pdu p;
    const bytes wire = with_header(c.id, 0x58, 5, {});
    ASSERT_FALSE(decode_bytes(wire, p)) << std::hex << c.id;
    EXPECT_EQ(p.body.index(), c.index);
    EXPECT_EQ(p.command_status, 0x58u);
  }
}

TEST(codec, success_responses_need_their_body) {
  pdu p;
  EXPECT_EQ(decode_bytes(with_header(0x80000004, 0, 5, {}), p), errc::truncated_body);
  EXPECT_EQ(decode_bytes(with_header(0x80000002, 0, 5, {}), p), errc::truncated_body);
}

TEST(codec, error_response_with_a_bad_body_keeps_its_status) {
  // An unterminated message_id on a refused submit: the status is what matters.
  pdu p;
  ASSERT_FALSE(decode_bytes(with_header(0x80000004, 0x45, 5, str("abc")), p));
  EXPECT_EQ(p.command_status, 0x45u);
  EXPECT_EQ(std::get<submit_sm_resp>(p.body).message_id, "");
}

TEST(codec, error_response_body_is_cleared_when_reused) {
  pdu p;
  ASSERT_FALSE(decode_bytes(with_header(0x80000004, 0, 5, cat({str("old"), {0x00}})), p));
  ASSERT_FALSE(decode_bytes(with_header(0x80000004, 0x58, 6, {}), p));
  EXPECT_EQ(std::get<submit_sm_resp>(p.body).message_id, "");
}

TEST(codec, error_response_with_null_message_id_decodes) {
  pdu p;
  ASSERT_FALSE(decode_bytes(with_header(0x80000004, 0x58, 5, {0x00}), p));
  EXPECT_EQ(p, (pdu{0x58, 5, submit_sm_resp{}}));
  // Re-encoded the spec's way: no body on error (§4.4.2).
  std::string out;
  ASSERT_FALSE(encode(p, out));
  EXPECT_EQ(out.size(), 16u);
}

TEST(codec, deliver_sm_resp_without_message_id_is_accepted) {
  pdu p;
  ASSERT_FALSE(decode_bytes(with_header(0x80000005, 0, 5, {}), p));
  EXPECT_EQ(p, (pdu{0, 5, deliver_sm_resp{}}));
  // We always send the NULL message_id ourselves (§4.6.2).
  std::string out;
  ASSERT_FALSE(encode(p, out));
  EXPECT_EQ(as_bytes(out), with_header(0x80000005, 0, 5, {0x00}));
}

TEST(codec, submit_sm_resp_ignores_trailing_tlvs) {
  // SMPP 5.0 SMSCs may append TLVs; the message_id must not be lost over them.
  const bytes body = cat({str("abc123"), {0x00}, {0x00, 0x1D, 0x00, 0x03}, str("ok"), {0x00}});
  pdu p;
  ASSERT_FALSE(decode_bytes(with_header(0x80000004, 0, 5, body), p));
  EXPECT_EQ(std::get<submit_sm_resp>(p.body).message_id, "abc123");
}

TEST(codec, error_response_with_fields_keeps_its_body_on_encode) {
  bind_transmitter_resp b;
  b.system_id = "SMSC";
  std::string out;
  ASSERT_FALSE(encode(pdu{0x0D, 1, b}, out));
  EXPECT_EQ(out.size(), 16u + 5u);
}

// --- encode validation --------------------------------------------------------------------------

submit_sm valid_submit() {
  submit_sm s;
  s.source = {5, 0, "MyBank"};
  s.dest = {1, 1, "447700900123"};
  s.short_message = "hi";
  return s;
}

boost::system::error_code encode_error(const pdu& p) {
  std::string out = "keep";
  const auto ec = encode(p, out);
  EXPECT_EQ(out, "keep") << "nothing may be appended on error";
  EXPECT_EQ(encoded_size(p), ec ? 0u : out.size() - 4);
  return ec;
}

TEST(codec, encode_rejects_fields_beyond_the_spec) {
  submit_sm s = valid_submit();
  s.dest.addr = std::string(21, '1');  // 21 + NUL > 21
  EXPECT_EQ(encode_error(pdu{0, 1, s}), errc::c_string_too_long);

  s = valid_submit();
  s.service_type = "ABCDEF";  // 6 + NUL > 6
  EXPECT_EQ(encode_error(pdu{0, 1, s}), errc::c_string_too_long);

  s = valid_submit();
  s.short_message.assign(255, 'x');
  EXPECT_EQ(encode_error(pdu{0, 1, s}), errc::sm_length_mismatch);

  bind_transmitter b;
  b.password = "1234567890";
  EXPECT_EQ(encode_error(pdu{0, 1, b}), errc::c_string_too_long);
}

TEST(codec, encode_rejects_nul_inside_c_strings) {
  // "4477\0..." would end destination_addr early and shift every later field on the wire.
  submit_sm s = valid_submit();
  s.dest.addr = std::string(
      "4477\0"
      "0000",
      9);
  EXPECT_EQ(encode_error(pdu{0, 1, s}), errc::invalid_field);
}

TEST(codec, encode_requires_times_of_16_characters_or_none) {
  submit_sm s = valid_submit();
  s.validity_period = "0000000005";
  EXPECT_EQ(encode_error(pdu{0, 1, s}), errc::invalid_field);
  s.validity_period = "000000000500000R+";
  EXPECT_EQ(encode_error(pdu{0, 1, s}), errc::c_string_too_long);
  s.validity_period = "000000000500000R";
  std::string out;
  EXPECT_FALSE(encode(pdu{0, 1, s}, out));
}

TEST(codec, encode_rejects_known_tlvs_of_forbidden_length) {
  submit_sm s = valid_submit();
  s.tlvs = {{0x020C, "\x01"}};  // sar_msg_ref_num needs 2 octets
  EXPECT_EQ(encode_error(pdu{0, 1, s}), errc::invalid_tlv_length);
  s.tlvs = {{0x1400, std::string(0x10000, 'x')}};  // beyond the 16-bit length
  EXPECT_EQ(encode_error(pdu{0, 1, s}), errc::invalid_tlv_length);
  s.tlvs = {{0x1400, std::string(0xFFFF, 'x')}};  // an unknown tag may use all of it
  std::string out;
  EXPECT_FALSE(encode(pdu{0, 1, s}, out));
  EXPECT_EQ(out.size(), encoded_size(pdu{0, 1, s}));
}

}  // namespace
}  // namespace otpd::smpp
