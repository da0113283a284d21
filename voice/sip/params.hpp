// Generic parameters (RFC 3261 §25.1 generic-param: ";name[=value]"), shared by URIs, Via and
// name-addr headers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otpd::sip {

struct param {
  std::string name;
  std::optional<std::string> value;  // as written: a quoted-string keeps its quotes
  friend bool operator==(const param&, const param&) = default;
};
using param_list = std::vector<param>;

// The first parameter `name` (case-insensitive), or nullptr.
const param* find_param(const param_list& ps, std::string_view name) noexcept;
// Sets (or adds) a parameter; a nullopt value writes ";name" alone.
void set_param(param_list& ps, std::string_view name, std::optional<std::string_view> value);
// ";a=b;c" for the list.
std::string to_string(const param_list& ps);

namespace detail {
// Parses "*( SEMI generic-param )" from `s` (leading whitespace allowed around ';' and '='),
// appending to `out`. Returns false on a malformed parameter or on text that is not a ';'.
bool parse_params(std::string_view s, param_list& out);
}  // namespace detail

}  // namespace otpd::sip
