#include "config/link_local.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <string>

namespace otpd::config {

bool is_link_local(const std::array<std::uint8_t, 4>& v4) noexcept {
  return v4[0] == 169 && v4[1] == 254;
}

bool is_link_local(const std::array<std::uint8_t, 16>& v6) noexcept {
  if (v6[0] == 0xfe && (v6[1] & 0xc0) == 0x80) return true;
  // RFC 4291 §2.5.5.2: ::ffff:a.b.c.d is the IPv4 address a.b.c.d on a dual-stack socket.
  static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(v6.data(), mapped, sizeof mapped) == 0) {
    return is_link_local(std::array<std::uint8_t, 4>{v6[12], v6[13], v6[14], v6[15]});
  }
  return false;
}

std::string_view url_host(std::string_view url) noexcept {
  if (url.starts_with("https://")) {
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return {};
  }
  std::string_view authority = url.substr(0, url.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    return close == std::string_view::npos ? std::string_view() : authority.substr(1, close - 1);
  }
  return authority.substr(0, authority.find(':'));
}

bool literal_is_link_local(std::string_view host) noexcept {
  if (host.empty() || host.size() > 100) return false;
  std::string text(host.substr(0, host.find('%')));  // RFC 6874 zone: "fe80::1%25eth0"
  in_addr v4{};
  // inet_aton, not inet_pton: getaddrinfo resolves "2852039166" to 169.254.169.254 as well.
  if (::inet_aton(text.c_str(), &v4) == 1) {
    std::array<std::uint8_t, 4> b{};
    std::memcpy(b.data(), &v4.s_addr, 4);
    return is_link_local(b);
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    std::array<std::uint8_t, 16> b{};
    std::memcpy(b.data(), &v6, 16);
    return is_link_local(b);
  }
  return false;
}

}  // namespace otpd::config
