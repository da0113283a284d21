#include "voice/sip/headers.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "voice/sip/ids.hpp"
#include "voice/sip/status.hpp"
#include "voice/sip/uri.hpp"

namespace otpd::sip {
namespace {

TEST(sip_via, request_form_with_rport_without_value) {
  via v;
  ASSERT_FALSE(parse_via("SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport", v));
  EXPECT_EQ(v.protocol, "SIP/2.0");
  EXPECT_EQ(v.transport, "UDP");
  EXPECT_EQ(v.host, "192.0.2.10");
  EXPECT_EQ(v.port, 5062);
  EXPECT_EQ(v.branch(), "z9hG4bK776asdhds");
  EXPECT_TRUE(v.has_rport());
  EXPECT_EQ(v.rport(), std::nullopt);
  EXPECT_EQ(v.received(), "");
  EXPECT_EQ(to_string(v), "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport");
}

TEST(sip_via, response_form_with_rport_and_received) {
  via v;
  // RFC 3581 §4: the server fills in rport and received.
  ASSERT_FALSE(parse_via(
      "SIP/2.0/tcp [2001:db8::9]:5070 ; received=198.51.100.7 ;rport=40312;branch=z9hG4bKx", v));
  EXPECT_EQ(v.transport, "TCP");
  EXPECT_EQ(v.host, "[2001:db8::9]");
  EXPECT_EQ(v.port, 5070);
  EXPECT_EQ(v.received(), "198.51.100.7");
  EXPECT_EQ(v.rport(), 40312);
  EXPECT_EQ(v.branch(), "z9hG4bKx");
}

TEST(sip_via, without_port_or_params) {
  via v;
  ASSERT_FALSE(parse_via("SIP/2.0/UDP pc33.atlanta.com", v));
  EXPECT_EQ(v.port, std::nullopt);
  EXPECT_TRUE(v.params.empty());
  EXPECT_FALSE(v.has_rport());
}

TEST(sip_via, malformed) {
  via v;
  for (const char* bad :
       {"", "SIP/2.0", "SIP/2.0/UDP", "SIP/2.0 UDP host", "SIP/2.0/UDP host:99999",
        "SIP/2.0/UDP host;;", "SIP/2.0/UDP host;branch=", "SIP/2.0/UDP host junk",
        "SIP/2.0/UDP [::1", "SIP/2.0/UDP host:"}) {
    EXPECT_EQ(parse_via(bad, v), errc::malformed_via) << bad;
  }
}

TEST(sip_name_addr, with_display_name_and_params_inside_and_outside) {
  name_addr n;
  ASSERT_FALSE(
      parse_name_addr(R"("Bob \"B\"" <sip:bob@biloxi.com;transport=tcp>;tag=a6c85cf;x)", n));
  EXPECT_EQ(n.display_name, "Bob \"B\"");
  EXPECT_EQ(n.uri, "sip:bob@biloxi.com;transport=tcp");
  EXPECT_EQ(n.tag(), "a6c85cf");
  ASSERT_EQ(n.params.size(), 2u);
  EXPECT_FALSE(n.params[1].value);
  EXPECT_EQ(to_string(n), R"("Bob \"B\"" <sip:bob@biloxi.com;transport=tcp>;tag=a6c85cf;x)");
  uri u;
  ASSERT_FALSE(parse_uri(n.uri, u));
  EXPECT_EQ(u.transport(), "tcp");
}

TEST(sip_name_addr, unquoted_display_name_and_bare_brackets) {
  name_addr n;
  ASSERT_FALSE(parse_name_addr("Alice Smith <sip:alice@atlanta.com>", n));
  EXPECT_EQ(n.display_name, "Alice Smith");
  EXPECT_EQ(n.tag(), "");
  ASSERT_FALSE(parse_name_addr("<sip:alice@atlanta.com>;tag=1928301774", n));
  EXPECT_EQ(n.display_name, "");
  EXPECT_EQ(n.tag(), "1928301774");
  EXPECT_EQ(to_string(n), "<sip:alice@atlanta.com>;tag=1928301774");
}

TEST(sip_name_addr, addr_spec_params_belong_to_the_header) {
  name_addr n;
  // RFC 3261 §20.10: without angle brackets, ;tag is a header parameter.
  ASSERT_FALSE(parse_name_addr("sip:alice@atlanta.com;tag=88sja8x", n));
  EXPECT_EQ(n.uri, "sip:alice@atlanta.com");
  EXPECT_EQ(n.tag(), "88sja8x");
  EXPECT_EQ(to_string(n), "<sip:alice@atlanta.com>;tag=88sja8x");
}

TEST(sip_name_addr, malformed) {
  name_addr n;
  for (const char* bad :
       {"", "\"Bob <sip:bob@b.com>", "<sip:bob@b.com", "Bell, A <sip:a@b>", "\"Bob\" sip:bob@b.com",
        "<>", "<sip:a@b>;", "<sip:a@b>;tag=\"x", "bob"}) {
    EXPECT_EQ(parse_name_addr(bad, n), errc::malformed_name_addr) << bad;
  }
}

TEST(sip_cseq, parse_and_print) {
  cseq c;
  ASSERT_FALSE(parse_cseq("314159 INVITE", c));
  EXPECT_EQ(c.number, 314159u);
  EXPECT_EQ(c.method, "INVITE");
  EXPECT_EQ(to_string(c), "314159 INVITE");
  ASSERT_FALSE(parse_cseq("2147483647 BYE", c));
  for (const char* bad : {"", "INVITE", "1", "1INVITE", "2147483648 INVITE", "-1 INVITE",
                          "36893488147419103232 REGISTER", "1 IN VITE"}) {
    EXPECT_EQ(parse_cseq(bad, c), errc::malformed_cseq) << bad;
  }
}

TEST(sip_uri, full_form) {
  uri u;
  ASSERT_FALSE(parse_uri("sips:alice:secret@Atlanta.com:5061;transport=tls;lr?subject=x", u));
  EXPECT_EQ(u.scheme, "sips");
  EXPECT_EQ(u.user, "alice");
  EXPECT_EQ(u.password, "secret");
  EXPECT_EQ(u.host, "Atlanta.com");
  EXPECT_EQ(u.port, 5061);
  EXPECT_EQ(u.transport(), "tls");
  EXPECT_TRUE(u.lr());
  EXPECT_EQ(u.headers, "subject=x");
  EXPECT_EQ(to_string(u), "sips:alice:secret@Atlanta.com:5061;transport=tls;lr?subject=x");
}

TEST(sip_uri, host_only_ipv6_and_kamailio_record_route) {
  uri u;
  ASSERT_FALSE(parse_uri("SIP:[2001:db8::1]", u));
  EXPECT_EQ(u.scheme, "sip");
  EXPECT_EQ(u.host, "[2001:db8::1]");
  EXPECT_EQ(u.port, std::nullopt);
  EXPECT_TRUE(u.user.empty());
  ASSERT_FALSE(parse_uri("sip:127.0.0.1:5060;lr=on;ftag=e1f2;did=4a1.b2", u));
  EXPECT_TRUE(u.lr());
  EXPECT_EQ(*find_param(u.params, "ftag")->value, "e1f2");
  // RFC 4475 §3.1.1.8: ';' and an escaped '@' in the user part.
  ASSERT_FALSE(parse_uri("sip:user;par=u%40example.net@example.com", u));
  EXPECT_EQ(u.user, "user;par=u%40example.net");
  EXPECT_EQ(u.host, "example.com");
}

TEST(sip_uri, malformed) {
  uri u;
  for (const char* bad : {"", "sip:", "tel:+15551234", "sip:@host", "sip:host:70000", "sip:host;",
                          "sip:user@", "sip:a b@host", "http://x", "sip:[::1"}) {
    EXPECT_EQ(parse_uri(bad, u), errc::malformed_uri) << bad;
  }
}

TEST(sip_ids, from_the_callers_random_source) {
  std::mt19937_64 rng(7);
  const random_source random = [&] { return rng(); };
  const std::string b = make_branch(random);
  EXPECT_EQ(b.substr(0, 7), "z9hG4bK");
  EXPECT_EQ(b.size(), 7u + 32u);
  EXPECT_EQ(make_tag(random).size(), 16u);
  const std::string id = make_call_id(random, "otpd.example.org");
  EXPECT_EQ(id.size(), 32u + 1u + 16u);
  EXPECT_EQ(id.substr(32), "@otpd.example.org");
  EXPECT_EQ(make_cnonce(random).size(), 32u);
  // Deterministic for a given source, distinct across calls.
  std::mt19937_64 a(1), c(1);
  EXPECT_EQ(make_branch([&] { return a(); }), make_branch([&] { return c(); }));
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(make_branch(random));
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace otpd::sip
