#include "daemon/http/auth.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <stdexcept>

#include "config/config.hpp"

namespace otpd::http {
namespace {

TEST(auth, sha256_hex_known_vector) {
  // FIPS 180-2 appendix B.1
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(auth, bearer_token_syntax) {
  EXPECT_EQ(api_key_auth::bearer_token("Bearer abc.DEF-123_~+/="), "abc.DEF-123_~+/=");
  EXPECT_EQ(api_key_auth::bearer_token("bearer   abc  "), "abc");  // scheme case-insensitive
  EXPECT_FALSE(api_key_auth::bearer_token("Bearer").has_value());
  EXPECT_FALSE(api_key_auth::bearer_token("Bearer ").has_value());
  EXPECT_FALSE(api_key_auth::bearer_token("Basic dXNlcjpwYXNz").has_value());
  EXPECT_FALSE(api_key_auth::bearer_token("Bearerabc").has_value());
  EXPECT_FALSE(api_key_auth::bearer_token("Bearer a b").has_value());
  EXPECT_FALSE(api_key_auth::bearer_token("Bearer =abc").has_value());
  EXPECT_FALSE(api_key_auth::bearer_token("Bearer ab=c").has_value());
}

TEST(auth, authenticates_against_every_key) {
  std::vector<config::api_key> keys{{"backend-1", sha256_hex("key-one")},
                                    {"backend-2", sha256_hex("key-two")}};
  for (auto& c : keys[1].sha256) c = static_cast<char>(std::toupper(c));  // hex in any case
  const api_key_auth auth(keys);
  EXPECT_EQ(auth.size(), 2u);
  EXPECT_EQ(auth.authenticate("Bearer key-one"), "backend-1");
  EXPECT_EQ(auth.authenticate("Bearer key-two"), "backend-2");
  EXPECT_FALSE(auth.authenticate("Bearer key-three").has_value());
  EXPECT_FALSE(auth.authenticate("Bearer key-on").has_value());
  EXPECT_FALSE(auth.authenticate(std::nullopt).has_value());
  EXPECT_FALSE(auth.authenticate("key-one").has_value());
  EXPECT_FALSE(api_key_auth().authenticate("Bearer key-one").has_value());
}

TEST(auth, bad_digests_are_refused_at_start_up) {
  using keys = std::vector<config::api_key>;
  EXPECT_THROW(api_key_auth(keys{{"k", "abc"}}), std::invalid_argument);
  EXPECT_THROW(api_key_auth(keys{{"k", std::string(64, 'g')}}), std::invalid_argument);
}

TEST(auth, unauthorized_problem) {
  auto r = unauthorized(false);
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.content_type, "application/problem+json");
  EXPECT_EQ(r.headers.get("WWW-Authenticate"), R"(Bearer realm="otpd")");
  r = unauthorized(true);
  EXPECT_EQ(r.headers.get("WWW-Authenticate"), R"(Bearer realm="otpd", error="invalid_token")");
}

}  // namespace
}  // namespace otpd::http
