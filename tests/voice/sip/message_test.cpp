#include "voice/sip/message.hpp"

#include <gtest/gtest.h>

#include "golden.hpp"
#include "voice/sip/headers.hpp"
#include "voice/sip/status.hpp"
#include "voice/sip/uri.hpp"

namespace otpd::sip {
namespace {

using boost::system::error_code;

message parsed(const std::string& wire) {
  message m;
  const error_code ec = parse(wire, m);
  EXPECT_FALSE(ec) << ec.message();
  return m;
}

std::string crlf(std::string_view text) {
  std::string r;
  for (const char c : text) {
    if (c == '\n') r += '\r';
    r += c;
  }
  return r;
}

TEST(sip_message, every_valid_golden_parses_and_round_trips) {
  for (const test::golden& g : test::valid_messages()) {
    SCOPED_TRACE(g.name);
    message m;
    const error_code ec = parse(g.wire, m);
    ASSERT_FALSE(ec) << ec.message();
    // serialize() writes a canonical form that parses back to the same message.
    message again;
    ASSERT_FALSE(parse(serialize(m), again));
    EXPECT_EQ(again, m);
  }
}

TEST(sip_message, every_invalid_golden_gives_its_error) {
  for (const test::bad_golden& g : test::invalid_messages()) {
    SCOPED_TRACE(g.name);
    message m;
    EXPECT_EQ(parse(g.wire, m), g.expected);
  }
}

TEST(sip_message, truncation_at_every_offset_never_crashes) {
  // Every prefix of every golden is either an error or a message (a cut in the body of a
  // message without Content-Length), never a crash.
  for (const test::golden& g : test::valid_messages()) {
    for (std::size_t n = 0; n < g.wire.size(); ++n) {
      message m;
      const error_code ec = parse(std::string_view(g.wire).substr(0, n), m);
      EXPECT_TRUE(ec) << g.name << " cut at " << n;
    }
  }
}

TEST(sip_message, rfc3261_invite_fields) {
  const message m = parsed(test::valid_messages()[0].wire);
  ASSERT_TRUE(m.is_request());
  EXPECT_EQ(m.request()->method, "INVITE");
  EXPECT_EQ(m.request()->uri, "sip:bob@biloxi.com");
  EXPECT_EQ(m.method(), "INVITE");
  EXPECT_EQ(m.code(), 0);
  EXPECT_EQ(*m.find("call-id"), "a84b4c76e66710");
  EXPECT_EQ(*m.find("i"), "a84b4c76e66710");
  EXPECT_EQ(*m.find("CONTENT-TYPE"), "application/sdp");
  EXPECT_EQ(m.body.size(), 146u);
  EXPECT_EQ(m.body.substr(0, 5), "v=0\r\n");
  EXPECT_EQ(m.find("Subject"), nullptr);
}

TEST(sip_message, response_fields_and_multiple_via_in_order) {
  const message m = parsed(test::valid_messages()[1].wire);
  ASSERT_FALSE(m.is_request());
  EXPECT_EQ(m.code(), 180);
  EXPECT_EQ(m.response()->reason, "Ringing");
  EXPECT_EQ(m.method(), "INVITE");
  const auto vias = m.values("via");
  ASSERT_EQ(vias.size(), 3u);
  EXPECT_EQ(vias[0],
            "SIP/2.0/UDP server10.biloxi.com;branch=z9hG4bK4b43c2ff8.1;received=192.0.2.3");
  EXPECT_EQ(vias[2], "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;received=192.0.2.1");
}

TEST(sip_message, comma_separated_route_is_split_in_order) {
  const message m = parsed(test::valid_messages()[2].wire);
  const auto routes = m.values("Route");
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0], "<sip:ss1.atlanta.example.com;lr>");
  EXPECT_EQ(routes[1], "<sip:ss2.biloxi.example.com;lr>");
}

