// The HTTP server's read path (daemon/http/request_reader: what server.cpp does with the bytes
// of a request before routing) on arbitrary bytes. Every input is need_more, refused with one of
// the statuses the server answers before routing, or a complete request that meets RFC 9112:
// HTTP/1.0 or 1.1, one Host in 1.1, a Transfer-Encoding that ends in chunked alone, an
// absolute path, a body within the limit. A complete request's end is fixed by its own bytes
// (nothing after it changes it): what smuggling needs to break.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/http/request_reader.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace http = otpd::http;
using state = http::parse_outcome::state;

namespace {

otpd::config::http_limits fuzz_limits() {
  otpd::config::http_limits l;
  l.max_header_bytes = 2048;  // small enough for the fuzzer to cross
  l.max_body_bytes = 1024;
  return l;
}

bool answered_before_routing(unsigned status) {
  return status == 204 || status == 400 || status == 413 || status == 414 || status == 431 ||
         status == 505;
}

void check_complete(const http::parse_outcome& r, std::string_view in,
                    const otpd::config::http_limits& limits) {
  const http::request& q = r.req;
  FUZZ_CHECK(r.consumed <= in.size());
  FUZZ_CHECK(q.version == 10 || q.version == 11);
  if (q.version == 11) FUZZ_CHECK(q.headers.get_all("Host").size() == 1);
  FUZZ_CHECK(http::acceptable_transfer_encoding(q.headers.get_all("Transfer-Encoding"), q.version));
  FUZZ_CHECK(q.path.starts_with('/'));
  FUZZ_CHECK(q.body.size() <= limits.max_body_bytes);
  // No field the server would take apart carries a NUL, CR or LF.
  for (const auto& [name, value] : q.headers) {
    FUZZ_CHECK(value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
    FUZZ_CHECK(!name.empty());
  }
  // The same request alone: complete again, the same body, the same bytes consumed.
  const auto again = http::parse_request(in.substr(0, r.consumed), limits);
  FUZZ_CHECK(again.result == state::complete);
  FUZZ_CHECK(again.consumed == r.consumed);
  FUZZ_CHECK(again.req.body == q.body);
  FUZZ_CHECK(again.req.target == q.target);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  static const otpd::config::http_limits limits = fuzz_limits();
  const http::parse_outcome r = http::parse_request(in, limits);
  switch (r.result) {
    case state::need_more:
      FUZZ_CHECK(!r.early);
      break;
    case state::refused:
      FUZZ_CHECK(r.early.has_value());
      FUZZ_CHECK(answered_before_routing(r.early->status));
      // Only OPTIONS * and a bad query escape leave the connection usable: the rest close.
      if (!r.close) FUZZ_CHECK(r.early->status == 204 || r.early->status == 400);
      if (r.early->status == 204) FUZZ_CHECK(r.req.method == http::method::options);
      break;
    case state::complete:
      check_complete(r, in, limits);
      break;
  }
  return 0;
}
