#include "daemon/store/store.hpp"

namespace otpd::service {

namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories
// are never deleted through a base pointer); -Wnon-virtual-dtor cannot tell.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class store_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "otpd.store"; }
  std::string message(int ev) const override {
    switch (static_cast<store_errc>(ev)) {
      case store_errc::not_found:
        return "not found";
      case store_errc::duplicate_id:
        return "a verification with this id exists";
      case store_errc::duplicate_idempotency:
        return "this idempotency key was used before";
      case store_errc::conflict:
        return "the change was refused";
      case store_errc::io_error:
        return "the database failed";
      case store_errc::closed:
        return "the store is shut down";
      case store_errc::busy:
        return "the store is overloaded";
    }
    return "unknown store error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& store_category() noexcept {
  static const store_category_impl category;
  return category;
}

}  // namespace otpd::service
