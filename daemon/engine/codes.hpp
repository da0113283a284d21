// One-time codes and verification ids from a CSPRNG, and how a code is kept at rest.
//
// docs/architecture.md §4: a code is 4-10 digits drawn without modulo bias (NIST SP 800-63B-4
// §3.1.3 asks for an approved random bit generator; OWASP ASVS 5.0 V6 for enough entropy). At rest
// only a keyed MAC of the code is stored (ASVS V6 / V11: the code is a secret like a password);
// where a policy must read the same code again (a voice call reading the SMS code) it is sealed
// with AES-256-GCM instead. Nothing here logs, and no exception message ever holds a code or a key.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace otpd::engine {

inline constexpr int min_code_digits = 4;
inline constexpr int max_code_digits = 10;

// A code of `digits` decimal digits (leading zeros kept), uniform over 10^digits values.
// Throws std::invalid_argument when digits is outside 4..10 (configuration validates it) and
// std::runtime_error when the CSPRNG fails (OpenSSL RAND_bytes: no entropy source).
std::string generate_code(int digits);

// 128 bits as 26 characters of lowercase RFC 4648 base32 without padding ("a-z2-7"): URL-safe
// and case-insensitive when read aloud or copied. As in a UUIDv7 (RFC 9562 §5.7), the first 48
// bits are the Unix time in milliseconds at `now` and the other 80 come from the CSPRNG: ids
// made close in time share a prefix, so the store's indexes on them grow at a few pages
// instead of touching a random page per insert. Throws std::runtime_error when the CSPRNG
// fails.
std::string new_verification_id(std::chrono::system_clock::time_point now);
inline std::string new_verification_id() {
  return new_verification_id(std::chrono::system_clock::now());
}

namespace detail {
// The rejection-sampling step of generate_code, pure so that it can be tested: a uniform
// 64-bit draw is accepted only below the largest multiple of 10^digits that fits in 64 bits,
// so that `draw % 10^digits` is uniform. nullopt: rejected, draw again.
std::uint64_t acceptance_limit(int digits) noexcept;
std::optional<std::string> code_from_draw(std::uint64_t draw, int digits);

// RFC 4648 §6 base32, lowercase, no padding.
std::string base32_lower(const unsigned char* data, std::size_t size);
}  // namespace detail

// Turns a code into what may be stored, keyed by config::secrets. The keys are the
// configuration's own (otpd::secret handles): no copy of them is made here. Stored values are
// lowercase hex so that any store (SQLite TEXT, PostgreSQL text, JSON) keeps them unchanged.
class code_protector {
 public:
  // Throws std::invalid_argument when code_mac_key is shorter than 32 bytes (RFC 2104 §3: a key
  // shorter than the hash output weakens the MAC) or when code_seal_key is neither empty (no
  // sealing) nor exactly 32 bytes (AES-256).
  explicit code_protector(const config::secrets& keys);

  // HMAC-SHA256(mac_key, id || 0x00 || code) as 64 hex characters. Binding the id means a MAC
  // copied onto another row verifies nothing; the 0x00 separator keeps (id, code) pairs apart
  // as long as codes hold no NUL (they are digits).
  std::string mac(std::string_view verification_id, std::string_view code) const;

  // Whether `code` is the one `stored_mac` was made from. Constant time with respect to the
  // code and the stored MAC: the HMAC is always computed and always compared over 32 bytes with
  // CRYPTO_memcmp, even when stored_mac is malformed.
  bool verify(std::string_view verification_id, std::string_view code,
              std::string_view stored_mac) const noexcept;

  // The same work as verify() for an id that does not exist, always false: an unknown id must
  // answer in the same time as a wrong code (docs/architecture.md §4).
  bool verify_absent(std::string_view code) const noexcept;

  bool can_seal() const noexcept { return !seal_key_.empty(); }

  // AES-256-GCM with a fresh random 96-bit nonce and the verification id as additional data:
  // hex(nonce || ciphertext || tag). A random nonce is safe for 2^32 seals per key (NIST SP
  // 800-38D §8.3). Throws std::logic_error without a seal key, std::runtime_error when
  // OpenSSL fails.
  std::string seal(std::string_view verification_id, std::string_view code) const;

  // The code back, or nullopt when `sealed` is malformed, was sealed for another id, or was
  // changed (the GCM tag does not verify), or when there is no seal key.
  std::optional<std::string> unseal(std::string_view verification_id,
                                    std::string_view sealed) const;

 private:
  bool mac_raw(std::string_view verification_id, std::string_view code,
               unsigned char (&out)[32]) const noexcept;

  secret mac_key_;
  secret seal_key_;
};

}  // namespace otpd::engine
