#include "config/link_local.hpp"

#include "common/ip_class.hpp"

namespace otpd::config {

bool is_link_local(const std::array<std::uint8_t, 4>& v4) noexcept {
  return special_range(ip_address_of(v4)) == ip_range::link_local;
}

bool is_link_local(const std::array<std::uint8_t, 16>& v6) noexcept {
  return special_range(ip_address_of(v6)) == ip_range::link_local;
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
  const std::optional<ip_address> a = parse_ip_literal(host);
  return a && special_range(*a) == ip_range::link_local;
}

}  // namespace otpd::config
