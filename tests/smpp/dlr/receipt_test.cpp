#include "smpp/dlr/receipt.hpp"

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "smpp/proto/tlv.hpp"

namespace otpd::smpp::dlr {
namespace {

using namespace std::chrono;
using namespace std::string_literals;

constexpr std::string_view otp = "482917";

tlv make_tlv(tlv_tag tag, std::string value) {
  return tlv{static_cast<std::uint16_t>(tag), std::move(value)};
}

deliver_sm make_deliver(std::string text, std::uint8_t esm_class = 0x04, tlv_list tlvs = {}) {
  deliver_sm sm;
  sm.esm_class = esm_class;
  sm.short_message = std::move(text);
  sm.tlvs = std::move(tlvs);
  return sm;
}

sys_seconds at(int y, unsigned mo, unsigned d, int h, int mi, int s = 0) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

// No string in the result may hold anything from the "text:" field.
void expect_no_text(const receipt& r, std::string_view secret) {
  for (const std::string* s :
       {&r.id, &r.text_id, &r.stat, &r.err, &r.submit_date.raw, &r.done_date.raw}) {
    EXPECT_EQ(s->find(secret), std::string::npos) << *s;
  }
}

// --- Appendix B text ---------------------------------------------------------------------

TEST(receipt, appendix_b_canonical) {
  receipt r;
  const auto ec =
      parse_receipt(make_deliver("id:0123456789 sub:001 dlvrd:001 submit date:2301151230 done "
                                 "date:2301151231 stat:DELIVRD err:000 text:Your code is 482917"),
                    r);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(r.kind, receipt_kind::smsc_delivery_receipt);
  EXPECT_EQ(r.id, "0123456789");
  EXPECT_EQ(r.id_source, value_source::text);
  EXPECT_EQ(r.text_id, "0123456789");
  EXPECT_EQ(r.state, message_state::delivered);
  EXPECT_EQ(r.state_source, value_source::text);
  EXPECT_EQ(r.stat, "DELIVRD");
  EXPECT_EQ(r.err, "000");
  EXPECT_EQ(r.err_code, 0u);
  EXPECT_EQ(r.sub, 1u);
  EXPECT_EQ(r.dlvrd, 1u);
  EXPECT_EQ(r.submit_date.raw, "2301151230");
  EXPECT_EQ(r.submit_date.time, at(2023, 1, 15, 12, 30));
  EXPECT_EQ(r.done_date.time, at(2023, 1, 15, 12, 31));
  EXPECT_FALSE(r.network_error_code);
  EXPECT_TRUE(r.is_final);
  expect_no_text(r, otp);
}

TEST(receipt, nothing_after_text_is_read) {
  receipt r;
  // The original message may itself look like receipt fields.
  ASSERT_FALSE(parse_receipt(make_deliver("id:1 sub:001 stat:DELIVRD text:482917 err:123 "
                                          "dlvrd:005 done date:2301151231 stat:UNDELIV id:999"),
                             r));
  EXPECT_EQ(r.id, "1");
  EXPECT_EQ(r.stat, "DELIVRD");
  EXPECT_EQ(r.err, "");
  EXPECT_FALSE(r.err_code);
  EXPECT_FALSE(r.dlvrd);
  EXPECT_FALSE(r.done_date.present());
  expect_no_text(r, otp);
  expect_no_text(r, "999");
}

TEST(receipt, text_key_spelled_with_space_before_colon) {
  receipt r;
  ASSERT_FALSE(parse_receipt(make_deliver("id:1 stat:DELIVRD Text :err:5 482917"), r));
  EXPECT_EQ(r.err, "");
  expect_no_text(r, otp);
}

TEST(receipt, kannel_style) {
  receipt r;
  ASSERT_FALSE(
      parse_receipt(make_deliver("id:1234567890 sub:001 dlvrd:000 submit date:0610191018 done "
                                 "date:0610191018 stat:UNDELIV err:001 text:Your code 482917"),
                    r));
  EXPECT_EQ(r.id, "1234567890");
  EXPECT_EQ(r.state, message_state::undeliverable);
  EXPECT_EQ(r.dlvrd, 0u);
  EXPECT_EQ(r.err_code, 1u);
  EXPECT_EQ(r.done_date.time, at(2006, 10, 19, 10, 18));
  EXPECT_TRUE(r.is_final);
  expect_no_text(r, otp);
}

TEST(receipt, node_smpp_style_lower_case_underscore_keys_and_seconds) {
  receipt r;
  ASSERT_FALSE(parse_receipt(
      make_deliver("id:c449ab9-744f-4e5d-a8ab-1e0ef7ff6e35 sub:001 dlvrd:001 "
                   "submit_date:240229235958 done_date:240301000001 stat:delivered err:0 "
                   "text:482917"),
      r));
  EXPECT_EQ(r.id, "c449ab9-744f-4e5d-a8ab-1e0ef7ff6e35");
  EXPECT_EQ(r.state, message_state::delivered);
  EXPECT_EQ(r.stat, "delivered");
  EXPECT_EQ(r.submit_date.time, at(2024, 2, 29, 23, 59, 58));
  EXPECT_EQ(r.done_date.time, at(2024, 3, 1, 0, 0, 1));
  expect_no_text(r, otp);
}

TEST(receipt, vendor_style_missing_fields_upper_case_extra_fields_other_order) {
  receipt r;
  ASSERT_FALSE(parse_receipt(
      make_deliver("STAT:REJECTD ID:A1B2C3 msgid:777 imsi:452040000000001 ERR:ABC Submit "
                   "Date:2312312359 Done Date:2401010000 mccmnc:45204"),
      r));
  EXPECT_EQ(r.id, "A1B2C3");
  EXPECT_EQ(r.state, message_state::rejected);
  EXPECT_EQ(r.err, "ABC");
  EXPECT_FALSE(r.err_code);
  EXPECT_FALSE(r.sub);
  EXPECT_FALSE(r.dlvrd);
  EXPECT_EQ(r.submit_date.time, at(2023, 12, 31, 23, 59));
  EXPECT_EQ(r.done_date.time, at(2024, 1, 1, 0, 0));
  expect_no_text(r, "452040000000001");  // unknown fields are not kept
  expect_no_text(r, "777");
}

TEST(receipt, extra_spaces_and_split_keys) {
  receipt r;
  ASSERT_FALSE(parse_receipt(
      make_deliver("  id:77   sub: 001  dlvrd:001 submit   date:2301151230 done date: "
                   "2301151231 stat : DELIVRD\terr:000\r\ntext: 482917"),
      r));
  EXPECT_EQ(r.id, "77");
  EXPECT_EQ(r.sub, 1u);
  EXPECT_EQ(r.submit_date.raw, "2301151230");
  EXPECT_EQ(r.done_date.raw, "2301151231");
  EXPECT_EQ(r.stat, "DELIVRD");
  EXPECT_EQ(r.err_code, 0u);
  expect_no_text(r, otp);
}

TEST(receipt, empty_value_followed_by_another_field_stays_empty) {
  receipt r;
  ASSERT_FALSE(parse_receipt(make_deliver("id:5 sub: dlvrd:001 stat:EXPIRED err:"), r));
  EXPECT_FALSE(r.sub);
  EXPECT_EQ(r.dlvrd, 1u);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.state, message_state::expired);
}

TEST(receipt, empty_value_does_not_swallow_the_next_field_name) {
  receipt r;
  ASSERT_FALSE(parse_receipt(
      make_deliver("id:5 dlvrd: submit date:2301151230 err: text :482917 stat:DELIVRD"), r));
  EXPECT_FALSE(r.dlvrd);
  EXPECT_EQ(r.submit_date.raw, "2301151230");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.stat, "");  // after "text :", so never read
  expect_no_text(r, otp);
}

