// A YAML document as JSON values, for documents that are data rather than configuration
// (docs/openapi.yaml in tests). Scalars become strings, except plain (unquoted) scalars that
// read as integers, booleans or null. yaml-cpp stays behind this header.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace otpd::config {

// nullopt with `error` set ("line:column: message") when the text is not valid YAML.
std::optional<boost::json::value> yaml_to_json(std::string_view yaml, std::string* error = nullptr);

// Replaces, anywhere in `v`, the value under a key of `keys` with a fingerprint: HMAC-SHA256
// under a key drawn once per process, in hex. Equal values keep equal fingerprints, so that a
// document can be compared with a later one (what changed on reload) without holding the
// secrets it names; the fingerprint cannot be checked against guesses outside the process.
void fingerprint_values(boost::json::value& v, std::initializer_list<std::string_view> keys);

}  // namespace otpd::config
