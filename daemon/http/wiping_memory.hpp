// Memory for what a request carries that must not outlive it: the code a user types on /check
// and the API key in Authorization. A block is overwritten (OPENSSL_cleanse) before it goes
// back to the heap, so that neither a core nor whatever reuses the block later finds them.
//
// Used for the connection's read buffer and the parser's header fields (server.cpp), and for
// the JSON value parsed from a /check body (api.cpp). The cost is one cleanse of each block
// when it is freed; no allocation is added.
#pragma once

#include <cstddef>
#include <memory>

#include <openssl/crypto.h>
#include <boost/json/storage_ptr.hpp>

namespace otpd::http {

template <class T>
struct wiping_allocator {
  using value_type = T;

  wiping_allocator() noexcept = default;
  template <class U>
  wiping_allocator(const wiping_allocator<U>&) noexcept {}  // NOLINT: rebinding is implicit

  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    OPENSSL_cleanse(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }

  template <class U>
  friend bool operator==(const wiping_allocator&, const wiping_allocator<U>&) noexcept {
    return true;
  }
};

// Storage for a boost::json value (and its parser's temporary stack) whose freed blocks are
// wiped. One process-wide resource, stateless: values using it may be moved between threads.
boost::json::storage_ptr wiping_json_storage() noexcept;

}  // namespace otpd::http
