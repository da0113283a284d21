#include "common/ip_class.hpp"

#include <algorithm>
#include <cstring>

#include <arpa/inet.h>

namespace otpd {

namespace {

// RFC 4291 §2.5.5.2: ::ffff:0:0/96.
bool is_v4_mapped(const std::array<std::uint8_t, 16>& b) noexcept {
  return std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; }) &&
         b[10] == 0xff && b[11] == 0xff;
}

bool in_v4(const ip_address& a, std::uint8_t b0, std::uint8_t b1, unsigned prefix) noexcept {
  return !a.v6 && prefix_matches(a, {b0, b1}, prefix);
}

bool in_v6(const ip_address& a, std::uint8_t b0, std::uint8_t b1, unsigned prefix) noexcept {
  return a.v6 && prefix_matches(a, {b0, b1}, prefix);
}

}  // namespace

ip_address ip_address_of(const std::array<std::uint8_t, 4>& v4) noexcept {
  ip_address a;
  std::copy(v4.begin(), v4.end(), a.bytes.begin());
  return a;
}

ip_address ip_address_of(const std::array<std::uint8_t, 16>& v6) noexcept {
  if (is_v4_mapped(v6))
    return ip_address_of(std::array<std::uint8_t, 4>{v6[12], v6[13], v6[14], v6[15]});
  ip_address a;
  a.v6 = true;
  a.bytes = v6;
  return a;
}

std::optional<ip_address> parse_ip_address(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
  const std::string s(text);
  std::array<std::uint8_t, 4> v4{};
  if (::inet_pton(AF_INET, s.c_str(), v4.data()) == 1) return ip_address_of(v4);
  std::array<std::uint8_t, 16> v6{};
  if (::inet_pton(AF_INET6, s.c_str(), v6.data()) != 1) return std::nullopt;
  return ip_address_of(v6);
}

std::optional<ip_address> parse_ip_literal(std::string_view host) {
  if (host.empty() || host.size() > 100) return std::nullopt;
  const std::string text(host.substr(0, host.find('%')));  // RFC 6874 zone: "fe80::1%25eth0"
  in_addr v4{};
  // inet_aton, not inet_pton: getaddrinfo resolves "2852039166" to 169.254.169.254 as well.
  if (::inet_aton(text.c_str(), &v4) == 1) {
    std::array<std::uint8_t, 4> b{};
    std::memcpy(b.data(), &v4.s_addr, 4);
    return ip_address_of(b);
  }
  std::array<std::uint8_t, 16> v6{};
  if (::inet_pton(AF_INET6, text.c_str(), v6.data()) != 1) return std::nullopt;
  return ip_address_of(v6);
}

std::string to_string(const ip_address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
  return buf;
}

bool prefix_matches(const ip_address& a, const std::array<std::uint8_t, 16>& net,
                    unsigned prefix) noexcept {
  for (unsigned i = 0; i < prefix && i < 128; ++i) {
    const unsigned byte = i / 8;
    const auto mask = static_cast<std::uint8_t>(0x80u >> (i % 8));
    if ((a.bytes[byte] & mask) != (net[byte] & mask)) return false;
  }
  return true;
}

ip_range special_range(const ip_address& a) noexcept {
  if (!a.v6) {
    if (in_v4(a, 0, 0, 8)) return ip_range::unspecified;
    if (std::all_of(a.bytes.begin(), a.bytes.begin() + 4, [](std::uint8_t x) { return x == 255; }))
      return ip_range::broadcast;
    if (in_v4(a, 224, 0, 4)) return ip_range::multicast;
    if (in_v4(a, 169, 254, 16)) return ip_range::link_local;
    if (in_v4(a, 127, 0, 8)) return ip_range::loopback;
    return ip_range::none;
  }
  const bool zero_to_15 =
      std::all_of(a.bytes.begin(), a.bytes.begin() + 15, [](std::uint8_t x) { return x == 0; });
  if (zero_to_15 && a.bytes[15] == 0) return ip_range::unspecified;
  if (zero_to_15 && a.bytes[15] == 1) return ip_range::loopback;
  if (in_v6(a, 0xff, 0, 8)) return ip_range::multicast;
  if (in_v6(a, 0xfe, 0x80, 10)) return ip_range::link_local;
  return ip_range::none;
}

}  // namespace otpd