TEST(sip_message, rfc4475_wsinv_folding_case_and_compact_forms) {
  const message m = parsed(test::valid_messages()[3].wire);
  EXPECT_EQ(m.request()->uri, "sip:vivekg@chair-dnrc.example.com;unknownparam");
  EXPECT_EQ(*m.find("Max-Forwards"), "0068");
  EXPECT_EQ(*m.find("Subject"), "");
  EXPECT_EQ(*m.find("NewFangledHeader"), "newfangled value continued newfangled value");
  EXPECT_EQ(*m.find("UnknownHeaderWithUnusualValue"), ";;,,;;,;");
  // Via (full form) then v (compact, two values), in wire order.
  const auto vias = m.values("Via");
  ASSERT_EQ(vias.size(), 3u);
  via v;
  ASSERT_FALSE(parse_via(vias[0], v));
  EXPECT_EQ(v.transport, "UDP");
  EXPECT_EQ(v.host, "192.0.2.2");
  EXPECT_EQ(v.branch(), "390skdjuw");
  ASSERT_FALSE(parse_via(vias[1], v));
  EXPECT_EQ(v.transport, "TCP");
  EXPECT_EQ(v.host, "spindle.example.com");
  EXPECT_EQ(v.branch(), "z9hG4bK9ikj8");
  ASSERT_FALSE(parse_via(vias[2], v));
  EXPECT_EQ(v.host, "192.168.255.111");
  EXPECT_EQ(v.branch(), "z9hG4bK30239");
  // Names are normalised.
  EXPECT_EQ(m.headers[0].name, "To");
  EXPECT_EQ(m.headers[1].name, "From");
  EXPECT_EQ(m.headers[2].name, "Max-Forwards");
  cseq c;
  ASSERT_FALSE(parse_cseq(*m.find("CSeq"), c));
  EXPECT_EQ(c.number, 9u);
  EXPECT_EQ(c.method, "INVITE");
  name_addr from;
  ASSERT_FALSE(parse_name_addr(*m.find("From"), from));
  EXPECT_EQ(from.display_name, "J Rosenberg \\\"");
  EXPECT_EQ(from.tag(), "98asjd8");
  name_addr to;
  ASSERT_FALSE(parse_name_addr(*m.find("To"), to));
  EXPECT_EQ(to.uri, "sip:vivekg@chair-dnrc.example.com");
  EXPECT_EQ(to.tag(), "1918181833n");
  name_addr contact;
  ASSERT_FALSE(parse_name_addr(*m.find("m"), contact));
  EXPECT_EQ(contact.display_name, "Quoted string \"\"");
  ASSERT_EQ(contact.params.size(), 3u);
  EXPECT_EQ(contact.params[2].name, "q");
  EXPECT_EQ(*contact.params[2].value, "0.33");
  EXPECT_EQ(m.body.size(), 150u);
}

TEST(sip_message, rfc4475_intmeth_unusual_method_and_quoted_controls) {
  const message m = parsed(test::valid_messages()[4].wire);
  EXPECT_EQ(m.request()->method, "!interesting-Method0123456789_*+`.%indeed'~");
  name_addr to;
  ASSERT_FALSE(parse_name_addr(*m.find("To"), to));
  EXPECT_EQ(to.display_name, std::string("BEL:\x07 NUL:") + std::string(1, '\0') + " DEL:\x7f");
  via v;
  ASSERT_FALSE(parse_via(*m.find("Via"), v));
  EXPECT_EQ(v.transport, "TOAST");
  EXPECT_EQ(v.branch(), "z9hG4bK-.!%66*_+`'~");
}

TEST(sip_message, reason_phrases_utf8_and_empty) {
  const message a = parsed(test::valid_messages()[7].wire);
  EXPECT_EQ(a.code(), 200);
  EXPECT_EQ(a.response()->reason.substr(0, 11), "= 2**3 * 5*");
  const message b = parsed(test::valid_messages()[8].wire);
  EXPECT_EQ(b.code(), 100);
  EXPECT_EQ(b.response()->reason, "");
  message c;
  EXPECT_FALSE(parse(crlf("SIP/2.0 100\nVia: SIP/2.0/UDP a;branch=z9hG4bKx\nFrom: <sip:a@b>\n"
                          "To: <sip:a@b>\nCall-ID: x\nCSeq: 1 INVITE\n\n"),
                     c));
  EXPECT_EQ(c.code(), 100);
}

