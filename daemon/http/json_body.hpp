// Request bodies for JSON endpoints: 415 for another media type, 400 with the position of the
// first error for malformed JSON. Both return the problem to send, or nullopt when the body is
// usable:
//
//   boost::json::object body;
//   if (auto p = parse_json_object(req, body)) co_return std::move(*p);
#pragma once

#include <optional>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "daemon/http/message.hpp"

namespace otpd::http {

// True for application/json and any application/<x>+json (RFC 6839 §3.1), parameters allowed
// (a charset other than utf-8 is refused: RFC 8259 §8.1 requires UTF-8).
bool is_json_media_type(std::string_view content_type) noexcept;

// 415 "unsupported_media_type" (RFC 9110 §15.5.16) unless Content-Type is JSON.
std::optional<response> require_json(const request& req);

// require_json, then parses the body: an empty body, a syntax error, a nesting deeper than 32,
// or data after the value give 400 "malformed_json" with "line", "column" (1-based) and
// "offset" (0-based byte) members where the error is. A number beyond the range of a double
// (which the parser would make an infinity) gives 400 "malformed_json" too.
std::optional<response> parse_json_body(const request& req, boost::json::value& out);

// Both parse into out's storage (the parser's temporary stack too): pass a value made with
// wiping_json_storage() (wiping_memory.hpp) for a body that carries a secret.
//
// parse_json_body, and the value must be an object (400 "malformed_json" otherwise).
std::optional<response> parse_json_object(const request& req, boost::json::object& out);

}  // namespace otpd::http
