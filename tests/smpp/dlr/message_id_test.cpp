#include "smpp/dlr/message_id.hpp"

#include <random>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace otpd::smpp::dlr {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

// A real pair from a carrier: submit_sm_resp in hex, receipt in decimal (> 2^63).
constexpr std::string_view real_submit_id = "812FC7470000001B";
constexpr std::string_view real_receipt_id = "9308878062554710043";

id_config fixed(id_format submit, id_format receipt) {
  return id_config{id_mode::fixed, submit, receipt, 3};
}

id_config automatic(std::uint32_t lock_after = 3) {
  return id_config{id_mode::automatic, id_format::as_is, id_format::as_is, lock_after};
}

// A pending-submit store keyed the way the gateway would key it.
struct store {
  const message_id_mapper& mapper;
  std::set<std::string, std::less<>> keys;
  void add(std::string_view submit_id) { keys.insert(mapper.key_for_submit(submit_id)); }
  auto lookup() {
    return [this](std::string_view key) { return keys.find(key) != keys.end(); };
  }
};

// --- base conversion ---------------------------------------------------------------------

TEST(message_id_conversion, real_pair_both_ways) {
  EXPECT_EQ(decimal_to_hex(real_receipt_id), "812fc7470000001b");
  EXPECT_EQ(hex_to_decimal(real_submit_id), "9308878062554710043");
}

TEST(message_id_conversion, at_and_above_two_to_the63) {
  EXPECT_EQ(hex_to_decimal("8000000000000000"), "9223372036854775808");
  EXPECT_EQ(decimal_to_hex("9223372036854775808"), "8000000000000000");
  EXPECT_EQ(hex_to_decimal("7FFFFFFFFFFFFFFF"), "9223372036854775807");
}

TEST(message_id_conversion, two_to_the64_minus_one_and_above) {
  EXPECT_EQ(hex_to_decimal("FFFFFFFFFFFFFFFF"), "18446744073709551615");
  EXPECT_EQ(decimal_to_hex("18446744073709551615"), "ffffffffffffffff");
  // 2^64: 17 hex digits.
  EXPECT_EQ(hex_to_decimal("10000000000000000"), "18446744073709551616");
  EXPECT_EQ(decimal_to_hex("18446744073709551616"), "10000000000000000");
  // 2^128 - 1 and 2^128.
  EXPECT_EQ(hex_to_decimal("ffffffffffffffffffffffffffffffff"),
            "340282366920938463463374607431768211455");
  EXPECT_EQ(decimal_to_hex("340282366920938463463374607431768211456"),
            "100000000000000000000000000000000");
}

TEST(message_id_conversion, zero_small_values_and_leading_zeros) {
  EXPECT_EQ(hex_to_decimal("0"), "0");
  EXPECT_EQ(hex_to_decimal("0000"), "0");
  EXPECT_EQ(decimal_to_hex("000"), "0");
  EXPECT_EQ(decimal_to_hex("255"), "ff");
  EXPECT_EQ(hex_to_decimal("00FF"), "255");
  EXPECT_EQ(decimal_to_hex("1000000000"), "3b9aca00");  // a chunk boundary (10^9)
  EXPECT_EQ(hex_to_decimal("3B9ACA00"), "1000000000");
  EXPECT_EQ(hex_to_decimal("100000000"), "4294967296");  // a limb boundary (2^32)
}

TEST(message_id_conversion, rejects_non_numeric) {
  EXPECT_FALSE(decimal_to_hex("12a"));
  EXPECT_FALSE(decimal_to_hex(""));
  EXPECT_FALSE(decimal_to_hex("-1"));
  EXPECT_FALSE(hex_to_decimal("0x1F"));
  EXPECT_FALSE(hex_to_decimal("12g"));
  EXPECT_FALSE(normalize_hex("+1"));
  EXPECT_FALSE(normalize_decimal("1 2"));
}

TEST(message_id_conversion, round_trips_random_values_of_any_length) {
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> digit(0, 9);
  std::uniform_int_distribution<std::size_t> length(1, 60);
  for (int i = 0; i < 500; ++i) {
    std::string dec;
    const std::size_t n = length(rng);
    for (std::size_t k = 0; k < n; ++k) dec.push_back(static_cast<char>('0' + digit(rng)));
    const auto hex = decimal_to_hex(dec);
    ASSERT_TRUE(hex) << dec;
    EXPECT_EQ(hex_to_decimal(*hex), normalize_decimal(dec)) << dec;
  }
}

