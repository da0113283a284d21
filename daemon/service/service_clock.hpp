// The service's clock: wall-clock time that tests may move forward, built in main and given to
// the service (and, through it, to the API's and the admin server's views).
#pragma once

#include <atomic>
#include <chrono>

#include "daemon/model.hpp"
#include "smpp/net/flow_control.hpp"

namespace otpd::service {

// Wall-clock time with an offset that integration tests may move forward (only when the
// configuration enables it), so that expiry is tested without waiting. Read on the store's
// thread too (inside store calls), hence atomic.
class service_clock {
 public:
  sys_time now() const noexcept {
    return std::chrono::system_clock::now() +
           std::chrono::system_clock::duration(offset_.load(std::memory_order_relaxed));
  }
  void advance(std::chrono::seconds s) noexcept {
    offset_.fetch_add(std::chrono::duration_cast<std::chrono::system_clock::duration>(s).count(),
                      std::memory_order_relaxed);
  }
  // The steady-clock instant matching `t`, for SMPP deadlines.
  smpp::time_point steady(sys_time t) const noexcept {
    return smpp::clock_type::now() + std::chrono::duration_cast<smpp::duration>(t - now());
  }

 private:
  std::atomic<std::chrono::system_clock::rep> offset_{0};
};

}  // namespace otpd::service
