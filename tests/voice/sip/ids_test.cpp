#include "voice/sip/ids.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace otpd::sip {
namespace {

bool all_hex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

TEST(sip_ids, csprng_identifiers_are_well_formed_and_distinct) {
  const random_source random = csprng_source();
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string branch = make_branch(random);
    ASSERT_EQ(branch.rfind("z9hG4bK", 0), 0u);
    ASSERT_EQ(branch.size(), 7u + 32u);
    ASSERT_TRUE(all_hex(std::string_view(branch).substr(7)));
    const std::string tag = make_tag(random);
    ASSERT_EQ(tag.size(), 16u);
    ASSERT_TRUE(all_hex(tag));
    const std::string call_id = make_call_id(random, "127.0.0.1");
    ASSERT_EQ(call_id.size(), 32u + 10u);
    ASSERT_TRUE(all_hex(std::string_view(call_id).substr(0, 32)));
    const std::string cnonce = make_cnonce(random);
    ASSERT_TRUE(all_hex(cnonce));
    for (const std::string& s : {branch, tag, call_id, cnonce}) EXPECT_TRUE(seen.insert(s).second);
  }
}

TEST(sip_ids, two_sources_are_unrelated) {
  // Two independently created sources (as two calls get) never start with the same value,
  // which a generator seeded from a small space would do after enough draws.
  const random_source a = csprng_source();
  const random_source b = csprng_source();
  int equal_bits = 0;
  for (int i = 0; i < 64; ++i) {
    const std::uint64_t x = a(), y = b();
    EXPECT_NE(x, y);
    equal_bits += 64 - __builtin_popcountll(x ^ y);
  }
  // 4096 bits compared: about half agree; far outside [1700, 2400] means a dependence.
  EXPECT_GT(equal_bits, 1700);
  EXPECT_LT(equal_bits, 2400);
}

}  // namespace
}  // namespace otpd::sip