TEST(receipt, first_of_a_repeated_field_wins) {
  receipt r;
  ASSERT_FALSE(parse_receipt(make_deliver("id:5 stat:DELIVRD id:6 stat:UNDELIV"), r));
  EXPECT_EQ(r.id, "5");
  EXPECT_EQ(r.state, message_state::delivered);
}

TEST(receipt, nul_terminated_short_message) {
  receipt r;
  ASSERT_FALSE(parse_receipt(make_deliver("id:42 stat:DELIVRD err:000\0"s), r));
  EXPECT_EQ(r.id, "42");
  EXPECT_EQ(r.err, "000");
}

TEST(receipt, unknown_stat_keeps_raw_text_without_state) {
  receipt r;
  ASSERT_FALSE(parse_receipt(make_deliver("id:5 stat:SKIPPED err:0"), r));
  EXPECT_EQ(r.stat, "SKIPPED");
  EXPECT_FALSE(r.state);
  EXPECT_EQ(r.state_source, value_source::none);
  EXPECT_FALSE(r.is_final);
}

TEST(receipt, numeric_overflow_is_not_a_number) {
  receipt r;
  ASSERT_FALSE(parse_receipt(make_deliver("id:5 sub:99999999999 dlvrd:-1 stat:DELIVRD err:+1"), r));
  EXPECT_FALSE(r.sub);
  EXPECT_FALSE(r.dlvrd);
  EXPECT_FALSE(r.err_code);
  EXPECT_EQ(r.err, "+1");
}

