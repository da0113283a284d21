// UTF-8 text -> one SMS coding (GSM 7-bit, Latin-1 or UCS2), before any splitting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>

#include "smpp/text/coding.hpp"
#include "smpp/text/error.hpp"

namespace otpd::smpp::text {

enum class coding_policy : std::uint8_t {
  auto_select,  // GSM 7-bit when every character fits, else UCS2 (Latin-1 is never chosen)
  gsm7,
  latin1,
  ucs2,
};

// What a forced coding does with a character it cannot carry.
enum class unencodable_policy : std::uint8_t {
  fail,     // errc::unencodable_character, naming the character and its offset
  replace,  // write '?' and list the character in encoded_text::replaced
};

struct encode_options {
  coding_policy policy = coding_policy::auto_select;
  bool transliterate = false;  // Vietnamese and typographic characters -> ASCII first
  unencodable_policy on_unencodable = unencodable_policy::fail;
  friend bool operator==(const encode_options&, const encode_options&) = default;
};

// A character written as '?' under unencodable_policy::replace.
struct replacement {
  std::size_t offset = 0;  // byte offset in the UTF-8 input
  char32_t code_point = 0;
  friend bool operator==(const replacement&, const replacement&) = default;
};

struct encoded_text {
  text::coding coding = text::coding::gsm7;
  // gsm7: unpacked septets, one per octet, extension characters as ESC + code;
  // latin1: one octet per character; ucs2: UTF-16BE.
  std::string units;
  std::vector<replacement> replaced;  // empty unless the caller asked for replacement

  // Septets, octets or UTF-16 code units: what the SMS size limits count.
  std::size_t unit_count() const noexcept {
    return coding == text::coding::ucs2 ? units.size() / 2 : units.size();
  }
  std::uint8_t data_coding() const noexcept { return data_coding_of(coding); }
};

// Encodes UTF-8 text. Errors: errc::invalid_utf8 (info.offset = start of the bad sequence),
// errc::unencodable_character (info.offset and info.code_point name the character; only with
// a forced gsm7 / latin1 policy and unencodable_policy::fail). out is unspecified on error.
boost::system::error_code encode(std::string_view utf8, const encode_options& opts,
                                 encoded_text& out, error_info& info);

}  // namespace otpd::smpp::text
