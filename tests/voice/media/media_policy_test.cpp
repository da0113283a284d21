#include "voice/media/media_policy.hpp"

#include <gtest/gtest.h>

namespace otpd::media {
namespace {

using namespace std::chrono_literals;

ip_network net(std::string_view text) {
  std::string why;
  auto n = parse_network(text, why);
  EXPECT_TRUE(n) << text << ": " << why;
  return n.value_or(ip_network{});
}

media_allow_list trunk_at(std::initializer_list<std::string_view> networks, bool loopback = false) {
  media_allow_list a;
  for (auto n : networks) a.networks.push_back(net(n));
  a.loopback_allowed = loopback;
  return a;
}

std::string refused(std::string_view text) {
  std::string why;
  EXPECT_FALSE(parse_network(text, why)) << text;
  return why;
}

TEST(media_policy, parses_addresses_and_reads_v4_mapped_as_v4) {
  const auto a = parse_address("192.0.2.7");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->v6);
  EXPECT_EQ(to_string(*a), "192.0.2.7");
  const auto m = parse_address("::ffff:192.0.2.7");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, *a);
  const auto b = parse_address("2001:db8::1");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->v6);
  EXPECT_EQ(to_string(*b), "2001:db8::1");
  for (std::string_view bad : {"", "example.com", "192.0.2", "192.0.2.256", "[::1]", "fe80::1%eth0",
                               " 192.0.2.7", "192.0.2.7 "}) {
    EXPECT_FALSE(parse_address(bad)) << bad;
  }
}

TEST(media_policy, parses_networks_and_refuses_bad_ones) {
  EXPECT_EQ(net("10.0.0.0/8").prefix, 8u);
  EXPECT_EQ(net("192.0.2.7").prefix, 32u);
  EXPECT_EQ(net("2001:db8::/32").prefix, 32u);
  EXPECT_EQ(net("2001:db8::1").prefix, 128u);
  EXPECT_EQ(net("0.0.0.0/0").prefix, 0u);
  EXPECT_EQ(net("::/0").prefix, 0u);
  EXPECT_EQ(net("192.0.2.7/32").prefix, 32u);
  EXPECT_EQ(net("2001:db8::1/128").prefix, 128u);
  EXPECT_NE(refused("10.0.0.0/33").find("0 to 32"), std::string::npos);
  EXPECT_NE(refused("2001:db8::/129").find("0 to 128"), std::string::npos);
  EXPECT_NE(refused("10.1.0.0/8").find("10.0.0.0/8"), std::string::npos);
  EXPECT_NE(refused("2001:db8::1/64").find("2001:db8::/64"), std::string::npos);
  EXPECT_NE(refused("10.0.0.0/").find("prefix"), std::string::npos);
  EXPECT_NE(refused("10.0.0.0/-1").find("prefix"), std::string::npos);
  EXPECT_NE(refused("10.0.0.0/+8").find("prefix"), std::string::npos);
  EXPECT_NE(refused("10.0.0.0/8x").find("prefix"), std::string::npos);
  EXPECT_NE(refused("10.0.0.0/8/8").find("prefix"), std::string::npos);
  EXPECT_NE(refused("carrier.example/24").find("address"), std::string::npos);
  EXPECT_NE(refused("").find("address"), std::string::npos);
  EXPECT_NE(refused("/8").find("address"), std::string::npos);
}

