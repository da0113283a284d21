// The server's read path without sockets (daemon/http/request_reader): the review's smuggling
// and request-line cases, each whole and cut at every byte.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "daemon/http/request_reader.hpp"

namespace otpd::http {
namespace {

using state = parse_outcome::state;

parse_outcome parse(std::string_view in) { return parse_request(in, config::http_limits{}); }

struct refusal {
  const char* name;
  std::string_view bytes;
  unsigned status;
};

TEST(request_reader, smuggling_and_malformed_requests_are_refused_and_closed) {
  static constexpr refusal cases[] = {
      {"te_xchunked",
       "POST /v1/verifications HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"
       "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n",
       400},
      {"te_chunked_identity",
       "POST /v1/verifications HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
       "0\r\n\r\n",
       400},
      {"te_gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
      {"te_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"cl_and_te",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\n",
       400},
      {"cl_differing",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 4\r\n\r\n", 400},
      {"bare_lf", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
      {"trailing_space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
      {"http_1_10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},
      {"no_version", "GET /\r\nHost: a\r\n\r\n", 400},
      {"nul_in_field", std::string_view("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 35), 400},
      {"two_host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"http2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
      {"body_too_large", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999\r\n\r\n", 413},
  };
  for (const refusal& c : cases) {
    const parse_outcome r = parse(c.bytes);
    ASSERT_EQ(r.result, state::refused) << c.name;
    ASSERT_TRUE(r.early) << c.name;
    EXPECT_EQ(r.early->status, c.status) << c.name;
    EXPECT_TRUE(r.close) << c.name;
    // Cut short anywhere, the request is never accepted: more bytes, or the same refusal.
    for (std::size_t n = 0; n < c.bytes.size(); ++n) {
      const parse_outcome p = parse(c.bytes.substr(0, n));
      EXPECT_NE(p.result, state::complete) << c.name << " cut at " << n;
    }
  }
}

TEST(request_reader, a_chunked_post_and_a_pipelined_get) {
  const std::string_view post =
      "POST /v1/verifications?a=1&b=%20x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\n{}\r\n0\r\n\r\n";
  const std::string next = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n";
  const parse_outcome r = parse(std::string(post) + next);
  ASSERT_EQ(r.result, state::complete);
  EXPECT_EQ(r.consumed, post.size());  // the next request is not part of this one
  EXPECT_EQ(r.req.body, "{}");
  EXPECT_EQ(r.req.path, "/v1/verifications");
  ASSERT_EQ(r.req.query.size(), 2u);
  EXPECT_EQ(r.req.query[1].second, " x");
  for (std::size_t n = 0; n < post.size(); ++n) {
    EXPECT_EQ(parse(post.substr(0, n)).result, state::need_more) << "cut at " << n;
  }
}

TEST(request_reader, options_star_and_a_bad_query_keep_the_connection) {
  parse_outcome r = parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(r.result, state::refused);
  EXPECT_EQ(r.early->status, 204u);
  EXPECT_FALSE(r.close);
  r = parse("GET /x?a=%zz HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(r.result, state::refused);
  EXPECT_EQ(r.early->status, 400u);
  EXPECT_FALSE(r.close);
}

TEST(request_reader, header_limits_tell_the_request_line_from_the_fields) {
  config::http_limits l;
  l.max_header_bytes = 64;
  const std::string long_line = "GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n";
  parse_outcome r = parse_request(long_line, l);
  ASSERT_EQ(r.result, state::refused);
  EXPECT_EQ(r.early->status, 414u);
  const std::string long_field =
      "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(100, 'b') + "\r\n\r\n";
  r = parse_request(long_field, l);
  ASSERT_EQ(r.result, state::refused);
  EXPECT_EQ(r.early->status, 431u);
}

}  // namespace
}  // namespace otpd::http
