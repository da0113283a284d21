#include "common/secret.hpp"

#include <openssl/crypto.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <new>

namespace otpd {
namespace {

std::atomic<std::size_t> held{0};
std::atomic<std::size_t> unlocked{0};

std::size_t page_size() noexcept {
  static const std::size_t p = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return p;
}

}  // namespace

// Whole pages from mmap: MADV_DONTDUMP and mlock act on pages, and a page shared with other
// heap data would either leak the secret into the core or hide unrelated data from it.
struct secret::block {
  void* pages = nullptr;
  std::size_t mapped = 0;
  std::size_t length = 0;
  bool locked = false;

  explicit block(std::string_view bytes) {
    mapped = (bytes.size() / page_size() + 1) * page_size();
    pages = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) throw std::bad_alloc();
    // Before the bytes are written: a core taken in between must not hold them either.
    (void)::madvise(pages, mapped, MADV_DONTDUMP);
    // Best effort: an unprivileged process is limited by RLIMIT_MEMLOCK (EPERM / ENOMEM).
    locked = ::mlock(pages, mapped) == 0;
    if (!locked) unlocked.fetch_add(1, std::memory_order_relaxed);
    held.fetch_add(1, std::memory_order_relaxed);
    if (!bytes.empty()) std::memcpy(pages, bytes.data(), bytes.size());
    length = bytes.size();
  }
  ~block() {
    OPENSSL_cleanse(pages, mapped);
    if (locked) {
      (void)::munlock(pages, mapped);
    } else {
      unlocked.fetch_sub(1, std::memory_order_relaxed);
    }
    held.fetch_sub(1, std::memory_order_relaxed);
    ::munmap(pages, mapped);
  }
  block(const block&) = delete;
  block& operator=(const block&) = delete;
};

secret::secret(std::string_view bytes) : block_(std::make_shared<const block>(bytes)) {}

secret secret::take(std::string& s) {
  secret r(s);
  wipe(s);
  s.clear();
  return r;
}

std::string_view secret::view() const noexcept {
  if (!block_) return {};
  return {static_cast<const char*>(block_->pages), block_->length};
}

bool operator==(const secret& a, const secret& b) noexcept { return a == b.view(); }

bool operator==(const secret& a, std::string_view b) noexcept {
  const std::string_view v = a.view();
  return v.size() == b.size() && (v.empty() || CRYPTO_memcmp(v.data(), b.data(), v.size()) == 0);
}

void wipe(void* p, std::size_t n) noexcept {
  if (p != nullptr && n != 0) OPENSSL_cleanse(p, n);
}

secret_counts count_secrets() noexcept {
  return {held.load(std::memory_order_relaxed), unlocked.load(std::memory_order_relaxed)};
}

}  // namespace otpd
