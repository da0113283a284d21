// RFC 9457 problem details: every error otpd answers is `application/problem+json`.
//
// The `type` member is "https://otpd.dev/problems/<slug>" (problem_type()): an absolute URI
// as RFC 9457 §3.1.1 prefers, and a stable identifier that clients switch on; the slug is the
// machine name of the problem ("incorrect_code", "rate_limited_number", "content_too_large").
// Clients must not dereference it (RFC 9457 §3.1.1: consumers SHOULD NOT automatically
// dereference the type URI); the slugs are listed in docs/openapi.yaml.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "daemon/http/message.hpp"

namespace otpd::http {

inline constexpr std::string_view problem_type_prefix = "https://otpd.dev/problems/";
inline constexpr std::string_view problem_content_type = "application/problem+json";

std::string problem_type(std::string_view slug);

// {"type": ..., "title": ..., "status": ..., "detail": ..., extras...}. `title` empty: the
// status's reason phrase; `detail` empty: omitted. Extension members (RFC 9457 §3.2), e.g.
// {"checks_remaining": 2} or {"retry_after": 17}, follow; they cannot replace the five standard
// members. Headers that go with a problem (Retry-After, WWW-Authenticate, Allow) are the
// caller's: `problem(...).set_header("Retry-After", "17")`.
response problem(unsigned status, std::string_view slug, std::string_view title = {},
                 std::string_view detail = {}, const boost::json::object& extra = {});

}  // namespace otpd::http
