// Phone numbers as users type them -> E.164 ("+84912345678"), with the configured number plan.
//
// Accepted: digits with separators (space, tab, '-', '.', '/', '(', ')') anywhere, and one '+'
// before the first digit. Then, in this order:
//  1. '+'               -> international: country code and national significant number (NSN);
//  2. "00"              -> international (the ITU-T E.164 / E.123 international prefix used in
//                          most of the world, Vietnam included);
//  3. national_prefix   -> national: the trunk prefix is dropped, default_country_code added;
//  4. default_country_code followed by an NSN of min..max digits -> international without '+'
//                          ("84912345678"; preferred over reading it as a national number);
//  5. otherwise         -> a national number typed without its trunk prefix ("912345678").
// For the default country code the NSN must have number_plan.min_digits..max_digits digits, and
// a trunk prefix written after it ("+84 (0)912...": an NSN never starts with the trunk prefix)
// is dropped. For any other country code only the total length is checked (7..15 digits,
// ITU-T E.164 §6.2.1 caps it at 15): whether the country code exists is NOT checked, except
// that none starts with 0. Whether a route exists is the routing table's business.
//
// Pure, and never throws on bad input. Error texts never repeat the number (numbers are masked
// in logs and responses, docs/architecture.md §3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace otpd::routing {

inline constexpr std::size_t e164_max_digits = 15;    // ITU-T E.164 §6.2.1
inline constexpr std::size_t foreign_min_digits = 7;  // shortest numbering plans (e.g. +683)
inline constexpr std::size_t max_input_length = 64;   // longer input is refused unread

enum class number_error : std::uint8_t {
  empty,                 // nothing but blanks and separators
  invalid_character,     // a letter or symbol that is neither a digit nor a separator
  misplaced_plus,        // '+' after a digit, or twice
  invalid_country_code,  // an international number whose country code starts with 0
  too_short,
  too_long,
};

// A stable slug ("empty", "invalid_character", ...) and an English sentence for the problem
// detail of 422 invalid_number.
const char* to_string(number_error e) noexcept;
const char* describe(number_error e) noexcept;

struct normalised_number {
  std::string e164;  // "+84912345678" when there is no error
  std::optional<number_error> error;
  std::size_t position = 0;  // invalid_character / misplaced_plus: byte offset in input
  explicit operator bool() const noexcept { return !error.has_value(); }
};

normalised_number normalise_number(std::string_view input, const config::number_plan& plan);

}  // namespace otpd::routing
