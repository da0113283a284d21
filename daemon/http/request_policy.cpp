#include "daemon/http/request_policy.hpp"

#include <utility>

#include "daemon/http/problem.hpp"

namespace otpd::http {

namespace {

head_verdict closing(response r) { return head_verdict{std::move(r), true}; }

// The query string into req.query; false on a malformed escape.
bool split_query(request& req) {
  std::string_view q = req.query_string;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto k = percent_decode(pair.substr(0, eq), true);
    auto v = percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1),
                            true);
    if (!k || !v) return false;
    req.query.emplace_back(std::move(*k), std::move(*v));
  }
  return true;
}

}  // namespace

head_verdict check_head(request& req) {
  // RFC 9112 §2.3: HTTP/1.0 and 1.1 only.
  if (req.version != 10 && req.version != 11) {
    return closing(
        problem(505, "http_version_not_supported", {}, "only HTTP/1.1 and 1.0 are served"));
  }
  // RFC 9112 §3.2: exactly one Host in an HTTP/1.1 request.
  if (req.version == 11 && req.headers.get_all("Host").size() != 1) {
    return closing(
        problem(400, "bad_request", {}, "an HTTP/1.1 request needs exactly one Host field"));
  }
  // RFC 9112 §6.3: a body framed by codings we cannot read has no known end; reading on
  // would take its bytes as the next request (smuggling).
  if (!acceptable_transfer_encoding(req.headers.get_all("Transfer-Encoding"), req.version)) {
    return closing(problem(400, "bad_request", {},
                           "Transfer-Encoding must be chunked alone, in HTTP/1.1 only"));
  }

  // The request-target (RFC 9112 §3.2): origin-form, or absolute-form (which a server MUST
  // accept), or "*" for OPTIONS.
  std::string_view target = req.target;
  if (target.starts_with("http://") || target.starts_with("https://")) {
    const auto authority = target.find("://") + 3;
    const auto slash = target.find_first_of("/?", authority);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    if (target.starts_with('?')) target = std::string_view();  // handled below as bad
  }
  if (target == "*" && req.method == method::options) {
    response r = response::empty(204);
    r.set_header("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    return head_verdict{std::move(r), false};
  }
  if (!target.starts_with('/')) {
    return closing(problem(400, "bad_request", {}, "the request-target must be an absolute path"));
  }
  const auto qmark = target.find('?');
  req.path = std::string(target.substr(0, qmark));
  if (qmark != std::string_view::npos) {
    req.query_string = std::string(target.substr(qmark + 1));
    if (!split_query(req)) {
      return head_verdict{
          problem(400, "bad_request", {}, "malformed percent-encoding in the query"), false};
    }
  }
  return {};
}

expect_verdict check_expectation(const request& req) {
  const auto expect = req.header("Expect");
  if (!expect || req.version != 11) return {};
  if (!iequals(*expect, "100-continue")) {
    return {false, problem(417, "expectation_failed", {}, "only 100-continue is supported")};
  }
  return {true, std::nullopt};
}

}  // namespace otpd::http