TEST(message_id_conversion, too_long_is_not_numeric) {
  const std::string long_id(max_numeric_digits + 1, '9');
  EXPECT_FALSE(decimal_to_hex(long_id));
  EXPECT_TRUE(decimal_to_hex(std::string(max_numeric_digits, '9')));
}

// --- fixed formats -----------------------------------------------------------------------

TEST(message_id_fixed, hex_submit_decimal_receipt_matches_real_pair) {
  const message_id_mapper m(fixed(id_format::hex, id_format::decimal));
  EXPECT_EQ(m.mapping(), id_mapping::decimal_to_hex);
  EXPECT_THAT(m.keys_for_receipt(real_receipt_id), ElementsAre(m.key_for_submit(real_submit_id)));
}

TEST(message_id_fixed, decimal_submit_hex_receipt_matches_real_pair) {
  const message_id_mapper m(fixed(id_format::decimal, id_format::hex));
  EXPECT_EQ(m.mapping(), id_mapping::hex_to_decimal);
  EXPECT_THAT(m.keys_for_receipt(real_submit_id), ElementsAre(m.key_for_submit(real_receipt_id)));
}

TEST(message_id_fixed, case_and_leading_zeros_do_not_matter_for_hex) {
  const message_id_mapper m(fixed(id_format::hex, id_format::hex));
  EXPECT_EQ(m.key_for_submit("00812FC7470000001B"), "812fc7470000001b");
  EXPECT_THAT(m.keys_for_receipt("812fc7470000001b"), ElementsAre("812fc7470000001b"));
}

TEST(message_id_fixed, leading_zeros_do_not_matter_for_decimal) {
  const message_id_mapper m(fixed(id_format::decimal, id_format::decimal));
  EXPECT_EQ(m.key_for_submit("0000012345"), "12345");
  EXPECT_THAT(m.keys_for_receipt("12345"), ElementsAre("12345"));
  EXPECT_EQ(m.key_for_submit("0000"), "0");
}

TEST(message_id_fixed, as_is_keeps_leading_zeros_but_folds_case) {
  const message_id_mapper m(fixed(id_format::as_is, id_format::as_is));
  EXPECT_EQ(m.key_for_submit("00AbC"), "00abc");
  EXPECT_THAT(m.keys_for_receipt("00ABC"), ElementsAre("00abc"));
  EXPECT_NE(m.key_for_submit("0012"), m.key_for_submit("12"));
}

TEST(message_id_fixed, as_is_on_one_side_takes_the_other_sides_format) {
  const message_id_mapper m(fixed(id_format::as_is, id_format::hex));
  EXPECT_EQ(m.mapping(), id_mapping::same);
  EXPECT_EQ(m.key_for_submit("00FF"), "ff");
  EXPECT_THAT(m.keys_for_receipt("ff"), ElementsAre("ff"));
}

