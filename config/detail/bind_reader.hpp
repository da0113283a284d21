// One SMPP bind read from YAML: the same code for a bind snippet of its own
// (load_bind_config) and for each bind of a carrier in otpd.yaml (load_config). Internal.
#pragma once

#include <string>

#include "config/detail/yaml_reader.hpp"
#include "smpp/net/bind_config.hpp"

namespace otpd::config::detail {

// Reads a bind's mapping into `b`, whose text profile may already hold the carrier's defaults:
// a `text:` key overrides only the settings it names. `path` prefixes messages; an empty path
// is a snippet of its own, where load_options::supplied_keys apply. nullopt (and an error)
// when `node` is not a mapping; otherwise its fields, for the caller's own checks.
std::optional<field_map> read_bind(yaml_reader& r, const YAML::Node& node, const YAML::Mark& where,
                                   const std::string& path, smpp::bind_config& b);

// Reads a `text:` mapping (coding, transliterate, concat, packed, max_parts) over `t`.
void read_text_profile(yaml_reader& r, const field& f, const std::string& path,
                       smpp::text_profile& t);

}  // namespace otpd::config::detail
