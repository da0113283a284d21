// What a caught exception says, for a log line or an attempt's reason, and whether it is the
// operation_aborted with which a cancelled Asio operation ends a coroutine.
#pragma once

#include <exception>
#include <string>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

namespace otpd {

// Its what(), or "unknown exception".
inline std::string describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

inline bool is_operation_aborted(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& ex) {
    return ex.code() == boost::asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

}  // namespace otpd
