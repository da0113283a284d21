// Times as the stores keep them: integer milliseconds since the Unix epoch, floored (store.hpp:
// a time_point that is not a whole millisecond does not read back equal).
#pragma once

#include <chrono>
#include <cstdint>

#include "daemon/model.hpp"

namespace otpd::service::detail {

inline std::int64_t to_ms(sys_time t) noexcept {
  return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline sys_time from_ms(std::int64_t ms) noexcept {
  return sys_time{std::chrono::milliseconds{ms}};
}

}  // namespace otpd::service::detail
