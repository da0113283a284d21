#include "daemon/routing/ported_numbers.hpp"

#include <algorithm>

#include "common/ascii.hpp"

namespace otpd::routing {
namespace {

std::string_view trim(std::string_view s) noexcept { return ascii::trim(s, " \t\r"); }

std::string_view unquote(std::string_view s) noexcept {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = trim(s.substr(1, s.size() - 2));
  return s;
}

using ascii::iequals;

}  // namespace

bool parse_ported_numbers(std::string_view text, const std::vector<std::string>& known_carriers,
                          ported_map& out, std::vector<ported_error>& errors) {
  out.clear();
  const std::size_t errors_before = errors.size();
  ported_map entries;
  std::unordered_map<std::string, std::size_t> first_line;
  bool seen_entry = false;
  std::size_t line_no = 0;

  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    const std::string_view raw = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++line_no;

    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;

    const std::size_t comma = line.find(',');
    if (comma == std::string_view::npos || line.find(',', comma + 1) != std::string_view::npos) {
      errors.push_back({line_no, "expected two fields: number,carrier"});
      seen_entry = true;
      continue;
    }
    std::string_view number = unquote(line.substr(0, comma));
    const std::string_view carrier = unquote(line.substr(comma + 1));
    if (!seen_entry && iequals(number, "number") && iequals(carrier, "carrier")) {
      seen_entry = true;  // a header line
      continue;
    }
    seen_entry = true;

    if (!number.empty() && number.front() == '+') number.remove_prefix(1);
    const bool digits_only =
        !number.empty() && std::all_of(number.begin(), number.end(), ascii::is_digit);
    if (!digits_only || number.front() == '0') {
      errors.push_back({line_no, "the number is not E.164 digits"});
      continue;
    }
    if (number.size() < 7 || number.size() > 15) {
      errors.push_back({line_no, "the number must have 7 to 15 digits"});
      continue;
    }
    if (carrier.empty()) {
      errors.push_back({line_no, "the carrier is missing"});
      continue;
    }
    if (std::find(known_carriers.begin(), known_carriers.end(), carrier) == known_carriers.end()) {
      errors.push_back({line_no, "unknown carrier \"" + std::string(carrier) + "\""});
      continue;
    }
    const std::string key(number);
    if (auto [it, inserted] = first_line.emplace(key, line_no); !inserted) {
      errors.push_back(
          {line_no, "the number is already listed on line " + std::to_string(it->second)});
      continue;
    }
    entries.emplace(key, std::string(carrier));
  }

  if (errors.size() != errors_before) return false;
  out = std::move(entries);
  return true;
}

}  // namespace otpd::routing
