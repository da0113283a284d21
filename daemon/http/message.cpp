#include "daemon/http/message.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <iterator>
#include <utility>

namespace otpd::http {

std::string_view to_string(method m) noexcept {
  switch (m) {
    case method::get:
      return "GET";
    case method::head:
      return "HEAD";
    case method::post:
      return "POST";
    case method::put:
      return "PUT";
    case method::patch:
      return "PATCH";
    case method::delete_:
      return "DELETE";
    case method::options:
      return "OPTIONS";
    case method::unknown:
      break;
  }
  return "UNKNOWN";
}

method method_from(std::string_view token) noexcept {
  for (method m : {method::get, method::head, method::post, method::put, method::patch,
                   method::delete_, method::options}) {
    if (token == to_string(m)) return m;
  }
  return method::unknown;
}

std::optional<std::string_view> header_map::get(std::string_view name) const noexcept {
  for (const auto& [n, v] : entries_) {
    if (iequals(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::vector<std::string_view> header_map::get_all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [n, v] : entries_) {
    if (iequals(n, name)) out.emplace_back(v);
  }
  return out;
}

void header_map::add(std::string name, std::string value) {
  entries_.emplace_back(std::move(name), std::move(value));
}

void header_map::set(std::string name, std::string value) {
  erase(name);
  add(std::move(name), std::move(value));
}

void header_map::erase(std::string_view name) noexcept {
  std::erase_if(entries_, [&](const entry& e) { return iequals(e.first, name); });
}

void header_map::wipe_values(std::string_view name) noexcept {
  for (auto& [n, v] : entries_) {
    if (!iequals(n, name)) continue;
    OPENSSL_cleanse(v.data(), v.capacity());
    v.clear();
  }
}

void request::wipe_secrets() noexcept {
  OPENSSL_cleanse(body.data(), body.capacity());
  body.clear();
  headers.wipe_values("Authorization");
}

std::optional<std::string_view> request::param(std::string_view name) const noexcept {
  if (auto it = params.find(name); it != params.end()) return std::string_view(it->second);
  return std::nullopt;
}

std::optional<std::string_view> request::query_param(std::string_view name) const noexcept {
  for (const auto& [k, v] : query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;  // a truncated escape
      const int hi = ascii::hex_value(in[i + 1]);
      const int lo = ascii::hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      const char d = static_cast<char>(hi * 16 + lo);
      if (d == '\0') return std::nullopt;
      out += d;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// RFC 9110 §15, RFC 6585 (428, 429, 431).
std::string_view reason_phrase(unsigned status) noexcept {
  static constexpr std::pair<unsigned, std::string_view> phrases[] = {
      {100, "Continue"},
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {204, "No Content"},
      {301, "Moved Permanently"},
      {304, "Not Modified"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {406, "Not Acceptable"},
      {408, "Request Timeout"},
      {409, "Conflict"},
      {410, "Gone"},
      {411, "Length Required"},
      {412, "Precondition Failed"},
      {413, "Content Too Large"},
      {414, "URI Too Long"},
      {415, "Unsupported Media Type"},
      {417, "Expectation Failed"},
      {422, "Unprocessable Content"},
      {428, "Precondition Required"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
      {505, "HTTP Version Not Supported"}};
  static_assert(std::is_sorted(std::begin(phrases), std::end(phrases)));
  const auto* it = std::lower_bound(std::begin(phrases), std::end(phrases), status,
                                    [](const auto& e, unsigned s) { return e.first < s; });
  return it != std::end(phrases) && it->first == status ? it->second : std::string_view();
}

bool is_other_major_version(std::string_view head) noexcept {
  const std::size_t end = head.find("\r\n");
  if (end == std::string_view::npos) return false;
  const std::string_view line = head.substr(0, end);
  // method = token (RFC 9110 §5.6.2) and request-target: no spaces, not empty.
  const std::size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos) return false;
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == sp1 + 1 || sp2 == std::string_view::npos) return false;
  const std::string_view version = line.substr(sp2 + 1);
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (version.size() != 8 || !version.starts_with("HTTP/") || !digit(version[5]) ||
      version[6] != '.' || !digit(version[7])) {
    return false;
  }
  return version[5] != '1';
}

bool acceptable_transfer_encoding(const std::vector<std::string_view>& values,
                                  unsigned version) noexcept {
  if (values.empty()) return true;
  if (version != 11) return false;
  std::size_t codings = 0;
  for (std::string_view v : values) {
    while (!v.empty()) {
      const std::size_t comma = v.find(',');
      std::string_view item = v.substr(0, comma);
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (item.empty()) continue;
      // chunked is the only coding we decode, and it appears once, last (RFC 9112 §6.1).
      if (!iequals(item, "chunked") || codings != 0) return false;
      ++codings;
    }
  }
  return codings == 1;
}

}  // namespace otpd::http