TEST(receipt, id_may_contain_a_colon) {
  receipt r;
  ASSERT_FALSE(parse_receipt(make_deliver("id:abc:def stat:DELIVRD"), r));
  EXPECT_EQ(r.id, "abc:def");
}

// --- TLVs --------------------------------------------------------------------------------

TEST(receipt, tlvs_are_preferred_and_sources_recorded) {
  receipt r;
  const auto sm = make_deliver(
      "id:9308878062554710043 sub:001 dlvrd:001 submit date:2301151230 done date:2301151231 "
      "stat:DELIVRD err:000 text:482917",
      0x04,
      {make_tlv(tlv_tag::receipted_message_id, "812FC7470000001B\0"s),
       make_tlv(tlv_tag::message_state, "\x05"s),
       make_tlv(tlv_tag::network_error_code, "\x03\x01\x22"s)});
  ASSERT_FALSE(parse_receipt(sm, r));
  EXPECT_EQ(r.id, "812FC7470000001B");
  EXPECT_EQ(r.id_source, value_source::tlv);
  EXPECT_EQ(r.text_id, "9308878062554710043");
  EXPECT_EQ(r.state, message_state::undeliverable);
  EXPECT_EQ(r.state_source, value_source::tlv);
  EXPECT_EQ(r.stat, "DELIVRD");  // raw text kept even when the TLV wins
  ASSERT_TRUE(r.network_error_code);
  EXPECT_EQ(r.network_error_code->network_type, 3);
  EXPECT_EQ(r.network_error_code->code, 0x0122);
  EXPECT_TRUE(r.is_final);
}

TEST(receipt, tlv_only_receipt) {
  receipt r;
  const auto sm = make_deliver("", 0x04,
                               {make_tlv(tlv_tag::receipted_message_id, "abc"s),  // no NUL
                                make_tlv(tlv_tag::message_state, "\x02"s)});
  ASSERT_FALSE(parse_receipt(sm, r));
  EXPECT_EQ(r.id, "abc");
  EXPECT_EQ(r.text_id, "");
  EXPECT_EQ(r.state, message_state::delivered);
  EXPECT_TRUE(r.is_final);
  EXPECT_FALSE(r.submit_date.present());
}

TEST(receipt, malformed_tlvs_fall_back_to_text) {
  for (const auto& bad_state : {""s, "\x02\x02"s, "\x00"s, "\x09"s}) {
    receipt r;
    const auto sm = make_deliver("id:55 stat:EXPIRED", 0x04,
                                 {make_tlv(tlv_tag::receipted_message_id, "\0"s),
                                  make_tlv(tlv_tag::message_state, bad_state),
                                  make_tlv(tlv_tag::network_error_code, "\x03\x01"s)});
    ASSERT_FALSE(parse_receipt(sm, r));
    EXPECT_EQ(r.id, "55");
    EXPECT_EQ(r.id_source, value_source::text);
    EXPECT_EQ(r.state, message_state::expired);
    EXPECT_EQ(r.state_source, value_source::text);
    EXPECT_FALSE(r.network_error_code);
  }
}

TEST(receipt, text_in_message_payload_when_short_message_empty) {
  receipt r;
  const auto sm = make_deliver(
      "", 0x04, {make_tlv(tlv_tag::message_payload, "id:88 stat:DELETED err:000 text:482917")});
  ASSERT_FALSE(parse_receipt(sm, r));
  EXPECT_EQ(r.id, "88");
  EXPECT_EQ(r.state, message_state::deleted);
  expect_no_text(r, otp);
}