TEST(message_id_fixed, uuid_like_ids_stay_strings) {
  const message_id_mapper m(fixed(id_format::hex, id_format::decimal));
  const auto key = m.key_for_submit("550E8400-E29B-41D4-A716-446655440000");
  EXPECT_EQ(key, "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_THAT(m.keys_for_receipt("550e8400-e29b-41d4-a716-446655440000"), ElementsAre(key));
}

TEST(message_id_fixed, blanks_and_nuls_around_ids_are_ignored) {
  const message_id_mapper m(fixed(id_format::hex, id_format::decimal));
  EXPECT_EQ(m.key_for_submit(std::string_view(" 812FC7470000001B\0", 18)), "812fc7470000001b");
  EXPECT_THAT(m.keys_for_receipt(" 9308878062554710043\r\n"), ElementsAre("812fc7470000001b"));
}

TEST(message_id_fixed, empty_id_has_no_receipt_key) {
  const message_id_mapper m(fixed(id_format::hex, id_format::decimal));
  EXPECT_TRUE(m.keys_for_receipt("").empty());
  EXPECT_TRUE(m.keys_for_receipt("  ").empty());
  EXPECT_EQ(m.key_for_submit(""), "");
}

TEST(message_id_fixed, learn_is_ignored) {
  message_id_mapper m(fixed(id_format::hex, id_format::decimal));
  EXPECT_EQ(m.learn(real_submit_id, real_receipt_id), learn_result::ignored);
  m.reset();
  EXPECT_EQ(m.mapping(), id_mapping::decimal_to_hex);
}

// --- automatic ---------------------------------------------------------------------------

TEST(message_id_auto, offers_all_interpretations_in_preference_order) {
  const message_id_mapper m(automatic());
  EXPECT_FALSE(m.mapping());
  EXPECT_THAT(m.keys_for_receipt("12345"), ElementsAre("12345", "3039", "74565"));
  EXPECT_THAT(m.keys_for_receipt("00AB"), ElementsAre("ab", "171"));  // not decimal
  EXPECT_THAT(m.keys_for_receipt("id-7"), ElementsAre("id-7"));
}

TEST(message_id_auto, real_pair_matches_before_learning) {
  message_id_mapper m(automatic());
  store s{m, {}};
  s.add(real_submit_id);
  const auto c = m.correlate(real_receipt_id, s.lookup());
  EXPECT_EQ(c.status, match_status::matched);
  EXPECT_EQ(c.key, m.key_for_submit(real_submit_id));
  EXPECT_EQ(c.mapping, id_mapping::decimal_to_hex);
}

TEST(message_id_auto, locks_in_after_n_unambiguous_matches) {
  message_id_mapper m(automatic(3));
  store s{m, {}};
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"812FC7470000001B", "9308878062554710043"},
      {"812FC7470000001C", "9308878062554710044"},
      {"812FC7470000001D", "9308878062554710045"},
  };
  for (const auto& [sub, rec] : pairs) s.add(sub);
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_FALSE(m.locked()) << i;
    EXPECT_EQ(m.correlate(pairs[i].second, s.lookup()).status, match_status::matched);
  }
  EXPECT_EQ(m.mapping(), id_mapping::decimal_to_hex);
  // Locked: one key per receipt, and keys stored before the lock are still found.
  EXPECT_THAT(m.keys_for_receipt("9308878062554710043"), ElementsAre("812fc7470000001b"));
  EXPECT_EQ(m.key_for_submit("812FC7470000001B"), "812fc7470000001b");
}

TEST(message_id_auto, learn_reports_progress) {
  message_id_mapper m(automatic(2));
  EXPECT_EQ(m.learn("0A", "10"), learn_result::counted);
  EXPECT_EQ(m.learn("0B", "11"), learn_result::locked);
  EXPECT_EQ(m.learn("0C", "12"), learn_result::ignored);
  EXPECT_EQ(m.mapping(), id_mapping::decimal_to_hex);
}

TEST(message_id_auto, single_digit_ids_are_ambiguous_evidence) {
  message_id_mapper m(automatic(1));
  // "7" reads 7 in every mapping: it says nothing about the bind.
  EXPECT_EQ(m.learn("7", "7"), learn_result::ambiguous);
  EXPECT_FALSE(m.locked());
  store s{m, {}};
  s.add("7");
  const auto c = m.correlate("7", s.lookup());
  EXPECT_EQ(c.status, match_status::matched);
  EXPECT_FALSE(c.mapping);
  EXPECT_FALSE(m.locked());
}

TEST(message_id_auto, two_pending_candidates_are_ambiguous_and_not_learned) {
  message_id_mapper m(automatic(1));
  store s{m, {}};
  s.add("12345");  // as-is reading of the receipt
  s.add("3039");   // decimal->hex reading of the same receipt
  const auto c = m.correlate("12345", s.lookup());
  EXPECT_EQ(c.status, match_status::ambiguous);
  EXPECT_EQ(c.key, "12345");  // the preferred reading, flagged
  EXPECT_FALSE(m.locked());
}

TEST(message_id_auto, decimal_only_ids_do_not_lock_a_wrong_mapping) {
  // An as_is peer whose ids are all decimal digits: they are valid hex too, but only the
  // as-is reading finds the pending message, so that is what gets learned.
  message_id_mapper m(automatic(3));
  store s{m, {}};
  for (const char* id : {"100234", "100235", "100236"}) s.add(id);
  for (const char* id : {"100234", "100235", "100236"}) {
    EXPECT_EQ(m.correlate(id, s.lookup()).status, match_status::matched);
  }
  EXPECT_EQ(m.mapping(), id_mapping::same);
}

