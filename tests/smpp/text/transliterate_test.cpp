#include "smpp/text/transliterate.hpp"

#include <gtest/gtest.h>

#include <string>

#include "smpp/text/encoder.hpp"
#include "smpp/text/utf8.hpp"

namespace otpd::smpp::text {
namespace {

std::string translit(const std::string& in) {
  std::string out;
  error_info info;
  EXPECT_FALSE(transliterate(in, out, info)) << in;
  return out;
}

// The Vietnamese letters, spelled out independently of the table in transliterate.cpp: each
// vowel with no tone and the five tones (huyền, sắc, hỏi, ngã, nặng), then đ.
struct letter_row {
  const char* letters;  // UTF-8, precomposed (NFC)
  char base;
};
constexpr letter_row lower_rows[] = {
    {"àáảãạ", 'a'},  {"ăằắẳẵặ", 'a'}, {"âầấẩẫậ", 'a'}, {"èéẻẽẹ", 'e'},  {"êềếểễệ", 'e'},
    {"ìíỉĩị", 'i'},  {"òóỏõọ", 'o'},  {"ôồốổỗộ", 'o'}, {"ơờớởỡợ", 'o'}, {"ùúủũụ", 'u'},
    {"ưừứửữự", 'u'}, {"ỳýỷỹỵ", 'y'},  {"đ", 'd'},
};
constexpr letter_row upper_rows[] = {
    {"ÀÁẢÃẠ", 'A'},  {"ĂẰẮẲẴẶ", 'A'}, {"ÂẦẤẨẪẬ", 'A'}, {"ÈÉẺẼẸ", 'E'},  {"ÊỀẾỂỄỆ", 'E'},
    {"ÌÍỈĨỊ", 'I'},  {"ÒÓỎÕỌ", 'O'},  {"ÔỒỐỔỖỘ", 'O'}, {"ƠỜỚỞỠỢ", 'O'}, {"ÙÚỦŨỤ", 'U'},
    {"ƯỪỨỬỮỰ", 'U'}, {"ỲÝỶỸỴ", 'Y'},  {"Đ", 'D'},
};

TEST(text_transliterate, all_134_precomposed_vietnamese_letters) {
  int count = 0;
  for (const auto* rows : {lower_rows, upper_rows}) {
    for (std::size_t r = 0; r < std::size(lower_rows); ++r) {
      const std::string letters = rows[r].letters;
      std::size_t pos = 0;
      std::string expected;
      while (pos < letters.size()) {
        char32_t cp = 0;
        ASSERT_TRUE(next_code_point(letters, pos, cp));
        const auto t = transliteration_of(cp);
        ASSERT_TRUE(t.has_value()) << "U+" << std::hex << static_cast<unsigned>(cp);
        EXPECT_EQ(*t, std::string(1, rows[r].base))
            << "U+" << std::hex << static_cast<unsigned>(cp);
        expected.push_back(rows[r].base);
        ++count;
      }
      EXPECT_EQ(translit(letters), expected);
    }
  }
  EXPECT_EQ(count, 134);
}

TEST(text_transliterate, otp_sentence_becomes_gsm7) {
  encoded_text out;
  error_info info;
  encode_options opts;
  opts.transliterate = true;
  ASSERT_FALSE(encode("Mã xác thực của bạn là 123456", opts, out, info));
  EXPECT_EQ(out.coding, coding::gsm7);
  EXPECT_EQ(out.units, "Ma xac thuc cua ban la 123456");
  EXPECT_EQ(translit("Mã xác thực của bạn"), "Ma xac thuc cua ban");
  EXPECT_EQ(translit("ĐƯỢC RỒI"), "DUOC ROI");
}

TEST(text_transliterate, decomposed_input_drops_the_marks) {
  // NFD spelling: base letter + combining marks (breve, circumflex, horn, then the tone).
  EXPECT_EQ(translit("Ma\u0303 xa\u0301c thu\u031B\u0323c cu\u0309a ba\u0323n"),
            "Ma xac thuc cua ban");
  EXPECT_EQ(translit("a\u0306\u0300 a\u0302\u0301 e\u0302\u0303 o\u031B\u0309"), "a a e o");
  // Every listed mark, alone after a letter.
  for (const char* mark :
       {"\u0300", "\u0301", "\u0302", "\u0303", "\u0306", "\u0309", "\u031B", "\u0323"}) {
    EXPECT_EQ(translit(std::string("o") + mark), "o") << mark;
  }
  // A mixture of precomposed letter and a further combining tone.
  EXPECT_EQ(translit("\u00EA\u0301"), "e");
}

TEST(text_transliterate, typographic_characters) {
  EXPECT_EQ(translit("\u201CCode\u201D \u2013 it\u2019s 1234\u2026\u00A0ok \u2014 \u2018x\u2019"),
            "\"Code\" - it's 1234... ok - 'x'");
  EXPECT_EQ(translit("\u201E\u201A\u2212\u2011\u202F"), "\"'-- ");
}

TEST(text_transliterate, other_characters_are_left_alone) {
  EXPECT_EQ(translit("abc 123 \u00E7 \u4E2D \U0001F600"), "abc 123 \u00E7 \u4E2D \U0001F600");
  EXPECT_FALSE(transliteration_of(U'a').has_value());
  EXPECT_FALSE(transliteration_of(U'\u00E7').has_value());
  EXPECT_FALSE(transliteration_of(U'\u0304').has_value());  // macron: not Vietnamese
}

TEST(text_transliterate, off_by_default) {
  encoded_text out;
  error_info info;
  ASSERT_FALSE(encode("Mã", {}, out, info));
  EXPECT_EQ(out.coding, coding::ucs2);
}

TEST(text_transliterate, invalid_utf8_is_reported) {
  std::string out;
  error_info info;
  EXPECT_EQ(transliterate("Mã\xC3", out, info), errc::invalid_utf8);
  EXPECT_EQ(info.offset, 3u);
}

// Errors after an expansion point at the input character, not at the expanded output.
TEST(text_transliterate, error_offsets_refer_to_the_input) {
  encoded_text out;
  error_info info;
  encode_options opts;
  opts.policy = coding_policy::gsm7;
  opts.transliterate = true;
  EXPECT_EQ(encode("\u2026\u1EA1\u4E2D", opts, out, info), errc::unencodable_character);
  EXPECT_EQ(info.offset, 6u);
  EXPECT_EQ(info.code_point, U'\u4E2D');
}

}  // namespace
}  // namespace otpd::smpp::text
