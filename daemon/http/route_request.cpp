#include "daemon/http/route_request.hpp"

#include <utility>

#include "daemon/http/problem.hpp"

namespace otpd::http {

route_verdict route_request(const router& routes, const api_key_auth& keys, request& req) {
  route_verdict v;
  if (req.method == method::unknown) {
    v.early = problem(501, "not_implemented", {}, "unknown method " + req.method_string);
    return v;
  }
  auto m = routes.match(req.method, req.path);
  using kind = router::match_result::kind;
  if (m.result != kind::not_found) v.label = m.pattern;
  switch (m.result) {
    case kind::not_found:
      v.early = problem(404, "not_found", {}, "no resource at " + req.path);
      return v;
    case kind::bad_path:
      v.early = problem(400, "bad_request", {}, "malformed percent-encoding in the path");
      return v;
    case kind::method_not_allowed:
      if (req.method == method::options) {
        v.early = response::empty(204).set_header("Allow", router::allow_header(m.allowed));
      } else {
        v.early = problem(405, "method_not_allowed", {},
                          req.method_string + " is not allowed on " + m.pattern)
                      .set_header("Allow", router::allow_header(m.allowed));
      }
      return v;
    case kind::found:
      break;
  }
  req.params = std::move(m.params);
  if (m.route->options.auth == access::api_key) {
    const auto authorization = req.header("Authorization");
    auto name = keys.authenticate(authorization);
    if (!name) {
      v.early = unauthorized(authorization && api_key_auth::bearer_token(*authorization));
      return v;
    }
    req.api_key = std::move(*name);
  }
  v.matched = m.route;
  return v;
}

}  // namespace otpd::http
