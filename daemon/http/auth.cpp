#include "daemon/http/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdexcept>

#include "common/ascii.hpp"
#include "config/config.hpp"
#include "daemon/http/problem.hpp"

namespace otpd::http {

namespace {

using digest = std::array<unsigned char, 32>;

digest sha256(std::string_view data) {
  digest d{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != d.size()) {
    throw std::runtime_error("EVP_Digest(SHA-256) failed");
  }
  return d;
}

using ascii::hex_value;

// RFC 9110 §11.2: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_token68(std::string_view s) noexcept {
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) break;
  }
  if (i == 0) return false;
  for (; i < s.size(); ++i) {
    if (s[i] != '=') return false;
  }
  return true;
}

}  // namespace

api_key_auth::api_key_auth(const std::vector<config::api_key>& keys) {
  for (const auto& k : keys) add(k.name, k.sha256);
}

void api_key_auth::add(std::string name, std::string_view sha256_hex_digest) {
  if (sha256_hex_digest.size() != 64) {
    throw std::invalid_argument("api key '" + name + "': sha256 must be 64 hex digits");
  }
  key_entry e{std::move(name), {}};
  for (std::size_t i = 0; i < 32; ++i) {
    const int hi = hex_value(sha256_hex_digest[2 * i]);
    const int lo = hex_value(sha256_hex_digest[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      throw std::invalid_argument("api key '" + e.name + "': sha256 must be 64 hex digits");
    }
    e.sha256[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  keys_.push_back(std::move(e));
}

std::optional<std::string_view> api_key_auth::bearer_token(
    std::string_view authorization) noexcept {
  // credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]  (RFC 9110 §11.4)
  constexpr std::string_view scheme = "bearer";
  if (authorization.size() <= scheme.size() ||
      !iequals(authorization.substr(0, scheme.size()), scheme) ||
      authorization[scheme.size()] != ' ') {
    return std::nullopt;
  }
  std::string_view token = authorization.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  if (!is_token68(token)) return std::nullopt;
  return token;
}

std::optional<std::string> api_key_auth::authenticate(
    std::optional<std::string_view> authorization) const {
  if (!authorization) return std::nullopt;
  const auto token = bearer_token(*authorization);
  if (!token) return std::nullopt;
  const digest presented = sha256(*token);
  // Every key is compared, and the index is picked without a branch on the outcome.
  std::size_t match = keys_.size();
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const int differs = CRYPTO_memcmp(presented.data(), keys_[i].sha256.data(), 32);
    const std::size_t equal_mask =
        static_cast<std::size_t>(0) - static_cast<std::size_t>(differs == 0);
    match = (i & equal_mask) | (match & ~equal_mask);
  }
  if (match == keys_.size()) return std::nullopt;
  return keys_[match].name;
}

response unauthorized(bool token_presented) {
  response r = problem(401, "unauthorized", {},
                       token_presented ? "the API key is not valid"
                                       : "an API key is required: Authorization: Bearer <key>");
  r.set_header("WWW-Authenticate", token_presented ? R"(Bearer realm="otpd", error="invalid_token")"
                                                   : R"(Bearer realm="otpd")");
  return r;
}

std::string sha256_hex(std::string_view key) {
  static constexpr char digits[] = "0123456789abcdef";
  const digest d = sha256(key);
  std::string out;
  out.reserve(64);
  for (unsigned char c : d) {
    out += digits[c >> 4];
    out += digits[c & 0xF];
  }
  return out;
}

}  // namespace otpd::http
