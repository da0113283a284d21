// attempts.message_ids as JSON text: any bytes round-trip; JSON an operator wrote reads back.
#include "daemon/store/message_ids.hpp"

#include <gtest/gtest.h>

namespace otpd::service::detail {
namespace {

std::vector<std::string> decoded(std::string_view text) {
  std::vector<std::string> out{"sentinel"};
  EXPECT_TRUE(decode_message_ids(text, out)) << text;
  return out;
}

TEST(message_ids, every_byte_round_trips) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::vector<std::string> ids{"", "0a1b2c", "a\"b\\c/d", all};
  const std::string text = encode_message_ids(ids);
  EXPECT_EQ(text.find('\n'), std::string::npos);  // control characters are escaped
  EXPECT_EQ(decoded(text), ids);
  EXPECT_EQ(encode_message_ids({}), "[]");
  EXPECT_EQ(encode_message_ids({"a", "b\""}), R"(["a","b\""])");
}

TEST(message_ids, reads_json_written_by_others) {
  EXPECT_EQ(decoded(" [ ] "), std::vector<std::string>{});
  EXPECT_EQ(decoded(R"([ "a" , "b\/c\t" ])"), (std::vector<std::string>{"a", "b/c\t"}));
  // \u escapes become UTF-8, a surrogate pair one 4-byte character (RFC 8259 §7).
  EXPECT_EQ(decoded(R"(["\u00e9\u20AC\ud83d\ude00"])"),
            std::vector<std::string>{"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"});
}

TEST(message_ids, rejects_anything_but_an_array_of_strings) {
  for (std::string_view bad :
       {"", "[", "]", "[1]", R"(["a")", R"(["a",])", R"(["a"] x)", R"({"a":1})", R"(["\x"])",
        R"(["\u12"])", R"(["\ud83d"])", R"(["\ude00"])", R"(["\ud83d\u0041"])", R"("a")"}) {
    std::vector<std::string> out;
    EXPECT_FALSE(decode_message_ids(bad, out)) << bad;
  }
}

TEST(message_ids, a_text_cut_short_is_refused_at_every_length) {
  const std::string text = encode_message_ids({"a\"b", "\x01\x7f", ""}) + " ";
  ASSERT_EQ(decoded(text).size(), 3u);
  const std::string escaped = R"(["\u00e9\ud83d\ude00\n"])";
  ASSERT_EQ(decoded(escaped).size(), 1u);
  for (const std::string& whole : {text, escaped}) {
    for (std::size_t n = 0; n + 1 < whole.size(); ++n) {
      std::vector<std::string> out;
      EXPECT_FALSE(decode_message_ids(std::string_view(whole).substr(0, n), out)) << n;
    }
  }
}

}  // namespace
}  // namespace otpd::service::detail