TEST(message_id_auto, conflicting_evidence_restarts_the_count) {
  message_id_mapper m(automatic(2));
  EXPECT_EQ(m.learn("0A", "10"), learn_result::counted);    // decimal_to_hex
  EXPECT_EQ(m.learn("abc", "ABC"), learn_result::counted);  // same: restart
  EXPECT_FALSE(m.locked());
  EXPECT_EQ(m.learn("abd", "ABD"), learn_result::locked);
  EXPECT_EQ(m.mapping(), id_mapping::same);
}

TEST(message_id_auto, unrelated_pair_is_no_match) {
  message_id_mapper m(automatic(1));
  EXPECT_EQ(m.learn("abc", "xyz"), learn_result::no_match);
  EXPECT_EQ(m.learn("", "xyz"), learn_result::ignored);
  EXPECT_FALSE(m.locked());
}

TEST(message_id_auto, works_for_as_is_peers_with_opaque_ids) {
  message_id_mapper m(automatic(2));
  store s{m, {}};
  s.add("550E8400-E29B-41D4-A716-446655440000");
  s.add("msg-Q1");
  EXPECT_EQ(m.correlate("550e8400-e29b-41d4-a716-446655440000", s.lookup()).status,
            match_status::matched);
  EXPECT_EQ(m.correlate("MSG-q1", s.lookup()).status, match_status::matched);
  EXPECT_EQ(m.mapping(), id_mapping::same);
}

TEST(message_id_auto, hex_receipt_for_decimal_submit) {
  message_id_mapper m(automatic(1));
  store s{m, {}};
  s.add("0009308878062554710043");
  const auto c = m.correlate("812fc7470000001b", s.lookup());
  EXPECT_EQ(c.status, match_status::matched);
  EXPECT_EQ(c.mapping, id_mapping::hex_to_decimal);
  EXPECT_EQ(m.mapping(), id_mapping::hex_to_decimal);
}

TEST(message_id_auto, not_found_is_not_evidence) {
  message_id_mapper m(automatic(1));
  store s{m, {}};
  s.add("abc");
  EXPECT_EQ(m.correlate("zzz", s.lookup()).status, match_status::not_found);
  int calls = 0;
  EXPECT_EQ(m.correlate("", [&](std::string_view) { return ++calls > 0; }).status,
            match_status::not_found);
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(m.locked());
}

TEST(message_id_auto, reset_forgets_the_learned_mapping) {
  message_id_mapper m(automatic(1));
  EXPECT_EQ(m.learn("0A", "10"), learn_result::locked);
  m.reset();
  EXPECT_FALSE(m.locked());
  EXPECT_THAT(m.keys_for_receipt("10"), Contains("10"));
}

TEST(message_id_auto, lock_after_zero_means_one) {
  message_id_mapper m(automatic(0));
  EXPECT_EQ(m.config().lock_after, 1u);
  EXPECT_EQ(m.learn("0A", "10"), learn_result::locked);
}

TEST(message_id_auto, locked_falls_back_to_string_for_ids_outside_the_format) {
  message_id_mapper m(automatic(1));
  ASSERT_EQ(m.learn("0A", "10"), learn_result::locked);
  EXPECT_THAT(m.keys_for_receipt("ID-X"), ElementsAre("id-x"));
}

TEST(message_id_auto, random_ids_never_crash) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 140);
  message_id_mapper m(automatic(2));
  for (int i = 0; i < 2000; ++i) {
    std::string a(length(rng), '\0');
    std::string b(length(rng), '\0');
    for (auto& c : a) c = static_cast<char>(byte(rng));
    for (auto& c : b) c = static_cast<char>(byte(rng));
    const auto keys = m.keys_for_receipt(a);
    EXPECT_LE(keys.size(), 3u);
    (void)m.key_for_submit(b);
    (void)m.learn(b, a);
    (void)m.correlate(a, [](std::string_view) { return true; });
  }
}

}  // namespace
}  // namespace otpd::smpp::dlr