TEST(receipt, data_sm) {
  data_sm sm;
  sm.esm_class = 0x04;
  sm.tlvs = {make_tlv(tlv_tag::receipted_message_id, "FF01\0"s),
             make_tlv(tlv_tag::message_state, "\x08"s),
             make_tlv(tlv_tag::message_payload, "id:65281 stat:REJECTD err:011")};
  receipt r;
  ASSERT_FALSE(parse_receipt(sm, r));
  EXPECT_EQ(r.id, "FF01");
  EXPECT_EQ(r.text_id, "65281");
  EXPECT_EQ(r.state, message_state::rejected);
  EXPECT_EQ(r.err_code, 11u);
}

// --- kinds and detection -----------------------------------------------------------------

TEST(receipt, kinds_from_esm_class) {
  EXPECT_EQ(receipt_kind_of(0x04), receipt_kind::smsc_delivery_receipt);
  EXPECT_EQ(receipt_kind_of(0x44), receipt_kind::smsc_delivery_receipt);  // with UDHI
  EXPECT_EQ(receipt_kind_of(0x08), receipt_kind::sme_delivery_ack);
  EXPECT_EQ(receipt_kind_of(0x10), receipt_kind::sme_manual_ack);
  EXPECT_EQ(receipt_kind_of(0x20), receipt_kind::intermediate_notification);
  EXPECT_FALSE(receipt_kind_of(0x00));
  EXPECT_FALSE(receipt_kind_of(0x18));  // conversation abort
  EXPECT_FALSE(receipt_kind_of(0x03));  // messaging mode bits only
}

TEST(receipt, intermediate_notification_is_never_final) {
  receipt r;
  ASSERT_FALSE(parse_receipt(make_deliver("id:9 stat:ENROUTE err:000", 0x20), r));
  EXPECT_EQ(r.kind, receipt_kind::intermediate_notification);
  EXPECT_EQ(r.state, message_state::enroute);
  EXPECT_FALSE(r.is_final);
  ASSERT_FALSE(parse_receipt(make_deliver("id:9 stat:DELIVRD err:000", 0x20), r));
  EXPECT_EQ(r.state, message_state::delivered);
  EXPECT_FALSE(r.is_final);
}

TEST(receipt, sme_acknowledgements_are_reported_as_such) {
  receipt r;
  ASSERT_FALSE(parse_receipt(make_deliver("id:9 stat:DELIVRD", 0x08), r));
  EXPECT_EQ(r.kind, receipt_kind::sme_delivery_ack);
  ASSERT_FALSE(parse_receipt(make_deliver("id:9 stat:ACCEPTD", 0x10), r));
  EXPECT_EQ(r.kind, receipt_kind::sme_manual_ack);
}

TEST(receipt, default_esm_class_with_receipt_text_is_inferred) {
  receipt r;
  ASSERT_FALSE(parse_receipt(
      make_deliver("id:77 sub:001 dlvrd:001 submit date:2301151230 done date:2301151231 "
                   "stat:DELIVRD err:000 text:482917",
                   0x00),
      r));
  EXPECT_EQ(r.kind, receipt_kind::inferred);
  EXPECT_EQ(r.id, "77");
  EXPECT_TRUE(r.is_final);
}

TEST(receipt, default_esm_class_with_receipt_tlvs_is_inferred) {
  receipt r;
  ASSERT_FALSE(parse_receipt(make_deliver("", 0x00,
                                          {make_tlv(tlv_tag::receipted_message_id, "x1\0"s),
                                           make_tlv(tlv_tag::message_state, "\x03"s)}),
                             r));
  EXPECT_EQ(r.kind, receipt_kind::inferred);
  EXPECT_EQ(r.state, message_state::expired);
}

TEST(receipt, ordinary_messages_are_not_receipts) {
  receipt r;
  for (const char* text : {"hello", "my id:5 please", "id:5 stat:DELIVRD",  // no third field
                           "id:5 stat:HAPPY err:0", "stat:DELIVRD err:0", ""}) {
    const auto ec = parse_receipt(make_deliver(text, 0x00), r);
    EXPECT_EQ(ec, errc::not_a_receipt) << text;
    EXPECT_EQ(r, receipt{});
  }
  // Only the id TLV: not enough on its own.
  EXPECT_EQ(
      parse_receipt(make_deliver("", 0x00, {make_tlv(tlv_tag::receipted_message_id, "a")}), r),
      errc::not_a_receipt);
  // Another message type never reads as a receipt, whatever the text.
  EXPECT_EQ(parse_receipt(make_deliver("id:5 sub:001 stat:DELIVRD err:0", 0x18), r),
            errc::not_a_receipt);
}

