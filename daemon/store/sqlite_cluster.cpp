// The SQLite store's leases and SMS handoff queue (store.hpp, "several nodes").
// PLACEHOLDER: to be implemented.
#include "daemon/store/sqlite_store.hpp"

namespace otpd::service {

error_code sqlite_store::acquire_leases(std::string_view, std::span<const std::string>, sys_time,
                                        std::chrono::milliseconds, std::vector<std::string>&) {
  return store_errc::io_error;
}
error_code sqlite_store::release_leases(std::string_view, std::span<const std::string>) {
  return store_errc::io_error;
}
error_code sqlite_store::list_leases(std::string_view, std::vector<lease>&) {
  return store_errc::io_error;
}
error_code sqlite_store::queue_sms(const sms_handoff&) { return store_errc::io_error; }
error_code sqlite_store::claim_sms(std::string_view, std::span<const std::string>, sys_time,
                                   std::size_t, std::vector<sms_handoff>&) {
  return store_errc::io_error;
}
error_code sqlite_store::finish_sms(std::string_view, int) { return store_errc::io_error; }

}  // namespace otpd::service
