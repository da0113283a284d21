// Identifiers a UAC generates: branch (RFC 3261 §8.1.1.7), tags (§19.3) and Call-ID
// (§8.1.1.4). The randomness comes from the caller (no global state): production code
// passes csprng_source(); tests may pass a deterministic source.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace otpd::sip {

using random_source = std::function<std::uint64_t()>;

// 64 bits from the CSPRNG (OpenSSL RAND_bytes): identifiers an off-path attacker must not
// guess. Throws std::runtime_error when the CSPRNG fails.
std::uint64_t csprng_u64();
// A random_source drawing from csprng_u64().
random_source csprng_source();

// "z9hG4bK" followed by 128 random bits in hex.
std::string make_branch(const random_source& random);
// 64 random bits in hex (§19.3 asks for at least 32).
std::string make_tag(const random_source& random);
// 128 random bits in hex, then "@host" when `host` is not empty.
std::string make_call_id(const random_source& random, std::string_view host = {});
// A digest cnonce (RFC 7616 §3.4): 128 random bits in hex.
std::string make_cnonce(const random_source& random);

}  // namespace otpd::sip
