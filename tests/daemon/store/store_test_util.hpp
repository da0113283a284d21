// Shared by the store tests: a scratch directory and verifications to write.
#pragma once

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "daemon/model.hpp"

namespace otpd::service::test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class scratch_dir {
 public:
  scratch_dir() {
    auto base = std::filesystem::temp_directory_path() / "otpd-store-XXXXXX";
    std::string templ = base.string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// "v" + std::to_string(i) without operator+(const char*, std::string&&), which g++ 12 flags
// with a false -Wrestrict at -O2 (GCC bug 105329).
inline std::string numbered(std::string prefix, long i) {
  prefix += std::to_string(i);
  return prefix;
}

// A whole millisecond: the store keeps times with that precision.
inline sys_time at_ms(std::int64_t ms) { return sys_time{std::chrono::milliseconds{ms}}; }

// 2025-01-01T00:00:00Z, a fixed "now" for the tests.
inline constexpr std::int64_t t0_ms = 1'735'689'600'000;

// A pending verification with one SMS attempt and every field set to something non-default,
// so that a column that is not written or not read back shows up as a difference.
inline verification make_verification(const std::string& id, std::int64_t created_ms = t0_ms) {
  verification v;
  v.id = id;
  v.to = "+84912345678";
  v.locale = "vi";
  v.api_key = "shop";
  v.client_ip = "203.0.113.7";
  v.status = verification_status::pending;
  v.created_at = at_ms(created_ms);
  v.expires_at = at_ms(created_ms + 300'000);
  v.code_length = 6;
  v.code_mac = std::string("\x00\x01\xfe\xff mac", 8);  // bytes, with a NUL
  v.code_sealed = "";
  v.checks = 1;
  v.max_checks = 5;
  v.sends = 1;
  v.next_resend_at = at_ms(created_ms + 30'000);
  v.idempotency_key = "";
  v.request_hash = "9f86d081884c7d65";
  attempt a;
  a.number = 1;
  a.via = channel::sms;
  a.status = attempt_status::submitted;
  a.created_at = at_ms(created_ms + 1);
  a.submitted_at = at_ms(created_ms + 5);
  a.carrier = "viettel";
  a.bind = "viettel-1";
  a.message_ids = {"0a1b2c", "0a1b2d"};
  a.smpp_status = 0;
  a.node = "web-1";
  v.attempts.push_back(a);
  return v;
}

}  // namespace otpd::service::test