TEST(receipt, receipt_without_id_is_an_error) {
  receipt r;
  r.id = "stale";
  const auto ec = parse_receipt(make_deliver("sub:001 stat:DELIVRD err:000", 0x04), r);
  EXPECT_EQ(ec, errc::missing_message_id);
  EXPECT_EQ(r, receipt{});
  EXPECT_EQ(parse_receipt(make_deliver("id: stat:DELIVRD", 0x04), r), errc::missing_message_id);
}

TEST(receipt, pdu_wrapper) {
  receipt r;
  pdu p{0, 7, make_deliver("id:1 stat:DELIVRD")};
  ASSERT_FALSE(parse_receipt(p, r));
  EXPECT_EQ(r.id, "1");
  p.body = submit_sm{};
  EXPECT_EQ(parse_receipt(p, r), errc::not_a_receipt);
  data_sm d;
  d.esm_class = 0x04;
  d.tlvs = {make_tlv(tlv_tag::receipted_message_id, "z\0"s)};
  p.body = d;
  ASSERT_FALSE(parse_receipt(p, r));
  EXPECT_EQ(r.id, "z");
  EXPECT_FALSE(r.state);
}

TEST(receipt, parse_text_alone) {
  receipt r;
  ASSERT_FALSE(parse_receipt_text("id:3 stat:UNDELIVERABLE err:ABC", r));
  EXPECT_EQ(r.kind, receipt_kind::inferred);
  EXPECT_EQ(r.state, message_state::undeliverable);
  EXPECT_EQ(parse_receipt_text("stat:DELIVRD", r), errc::missing_message_id);
}

TEST(receipt, error_category) {
  const boost::system::error_code ec = errc::missing_message_id;
  EXPECT_STREQ(ec.category().name(), "otpd.smpp.dlr");
  EXPECT_EQ(ec.message(), "delivery receipt without a message id");
  EXPECT_NE(boost::system::error_code(errc::not_a_receipt), ec);
}

// --- stat and dates ----------------------------------------------------------------------

TEST(receipt_stat, appendix_b_names_and_variants) {
  struct row {
    const char* text;
    message_state state;
  };
  for (const row& r : std::vector<row>{
           {"DELIVRD", message_state::delivered},
           {"delivered", message_state::delivered},
           {"EXPIRED", message_state::expired},
           {"DELETED", message_state::deleted},
           {"UNDELIV", message_state::undeliverable},
           {"Undeliverable", message_state::undeliverable},
           {"UNDELIVERED", message_state::undeliverable},
           {"FAILED", message_state::undeliverable},
           {"ACCEPTD", message_state::accepted},
           {"ACCEPTED", message_state::accepted},
           {"UNKNOWN", message_state::unknown},
           {"REJECTD", message_state::rejected},
           {"REJECTED", message_state::rejected},
           {"ENROUTE", message_state::enroute},
       }) {
    EXPECT_EQ(parse_stat(r.text), r.state) << r.text;
  }
  EXPECT_FALSE(parse_stat(""));
  EXPECT_FALSE(parse_stat("DELIVRDX"));
  EXPECT_FALSE(parse_stat("2"));
}

TEST(receipt_stat, names_round_trip_and_finality) {
  for (int v = 1; v <= 8; ++v) {
    const auto s = static_cast<message_state>(v);
    EXPECT_EQ(parse_stat(to_string(s)), s) << v;
  }
  EXPECT_FALSE(is_final(message_state::enroute));
  EXPECT_FALSE(is_final(message_state::unknown));
  for (auto s : {message_state::delivered, message_state::expired, message_state::deleted,
                 message_state::undeliverable, message_state::accepted, message_state::rejected}) {
    EXPECT_TRUE(is_final(s)) << to_string(s);
  }
}

TEST(receipt_date, valid_dates) {
  EXPECT_EQ(parse_receipt_date("2301151230"), at(2023, 1, 15, 12, 30));
  EXPECT_EQ(parse_receipt_date("230115123059"), at(2023, 1, 15, 12, 30, 59));
  EXPECT_EQ(parse_receipt_date("0001010000"), at(2000, 1, 1, 0, 0));
  EXPECT_EQ(parse_receipt_date("9912312359"), at(2099, 12, 31, 23, 59));
  EXPECT_EQ(parse_receipt_date("2402291200"), at(2024, 2, 29, 12, 0));  // leap year
}

