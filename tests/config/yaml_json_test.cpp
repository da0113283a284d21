#include "config/yaml_json.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace otpd::config {
namespace {

TEST(yaml_json, fingerprints_keep_changes_visible_and_drop_the_secrets) {
  const char* yaml =
      "routing:\n  carriers:\n    - name: a\n      binds:\n        - {name: x, password: "
      "s3cret-pw}\n"
      "webhooks: {url: 'https://u:p@hooks.example/x', secret: whsec-0123456789abcdef}\n"
      "policy: {code_length: 6}\n";
  auto a = yaml_to_json(yaml);
  auto b = yaml_to_json(yaml);
  ASSERT_TRUE(a && b);
  const std::initializer_list<std::string_view> keys = {"password", "secret", "url"};
  fingerprint_values(*a, keys);
  fingerprint_values(*b, keys);
  const std::string text = boost::json::serialize(*a);
  EXPECT_EQ(text.find("s3cret-pw"), std::string::npos) << text;
  EXPECT_EQ(text.find("whsec-0123456789abcdef"), std::string::npos) << text;
  EXPECT_EQ(text.find("u:p@"), std::string::npos) << text;
  EXPECT_NE(text.find("\"code_length\":6"), std::string::npos) << text;  // the rest as it was
  EXPECT_EQ(*a, *b);  // the same text, the same fingerprints

  auto c =
      yaml_to_json(std::string(yaml).replace(std::string(yaml).find("s3cret-pw"), 9, "other-pw1"));
  ASSERT_TRUE(c);
  fingerprint_values(*c, keys);
  EXPECT_NE(a->at("routing"), c->at("routing"));  // a changed password is still a change
  EXPECT_EQ(a->at("webhooks"), c->at("webhooks"));
}

}  // namespace
}  // namespace otpd::config
