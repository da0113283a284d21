#include "daemon/http/wiping_memory.hpp"

#include <new>

#include <boost/json/memory_resource.hpp>

namespace otpd::http {

namespace {

class wiping_resource final : public boost::json::memory_resource {
  void* do_allocate(std::size_t n, std::size_t align) override {
    return ::operator new(n, std::align_val_t(align));
  }
  void do_deallocate(void* p, std::size_t n, std::size_t align) override {
    OPENSSL_cleanse(p, n);
    ::operator delete(p, n, std::align_val_t(align));
  }
  bool do_is_equal(const memory_resource& other) const noexcept override { return this == &other; }
};

}  // namespace

boost::json::storage_ptr wiping_json_storage() noexcept {
  static wiping_resource resource;
  return boost::json::storage_ptr(&resource);
}

}  // namespace otpd::http