TEST(receipt_date, invalid_dates_are_kept_raw) {
  for (const char* raw :
       {"2302291200", "2313011200", "2300011200", "2301322400", "2301152400", "2301151260",
        "230115123060", "23011512", "2301151230123", "23O1151230", "-301151230", ""}) {
    EXPECT_FALSE(parse_receipt_date(raw)) << raw;
  }
  receipt r;
  ASSERT_FALSE(parse_receipt(make_deliver("id:1 submit date:2313011200 stat:DELIVRD"), r));
  EXPECT_EQ(r.submit_date.raw, "2313011200");
  EXPECT_TRUE(r.submit_date.present());
  EXPECT_FALSE(r.submit_date.time);
}

// --- robustness --------------------------------------------------------------------------

TEST(receipt_robustness, every_truncation_parses_or_fails_cleanly) {
  const std::string full =
      "id:0123456789 sub:001 dlvrd:001 submit date:2301151230 done date:2301151231 "
      "stat:DELIVRD err:000 text:Your code is 482917";
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const std::string cut = full.substr(0, n);
    for (std::uint8_t esm : {0x04, 0x00}) {
      receipt r;
      const auto ec = parse_receipt(make_deliver(cut, esm), r);
      if (ec) {
        EXPECT_TRUE(ec == errc::missing_message_id || ec == errc::not_a_receipt) << n;
        EXPECT_EQ(r, receipt{});
        continue;
      }
      // A cut id is a prefix of the real one; the OTP never leaks, however it is cut.
      EXPECT_EQ(std::string_view("0123456789").substr(0, r.id.size()), r.id) << n;
      expect_no_text(r, "4829");
    }
  }
}

TEST(receipt_robustness, random_bytes_and_mutations_never_crash) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 300);
  const std::string seed =
      "id:77 sub:001 dlvrd:001 submit date:2301151230 done date:2301151231 stat:DELIVRD "
      "err:000 text:482917";
  const std::vector<std::uint16_t> tags = {0x001E, 0x0427, 0x0423, 0x0424, 0x1234};
  std::uniform_int_distribution<std::size_t> pick(0, tags.size() - 1);
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    if (i % 2 == 0) {
      text.resize(length(rng));
      for (auto& c : text) c = static_cast<char>(byte(rng));
    } else {
      text = seed;
      std::uniform_int_distribution<std::size_t> pos(0, text.size() - 1);
      for (int k = 0; k < 4; ++k) text[pos(rng)] = static_cast<char>(byte(rng));
    }
    tlv_list tlvs;
    for (int k = byte(rng) % 4; k > 0; --k) {
      std::string v(static_cast<std::size_t>(byte(rng) % 6), '\0');
      for (auto& c : v) c = static_cast<char>(byte(rng));
      tlvs.push_back(tlv{tags[pick(rng)], v});
    }
    receipt r;
    const auto ec =
        parse_receipt(make_deliver(text, static_cast<std::uint8_t>(byte(rng)), std::move(tlvs)), r);
    if (!ec) {
      ++parsed;
      EXPECT_FALSE(r.id.empty());
      EXPECT_EQ(r.is_final, r.state.has_value() && is_final(*r.state) &&
                                r.kind != receipt_kind::intermediate_notification);
    }
  }
  EXPECT_GT(parsed, 0);  // the mutated seeds do parse sometimes: the loop exercised both paths
}

}  // namespace
TEST(receipt_stat_label, known_states_else_other) {
  EXPECT_EQ(receipt_stat_label("DELIVRD"), "DELIVRD");
  EXPECT_EQ(receipt_stat_label("undeliv"), "UNDELIV");
  for (std::string_view s : {"EXPIRED", "DELETED", "ACCEPTD", "UNKNOWN", "REJECTD", "ENROUTE"}) {
    EXPECT_EQ(receipt_stat_label(s), s);
  }
  EXPECT_EQ(receipt_stat_label(""), "none");
  EXPECT_EQ(receipt_stat_label("DELIVRDX"), "other");
  EXPECT_EQ(receipt_stat_label("FAKE-1"), "other");
  EXPECT_EQ(receipt_stat_label(std::string_view("DELIV\0D", 7)), "other");
}

}  // namespace otpd::smpp::dlr