TEST(sip_message, datagram_body_follows_content_length) {
  const std::string head = crlf(
      "SIP/2.0 200 OK\nVia: SIP/2.0/UDP a;branch=z9hG4bKx\nFrom: <sip:a@b>;tag=1\n"
      "To: <sip:a@b>;tag=2\nCall-ID: x\nCSeq: 1 INVITE\n");
  message m;
  // RFC 3261 §18.3: extra bytes are dropped.
  ASSERT_FALSE(parse(head + "Content-Length: 3\r\n\r\nabcdef", m));
  EXPECT_EQ(m.body, "abc");
  // Without Content-Length the body is the rest of the datagram.
  ASSERT_FALSE(parse(head + "\r\nabcdef", m));
  EXPECT_EQ(m.body, "abcdef");
  EXPECT_EQ(parse(head + "Content-Length: 7\r\n\r\nabcdef", m), errc::truncated);
  EXPECT_EQ(parse(head + "Content-Length: 3\r\nl: 4\r\n\r\nabcdef", m),
            errc::invalid_content_length);
  EXPECT_EQ(parse(head + "Content-Length: x\r\n\r\n", m), errc::invalid_content_length);
  // Leading CRLFs and bare LF line ends are tolerated.
  ASSERT_FALSE(parse("\r\n\r\n" + head + "l: 0\r\n\r\n", m));
  std::string lf = head;
  std::erase(lf, '\r');
  ASSERT_FALSE(parse(lf + "l: 2\n\nok", m));
  EXPECT_EQ(m.body, "ok");
  EXPECT_EQ(*m.find("To"), "<sip:a@b>;tag=2");
}

TEST(sip_message, limits_are_named_errors) {
  const std::string wire = test::valid_messages()[0].wire;
  message m;
  limits lim;
  lim.max_header_bytes = 100;
  EXPECT_EQ(parse(wire, m, lim), errc::headers_too_large);
  lim = {};
  lim.max_body_bytes = 100;
  EXPECT_EQ(parse(wire, m, lim), errc::body_too_large);
  lim = {};
  lim.max_headers = 5;
  EXPECT_EQ(parse(wire, m, lim), errc::too_many_headers);
  lim.max_headers = 10;
  EXPECT_FALSE(parse(wire, m, lim));
}

TEST(sip_message, serialize_writes_one_correct_content_length) {
  message m = make_request("BYE", "sip:bob@192.0.2.4");
  m.add("Via", "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds10");
  m.add("l", "999");
  m.add("call-id", "a84b4c76e66710");
  m.add("Content-Length", "5");
  m.body = "hello";
  EXPECT_EQ(serialize(m),
            "BYE sip:bob@192.0.2.4 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds10\r\n"
            "Content-Length: 5\r\n"
            "Call-ID: a84b4c76e66710\r\n"
            "\r\nhello");
  message r = make_response(486);
  EXPECT_EQ(serialize(r), "SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n\r\n");
}

TEST(sip_message, header_editing) {
  message m = make_request("INVITE", "sip:a@b");
  m.add("Route", "<sip:p1;lr>");
  m.add("route", "<sip:p2;lr>");
  m.add("Max-Forwards", "70");
  EXPECT_EQ(m.values("ROUTE").size(), 2u);
  m.set("Route", "<sip:p3;lr>");
  ASSERT_EQ(m.values("Route").size(), 1u);
  EXPECT_EQ(m.headers[0].value, "<sip:p3;lr>");
  EXPECT_EQ(m.headers[1].name, "Max-Forwards");
  EXPECT_EQ(m.remove("route"), 1u);
  m.set("v", "SIP/2.0/UDP h");
  EXPECT_EQ(m.headers.back().name, "Via");
  EXPECT_EQ(canonical_header_name("www-authenticate"), "WWW-Authenticate");
  EXPECT_EQ(canonical_header_name("x-my-HEADER"), "X-My-Header");
  EXPECT_EQ(canonical_header_name("K"), "Supported");
}

}  // namespace
}  // namespace otpd::sip
