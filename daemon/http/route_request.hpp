// Which route answers a request and under which API key: the step between the header checks
// (request_policy.hpp) and the body. A pure function of the request, the routes and the keys: no
// I/O, no Beast; server.cpp calls it before it reads a body, so that a request refused anyway
// does not get to make us read one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "daemon/http/auth.hpp"
#include "daemon/http/message.hpp"
#include "daemon/http/router.hpp"

namespace otpd::http {

// The route label for requests that matched no route (bounded label values for metrics).
inline constexpr std::string_view unmatched_route = "none";

struct route_verdict {
  const http::route* matched = nullptr;  // set when the handler is to run
  std::string label{unmatched_route};    // the route template, for logs and metrics
  std::optional<response> early;         // set: answer this instead of the handler
};

// The route of req (with req.params) and, on a route that needs one, its API key (req.api_key):
// 501 for an unknown method without a route, 404, 400 for a malformed escape in the path, 405
// with Allow (OPTIONS on a known path: 204 with Allow), 401 without a valid key.
route_verdict route_request(const router& routes, const api_key_auth& keys, request& req);

}  // namespace otpd::http
