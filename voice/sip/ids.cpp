#include "voice/sip/ids.hpp"

#include "voice/sip/headers.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace otpd::sip {
namespace {

void append_hex(std::string& out, std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(digits[(v >> shift) & 0xF]);
}

std::string hex_words(const random_source& random, int words) {
  std::string r;
  r.reserve(16 * static_cast<std::size_t>(words));
  for (int i = 0; i < words; ++i) append_hex(r, random());
  return r;
}

}  // namespace

std::uint64_t csprng_u64() {
  unsigned char b[8];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("CSPRNG failure (RAND_bytes)");
  std::uint64_t v = 0;
  for (unsigned char c : b) v = (v << 8) | c;
  return v;
}

random_source csprng_source() {
  return [] { return csprng_u64(); };
}

std::string make_branch(const random_source& random) {
  return std::string(branch_cookie) + hex_words(random, 2);
}

std::string make_tag(const random_source& random) { return hex_words(random, 1); }

std::string make_call_id(const random_source& random, std::string_view host) {
  std::string r = hex_words(random, 2);
  if (!host.empty()) {
    r += '@';
    r += host;
  }
  return r;
}

std::string make_cnonce(const random_source& random) { return hex_words(random, 2); }

}  // namespace otpd::sip
