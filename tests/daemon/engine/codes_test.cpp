#include "daemon/engine/codes.hpp"

#include <array>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace otpd::engine {
namespace {

config::secrets test_keys(bool with_seal = true) {
  config::secrets s;
  s.code_mac_key = secret("0123456789abcdef0123456789abcdef");  // 32 bytes
  if (with_seal) s.code_seal_key = secret("fedcba9876543210fedcba9876543210");
  return s;
}

bool all_digits(const std::string& s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Pearson's chi-square statistic of observed counts against a uniform expectation.
template <std::size_t N>
double chi_square(const std::array<std::uint64_t, N>& counts, double expected) {
  double x2 = 0;
  for (auto c : counts) {
    const double d = static_cast<double>(c) - expected;
    x2 += d * d / expected;
  }
  return x2;
}

// --- generate_code ---------------------------------------------------------------------------

TEST(generate_code, length_and_charset_for_every_allowed_length) {
  for (int digits = min_code_digits; digits <= max_code_digits; ++digits) {
    for (int i = 0; i < 200; ++i) {
      const std::string code = generate_code(digits);
      ASSERT_EQ(code.size(), static_cast<std::size_t>(digits));
      ASSERT_TRUE(all_digits(code)) << "length " << digits;
    }
  }
}

TEST(generate_code, refuses_lengths_outside_four_to_ten) {
  EXPECT_THROW(generate_code(3), std::invalid_argument);
  EXPECT_THROW(generate_code(11), std::invalid_argument);
  EXPECT_THROW(generate_code(0), std::invalid_argument);
  EXPECT_THROW(generate_code(-6), std::invalid_argument);
}

// Uniform digits, overall and per position. 50,000 six-digit codes: 300,000 digits, 30,000 per
// bin. For 9 degrees of freedom the statistic averages 9; 45 is exceeded with probability
// below 1e-6 for a fair generator. A naive `byte % 10` (digits 0-5 at 26/256, 6-9 at 25/256)
// scores about 120 on the overall count, so the test sees modulo bias of that size.
TEST(generate_code, digits_are_uniform) {
  constexpr int draws = 50'000;
  constexpr int digits = 6;
  std::array<std::uint64_t, 10> overall{};
  std::array<std::array<std::uint64_t, 10>, digits> per_position{};
  for (int i = 0; i < draws; ++i) {
    const std::string code = generate_code(digits);
    for (int p = 0; p < digits; ++p) {
      const auto d = static_cast<std::size_t>(code[static_cast<std::size_t>(p)] - '0');
      ++overall[d];
      ++per_position[static_cast<std::size_t>(p)][d];
    }
  }
  EXPECT_LT(chi_square(overall, draws * digits / 10.0), 45.0);
  for (int p = 0; p < digits; ++p) {
    EXPECT_LT(chi_square(per_position[static_cast<std::size_t>(p)], draws / 10.0), 45.0)
        << "position " << p;
  }
}

TEST(generate_code, acceptance_limit_is_the_largest_multiple_of_ten_to_the_k) {
  std::uint64_t m = 1;
  for (int digits = 1; digits <= max_code_digits; ++digits) {
    m *= 10;
    const std::uint64_t limit = detail::acceptance_limit(digits);
    EXPECT_EQ(limit % m, 0u) << digits;
    // Largest: the next multiple would not fit in 64 bits.
    EXPECT_LT(UINT64_MAX - limit, m) << digits;
  }
}

TEST(generate_code, draws_at_or_above_the_limit_are_rejected) {
  for (int digits = min_code_digits; digits <= max_code_digits; ++digits) {
    const std::uint64_t limit = detail::acceptance_limit(digits);
    EXPECT_TRUE(detail::code_from_draw(limit - 1, digits).has_value()) << digits;
    EXPECT_FALSE(detail::code_from_draw(limit, digits).has_value()) << digits;
    EXPECT_FALSE(detail::code_from_draw(UINT64_MAX, digits).has_value()) << digits;
  }
  // limit - 1 is the top of the accepted range: it maps to all nines.
  EXPECT_EQ(detail::code_from_draw(detail::acceptance_limit(6) - 1, 6), "999999");
}

TEST(generate_code, draw_keeps_leading_zeros) {
  EXPECT_EQ(detail::code_from_draw(0, 6), "000000");
  EXPECT_EQ(detail::code_from_draw(123, 6), "000123");
  EXPECT_EQ(detail::code_from_draw(1'000'123, 6), "000123");
  EXPECT_EQ(detail::code_from_draw(9'876'543'210ULL, 10), "9876543210");
  EXPECT_EQ(detail::code_from_draw(42, 4), "0042");
}

// --- ids -------------------------------------------------------------------------------------

TEST(verification_id, base32_matches_rfc4648_vectors) {
  // RFC 4648 §10, lowercase, padding dropped.
  const auto b32 = [](std::string_view s) {
    return detail::base32_lower(reinterpret_cast<const unsigned char*>(s.data()), s.size());
  };
  EXPECT_EQ(b32(""), "");
  EXPECT_EQ(b32("f"), "my");
  EXPECT_EQ(b32("fo"), "mzxq");
  EXPECT_EQ(b32("foo"), "mzxw6");
  EXPECT_EQ(b32("foob"), "mzxw6yq");
  EXPECT_EQ(b32("fooba"), "mzxw6ytb");
  EXPECT_EQ(b32("foobar"), "mzxw6ytboi");
}

TEST(verification_id, twenty_six_url_safe_characters_and_unique) {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = new_verification_id();
    ASSERT_EQ(id.size(), 26u);  // ceil(128 / 5)
    for (char c : id) {
      ASSERT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << id;
    }
    // 128 bits = 25 full characters and 3 bits: the last character's 2 low bits are zero.
    const char last = id.back();
    const int v = last >= 'a' ? last - 'a' : last - '2' + 26;
    ASSERT_EQ(v & 0x3, 0) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 2000u);
}

TEST(verification_id, starts_with_the_time_in_milliseconds_then_random_bits) {
  using namespace std::chrono;
  const system_clock::time_point t{milliseconds{0x0123456789ab}};
  const std::string a = new_verification_id(t);
  const std::string b = new_verification_id(t);
  // 48 bits of time = the first 9 characters and 3 bits of the 10th.
  const unsigned char time_bytes[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab};
  const std::string prefix = detail::base32_lower(time_bytes, sizeof time_bytes).substr(0, 9);
  EXPECT_EQ(a.substr(0, 9), prefix);
  EXPECT_EQ(b.substr(0, 9), prefix);
  EXPECT_NE(a, b);  // 80 random bits
  EXPECT_NE(new_verification_id(t + milliseconds(1)).substr(0, 10), a.substr(0, 10));
}

// --- MAC -------------------------------------------------------------------------------------

TEST(code_protector, mac_is_hmac_sha256_over_id_nul_code) {
  const code_protector p{test_keys()};
  // Python: hmac.new(key, b"abc\x00123456", hashlib.sha256).hexdigest()
  EXPECT_EQ(p.mac("abc", "123456"),
            "c832bd665ba454b2724df625b948423ce7095e6d584d52c271f20e5e9d550cbe");
  // Without the separator it would be this: the 0x00 must be there.
  EXPECT_NE(p.mac("abc", "123456"),
            "5a425a8a28b97cf4b26154f70d315318ac73cf0f2674185fbb61654095ba73e9");
}

TEST(code_protector, mac_binds_the_id) {
  const code_protector p{test_keys()};
  EXPECT_NE(p.mac("id1", "123456"), p.mac("id2", "123456"));
  EXPECT_NE(p.mac("abc1", "23456"), p.mac("abc", "123456"));
  EXPECT_EQ(p.mac("id1", "123456").find("123456"), std::string::npos);
}

TEST(code_protector, verify_accepts_only_the_right_code_and_id) {
  const code_protector p{test_keys()};
  const std::string mac = p.mac("vid", "482917");
  EXPECT_TRUE(p.verify("vid", "482917", mac));
  EXPECT_FALSE(p.verify("vid", "482918", mac));
  EXPECT_FALSE(p.verify("vid", "48291", mac));
  EXPECT_FALSE(p.verify("vid", "4829170", mac));
  EXPECT_FALSE(p.verify("vid", "", mac));
  EXPECT_FALSE(p.verify("other", "482917", mac));
  EXPECT_FALSE(p.verify("vid", std::string(10'000, '4'), mac));  // long input: no overflow
}

TEST(code_protector, verify_rejects_a_changed_or_malformed_mac) {
  const code_protector p{test_keys()};
  const std::string mac = p.mac("vid", "482917");
  for (std::size_t i = 0; i < mac.size(); ++i) {
    std::string bad = mac;
    bad[i] = bad[i] == '0' ? '1' : '0';
    EXPECT_FALSE(p.verify("vid", "482917", bad)) << i;
  }
  EXPECT_FALSE(p.verify("vid", "482917", mac.substr(0, 63)));
  EXPECT_FALSE(p.verify("vid", "482917", mac + "0"));
  EXPECT_FALSE(p.verify("vid", "482917", ""));
  std::string non_hex = mac;
  non_hex[10] = 'g';
  EXPECT_FALSE(p.verify("vid", "482917", non_hex));
}

TEST(code_protector, another_key_does_not_verify) {
  const code_protector p{test_keys()};
  config::secrets other = test_keys();
  other.code_mac_key = secret("X123456789abcdef0123456789abcdef");
  const code_protector q{other};
  EXPECT_FALSE(q.verify("vid", "482917", p.mac("vid", "482917")));
}

TEST(code_protector, verify_absent_is_always_false) {
  const code_protector p{test_keys()};
  EXPECT_FALSE(p.verify_absent("482917"));
  EXPECT_FALSE(p.verify_absent(""));
}

TEST(code_protector, refuses_weak_keys) {
  config::secrets s = test_keys();
  s.code_mac_key = secret(std::string(31, 'm'));
  EXPECT_THROW(code_protector{s}, std::invalid_argument);
  s = test_keys();
  s.code_seal_key = secret(std::string(31, 'k'));
  EXPECT_THROW(code_protector{s}, std::invalid_argument);
  s.code_seal_key = secret(std::string(33, 'k'));
  EXPECT_THROW(code_protector{s}, std::invalid_argument);
  s.code_seal_key = secret();  // no sealing is fine
  EXPECT_NO_THROW(code_protector{s});
  s.code_mac_key = secret(std::string(64, 'm'));  // longer MAC keys are fine (RFC 2104 §3)
  EXPECT_NO_THROW(code_protector{s});
}

// --- seal ------------------------------------------------------------------------------------

TEST(code_protector, seal_round_trips) {
  const code_protector p{test_keys()};
  ASSERT_TRUE(p.can_seal());
  for (const char* code : {"0000", "482917", "9876543210"}) {
    const std::string sealed = p.seal("vid", code);
    // hex(12-byte nonce || ciphertext || 16-byte tag)
    EXPECT_EQ(sealed.size(), 2 * (12 + std::string_view(code).size() + 16));
    EXPECT_EQ(p.unseal("vid", sealed), std::optional<std::string>(code));
  }
}

TEST(code_protector, seal_uses_a_fresh_nonce) {
  const code_protector p{test_keys()};
  const std::string a = p.seal("vid", "482917");
  const std::string b = p.seal("vid", "482917");
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(0, 24), b.substr(0, 24));
}

TEST(code_protector, unseal_detects_every_changed_byte) {
  const code_protector p{test_keys()};
  const std::string sealed = p.seal("vid", "482917");
  // Nonce, ciphertext and tag: a change anywhere fails the GCM tag.
  for (std::size_t i = 0; i < sealed.size(); i += 2) {
    std::string bad = sealed;
    bad[i] = bad[i] == 'a' ? 'b' : 'a';
    EXPECT_FALSE(p.unseal("vid", bad).has_value()) << i;
  }
}

TEST(code_protector, unseal_refuses_other_id_key_or_shape) {
  const code_protector p{test_keys()};
  const std::string sealed = p.seal("vid", "482917");
  EXPECT_FALSE(p.unseal("vie", sealed).has_value());  // the id is the AAD
  EXPECT_FALSE(p.unseal("vid", sealed.substr(0, sealed.size() - 2)).has_value());
  EXPECT_FALSE(p.unseal("vid", sealed.substr(1)).has_value());
  EXPECT_FALSE(p.unseal("vid", "").has_value());
  EXPECT_FALSE(p.unseal("vid", std::string(sealed.size(), 'z')).has_value());

  config::secrets other = test_keys();
  std::string flipped(other.code_seal_key.view());
  flipped[5] ^= 1;
  other.code_seal_key = secret(flipped);
  EXPECT_FALSE(code_protector{other}.unseal("vid", sealed).has_value());
}

TEST(code_protector, without_seal_key_nothing_seals) {
  const code_protector p{test_keys(false)};
  EXPECT_FALSE(p.can_seal());
  EXPECT_THROW((void)p.seal("vid", "482917"), std::logic_error);
  const code_protector q{test_keys()};
  EXPECT_FALSE(p.unseal("vid", q.seal("vid", "482917")).has_value());
}

TEST(code_protector, copies_work) {
  const code_protector p{test_keys()};
  const code_protector q = p;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_TRUE(q.verify("vid", "482917", p.mac("vid", "482917")));
  EXPECT_EQ(q.unseal("vid", p.seal("vid", "482917")), std::optional<std::string>("482917"));
}

}  // namespace
}  // namespace otpd::engine
