// Reading one HTTP/1.x request without I/O (RFC 9112): Beast's parser with our limits and what a
// parse error is answered; the checks between the header section and the body are
// request_policy.hpp's. server.cpp feeds the parser from the socket and routes; parse_request()
// runs the same steps on bytes in memory (tests, tests/fuzz).
//
// Unlike message.hpp this header names Beast types: only server.cpp and the tests include it.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "config/config.hpp"
#include "daemon/http/message.hpp"
#include "daemon/http/request_policy.hpp"
#include "daemon/http/wiping_memory.hpp"

namespace otpd::http {

// The header fields in memory wiped when freed: Authorization carries the API key. The body is
// moved out whole (req.body, wiped by the server after the answer); it is allocated once when
// Content-Length is given, so only a chunked body's growth leaves copies behind.
using request_parser =
    boost::beast::http::request_parser<boost::beast::http::string_body, wiping_allocator<char>>;

// limits.max_header_bytes and limits.max_body_bytes on the parser.
void apply_limits(request_parser& p, const config::http_limits& limits);

// The answer to a parser error `ec` other than the client leaving or a timeout: 413 (body),
// 414 (request-line) or 431 (fields) past the limits, 505 for another HTTP major version, 400
// for anything malformed. `unparsed` is what the connection holds that the parser has not
// taken (the request-line, when the version is bad); `in_header` says which part failed.
response parse_error_response(const boost::system::error_code& ec, const request_parser& p,
                              const config::http_limits& limits, std::string_view unparsed,
                              bool in_header);

// The method, target, version and fields of the parsed header section.
void take_head(const request_parser& p, request& req);

// One request from bytes in memory, up to routing.
struct parse_outcome {
  enum class state : std::uint8_t {
    need_more,  // the bytes end before the request does (a server reads on)
    refused,    // `early` is the answer; `close` whether the connection ends with it
    complete,   // `req` holds the request, its body included
  };
  state result = state::need_more;
  request req;
  std::optional<response> early;
  bool close = false;
  std::size_t consumed = 0;  // bytes of the input the parser took
};
parse_outcome parse_request(std::string_view in, const config::http_limits& limits);

}  // namespace otpd::http
