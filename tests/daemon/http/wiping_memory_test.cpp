// What the HTTP layer frees of a request that carries a secret: no block handed back to the heap
// still holds the API key from Authorization or the code typed in a /check body. This binary
// replaces the global operator delete to look at each block before it is freed (hence a test
// executable of its own).
#include <gtest/gtest.h>

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "daemon/http/json_body.hpp"
#include "daemon/http/request_reader.hpp"
#include "daemon/http/wiping_memory.hpp"

namespace {

// The bytes looked for while `watching`, and how many freed blocks held them.
std::atomic<bool> watching{false};
std::string_view marker;
std::atomic<int> freed_with_marker{0};

void inspect(void* p) noexcept {
  if (p == nullptr || !watching.load(std::memory_order_relaxed)) return;
  const std::size_t n = ::malloc_usable_size(p);
  if (::memmem(p, n, marker.data(), marker.size()) != nullptr) ++freed_with_marker;
}

}  // namespace

// operator new is replaced too, with malloc: the deletes below free with free(), and a
// sanitizer's own operator new would tag the block as new-allocated (alloc-dealloc mismatch).
void* operator new(std::size_t n) {
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return std::malloc(n == 0 ? 1 : n);
}
// posix_memalign wants a power of two of at least sizeof(void*); a smaller alignment is met by
// that one.
static std::size_t at_least_pointer(std::align_val_t a) noexcept {
  return std::max(static_cast<std::size_t>(a), sizeof(void*));
}
void* operator new(std::size_t n, std::align_val_t a) {
  void* p = nullptr;
  if (::posix_memalign(&p, at_least_pointer(a), n == 0 ? 1 : n) == 0) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  void* p = nullptr;
  return ::posix_memalign(&p, at_least_pointer(a), n == 0 ? 1 : n) == 0 ? p : nullptr;
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  inspect(p);
  std::free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  inspect(p);
  std::free(p);
}
void operator delete(void* p) noexcept {
  inspect(p);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  inspect(p);
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  inspect(p);
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  inspect(p);
  std::free(p);
}

namespace otpd::http {
namespace {

// Counts the blocks freed while it lives that held `what`.
class freed_blocks {
 public:
  explicit freed_blocks(std::string_view what) {
    marker = what;
    freed_with_marker = 0;
    watching = true;
  }
  ~freed_blocks() { watching = false; }
  int holding_marker() const { return freed_with_marker.load(); }
};

TEST(wiping_memory, a_request_parsed_and_wiped_frees_no_block_with_its_api_key) {
  static constexpr std::string_view key = "key-3c9e1f07a2b84d56e0a1";
  static constexpr std::string_view bytes =
      "POST /v1/verifications/v1/check HTTP/1.1\r\nHost: a\r\n"
      "Authorization: Bearer key-3c9e1f07a2b84d56e0a1\r\n"
      "Content-Type: application/json\r\nContent-Length: 22\r\n\r\n"
      R"({"code":"8264730591"})"
      "\n";
  freed_blocks freed(key);
  {
    parse_outcome out = parse_request(bytes, config::http_limits{});
    ASSERT_EQ(out.result, parse_outcome::state::complete);
    // The server's own copy is there until the request is answered, then wiped.
    const std::string_view auth = out.req.header("Authorization").value_or("");
    EXPECT_TRUE(auth.starts_with("Bearer ") && auth.substr(7) == key) << auth;
    out.req.wipe_secrets();
    EXPECT_EQ(out.req.header("Authorization"), "");
    EXPECT_TRUE(out.req.body.empty());
    EXPECT_EQ(out.req.header("Host"), "a");  // other fields stay
  }
  EXPECT_EQ(freed.holding_marker(), 0);
}

TEST(wiping_memory, a_check_body_parsed_into_wiping_storage_frees_no_block_with_the_code) {
  static constexpr std::string_view code = "8264730591";
  request req;
  req.headers.add("Content-Type", "application/json");
  req.body = R"({"code":"8264730591","and":{"the":["code",")" + std::string(code) + R"("]}})";
  freed_blocks freed(code);
  {
    boost::json::object body(wiping_json_storage());
    ASSERT_FALSE(parse_json_object(req, body).has_value());
    EXPECT_EQ(body.storage().get(), wiping_json_storage().get());
    EXPECT_EQ(body.at("code").as_string(), code);
  }
  req.wipe_secrets();
  EXPECT_EQ(freed.holding_marker(), 0);
}

// The check above sees what default storage would leave: without it, it would pass vacuously.
TEST(wiping_memory, default_storage_does_leave_the_code_in_a_freed_block) {
  static constexpr std::string_view code = "5918264730";
  request req;
  req.headers.add("Content-Type", "application/json");
  req.body = R"({"code":"5918264730","more":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]})";
  freed_blocks freed(code);
  {
    boost::json::object body;
    ASSERT_FALSE(parse_json_object(req, body).has_value());
    EXPECT_EQ(body.at("code").as_string(), code);
  }
  req.wipe_secrets();
  EXPECT_GT(freed.holding_marker(), 0);
}

}  // namespace
}  // namespace otpd::http
