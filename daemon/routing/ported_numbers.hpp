// The ported-numbers file: numbers that moved to another carrier keep their old prefix, so a
// prefix route would send them to the wrong SMSC. Each line "number,carrier" overrides the
// prefixes for that one number.
//
// Format: UTF-8 text, one entry per line, LF or CRLF. Blank lines and lines whose first
// non-blank character is '#' are skipped; so is a first entry line "number,carrier" (a header).
// Fields are trimmed of blanks and may be wrapped in double quotes. The number is E.164 digits
// with an optional '+' (7..15 digits: the file comes from a registry export, not from users, so
// no national forms); the carrier must be one of the configured carrier names (exact case).
//
// Pure: the caller reads the file. All errors are reported at once, each with its 1-based line
// number; error texts never repeat a number (numbers are masked in logs, docs/architecture.md §3).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace otpd::routing {

struct ported_error {
  std::size_t line = 0;  // 1-based
  std::string message;   // "line 4: unknown carrier \"Foo\"" style, without the line prefix
  friend bool operator==(const ported_error&, const ported_error&) = default;
};

// E.164 digits without '+' -> carrier name.
using ported_map = std::unordered_map<std::string, std::string>;

// Parses `text`; a number listed twice is an error (which line wins would be a guess). Returns
// true and fills `out` when there is no error; otherwise `out` is left empty.
bool parse_ported_numbers(std::string_view text, const std::vector<std::string>& known_carriers,
                          ported_map& out, std::vector<ported_error>& errors);

}  // namespace otpd::routing
