// The rows a store connection wrote, by id: a read-modify-write of a row it has reads only the
// row's version and, when that matches, uses the copy instead of reading the row and its
// attempts. Sound because every write of a verification or its attempts bumps the version
// (model.hpp), from any connection or process; the store forgets what a rolled-back
// transaction wrote (it clears the cache on any failure that may roll back).
//
// Two generations of at most `capacity` rows each: a row is found for at least `capacity`
// writes after it was put. Not thread-safe: one per connection, as the store.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "daemon/model.hpp"

namespace otpd::service {

class row_cache {
 public:
  explicit row_cache(std::size_t capacity = 4096) : capacity_(capacity) {}

  const verification* find(std::string_view id) const {
    if (auto it = young_.find(id); it != young_.end()) return &it->second;
    if (auto it = old_.find(id); it != old_.end()) return &it->second;
    return nullptr;
  }
  // `v` as written: its times are kept floored to the millisecond, as the store reads them back.
  void put(const verification& v) {
    if (young_.size() >= capacity_) {
      old_ = std::move(young_);
      young_.clear();
    }
    auto [it, added] = young_.insert_or_assign(v.id, v);
    floor_times(it->second);
  }
  void erase(std::string_view id) {
    if (auto it = young_.find(id); it != young_.end()) young_.erase(it);
    if (auto it = old_.find(id); it != old_.end()) old_.erase(it);
  }
  void clear() {
    young_.clear();
    old_.clear();
  }

 private:
  struct hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using map = std::unordered_map<std::string, verification, hash, std::equal_to<>>;
  static void floor_times(verification& v) {
    const auto floor = [](sys_time& t) { t = std::chrono::floor<std::chrono::milliseconds>(t); };
    floor(v.created_at);
    floor(v.expires_at);
    if (v.completed_at) floor(*v.completed_at);
    floor(v.next_resend_at);
    for (attempt& a : v.attempts) {
      floor(a.created_at);
      if (a.submitted_at) floor(*a.submitted_at);
      if (a.completed_at) floor(*a.completed_at);
    }
  }

  std::size_t capacity_;
  map young_;
  map old_;
};

}  // namespace otpd::service
