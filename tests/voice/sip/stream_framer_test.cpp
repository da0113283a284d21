#include "voice/sip/stream_framer.hpp"

#include <gtest/gtest.h>

#include <random>

#include "golden.hpp"
#include "voice/sip/status.hpp"

namespace otpd::sip {
namespace {

using boost::system::error_code;

// Every valid golden, separated by CRLF keep-alives here and there.
std::string stream() {
  std::string s = "\r\n\r\n";
  int i = 0;
  for (const test::golden& g : test::valid_messages()) {
    s += g.wire;
    if (++i % 3 == 0) s += "\r\n";
  }
  return s;
}

std::vector<message> expected() {
  std::vector<message> v;
  for (const test::golden& g : test::valid_messages()) {
    message m;
    EXPECT_FALSE(parse(g.wire, m)) << g.name;
    v.push_back(std::move(m));
  }
  return v;
}

void drain(stream_framer& f, std::vector<message>& out) {
  for (;;) {
    message m;
    error_code ec;
    const bool got = f.next(m, ec);
    ASSERT_FALSE(ec) << ec.message();
    if (!got) return;
    out.push_back(std::move(m));
  }
}

TEST(sip_stream_framer, same_messages_for_every_split_point) {
  const std::string all = stream();
  const auto want = expected();
  for (std::size_t cut = 0; cut <= all.size(); ++cut) {
    stream_framer f;
    std::vector<message> got;
    f.put(std::string_view(all).substr(0, cut));
    drain(f, got);
    f.put(std::string_view(all).substr(cut));
    drain(f, got);
    ASSERT_EQ(got, want) << "split at " << cut;
    EXPECT_EQ(f.buffered(), 0u);
  }
}

TEST(sip_stream_framer, same_messages_one_byte_at_a_time) {
  const std::string all = stream();
  stream_framer f;
  std::vector<message> got;
  for (const char c : all) {
    f.put(std::string_view(&c, 1));
    drain(f, got);
  }
  EXPECT_EQ(got, expected());
  EXPECT_EQ(f.buffered(), 0u);
  EXPECT_EQ(f.keepalives(), 2u + test::valid_messages().size() / 3);
}

TEST(sip_stream_framer, same_messages_with_random_read_sizes) {
  const std::string all = stream();
  std::mt19937 rng(5);
  for (int round = 0; round < 30; ++round) {
    stream_framer f;
    std::vector<message> got;
    for (std::size_t at = 0; at < all.size();) {
      const std::size_t n = std::min<std::size_t>(1 + rng() % 211, all.size() - at);
      f.put(std::string_view(all).substr(at, n));
      at += n;
      drain(f, got);
    }
    ASSERT_EQ(got, expected()) << "round " << round;
  }
}

TEST(sip_stream_framer, content_length_is_required) {
  stream_framer f;
  f.put(
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP a;branch=z9hG4bKx\r\nFrom: <sip:a@b>\r\n"
      "To: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\nbody");
  message m;
  error_code ec;
  EXPECT_FALSE(f.next(m, ec));
  EXPECT_EQ(ec, errc::missing_content_length);
  // Sticky: the stream cannot be resynchronised.
  f.put(test::valid_messages()[0].wire);
  EXPECT_FALSE(f.next(m, ec));
  EXPECT_EQ(ec, errc::missing_content_length);
}

TEST(sip_stream_framer, headers_limit_before_the_end_of_headers_arrives) {
  limits lim;
  lim.max_header_bytes = 64;
  stream_framer f(lim);
  message m;
  error_code ec;
  f.put("INVITE sip:a@b SIP/2.0\r\nX-Pad: ");
  EXPECT_FALSE(f.next(m, ec));
  EXPECT_FALSE(ec);
  f.put(std::string(100, 'a'));  // no end of headers in sight
  EXPECT_FALSE(f.next(m, ec));
  EXPECT_EQ(ec, errc::headers_too_large);
}

TEST(sip_stream_framer, body_limit_on_content_length_alone) {
  limits lim;
  lim.max_body_bytes = 10;
  stream_framer f(lim);
  f.put(
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP a;branch=z9hG4bKx\r\nFrom: <sip:a@b>\r\n"
      "To: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 1000000\r\n\r\n");
  message m;
  error_code ec;
  EXPECT_FALSE(f.next(m, ec));
  EXPECT_EQ(ec, errc::body_too_large);
}

TEST(sip_stream_framer, too_many_headers_and_malformed) {
  limits lim;
  lim.max_headers = 3;
  stream_framer f(lim);
  f.put(test::valid_messages()[0].wire);
  message m;
  error_code ec;
  EXPECT_FALSE(f.next(m, ec));
  EXPECT_EQ(ec, errc::too_many_headers);
  stream_framer g;
  g.put("HELLO\r\n\r\n");
  EXPECT_FALSE(g.next(m, ec));
  EXPECT_EQ(ec, errc::malformed_start_line);
}

TEST(sip_stream_framer, invalid_goldens_give_errors_not_crashes) {
  for (const test::bad_golden& g : test::invalid_messages()) {
    stream_framer f;
    f.put(g.wire);
    message m;
    error_code ec;
    // clerr waits for its body; every other one is an error at once.
    const bool got = f.next(m, ec);
    EXPECT_FALSE(got) << g.name;
    if (g.expected != errc::truncated) {
      EXPECT_TRUE(ec) << g.name;
    }
  }
}

}  // namespace
}  // namespace otpd::sip
