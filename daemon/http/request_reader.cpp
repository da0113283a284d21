#include "daemon/http/request_reader.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "daemon/http/problem.hpp"

namespace otpd::http {

namespace bhttp = boost::beast::http;

void apply_limits(request_parser& p, const config::http_limits& limits) {
  p.header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  p.body_limit(limits.max_body_bytes);
}

response parse_error_response(const boost::system::error_code& ec, const request_parser& p,
                              const config::http_limits& limits, std::string_view unparsed,
                              bool in_header) {
  if (ec == bhttp::error::body_limit) {
    return problem(413, "content_too_large", {},
                   "the request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes",
                   {{"max_body_bytes", limits.max_body_bytes}});
  }
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    // RFC 9112 §3: a request line too long for us is 414; fields too large are 431 (RFC
    // 6585 §5). The parser stores the request line as soon as it has it whole.
    if (p.get().method_string().empty() && p.get().target().empty()) {
      return problem(
          414, "uri_too_long", {},
          "the request line exceeds " + std::to_string(limits.max_header_bytes) + " bytes");
    }
    return problem(
        431, "header_fields_too_large", {},
        "the request header section exceeds " + std::to_string(limits.max_header_bytes) + " bytes",
        {{"max_header_bytes", limits.max_header_bytes}});
  }
  if (ec == bhttp::error::bad_version) {
    // Beast says bad_version both for "HTTP/2.0" in a well-formed request-line, a version we
    // do not serve, and for a request-line that is malformed (a bare LF ending, a trailing
    // space, "HTTP/1.10"): that one is 400 (RFC 9112 §3). The line is still unparsed.
    if (is_other_major_version(unparsed)) {
      return problem(505, "http_version_not_supported", {}, "only HTTP/1.1 and 1.0 are served");
    }
    return problem(400, "bad_request", {},
                   "malformed request-line: expected METHOD SP TARGET SP HTTP/1.1 CRLF");
  }
  return problem(
      400, "bad_request", {},
      std::string(in_header ? "malformed request header: " : "malformed request body: ") +
          ec.message());
}

void take_head(const request_parser& p, request& req) {
  const auto& msg = p.get();
  req.method_string = std::string(msg.method_string());
  req.method = method_from(req.method_string);
  req.target = std::string(msg.target());
  req.version = msg.version();
  for (const auto& f : msg) req.headers.add(std::string(f.name_string()), std::string(f.value()));
}

namespace {

// Feeds p from in[consumed..] until `done` or an error; need_more stops quietly.
boost::system::error_code feed(request_parser& p, std::string_view in, std::size_t& consumed,
                               bool (request_parser::*done)() const) {
  boost::system::error_code ec;
  while (!(p.*done)() && consumed < in.size()) {
    const std::size_t n =
        p.put(boost::asio::buffer(in.data() + consumed, in.size() - consumed), ec);
    consumed += n;
    if (ec == bhttp::error::need_more) return {};
    if (ec) return ec;
    if (n == 0) break;
  }
  return ec;
}

}  // namespace

parse_outcome parse_request(std::string_view in, const config::http_limits& limits) {
  parse_outcome out;
  request_parser p;
  apply_limits(p, limits);
  const auto refuse = [&](response r, bool close) {
    out.result = parse_outcome::state::refused;
    out.early = std::move(r);
    out.close = close;
    return out;
  };
  if (auto ec = feed(p, in, out.consumed, &request_parser::is_header_done)) {
    if (ec == bhttp::error::body_limit) take_head(p, out.req);  // the header itself was fine
    return refuse(parse_error_response(ec, p, limits, in.substr(out.consumed), true), true);
  }
  if (!p.is_header_done()) return out;
  take_head(p, out.req);
  if (auto v = check_head(out.req); v.early) return refuse(std::move(*v.early), v.close);
  if (auto ec = feed(p, in, out.consumed, &request_parser::is_done)) {
    return refuse(parse_error_response(ec, p, limits, {}, false), true);
  }
  if (!p.is_done()) return out;
  out.req.body = std::move(p.get().body());
  out.result = parse_outcome::state::complete;
  return out;
}

}  // namespace otpd::http
