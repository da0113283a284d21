// The store's cache of the rows it wrote: times floored as the store reads them back, and a row
// found for at least `capacity` writes after it was put.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "daemon/store/row_cache.hpp"
#include "tests/daemon/store/store_test_util.hpp"

namespace otpd::service::test {
namespace {

TEST(row_cache, keeps_rows_with_their_times_floored_to_the_millisecond) {
  row_cache cache;
  verification v = make_verification("v1");
  v.created_at += std::chrono::microseconds(1'500);
  v.attempts[0].submitted_at = *v.attempts[0].submitted_at + std::chrono::microseconds(999);
  cache.put(v);
  const verification* got = cache.find("v1");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->created_at, at_ms(t0_ms + 1));
  EXPECT_EQ(got->attempts[0].submitted_at, at_ms(t0_ms + 5));
  EXPECT_EQ(cache.find("v2"), nullptr);
  cache.erase("v1");
  EXPECT_EQ(cache.find("v1"), nullptr);
}

TEST(row_cache, a_row_is_found_for_capacity_puts_after_it_and_replaced_by_a_newer_copy) {
  row_cache cache(4);
  cache.put(make_verification("first"));
  for (int i = 0; i < 4; ++i) cache.put(make_verification(numbered("v", i)));
  ASSERT_NE(cache.find("first"), nullptr);  // in the old generation
  verification newer = make_verification("first");
  newer.version = 7;
  cache.put(newer);
  EXPECT_EQ(cache.find("first")->version, 7);
  for (int i = 4; i < 12; ++i) cache.put(make_verification(numbered("v", i)));
  EXPECT_EQ(cache.find("first"), nullptr);
  cache.clear();
  EXPECT_EQ(cache.find("v11"), nullptr);
}

}  // namespace
}  // namespace otpd::service::test
