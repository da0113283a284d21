// Bytes that must not outlive their use or reach a core dump: keys and passwords from the
// configuration (OWASP ASVS 5.0 V6 and V11).
//
// A secret's bytes sit in pages of their own, marked MADV_DONTDUMP (the kernel leaves them out
// of a core, and gcore does too) and locked with mlock where the process may (never swapped
// out; a refusal, EPERM or ENOMEM under RLIMIT_MEMLOCK, is counted and otherwise ignored).
// They are wiped with OPENSSL_cleanse when the last handle goes.
//
// `secret` is a handle: copying a configuration copies the handle, not the bytes, so that each
// secret is held in one place however many structs name it. Users read it through view() and
// should not copy the view into a std::string; where an API needs one (a PDU field), the
// copy is wiped after use (wipe()).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace otpd {

class secret {
 public:
  secret() = default;
  // Copies `bytes` into protected pages; the caller wipes its own copy (or uses take()).
  explicit secret(std::string_view bytes);
  // Takes the text of `s` and wipes `s` (for values read from YAML, a file or the environment).
  static secret take(std::string& s);

  std::string_view view() const noexcept;
  std::size_t size() const noexcept { return view().size(); }
  bool empty() const noexcept { return view().empty(); }

  // Constant time in the content (CRYPTO_memcmp); for tests and reload comparisons.
  friend bool operator==(const secret& a, const secret& b) noexcept;
  friend bool operator==(const secret& a, std::string_view b) noexcept;

 private:
  struct block;
  std::shared_ptr<const block> block_;
};

// Overwrites a buffer that held a code, a text or a key, in a way the compiler keeps.
void wipe(void* p, std::size_t n) noexcept;
// The whole of a string's buffer, not only its current size: a string moved from or cleared
// keeps the old bytes past its end (a short one in its own inline buffer).
inline void wipe(std::string& s) noexcept { wipe(s.data(), s.capacity()); }

// Wipes a string when the scope ends, however it ends: a code or a text in a coroutine's
// frame, which has many co_returns. The string's last content is what is wiped.
class wipe_at_exit {
 public:
  explicit wipe_at_exit(std::string& s) noexcept : s_(s) {}
  ~wipe_at_exit() { wipe(s_); }
  wipe_at_exit(const wipe_at_exit&) = delete;
  wipe_at_exit& operator=(const wipe_at_exit&) = delete;

 private:
  std::string& s_;
};

// How many secrets are held, and how many of them could not be locked in memory (mlock).
struct secret_counts {
  std::size_t held = 0;
  std::size_t unlocked = 0;
};
secret_counts count_secrets() noexcept;

}  // namespace otpd
