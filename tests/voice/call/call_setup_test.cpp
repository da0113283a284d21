// The call's parameters before any socket: the trunk checked, the INVITE's URIs and Via.
#include "voice/call/detail/call_setup.hpp"

#include <gtest/gtest.h>

namespace otpd::voice::detail {
namespace {

trunk_config trunk(std::string uri) {
  trunk_config cfg;
  cfg.uri = std::move(uri);
  cfg.local_address = "192.0.2.10";
  return cfg;
}

TEST(call_setup, a_trunk_uri_without_port_or_transport_is_udp_on_5060) {
  trunk_target t;
  ASSERT_EQ(parse_trunk(trunk("sip:carrier.example"), t), "");
  EXPECT_FALSE(t.tcp);
  EXPECT_EQ(t.hop_port, 5060);
  EXPECT_EQ(t.hop_name, "carrier.example:5060");
  EXPECT_EQ(t.local.to_string(), "192.0.2.10");
}

TEST(call_setup, the_uri_transport_wins_over_the_configured_one) {
  trunk_config cfg = trunk("sip:carrier.example:5070;transport=TCP");
  cfg.transport = "udp";
  trunk_target t;
  ASSERT_EQ(parse_trunk(cfg, t), "");
  EXPECT_TRUE(t.tcp);
  EXPECT_EQ(t.hop_name, "carrier.example:5070");
  cfg = trunk("sip:carrier.example");
  cfg.transport = "TCP";
  ASSERT_EQ(parse_trunk(cfg, t), "");
  EXPECT_TRUE(t.tcp);
}

TEST(call_setup, a_trunk_that_cannot_be_used_says_why) {
  trunk_target t;
  EXPECT_EQ(parse_trunk(trunk("not a uri"), t), "invalid trunk uri");
  EXPECT_EQ(parse_trunk(trunk("sip:carrier.example;transport=tls"), t), "unsupported transport");
  trunk_config cfg = trunk("sip:carrier.example");
  cfg.local_address = "localhost";  // a name, not an address
  EXPECT_EQ(parse_trunk(cfg, t), "invalid local address");
}

TEST(call_setup, the_request_uri_uses_the_domain_and_from_the_caller_id) {
  trunk_config cfg = trunk("sip:10.1.1.1:5080");
  cfg.domain = "carrier.example";
  cfg.caller_id = "+8428000000";
  cfg.username = "acct";
  trunk_target t;
  ASSERT_EQ(parse_trunk(cfg, t), "");
  const sip::uac_call_params p = call_params(cfg, t, 40112, "84912345678", "v=0\r\n");
  EXPECT_EQ(p.request_uri, "sip:84912345678@carrier.example");
  EXPECT_EQ(p.to_uri, p.request_uri);
  EXPECT_EQ(p.from_uri, "sip:+8428000000@carrier.example");
  EXPECT_EQ(p.contact_uri, "sip:+8428000000@192.0.2.10:40112");
  EXPECT_EQ(p.outbound_proxy, "sip:10.1.1.1:5080");
  EXPECT_EQ(p.via_host, "192.0.2.10");
  EXPECT_EQ(p.via_port, 40112);
  EXPECT_EQ(p.transport, "UDP");
  EXPECT_EQ(p.credentials.username, "acct");
  EXPECT_EQ(p.sdp_offer, "v=0\r\n");
  EXPECT_EQ(p.timers.t1, cfg.t1);
  EXPECT_EQ(p.ring_timeout, cfg.ring_timeout);
}

TEST(call_setup, without_a_domain_the_next_hop_and_our_address_are_used) {
  trunk_config cfg = trunk("sip:carrier.example:5080;transport=tcp");
  cfg.local_address = "2001:db8::10";
  trunk_target t;
  ASSERT_EQ(parse_trunk(cfg, t), "");
  const sip::uac_call_params p = call_params(cfg, t, 5999, "callee", "");
  EXPECT_EQ(p.request_uri, "sip:callee@carrier.example:5080");
  EXPECT_EQ(p.from_uri, "sip:otpd@[2001:db8::10]");  // no caller id: "otpd"
  EXPECT_EQ(p.contact_uri, "sip:otpd@[2001:db8::10]:5999;transport=tcp");
  EXPECT_EQ(p.via_host, "[2001:db8::10]");
  EXPECT_EQ(p.transport, "TCP");
}

TEST(call_setup, the_offer_names_our_address_and_rtp_port) {
  const media::offer_params a = media_offer(boost::asio::ip::make_address("192.0.2.10"), 40000);
  const media::offer_params b = media_offer(boost::asio::ip::make_address("192.0.2.10"), 40000);
  EXPECT_EQ(a.address, "192.0.2.10");
  EXPECT_EQ(a.port, 40000);
  EXPECT_EQ(a.session_version, a.session_id);
  EXPECT_NE(a.session_id, b.session_id);  // 63 random bits each
}

TEST(call_setup, unbracket_strips_ipv6_brackets_only) {
  EXPECT_EQ(unbracket("[::1]"), "::1");
  EXPECT_EQ(unbracket("carrier.example"), "carrier.example");
  EXPECT_EQ(unbracket("["), "[");
}

}  // namespace
}  // namespace otpd::voice::detail
