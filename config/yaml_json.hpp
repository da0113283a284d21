// A YAML document as JSON values, for documents that are data rather than configuration
// (docs/openapi.yaml in tests). Scalars become strings, except plain (unquoted) scalars that
// read as integers, booleans or null. yaml-cpp stays behind this header.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace otpd::config {

// nullopt with `error` set ("line:column: message") when the text is not valid YAML.
std::optional<boost::json::value> yaml_to_json(std::string_view yaml, std::string* error = nullptr);

}  // namespace otpd::config
