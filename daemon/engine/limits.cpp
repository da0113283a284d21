#include "daemon/engine/limits.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace otpd::engine {
namespace {

// IPv6 clients usually hold a whole /64 (RFC 4291 §2.5.4; RFC 7421) and can change address
// within it at will, so an IPv6 client is counted per /64; an IPv4-mapped address is its IPv4
// address. Anything unparsable is counted as written. inet_pton / inet_ntop touch no I/O.
std::string client_ip_subject(std::string_view ip) {
  const std::string text(ip);
  in6_addr a6{};
  if (inet_pton(AF_INET6, text.c_str(), &a6) == 1) {
    char buf[INET6_ADDRSTRLEN] = {};
    static constexpr unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a6.s6_addr, v4_mapped, sizeof v4_mapped) == 0) {
      in_addr a4{};
      std::memcpy(&a4, a6.s6_addr + 12, 4);
      inet_ntop(AF_INET, &a4, buf, sizeof buf);
      return buf;
    }
    std::memset(a6.s6_addr + 8, 0, 8);
    inet_ntop(AF_INET6, &a6, buf, sizeof buf);
    return std::string(buf) + "/64";
  }
  return text;
}

void add(limit_plan& plan, limit_kind kind, const std::vector<config::rate_limit>& limits,
         std::string_view prefix, std::string_view subject) {
  for (const auto& l : limits) {
    if (l.max <= 0 || l.window.count() <= 0) continue;  // 0: no limit (config.hpp)
    std::string key;
    key.reserve(prefix.size() + subject.size() + 12);
    key.append(prefix).append(subject).append("@").append(std::to_string(l.window.count()));
    plan.checks.push_back(service::limit_check{std::move(key), l.max, l.window});
    plan.kinds.push_back(kind);
  }
}

}  // namespace

const char* problem_slug(limit_kind k) noexcept {
  switch (k) {
    case limit_kind::number:
      return "rate_limited_number";
    case limit_kind::api_key:
      return "rate_limited_api_key";
    case limit_kind::client_ip:
      return "rate_limited_ip";
    case limit_kind::prefix:
      return "rate_limited_prefix";
  }
  return "rate_limited";
}

limit_plan plan_limits(const config::rate_limits& limits, const limit_subject& subject) {
  limit_plan plan;
  const std::string_view digits =
      !subject.to.empty() && subject.to.front() == '+' ? subject.to.substr(1) : subject.to;
  const std::string number = "+" + std::string(digits);
  add(plan, limit_kind::number, limits.per_number, "num:", number);
  if (!subject.api_key.empty()) {
    add(plan, limit_kind::api_key, limits.per_api_key, "key:", subject.api_key);
  }
  if (!subject.client_ip.empty()) {
    add(plan, limit_kind::client_ip, limits.per_client_ip,
        "ip:", client_ip_subject(subject.client_ip));
  }
  if (limits.prefix_digits > 0) {
    const std::size_t n = std::min(digits.size(), static_cast<std::size_t>(limits.prefix_digits));
    add(plan, limit_kind::prefix, limits.per_prefix, "pfx:", digits.substr(0, n));
  }
  return plan;
}

limit_kind refused_by(const limit_plan& plan, const service::limit_result& result) noexcept {
  if (result.failed_index < plan.kinds.size()) return plan.kinds[result.failed_index];
  return limit_kind::number;
}

}  // namespace otpd::engine
