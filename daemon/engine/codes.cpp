#include "daemon/engine/codes.hpp"

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace otpd::engine {
namespace {

constexpr std::size_t mac_size = 32;    // SHA-256 output
constexpr std::size_t key_size = 32;    // AES-256, and the minimum MAC key (RFC 2104 §3)
constexpr std::size_t nonce_size = 12;  // NIST SP 800-38D §8.2: 96-bit IVs recommended for GCM
constexpr std::size_t tag_size = 16;    // full 128-bit tag (SP 800-38D §5.2.1.2)

// A stand-in id for verify_absent(): as long as a real id (new_verification_id()) so that the
// HMAC input has the same length, hence the same number of SHA-256 blocks.
constexpr std::string_view absent_id = "aaaaaaaaaaaaaaaaaaaaaaaaaa";

std::uint64_t pow10(int digits) noexcept {
  std::uint64_t m = 1;
  for (int i = 0; i < digits; ++i) m *= 10;
  return m;
}

void random_bytes(unsigned char* out, std::size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    throw std::runtime_error("CSPRNG failure (RAND_bytes)");
  }
}

// Wipes a buffer that held a code or a key when it goes out of scope.
struct wipe_on_exit {
  void* data;
  std::size_t size;
  ~wipe_on_exit() { OPENSSL_cleanse(data, size); }
};

constexpr char hex_digits[] = "0123456789abcdef";

std::string to_hex(const unsigned char* data, std::size_t size) {
  std::string out(size * 2, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = hex_digits[data[i] >> 4];
    out[2 * i + 1] = hex_digits[data[i] & 0x0f];
  }
  return out;
}

// One hex digit without a data-dependent branch (the stored MAC goes through it before the
// constant-time compare). Returns the value, and sets `bad` when c is not [0-9a-fA-F].
unsigned hex_value(unsigned char c, unsigned& bad) noexcept {
  const unsigned d = c - unsigned{'0'};
  const unsigned l = (c | 0x20u) - unsigned{'a'};
  const unsigned is_d = static_cast<unsigned>(d < 10);
  const unsigned is_l = static_cast<unsigned>(l < 6);
  bad |= (is_d | is_l) ^ 1u;
  return (d & (0u - is_d)) | ((l + 10) & (0u - is_l));
}

// Decodes exactly out.size() bytes of hex; false when the length or a character is wrong.
// `out` is always fully written so that callers can go on with the same work either way.
bool from_hex(std::string_view hex, unsigned char* out, std::size_t size) noexcept {
  unsigned bad = static_cast<unsigned>(hex.size() != 2 * size);
  for (std::size_t i = 0; i < size; ++i) {
    const unsigned char hi = 2 * i < hex.size() ? static_cast<unsigned char>(hex[2 * i]) : '0';
    const unsigned char lo =
        2 * i + 1 < hex.size() ? static_cast<unsigned char>(hex[2 * i + 1]) : '0';
    out[i] = static_cast<unsigned char>((hex_value(hi, bad) << 4) | hex_value(lo, bad));
  }
  return bad == 0;
}

struct cipher_ctx_free {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_free>;

const unsigned char* bytes(std::string_view s) noexcept {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

namespace detail {

std::uint64_t acceptance_limit(int digits) noexcept {
  const std::uint64_t m = pow10(digits);
  // 2^64 mod m, computed without 2^64; never 0 because 10^k has the factor 5.
  const std::uint64_t r = (UINT64_MAX % m + 1) % m;
  return UINT64_MAX - r + 1;  // the largest multiple of m below 2^64
}

std::optional<std::string> code_from_draw(std::uint64_t draw, int digits) {
  if (draw >= acceptance_limit(digits)) return std::nullopt;
  std::uint64_t v = draw % pow10(digits);
  std::string code(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    code[static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return code;
}

std::string base32_lower(const unsigned char* data, std::size_t size) {
  constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out;
  out.reserve((size * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < size; ++i) {
    buffer = (buffer << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      out.push_back(alphabet[(buffer >> (bits - 5)) & 0x1f]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (5 - bits)) & 0x1f]);
  return out;
}

}  // namespace detail

std::string generate_code(int digits) {
  if (digits < min_code_digits || digits > max_code_digits) {
    throw std::invalid_argument("code length must be 4..10 digits");
  }
  // A draw is rejected with probability below 10^10 / 2^64 < 2^-30, so a run of rejections
  // means a broken generator, not bad luck.
  for (int tries = 0; tries < 64; ++tries) {
    unsigned char raw[8];
    wipe_on_exit wipe_raw{raw, sizeof raw};
    random_bytes(raw, sizeof raw);
    std::uint64_t draw = 0;
    wipe_on_exit wipe_draw{&draw, sizeof draw};
    std::memcpy(&draw, raw, sizeof draw);
    if (auto code = detail::code_from_draw(draw, digits)) return std::move(*code);
  }
  throw std::runtime_error("CSPRNG failure (no acceptable draw)");
}

std::string new_verification_id(std::chrono::system_clock::time_point now) {
  unsigned char raw[16];
  const auto ms = static_cast<std::uint64_t>(
      std::chrono::floor<std::chrono::milliseconds>(now.time_since_epoch()).count());
  for (int i = 0; i < 6; ++i) raw[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  random_bytes(raw + 6, sizeof raw - 6);
  return detail::base32_lower(raw, sizeof raw);
}

// --- code_protector --------------------------------------------------------------------------

code_protector::code_protector(const config::secrets& keys) {
  if (keys.code_mac_key.size() < key_size) {
    throw std::invalid_argument("secrets.code_mac_key must be at least 32 bytes");
  }
  if (!keys.code_seal_key.empty() && keys.code_seal_key.size() != key_size) {
    throw std::invalid_argument("secrets.code_seal_key must be exactly 32 bytes");
  }
  mac_key_ = keys.code_mac_key;
  seal_key_ = keys.code_seal_key;
}

bool code_protector::mac_raw(std::string_view verification_id, std::string_view code,
                             unsigned char (&out)[32]) const noexcept {
  // id || 0x00 || code in one buffer: ids are 26 characters and codes 10 digits at most, but
  // callers may pass anything, so fall back to the heap for long inputs.
  std::array<unsigned char, 128> small{};
  std::vector<unsigned char> large;
  const std::size_t n = verification_id.size() + 1 + code.size();
  unsigned char* msg = small.data();
  if (n > small.size()) {
    large.resize(n);
    msg = large.data();
  }
  wipe_on_exit wipe{msg, n};
  if (!verification_id.empty()) std::memcpy(msg, verification_id.data(), verification_id.size());
  msg[verification_id.size()] = 0x00;
  if (!code.empty()) std::memcpy(msg + verification_id.size() + 1, code.data(), code.size());
  unsigned int len = 0;
  // RFC 2104 HMAC with SHA-256 (FIPS 180-4).
  return HMAC(EVP_sha256(), mac_key_.view().data(), static_cast<int>(mac_key_.size()), msg, n, out,
              &len) != nullptr &&
         len == mac_size;
}

std::string code_protector::mac(std::string_view verification_id, std::string_view code) const {
  unsigned char out[mac_size];
  wipe_on_exit wipe{out, sizeof out};
  if (!mac_raw(verification_id, code, out)) throw std::runtime_error("HMAC-SHA256 failed");
  return to_hex(out, sizeof out);
}

bool code_protector::verify(std::string_view verification_id, std::string_view code,
                            std::string_view stored_mac) const noexcept {
  unsigned char expected[mac_size];
  unsigned char stored[mac_size];
  wipe_on_exit wipe{expected, sizeof expected};
  const bool computed = mac_raw(verification_id, code, expected);
  const bool well_formed = from_hex(stored_mac, stored, sizeof stored);
  // OWASP ASVS V6: compare in constant time; always all 32 bytes.
  const bool equal = CRYPTO_memcmp(expected, stored, mac_size) == 0;
  return computed & well_formed & equal;
}

bool code_protector::verify_absent(std::string_view code) const noexcept {
  unsigned char expected[mac_size];
  unsigned char stored[mac_size];
  wipe_on_exit wipe{expected, sizeof expected};
  const bool computed = mac_raw(absent_id, code, expected);
  // Compare against a decoded all-zero stand-in: same decode, same memcmp, then refuse.
  static constexpr std::string_view zero_mac =
      "0000000000000000000000000000000000000000000000000000000000000000";
  const bool well_formed = from_hex(zero_mac, stored, sizeof stored);
  const bool equal = CRYPTO_memcmp(expected, stored, mac_size) == 0;
  volatile bool sink = computed & well_formed & equal;
  (void)sink;
  return false;
}

std::string code_protector::seal(std::string_view verification_id, std::string_view code) const {
  if (!can_seal()) throw std::logic_error("sealing needs secrets.code_seal_key");
  std::vector<unsigned char> out(nonce_size + code.size() + tag_size);
  random_bytes(out.data(), nonce_size);
  cipher_ctx ctx{EVP_CIPHER_CTX_new()};
  int len = 0;
  unsigned char* ct = out.data() + nonce_size;
  const bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size),
                          nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes(seal_key_.view()), out.data()) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(verification_id),
                        static_cast<int>(verification_id.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), ct, &len, bytes(code), static_cast<int>(code.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size),
                          ct + code.size()) == 1;
  if (!ok) throw std::runtime_error("AES-256-GCM seal failed");
  return to_hex(out.data(), out.size());
}

std::optional<std::string> code_protector::unseal(std::string_view verification_id,
                                                  std::string_view sealed) const {
  if (!can_seal() || sealed.size() % 2 != 0 || sealed.size() < 2 * (nonce_size + tag_size)) {
    return std::nullopt;
  }
  std::vector<unsigned char> raw(sealed.size() / 2);
  if (!from_hex(sealed, raw.data(), raw.size())) return std::nullopt;
  const std::size_t ct_size = raw.size() - nonce_size - tag_size;
  const unsigned char* ct = raw.data() + nonce_size;
  unsigned char* tag = raw.data() + nonce_size + ct_size;

  std::string plain(ct_size, '\0');
  auto* pt = reinterpret_cast<unsigned char*>(plain.data());
  cipher_ctx ctx{EVP_CIPHER_CTX_new()};
  int len = 0;
  const bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size),
                          nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(seal_key_.view()), raw.data()) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(verification_id),
                        static_cast<int>(verification_id.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), pt, &len, ct, static_cast<int>(ct_size)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size), tag) == 1 &&
      // The tag is checked here: a changed nonce, ciphertext, tag or id fails (SP 800-38D §7.2).
      EVP_DecryptFinal_ex(ctx.get(), pt + len, &len) == 1;
  if (!ok) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return std::nullopt;
  }
  return plain;
}

}  // namespace otpd::engine
