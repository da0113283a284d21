#include "smpp/text/segmenter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "smpp/proto/tlv.hpp"
#include "test_util.hpp"

namespace otpd::smpp::text {
namespace {

using test::bytes;
using test::hex;

encoded_text enc(const std::string& utf8, coding_policy p = coding_policy::auto_select) {
  encoded_text out;
  error_info info;
  encode_options o;
  o.policy = p;
  EXPECT_FALSE(encode(utf8, o, out, info));
  return out;
}

std::vector<message_part> parts_of(const encoded_text& t, split_options o = {},
                                   std::uint16_t ref = 0x1234) {
  std::vector<message_part> parts;
  EXPECT_FALSE(split(t, o, ref, parts));
  return parts;
}

split_options method(concat_method m, gsm7_packing p = gsm7_packing::unpacked) {
  split_options o;
  o.method = m;
  o.packing = p;
  return o;
}

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// The text of a part: short_message minus its UDH.
std::string text_of(const message_part& p) {
  if (!p.udhi) return p.short_message;
  return p.short_message.substr(1 + static_cast<std::uint8_t>(p.short_message[0]));
}

TEST(text_segmenter, limits_per_coding_and_method) {
  const struct {
    coding c;
    concat_method m;
    std::size_t single, multi;
  } cases[] = {
      {coding::gsm7, concat_method::udh8, 160, 153},
      {coding::gsm7, concat_method::sar, 160, 153},
      {coding::gsm7, concat_method::payload, 160, 153},
      {coding::gsm7, concat_method::udh16, 160, 152},
      {coding::ucs2, concat_method::udh8, 70, 67},
      {coding::ucs2, concat_method::sar, 70, 67},
      {coding::ucs2, concat_method::udh16, 70, 66},
      {coding::latin1, concat_method::udh8, 140, 134},
      {coding::latin1, concat_method::sar, 140, 134},
      {coding::latin1, concat_method::udh16, 140, 133},
  };
  for (const auto& c : cases) {
    const auto l = limits_for(c.c, c.m);
    EXPECT_EQ(l.single, c.single) << static_cast<int>(c.c) << "/" << static_cast<int>(c.m);
    EXPECT_EQ(l.multi, c.multi) << static_cast<int>(c.c) << "/" << static_cast<int>(c.m);
  }
}

TEST(text_segmenter, gsm7_160_is_one_part_161_is_two) {
  const auto one = parts_of(enc(std::string(160, 'a')));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_FALSE(one[0].udhi);
  EXPECT_TRUE(one[0].tlvs.empty());
  EXPECT_EQ(one[0].short_message, std::string(160, 'a'));
  EXPECT_EQ(one[0].seqnum, 1);
  EXPECT_EQ(one[0].total, 1);

  const auto two = parts_of(enc(std::string(161, 'a')));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(text_of(two[0]).size(), 153u);
  EXPECT_EQ(text_of(two[1]).size(), 8u);
}

TEST(text_segmenter, ucs2_70_is_one_part_71_is_two) {
  const std::string ch = "\u0434";  // Cyrillic: UCS2, one unit
  EXPECT_EQ(parts_of(enc(repeat(ch, 70))).size(), 1u);
  EXPECT_EQ(parts_of(enc(repeat(ch, 70)))[0].short_message.size(), 140u);
  const auto two = parts_of(enc(repeat(ch, 71)));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(text_of(two[0]).size(), 134u);  // 67 units
  EXPECT_EQ(text_of(two[1]).size(), 8u);
  EXPECT_EQ(two[0].data_coding, 0x08);
}

TEST(text_segmenter, latin1_140_is_one_part_141_is_two) {
  EXPECT_EQ(parts_of(enc(std::string(140, 'x'), coding_policy::latin1)).size(), 1u);
  const auto two = parts_of(enc(std::string(141, 'x'), coding_policy::latin1));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(text_of(two[0]).size(), 134u);
  EXPECT_EQ(two[0].data_coding, 0x03);
}

TEST(text_segmenter, extension_characters_count_twice) {
  // 80 € = 160 septets: one part; 81 would be 162.
  EXPECT_EQ(parts_of(enc(repeat("\u20AC", 80))).size(), 1u);
  EXPECT_EQ(parts_of(enc(repeat("\u20AC", 81))).size(), 2u);
  EXPECT_EQ(parts_of(enc(std::string(159, 'a') + "\u20AC")).size(), 2u);
}

// An ESC pair that would occupy septets 153 and 154 moves to the next part whole.
TEST(text_segmenter, escape_pair_straddling_152_153_moves_to_next_part) {
  const auto parts = parts_of(enc(std::string(152, 'a') + "\u20AC" + std::string(20, 'b')));
  ASSERT_EQ(parts.size(), 2u);
  const std::string first = text_of(parts[0]);
  ASSERT_EQ(first.size(), 152u);
  EXPECT_EQ(first.back(), 'a');
  const std::string second = text_of(parts[1]);
  EXPECT_EQ(second.substr(0, 2), bytes({0x1B, 0x65}));
  EXPECT_EQ(second.size(), 22u);

  // One septet earlier, the pair fits at 152/153 and stays.
  const auto fits = parts_of(enc(std::string(151, 'a') + "\u20AC" + std::string(20, 'b')));
  ASSERT_EQ(fits.size(), 2u);
  EXPECT_EQ(text_of(fits[0]).size(), 153u);
  EXPECT_EQ(text_of(fits[0]).substr(151), bytes({0x1B, 0x65}));
}

// A surrogate pair that would occupy units 67 and 68 moves to the next part whole.
TEST(text_segmenter, surrogate_pair_straddling_66_67_moves_to_next_part) {
  const auto parts = parts_of(enc(repeat("\u0434", 66) + "\U0001F600" + repeat("\u0434", 10)));
  ASSERT_EQ(parts.size(), 2u);
  const std::string first = text_of(parts[0]);
  ASSERT_EQ(first.size(), 132u);  // 66 units
  EXPECT_EQ(first.substr(130), bytes({0x04, 0x34}));
  EXPECT_EQ(hex(text_of(parts[1]).substr(0, 4)), "D8 3D DE 00");

  const auto fits = parts_of(enc(repeat("\u0434", 65) + "\U0001F600" + repeat("\u0434", 10)));
  ASSERT_EQ(fits.size(), 2u);
  EXPECT_EQ(hex(text_of(fits[0]).substr(130)), "D8 3D DE 00");
}

TEST(text_segmenter, udh8_bytes) {
  const auto parts = parts_of(enc(std::string(200, 'a')), method(concat_method::udh8), 0x1234);
  ASSERT_EQ(parts.size(), 2u);
  for (std::uint8_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(parts[i].udhi);
    EXPECT_TRUE(parts[i].tlvs.empty());
    EXPECT_EQ(parts[i].seqnum, i + 1);
    EXPECT_EQ(parts[i].total, 2);
    // TS 23.040 §9.2.3.24.1: the reference is the low octet.
    EXPECT_EQ(parts[i].short_message.substr(0, 6), bytes({0x05, 0x00, 0x03, 0x34, 0x02, i + 1}));
  }
  EXPECT_EQ(parts[0].short_message.size(), 6u + 153u);
}

TEST(text_segmenter, udh16_bytes_and_sizes) {
  const auto parts = parts_of(enc(std::string(305, 'a')), method(concat_method::udh16), 0x1234);
  ASSERT_EQ(parts.size(), 3u);  // 152 + 152 + 1
  EXPECT_EQ(parts[0].short_message.substr(0, 7), bytes({0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x01}));
  EXPECT_EQ(parts[2].short_message, bytes({0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x03, 'a'}));
  EXPECT_EQ(text_of(parts[0]).size(), 152u);
  EXPECT_EQ(parts_of(enc(std::string(304, 'a')), method(concat_method::udh16)).size(), 2u);
  EXPECT_EQ(text_of(parts_of(enc(repeat("\u0434", 71)), method(concat_method::udh16))[0]).size(),
            132u);
  EXPECT_EQ(text_of(parts_of(enc(std::string(141, 'x'), coding_policy::latin1),
                             method(concat_method::udh16))[0])
                .size(),
            133u);
}

TEST(text_segmenter, sar_tlv_bytes) {
  const auto parts = parts_of(enc(std::string(200, 'a')), method(concat_method::sar), 0xBEEF);
  ASSERT_EQ(parts.size(), 2u);
  for (std::uint8_t i = 0; i < 2; ++i) {
    EXPECT_FALSE(parts[i].udhi);
    // SMPP 3.4 §5.3.2.22-24.
    const tlv_list expected = {
        {0x020C, bytes({0xBE, 0xEF})}, {0x020E, bytes({0x02})}, {0x020F, bytes({i + 1})}};
    EXPECT_EQ(parts[i].tlvs, expected);
  }
  EXPECT_EQ(parts[0].short_message, std::string(153, 'a'));
  EXPECT_EQ(parts[1].short_message, std::string(47, 'a'));
}

TEST(text_segmenter, single_part_has_no_concatenation_data) {
  for (const auto m : {concat_method::udh8, concat_method::udh16, concat_method::sar}) {
    const auto parts = parts_of(enc("Your code is 123456"), method(m));
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_FALSE(parts[0].udhi);
    EXPECT_TRUE(parts[0].tlvs.empty());
    EXPECT_EQ(parts[0].short_message, "Your code is 123456");
  }
}

TEST(text_segmenter, payload_holds_the_whole_text) {
  const encoded_text t = enc(std::string(400, 'a') + "\u20AC");
  const auto parts = parts_of(t, method(concat_method::payload));
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_TRUE(parts[0].short_message.empty());
  EXPECT_FALSE(parts[0].udhi);
  ASSERT_EQ(parts[0].tlvs.size(), 1u);
  EXPECT_EQ(parts[0].tlvs[0].tag, 0x0424);
  EXPECT_EQ(parts[0].tlvs[0].value, t.units);

  // Short texts use it too, so that a payload bind behaves the same for every message.
  const auto short_parts = parts_of(enc("hi"), method(concat_method::payload));
  ASSERT_EQ(short_parts.size(), 1u);
  EXPECT_TRUE(short_parts[0].short_message.empty());
  EXPECT_EQ(short_parts[0].tlvs[0].value, "hi");

  // Packed GSM in the payload.
  const auto packed =
      parts_of(enc("hellohello"), method(concat_method::payload, gsm7_packing::packed));
  EXPECT_EQ(hex(packed[0].tlvs[0].value), "E8 32 9B FD 46 97 D9 EC 37");

  segment_count count;
  ASSERT_FALSE(count_segments(t, method(concat_method::payload), count));
  EXPECT_EQ(count.parts, 1u);
  EXPECT_EQ(count.segments, 3u);  // 402 septets as the SMSC delivers them: 153 + 153 + 96
}

TEST(text_segmenter, packed_single_part) {
  const auto parts = parts_of(enc("hellohello"), method(concat_method::udh8, gsm7_packing::packed));
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(hex(parts[0].short_message), "E8 32 9B FD 46 97 D9 EC 37");
  const auto full =
      parts_of(enc(std::string(160, 'a')), method(concat_method::udh8, gsm7_packing::packed));
  ASSERT_EQ(full.size(), 1u);
  EXPECT_EQ(full[0].short_message.size(), 140u);
}

// TS 23.040 §9.2.3.24: after a 6-octet UDH one fill bit aligns the text on a septet.
TEST(text_segmenter, packed_udh8_has_one_fill_bit) {
  const std::string text = repeat("abcdefgh", 19) + "a" + "hellohello";  // 153 + 10 septets
  const auto parts = parts_of(enc(text), method(concat_method::udh8, gsm7_packing::packed), 7);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].short_message.size(), 140u);  // 6 + 134: 1 + 153 * 7 = 1072 bits
  EXPECT_EQ(hex(parts[0].short_message.substr(0, 12)), "05 00 03 07 02 01 C2 E2 31 B9 6C 3E");
  EXPECT_EQ(hex(parts[1].short_message), "05 00 03 07 02 02 D0 65 36 FB 8D 2E B3 D9 6F");
}

