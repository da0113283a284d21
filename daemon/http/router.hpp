// Routes (method, path template) to handlers.
//
//   router r;
//   r.add(method::post, "/v1/verifications/{id}/check",
//         [&](request& req) -> asio::awaitable<response> { ... req.params["id"] ... });
//   r.add(method::get, "/healthz", health, {.auth = access::public_route});
//
// A template is a sequence of '/'-separated segments, each literal or a `{name}` parameter
// that matches one non-empty segment. A literal segment wins over a parameter at the same
// place ("/v1/verifications/stats" before "/v1/verifications/{id}"). Paths are matched as
// received (percent-encoded); parameters are percent-decoded. An unknown path is 404; a known
// path with another method is 405 with Allow (RFC 9110 §15.5.6); HEAD falls back to the GET
// route (RFC 9110 §9.3.2) and OPTIONS is answered from the Allow list unless routed.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "daemon/http/message.hpp"

namespace otpd::http {

using handler = std::function<boost::asio::awaitable<response>(request&)>;

enum class access : std::uint8_t {
  api_key,       // `Authorization: Bearer <key>` required (RFC 6750)
  public_route,  // /healthz, /readyz, /metrics
};

struct route_options {
  http::access auth = access::api_key;
};

struct route {
  http::method method;
  std::string pattern;  // the template, as given: the label in logs and metrics
  http::handler handler;
  route_options options;
};

class router {
 public:
  router();
  ~router();
  router(router&&) noexcept;
  router& operator=(router&&) noexcept;

  // Throws std::invalid_argument on a malformed template (not starting with '/', an empty or
  // unclosed parameter), the same (method, template) twice, or two parameter names at the
  // same place ("/a/{id}" and "/a/{key}/b").
  void add(method m, std::string_view pattern, handler h, route_options opts = {});

  struct match_result {
    enum class kind : std::uint8_t { found, not_found, method_not_allowed, bad_path } result;
    const http::route* route = nullptr;  // when found
    std::map<std::string, std::string, std::less<>> params;
    std::vector<method> allowed;  // when method_not_allowed (and found): for Allow
    std::string pattern;          // the template of the path when it is known
  };

  // bad_path: a parameter has a malformed percent-encoding.
  match_result match(method m, std::string_view path) const;

  // "GET, HEAD, POST" for a list from match(); HEAD is listed when GET is, OPTIONS always.
  static std::string allow_header(const std::vector<method>& allowed);

  const std::vector<std::unique_ptr<http::route>>& routes() const noexcept { return routes_; }

 private:
  struct node;
  std::vector<std::unique_ptr<http::route>> routes_;
  std::unique_ptr<node> root_;
};

}  // namespace otpd::http
