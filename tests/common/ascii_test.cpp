#include "common/ascii.hpp"

#include <gtest/gtest.h>

#include <string>

namespace otpd::ascii {
namespace {

// Usable where the SIP parsers need them: at compile time.
static_assert(iequals("Content-Length", "content-LENGTH"));
static_assert(!iequals("Via", "Vias"));
static_assert(to_lower('Q') == 'q' && to_upper('q') == 'Q');
static_assert(hex_value('f') == 15 && hex_value('F') == 15 && hex_value('g') == -1);
static_assert(trim("  a b \t") == "a b");

TEST(ascii, iequals_folds_ascii_letters_only) {
  struct pair {
    std::string_view a, b;
    bool equal;
  };
  static constexpr pair cases[] = {
      {"", "", true},
      {"100-Continue", "100-continue", true},
      {"abc", "abd", false},
      {"abc", "ab", false},
      // '@' and '`' sit next to 'A' and 'a', '[' next to 'Z': no folding across them.
      {"@", "`", false},
      {"[", "{", false},
      // Bytes above 0x7F are compared as they are: "\xC9" (Latin-1 capital E acute) is not
      // "\xE9", whatever the locale.
      {"\xC9", "\xE9", false},
      {"\xC9", "\xC9", true},
  };
  for (const pair& c : cases) EXPECT_EQ(iequals(c.a, c.b), c.equal) << c.a << " " << c.b;
}

TEST(ascii, prefixes_and_suffixes_ignore_case) {
  EXPECT_TRUE(istarts_with("Bearer abc", "bearer "));
  EXPECT_FALSE(istarts_with("Bear", "bearer"));
  EXPECT_TRUE(iends_with("smpp.PASSWORD", "password"));
  EXPECT_FALSE(iends_with("word", "password"));
  EXPECT_TRUE(iends_with("x", ""));
}

TEST(ascii, case_conversion_of_strings) {
  EXPECT_EQ(to_lower(std::string_view("TCP/Tls-1")), "tcp/tls-1");
  EXPECT_EQ(to_upper(std::string_view("udp/tls-1")), "UDP/TLS-1");
  EXPECT_EQ(to_lower(std::string_view("\xC9")), "\xC9");
}

TEST(ascii, character_classes) {
  for (char c = '0'; c <= '9'; ++c) {
    EXPECT_TRUE(is_digit(c));
    EXPECT_EQ(hex_value(c), c - '0');
  }
  EXPECT_FALSE(is_digit('/'));
  EXPECT_FALSE(is_digit(':'));
  EXPECT_TRUE(is_alpha('a') && is_alpha('Z'));
  EXPECT_FALSE(is_alpha('@') || is_alpha('[') || is_alpha('`') || is_alpha('{'));
  EXPECT_TRUE(is_alnum('7') && is_alnum('k'));
  EXPECT_FALSE(is_alnum('-'));
  EXPECT_EQ(hex_value('a'), 10);
  EXPECT_EQ(hex_value('A'), 10);
  EXPECT_TRUE(is_hex_digit('E'));
  EXPECT_FALSE(is_hex_digit('G'));
}

TEST(ascii, trim_removes_the_callers_blanks_at_both_ends) {
  EXPECT_EQ(trim(" \t value \t "), "value");
  EXPECT_EQ(trim("\r\nvalue\r\n"), "\r\nvalue\r\n");  // HTTP OWS is space and tab only
  EXPECT_EQ(trim("\r\nvalue \r\n", " \r\n"), "value");
  EXPECT_EQ(trim(std::string_view("\0id\0", 4), std::string_view("\0", 1)), "id");
  EXPECT_EQ(trim("   "), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("a"), "a");
}

}  // namespace
}  // namespace otpd::ascii