// After a 7-octet UDH (56 bits = 8 septets) no fill is needed.
TEST(text_segmenter, packed_udh16_needs_no_fill) {
  const std::string text = std::string(152, 'a') + "hellohello";
  const auto parts = parts_of(enc(text), method(concat_method::udh16, gsm7_packing::packed), 7);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].short_message.size(), 140u);  // 7 + 133: 152 * 7 = 1064 bits
  EXPECT_EQ(hex(parts[1].short_message), "06 08 04 00 07 02 02 E8 32 9B FD 46 97 D9 EC 37");
}

TEST(text_segmenter, max_parts_is_enforced) {
  split_options o;
  o.max_parts = 10;
  std::vector<message_part> parts;
  ASSERT_FALSE(split(enc(std::string(1530, 'a')), o, 1, parts));
  EXPECT_EQ(parts.size(), 10u);
  EXPECT_EQ(parts.back().seqnum, 10);
  EXPECT_EQ(split(enc(std::string(1531, 'a')), o, 1, parts), errc::too_many_parts);
  EXPECT_TRUE(parts.empty());
  segment_count count;
  EXPECT_EQ(count_segments(enc(std::string(1531, 'a')), o, count), errc::too_many_parts);
  EXPECT_EQ(count.segments, 11u);

  o.max_parts = 1;
  EXPECT_EQ(split(enc(std::string(161, 'a')), o, 1, parts), errc::too_many_parts);
  o.method = concat_method::payload;
  EXPECT_EQ(split(enc(std::string(161, 'a')), o, 1, parts), errc::too_many_parts);
}

