// Bearer API keys (RFC 6750 §2.1: `Authorization: Bearer <key>`).
//
// The configuration keeps only SHA-256(key) (config::api_key::sha256). A presented key is
// hashed and compared with CRYPTO_memcmp against every configured digest, without stopping at
// a match, so that the time taken tells neither whether a key matched nor which one.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/http/message.hpp"

namespace otpd::config {
struct api_key;
}

namespace otpd::http {

class api_key_auth {
 public:
  api_key_auth() = default;
  // Throws std::invalid_argument when a digest is not 64 hex digits.
  explicit api_key_auth(const std::vector<config::api_key>& keys);

  struct key_entry {
    std::string name;
    std::array<unsigned char, 32> sha256;
  };
  void add(std::string name, std::string_view sha256_hex);

  // The name of the key that matches the Authorization field value, or nullopt (absent field,
  // another scheme, a malformed or unknown token).
  std::optional<std::string> authenticate(std::optional<std::string_view> authorization) const;

  // The token68 of "Bearer <token>" (scheme case-insensitive, RFC 9110 §11.1), or nullopt.
  static std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept;

  std::size_t size() const noexcept { return keys_.size(); }

 private:
  std::vector<key_entry> keys_;
};

// The 401 problem with `WWW-Authenticate: Bearer realm="otpd"` (RFC 6750 §3); when a token was
// presented, `error="invalid_token"` too (RFC 6750 §3.1).
response unauthorized(bool token_presented);

// Lowercase hex SHA-256 of a key: what goes into the configuration (`otpd hash-key`).
std::string sha256_hex(std::string_view key);

}  // namespace otpd::http
