// The ops section: /healthz, /readyz and /metrics on a listener of their own. Its defaults, and
// the configurations that could not work (the ops port is an API listener's) refused at load.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.hpp"

namespace otpd::config {
namespace {

using ::testing::HasSubstr;

std::string all_errors(const load_result& r) { return check_config_report(r); }

// A valid file but for `sections` (listeners and ops).
std::string file_with(std::string_view sections) {
  return std::string(sections) +
         "api_keys:\n  - name: backend\n    sha256: "
         "db6bcf6a2a36ee93dafa7dfcdc40973da39f2e2843e4c6f76e08aefc767b0caa\n"
         "secrets:\n  code_mac_key: 0123456789abcdef0123456789abcdef\n"
         "routing:\n  carriers:\n    - name: alpha\n      prefixes: [\"84\"]\n"
         "      sender: {addr: BRAND}\n      binds:\n        - {name: alpha-trx, host: "
         "127.0.0.1, port: 2775, bind: trx, system_id: otpd, password: pw}\n";
}

load_result load(std::string_view sections) {
  return load_config(file_with(sections), "otpd.yaml", {});
}

TEST(config_ops, on_a_loopback_port_of_its_own_by_default) {
  auto r = load("");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_TRUE(r.config->ops.enabled);
  EXPECT_EQ(r.config->ops.address, "127.0.0.1");
  EXPECT_EQ(r.config->ops.port, 8081);
  EXPECT_FALSE(r.config->ops.on_api_listeners);
  EXPECT_NE(r.config->ops.port, r.config->listeners[0].port);

  r = load("ops:\n  address: \"::1\"\n  port: 9464\n  on_api_listeners: true\n");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->ops.address, "::1");
  EXPECT_EQ(r.config->ops.port, 9464);
  EXPECT_TRUE(r.config->ops.on_api_listeners);
}

TEST(config_ops, an_api_listeners_port_is_refused) {
  auto r = load("listeners:\n  - {address: 127.0.0.1, port: 9000}\nops:\n  port: 9000\n");
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].line, 4u);  // at the port
  EXPECT_EQ(r.errors[0].column, 9u);
  EXPECT_THAT(r.errors[0].message,
              HasSubstr("ops.port: 127.0.0.1 port 9000 is an API listener's port too"));

  // A wildcard address overlaps every address.
  r = load("listeners:\n  - {address: 0.0.0.0, port: 9000}\nops:\n  port: 9000\n");
  EXPECT_EQ(r.errors.size(), 1u) << all_errors(r);
  r = load(
      "listeners:\n  - {address: 127.0.0.1, port: 9000}\nops: {address: \"::\", port: 9000}\n");
  EXPECT_EQ(r.errors.size(), 1u) << all_errors(r);
  // Other addresses, or port 0 (the OS picks), do not collide.
  EXPECT_TRUE(load("listeners:\n  - {address: 127.0.0.2, port: 9000}\nops: {port: 9000}\n").ok());
  EXPECT_TRUE(load("listeners:\n  - {address: 127.0.0.1, port: 0}\nops: {port: 0}\n").ok());

  // The default port too, said as such; without an ops listener there is nothing to collide.
  r = load("listeners:\n  - {address: 127.0.0.1, port: 8081}\n");
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_THAT(r.errors[0].message, HasSubstr("the ops listener's default port"));
  EXPECT_TRUE(
      load("listeners:\n  - {address: 127.0.0.1, port: 8081}\nops: {enabled: false}\n").ok());
}

TEST(config_ops, keys_are_checked) {
  auto r = load("ops: {address: localhost}\n");
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_THAT(r.errors[0].message, HasSubstr("ops.address: expected an IPv4 or IPv6 address"));
  r = load("ops: {port: 70000}\n");
  EXPECT_EQ(r.errors.size(), 1u) << all_errors(r);
  r = load("ops: {expose: true}\n");
  EXPECT_EQ(r.errors.size(), 1u) << all_errors(r);
}

}  // namespace
}  // namespace otpd::config