TEST(text_segmenter, max_parts_must_fit_one_octet) {
  std::vector<message_part> parts;
  split_options o;
  o.max_parts = 0;
  EXPECT_EQ(split(enc("a"), o, 1, parts), errc::invalid_options);
  o.max_parts = 256;
  EXPECT_EQ(split(enc("a"), o, 1, parts), errc::invalid_options);
  o.max_parts = 255;
  EXPECT_FALSE(split(enc(std::string(255 * 153, 'a')), o, 1, parts));
  EXPECT_EQ(parts.size(), 255u);
  EXPECT_EQ(parts.back().total, 255);
}

TEST(text_segmenter, parts_are_numbered_in_order) {
  const auto parts = parts_of(enc(std::string(153 * 4 + 1, 'a')));
  ASSERT_EQ(parts.size(), 5u);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(parts[i].seqnum), i + 1);
    EXPECT_EQ(parts[i].total, 5);
    EXPECT_EQ(static_cast<std::size_t>(static_cast<std::uint8_t>(parts[i].short_message[5])),
              i + 1);
  }
}

TEST(text_segmenter, empty_text_is_one_empty_part) {
  const auto parts = parts_of(enc(""));
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_TRUE(parts[0].short_message.empty());
}

TEST(text_segmenter, apply_to_sets_the_submit_fields) {
  const auto parts = parts_of(enc(std::string(200, 'a')), method(concat_method::sar), 5);
  sm_fields sm;
  sm.esm_class = 0x03;  // store-and-forward mode bits stay
  sm.tlvs.push_back({0x0204, bytes({0x00, 0x01})});
  apply_to(parts[0], sm);
  EXPECT_EQ(sm.esm_class, 0x03);
  EXPECT_EQ(sm.short_message, parts[0].short_message);
  EXPECT_EQ(sm.data_coding, 0x00);
  ASSERT_EQ(sm.tlvs.size(), 4u);
  EXPECT_EQ(sm.tlvs[1].tag, 0x020C);

  const auto udh = parts_of(enc(repeat("\u0434", 80)));
  sm_fields sm2;
  sm2.esm_class = 0x03;
  apply_to(udh[0], sm2);
  EXPECT_EQ(sm2.esm_class, 0x43);
  EXPECT_EQ(sm2.data_coding, 0x08);
}