TEST(media_policy, contains_at_the_edges_of_a_prefix) {
  const ip_network n = net("198.51.100.64/26");
  EXPECT_FALSE(contains(n, *parse_address("198.51.100.63")));
  EXPECT_TRUE(contains(n, *parse_address("198.51.100.64")));
  EXPECT_TRUE(contains(n, *parse_address("198.51.100.127")));
  EXPECT_FALSE(contains(n, *parse_address("198.51.100.128")));
  const ip_network odd = net("203.0.113.6/31");  // a prefix that is not a whole byte
  EXPECT_FALSE(contains(odd, *parse_address("203.0.113.5")));
  EXPECT_TRUE(contains(odd, *parse_address("203.0.113.6")));
  EXPECT_TRUE(contains(odd, *parse_address("203.0.113.7")));
  EXPECT_FALSE(contains(odd, *parse_address("203.0.113.8")));
  const ip_network six = net("2001:db8:0:8::/61");
  EXPECT_TRUE(contains(six, *parse_address("2001:db8:0:f:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(contains(six, *parse_address("2001:db8:0:10::")));
  EXPECT_FALSE(contains(six, *parse_address("2001:db8:0:7:ffff:ffff:ffff:ffff")));
  // A family never matches the other, not even /0.
  EXPECT_TRUE(contains(net("0.0.0.0/0"), *parse_address("192.0.2.1")));
  EXPECT_FALSE(contains(net("0.0.0.0/0"), *parse_address("2001:db8::1")));
  EXPECT_FALSE(contains(net("::/0"), *parse_address("192.0.2.1")));
}

TEST(media_policy, by_default_only_the_next_hop) {
  const media_allow_list hop = trunk_at({"198.51.100.10"});
  EXPECT_EQ(check_media_target("198.51.100.10", 4000, hop), media_refusal::none);
  EXPECT_EQ(check_media_target("198.51.100.11", 4000, hop), media_refusal::not_allowed);
  EXPECT_EQ(check_media_target("203.0.113.9", 4000, hop), media_refusal::not_allowed);
  EXPECT_EQ(check_media_target("::ffff:198.51.100.10", 4000, hop), media_refusal::none);
  EXPECT_EQ(check_media_target("2001:db8::10", 4000, hop), media_refusal::not_allowed);
  EXPECT_EQ(check_media_target("198.51.100.10", 0, hop), media_refusal::bad_port);
  EXPECT_EQ(check_media_target("198.51.100.10", 1, hop), media_refusal::none);
  EXPECT_EQ(check_media_target("198.51.100.10", 65535, hop), media_refusal::none);
  EXPECT_EQ(check_media_target("media.carrier.example", 4000, hop), media_refusal::not_an_ip);
  EXPECT_EQ(check_media_target("", 4000, hop), media_refusal::not_an_ip);
  EXPECT_EQ(check_media_target("198.51.100.11", 4000, {}), media_refusal::not_allowed);
}

TEST(media_policy, media_networks_replace_the_next_hop) {
  const media_allow_list gw = trunk_at({"203.0.113.0/24", "2001:db8:1::/48"});
  EXPECT_EQ(check_media_target("203.0.113.0", 4000, gw), media_refusal::none);
  EXPECT_EQ(check_media_target("203.0.113.255", 4000, gw), media_refusal::none);
  EXPECT_EQ(check_media_target("203.0.114.0", 4000, gw), media_refusal::not_allowed);
  EXPECT_EQ(check_media_target("203.0.112.255", 4000, gw), media_refusal::not_allowed);
  EXPECT_EQ(check_media_target("2001:db8:1:ffff::1", 4000, gw), media_refusal::none);
  EXPECT_EQ(check_media_target("2001:db8:2::1", 4000, gw), media_refusal::not_allowed);
}

// Every special-use range is refused even when the allow-list names it (0.0.0.0/0 and ::/0).
TEST(media_policy, special_use_ranges_are_refused_even_when_listed) {
  const media_allow_list all = trunk_at({"0.0.0.0/0", "::/0"}, true);
  const std::pair<std::string_view, media_refusal> cases[] = {
      {"0.0.0.0", media_refusal::unspecified},
      {"0.255.255.255", media_refusal::unspecified},
      {"::", media_refusal::unspecified},
      {"::ffff:0.0.0.0", media_refusal::unspecified},
      {"255.255.255.255", media_refusal::broadcast},
      {"224.0.0.0", media_refusal::multicast},
      {"224.0.0.1", media_refusal::multicast},
      {"239.255.255.255", media_refusal::multicast},
      {"ff02::1", media_refusal::multicast},
      {"ff00::", media_refusal::multicast},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", media_refusal::multicast},
      {"169.254.0.0", media_refusal::link_local},
      {"169.254.169.254", media_refusal::link_local},
      {"169.254.255.255", media_refusal::link_local},
      {"::ffff:169.254.169.254", media_refusal::link_local},
      {"fe80::", media_refusal::link_local},
      {"fe80::1", media_refusal::link_local},
      {"febf:ffff::1", media_refusal::link_local},
  };
  for (const auto& [address, why] : cases) {
    EXPECT_EQ(check_media_target(address, 4000, all), why) << address;
  }
  // Just outside each range.
  for (std::string_view ok :
       {"1.0.0.0", "223.255.255.255", "240.0.0.0", "255.255.255.254", "169.253.255.255",
        "169.255.0.0", "fec0::1", "fe7f::1", "::2", "feff::1", "128.0.0.1", "126.255.255.255"}) {
    EXPECT_EQ(check_media_target(ok, 4000, all), media_refusal::none) << ok;
  }
}

TEST(media_policy, loopback_only_for_a_trunk_on_loopback) {
  const media_allow_list everything = trunk_at({"0.0.0.0/0", "::/0"});
  for (std::string_view lo :
       {"127.0.0.1", "127.0.0.2", "127.255.255.255", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_EQ(check_media_target(lo, 4000, everything), media_refusal::loopback) << lo;
  }
  // A trunk whose next hop is 127.0.0.1 (tests, the sandbox): loopback is possible, the
  // allow-list still decides.
  const media_allow_list local = trunk_at({"127.0.0.1"}, true);
  EXPECT_EQ(check_media_target("127.0.0.1", 4000, local), media_refusal::none);
  EXPECT_EQ(check_media_target("127.0.0.2", 4000, local), media_refusal::not_allowed);
  EXPECT_EQ(check_media_target("::1", 4000, local), media_refusal::not_allowed);
  const media_allow_list local6 = trunk_at({"::1"}, true);
  EXPECT_EQ(check_media_target("::1", 4000, local6), media_refusal::none);
  EXPECT_EQ(check_media_target("127.0.0.2", 4000, trunk_at({"127.0.0.2/32"}, true)),
            media_refusal::none);
}

TEST(media_policy, every_refusal_has_a_name) {
  for (int r = 0; r <= static_cast<int>(media_refusal::not_allowed); ++r) {
    EXPECT_STRNE(to_string(static_cast<media_refusal>(r)), "?") << r;
  }
}

TEST(media_policy, packet_limit_follows_the_maximum_call_length) {
  // 180 s of 20 ms packets is 9000; the margin is 5 % and a second.
  EXPECT_EQ(rtp_packet_limit(180s, 20ms), 9000u + 450u + 50u);
  EXPECT_EQ(rtp_packet_limit(10s, 20ms), 500u + 25u + 50u);
  EXPECT_EQ(rtp_packet_limit(10001ms, 20ms), 501u + 25u + 50u);  // a partial packet counts
  EXPECT_GT(rtp_packet_limit(600s, 20ms), 30000u);
  EXPECT_LT(rtp_packet_limit(600s, 20ms), 32000u);
  EXPECT_EQ(rtp_packet_limit(0s, 20ms), 0u);
  EXPECT_EQ(rtp_packet_limit(10s, 0ms), 0u);
}

}  // namespace
}  // namespace otpd::media
