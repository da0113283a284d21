#include "common/ip_class.hpp"

#include <gtest/gtest.h>

#include <utility>

namespace otpd {
namespace {

ip_range range_of(std::string_view text) {
  const auto a = parse_ip_address(text);
  EXPECT_TRUE(a) << text;
  return a ? special_range(*a) : ip_range::none;
}

TEST(ip_class, parses_strict_text_and_reads_v4_mapped_as_v4) {
  const auto a = parse_ip_address("192.0.2.7");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->v6);
  EXPECT_EQ(to_string(*a), "192.0.2.7");
  EXPECT_EQ(parse_ip_address("::ffff:192.0.2.7"), a);
  const auto b = parse_ip_address("2001:db8::1");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->v6);
  EXPECT_EQ(to_string(*b), "2001:db8::1");
  for (std::string_view bad : {"", "example.com", "192.0.2", "2852039166", "0xa9.0xfe.0xa9.0xfe",
                               "[::1]", "fe80::1%eth0", " 192.0.2.7"}) {
    EXPECT_FALSE(parse_ip_address(bad)) << bad;
  }
}

TEST(ip_class, a_literal_is_read_as_the_resolver_reads_it) {
  const auto metadata = parse_ip_address("169.254.169.254");
  EXPECT_EQ(parse_ip_literal("2852039166"), metadata);
  EXPECT_EQ(parse_ip_literal("0xa9.0xfe.0xa9.0xfe"), metadata);
  EXPECT_EQ(parse_ip_literal("::ffff:169.254.169.254"), metadata);
  EXPECT_EQ(parse_ip_literal("fe80::1%25eth0"), parse_ip_address("fe80::1"));
  EXPECT_FALSE(parse_ip_literal("metadata.google.internal"));
  EXPECT_FALSE(parse_ip_literal(""));
  EXPECT_FALSE(parse_ip_literal(std::string(101, '1')));
}

TEST(ip_class, bytes_in_network_order_unmap_v4_mapped_addresses) {
  EXPECT_EQ(ip_address_of(std::array<std::uint8_t, 4>{169, 254, 1, 2}),
            parse_ip_address("169.254.1.2"));
  EXPECT_EQ(ip_address_of(std::array<std::uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
                                                       169, 254, 1, 2}),
            parse_ip_address("169.254.1.2"));
  EXPECT_EQ(ip_address_of(
                std::array<std::uint8_t, 16>{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}),
            parse_ip_address("fe80::1"));
}

TEST(ip_class, classifies_special_use_ranges_at_their_edges) {
  const std::pair<std::string_view, ip_range> cases[] = {
      {"0.0.0.0", ip_range::unspecified},
      {"0.255.255.255", ip_range::unspecified},
      {"255.255.255.255", ip_range::broadcast},
      {"224.0.0.1", ip_range::multicast},
      {"239.255.255.255", ip_range::multicast},
      {"169.254.0.0", ip_range::link_local},
      {"169.254.169.254", ip_range::link_local},
      {"::ffff:169.254.169.254", ip_range::link_local},
      {"127.0.0.1", ip_range::loopback},
      {"127.255.0.9", ip_range::loopback},
      {"::", ip_range::unspecified},
      {"::1", ip_range::loopback},
      {"ff02::1", ip_range::multicast},
      {"fe80::1", ip_range::link_local},
      {"febf:ffff::1", ip_range::link_local},
      // Just outside, or ordinary.
      {"1.0.0.0", ip_range::none},
      {"169.253.255.255", ip_range::none},
      {"169.255.0.0", ip_range::none},
      {"223.255.255.255", ip_range::none},
      {"240.0.0.1", ip_range::none},
      {"255.255.255.254", ip_range::none},
      {"10.0.0.1", ip_range::none},
      {"::2", ip_range::none},
      {"fe7f::1", ip_range::none},
      {"fec0::1", ip_range::none},
      {"2001:db8::1", ip_range::none},
      {"fd00:ec2::254", ip_range::none},
  };
  for (const auto& [text, range] : cases) EXPECT_EQ(range_of(text), range) << text;
}

TEST(ip_class, prefix_matches_compares_only_the_prefix_bits) {
  const ip_address a = *parse_ip_address("198.51.100.64");
  EXPECT_TRUE(prefix_matches(a, {198, 51, 100, 127}, 26));
  EXPECT_FALSE(prefix_matches(a, {198, 51, 100, 127}, 27));
  EXPECT_TRUE(prefix_matches(a, {}, 0));
}

}  // namespace
}  // namespace otpd
