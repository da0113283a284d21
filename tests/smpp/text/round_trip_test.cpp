// Split then reassemble: decode every part on its own (as a handset or an SMPP peer would),
// concatenate, and compare with the input, for many random texts per coding and method.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "smpp/text/text.hpp"

namespace otpd::smpp::text {
namespace {

struct profile {
  const char* name;
  coding_policy policy;
  gsm7_packing packing;
};

class text_round_trip : public ::testing::TestWithParam<std::tuple<profile, concat_method>> {};

// Characters each coding can carry, weighted towards the ones that stress part boundaries
// (ESC pairs, surrogate pairs).
std::vector<char32_t> alphabet_for(const profile& p) {
  std::vector<char32_t> chars;
  switch (p.policy) {
    case coding_policy::gsm7:
    case coding_policy::auto_select:
      for (int s = 0; s < 128; ++s) {
        if (s == gsm7_escape) continue;
        // Packed: a final <CR> that exactly fills an octet is taken as padding (TS 23.038
        // §6.1.2.3.1); gsm7_test covers that case on its own.
        if (p.packing == gsm7_packing::packed && s == 0x0D) continue;
        chars.push_back(gsm7_basic_char(static_cast<std::uint8_t>(s)));
      }
      for (int rep = 0; rep < 4; ++rep) {
        for (const char32_t c :
             {U'\f', U'^', U'{', U'}', U'\\', U'[', U'~', U']', U'|', U'\u20AC'}) {
          chars.push_back(c);
        }
      }
      break;
    case coding_policy::latin1:
      for (char32_t c = 0; c <= 0xFF; ++c) chars.push_back(c);
      break;
    case coding_policy::ucs2:
      for (char32_t c = 0x20; c < 0x7F; ++c) chars.push_back(c);
      for (const char32_t c : {U'\u00E3', U'\u0434', U'\u4E2D', U'\uFFFD', U'\uE000', U'\uFFFF',
                               U'\u0000', U'\uD7FF'}) {
        chars.push_back(c);
      }
      for (int rep = 0; rep < 8; ++rep) {
        for (const char32_t c : {U'\U0001F600', U'\U00010000', U'\U0010FFFF', U'\U0001F44D'}) {
          chars.push_back(c);
        }
      }
      break;
  }
  return chars;
}

std::string round_trip_name(
    const ::testing::TestParamInfo<std::tuple<profile, concat_method>>& param) {
  static const char* const methods[] = {"udh8", "udh16", "sar", "payload"};
  return std::string(std::get<0>(param.param).name) + "_" +
         methods[static_cast<int>(std::get<1>(param.param))];
}

TEST_P(text_round_trip, split_then_decode_each_part_gives_the_input) {
  const auto& [prof, method] = GetParam();
  std::mt19937 rng(20240607);
  const auto chars = alphabet_for(prof);
  std::uniform_int_distribution<std::size_t> pick(0, chars.size() - 1);
  std::uniform_int_distribution<std::size_t> length(0, 700);

  encode_options eo;
  eo.policy = prof.policy;
  split_options so;
  so.method = method;
  so.packing = prof.packing;
  so.max_parts = 255;
  decode_options dopts;
  dopts.packing = prof.packing;

  for (int iter = 0; iter < 150; ++iter) {
    std::string input;
    const std::size_t n = length(rng);
    for (std::size_t i = 0; i < n; ++i) append_utf8(input, chars[pick(rng)]);

    encoded_text t;
    error_info info;
    ASSERT_FALSE(encode(input, eo, t, info)) << "iteration " << iter;
    const auto ref = static_cast<std::uint16_t>(rng());
    std::vector<message_part> parts;
    ASSERT_FALSE(split(t, so, ref, parts)) << "iteration " << iter;

    segment_count count;
    ASSERT_FALSE(count_segments(input, eo, so, count, info));
    ASSERT_EQ(count.parts, parts.size());

    std::string joined;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const message_part& p = parts[i];
      ASSERT_EQ(p.seqnum, i + 1);
      ASSERT_EQ(p.total, parts.size());
      const bool payload = method == concat_method::payload;
      if (!payload) {
        // TP-UD limit: 140 octets packed or 8/16-bit; unpacked septets count one octet each.
        const std::size_t limit =
            (t.coding == coding::gsm7 && prof.packing == gsm7_packing::unpacked) ? 160 : 140;
        ASSERT_LE(p.short_message.size(), limit);
      }
      const std::string& octets = payload ? p.tlvs.at(0).value : p.short_message;
      decoded_text d;
      ASSERT_FALSE(decode(octets, p.data_coding, p.udhi, dopts, d, info))
          << "iteration " << iter << " part " << i + 1;
      EXPECT_EQ(d.substituted, 0u) << "a part cut a character in two, iteration " << iter;
      if (p.udhi) {
        ASSERT_TRUE(d.concat.has_value());
        EXPECT_EQ(d.concat->seqnum, p.seqnum);
        EXPECT_EQ(d.concat->total, p.total);
        EXPECT_EQ(d.concat->reference, method == concat_method::udh8 ? (ref & 0xFF) : ref);
      }
      joined += d.utf8;
    }
    ASSERT_EQ(joined, input) << "iteration " << iter << ", " << parts.size() << " parts";
  }
}

INSTANTIATE_TEST_SUITE_P(
    text, text_round_trip,
    ::testing::Combine(
        ::testing::Values(profile{"gsm7_unpacked", coding_policy::gsm7, gsm7_packing::unpacked},
                          profile{"gsm7_packed", coding_policy::gsm7, gsm7_packing::packed},
                          profile{"latin1", coding_policy::latin1, gsm7_packing::unpacked},
                          profile{"ucs2", coding_policy::ucs2, gsm7_packing::unpacked}),
        ::testing::Values(concat_method::udh8, concat_method::udh16, concat_method::sar,
                          concat_method::payload)),
    round_trip_name);

// Every length across the single/multi boundary, with an ESC pair or a surrogate pair at
// every position near the part edge.
TEST(text_round_trip_sweep, pairs_at_every_position_near_the_edges) {
  for (const auto method : {concat_method::udh8, concat_method::udh16}) {
    for (std::size_t pos = 140; pos < 170; ++pos) {
      for (const bool ucs : {false, true}) {
        std::string input;
        for (std::size_t i = 0; i < 320; ++i) {
          if (i == pos || i == pos + 151) {
            append_utf8(input, ucs ? U'\U0001F600' : U'\u20AC');
          } else {
            append_utf8(input, ucs ? U'\u0434' : U'a');
          }
        }
        encoded_text t;
        error_info info;
        ASSERT_FALSE(encode(input, {}, t, info));
        split_options so;
        so.method = method;
        so.max_parts = 255;
        std::vector<message_part> parts;
        ASSERT_FALSE(split(t, so, 9, parts));
        std::string joined;
        for (const auto& p : parts) {
          decoded_text d;
          ASSERT_FALSE(decode(p.short_message, p.data_coding, p.udhi, {}, d, info));
          EXPECT_EQ(d.substituted, 0u) << "pos " << pos;
          joined += d.utf8;
        }
        EXPECT_EQ(joined, input) << "pos " << pos;
      }
    }
  }
}

}  // namespace
}  // namespace otpd::smpp::text