TEST(text_segmenter, count_from_utf8_matches_split) {
  const std::string texts[] = {
      "",
      "Your code is 123456",
      std::string(160, 'a'),
      std::string(161, 'a'),
      std::string(152, 'a') + "\u20AC" + std::string(200, 'b'),
      repeat("\u0434", 70),
      repeat("\u0434", 66) + "\U0001F600" + repeat("x", 100),
      "M\u00E3 x\u00E1c th\u1EF1c c\u1EE7a b\u1EA1n " + std::string(150, '1'),
      repeat("\u2026", 60),
      repeat("a\u0303", 100),
  };
  for (const auto policy : {coding_policy::auto_select, coding_policy::gsm7, coding_policy::latin1,
                            coding_policy::ucs2}) {
    for (const bool translit : {false, true}) {
      for (const auto m : {concat_method::udh8, concat_method::udh16, concat_method::sar,
                           concat_method::payload}) {
        for (const auto& text : texts) {
          encode_options eo;
          eo.policy = policy;
          eo.transliterate = translit;
          eo.on_unencodable = unencodable_policy::replace;
          split_options so = method(m);
          so.max_parts = 255;
          encoded_text t;
          error_info info;
          ASSERT_FALSE(encode(text, eo, t, info));
          std::vector<message_part> parts;
          ASSERT_FALSE(split(t, so, 1, parts));
          segment_count direct;
          ASSERT_FALSE(count_segments(text, eo, so, direct, info));
          segment_count via;
          ASSERT_FALSE(count_segments(t, so, via));
          EXPECT_EQ(direct.parts, parts.size()) << text;
          EXPECT_EQ(direct.segments, via.segments) << text;
          EXPECT_EQ(direct.units, t.unit_count()) << text;
          EXPECT_EQ(direct.coding, t.coding) << text;
        }
      }
    }
  }
}

TEST(text_segmenter, count_from_utf8_reports_errors) {
  segment_count count;
  error_info info;
  encode_options eo;
  eo.policy = coding_policy::gsm7;
  EXPECT_EQ(count_segments("ab\u4E2D", eo, {}, count, info), errc::unencodable_character);
  EXPECT_EQ(info.offset, 2u);
  EXPECT_EQ(info.code_point, U'\u4E2D');
  EXPECT_EQ(count_segments("ab\xC3", {}, {}, count, info), errc::invalid_utf8);
  EXPECT_EQ(info.offset, 2u);
}

}  // namespace
}  // namespace otpd::smpp::text
