// What an HTTP handler sees: a parsed request and the response it returns. No Beast or JSON
// type appears here, so that handler translation units stay light; the server (server.cpp) is
// the only place that converts from and to Beast messages.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ascii.hpp"

namespace otpd::http {

// The methods the router knows (RFC 9110 §9.3). Anything else is `unknown` and answered 501
// (RFC 9110 §9.1) unless a route exists for the path, in which case it is 405.
enum class method : std::uint8_t { get, head, post, put, patch, delete_, options, unknown };

std::string_view to_string(method m) noexcept;
method method_from(std::string_view token) noexcept;  // case-sensitive (RFC 9110 §9.1)

// Header fields in arrival order; names compare case-insensitively (RFC 9110 §5.1).
class header_map {
 public:
  using entry = std::pair<std::string, std::string>;

  // The first value of the field, if present.
  std::optional<std::string_view> get(std::string_view name) const noexcept;
  // Every value of the field, in order (a list-based field may be split across lines, RFC 9110
  // §5.3).
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool contains(std::string_view name) const noexcept { return get(name).has_value(); }

  void add(std::string name, std::string value);
  // Replaces every existing value of the field.
  void set(std::string name, std::string value);
  void erase(std::string_view name) noexcept;
  // Overwrites the values of the field (their whole buffers) and empties them: for
  // Authorization, once the request has been answered.
  void wipe_values(std::string_view name) noexcept;

  auto begin() const noexcept { return entries_.begin(); }
  auto end() const noexcept { return entries_.end(); }
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }

 private:
  std::vector<entry> entries_;
};

using ascii::iequals;

struct request {
  http::method method = http::method::get;
  std::string method_string;  // as received, for an unknown method
  std::string target;         // request-target as received (origin-form)
  std::string path;           // the target's path, still percent-encoded
  std::string query_string;   // after '?', without it
  // Path parameters of the matched route, percent-decoded: "/v1/verifications/{id}" gives
  // params["id"].
  std::map<std::string, std::string, std::less<>> params;
  // Query parameters, percent-decoded ('+' is a space, as in HTML forms), in order.
  std::vector<std::pair<std::string, std::string>> query;
  header_map headers;
  std::string body;
  unsigned version = 11;  // 10 or 11

  std::string client_address;  // peer IP, as text ("127.0.0.1", "::1")
  std::uint16_t client_port = 0;
  bool tls = false;

  // The route template that matched ("/v1/verifications/{id}/check"), for logs and metrics.
  std::string route;
  // The name of the API key that authenticated the request; empty on public routes. Set by
  // the server before the handler runs.
  std::string api_key;
  std::chrono::steady_clock::time_point received_at{};

  // Overwrites what the client sent that may be a secret: the body (a code typed on /check)
  // and the Authorization value (the API key). The server calls it once the answer is sent.
  void wipe_secrets() noexcept;

  // Shorthands; an absent value is an empty optional.
  std::optional<std::string_view> header(std::string_view name) const noexcept {
    return headers.get(name);
  }
  std::optional<std::string_view> param(std::string_view name) const noexcept;
  std::optional<std::string_view> query_param(std::string_view name) const noexcept;
};

struct response {
  unsigned status = 200;
  // Content-Type is taken from content_type, Content-Length and Date are set by the server:
  // do not put them here. Anything else is sent as given (Retry-After, Location, ...).
  header_map headers;
  std::string body;
  std::string content_type;  // empty: no Content-Type (no body)

  response& set_header(std::string name, std::string value) {
    headers.set(std::move(name), std::move(value));
    return *this;
  }

  static response json(unsigned status, std::string body) {
    return response{status, {}, std::move(body), "application/json"};
  }
  static response text(unsigned status, std::string body,
                       std::string type = "text/plain; charset=utf-8") {
    return response{status, {}, std::move(body), std::move(type)};
  }
  static response empty(unsigned status) { return response{status, {}, {}, {}}; }
};

// The reason phrase for a status code ("Not Found"); "" for an unknown code.
std::string_view reason_phrase(unsigned status) noexcept;

// Whether the bytes a request starts with hold a well-formed request-line (RFC 9112 §3:
// method SP request-target SP HTTP-version CRLF, HTTP-version = "HTTP/" DIGIT "." DIGIT, §2.3)
// whose major version is not 1: 505 is for such a request only. A line ending in a bare LF, a
// trailing space, "HTTP/1.10" or a missing version is malformed (400), and so is a line not yet
// complete in `head`.
bool is_other_major_version(std::string_view head) noexcept;

// Whether a request's Transfer-Encoding field values (all of them, in order) frame its body in
// a way we read (RFC 9112 §6.1, §6.3): none at all, or in HTTP/1.1 a list whose final coding is
// exactly "chunked" and that names no other coding. Anything else ("xchunked", "gzip",
// "chunked, identity", any coding in HTTP/1.0) leaves the body's end unknown: 400 and close.
bool acceptable_transfer_encoding(const std::vector<std::string_view>& values,
                                  unsigned version) noexcept;

// RFC 3986 §2.1 percent-decoding; nullopt on a malformed escape or on an encoded NUL.
// plus_is_space: '+' means ' ' (application/x-www-form-urlencoded, used for query strings).
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space = false);

}  // namespace otpd::http
