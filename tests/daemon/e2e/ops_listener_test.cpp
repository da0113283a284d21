// /metrics and /readyz name API keys, carriers and volumes: they are served on the ops listener
// (ops.address, ops.port) without a key, and the API listener answers them 404, as any path it
// does not have, with a key or without. /healthz (liveness, nothing else) is on both. One-port
// setups say so with ops.on_api_listeners.
#include <gtest/gtest.h>

#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

TEST(e2e_ops_listener, metrics_and_readyz_are_on_the_ops_port_and_not_on_the_api_port) {
  single_world w;
  otpd_process& o = *w.otpd;
  ASSERT_NE(o.ops_port(), 0) << o.output();
  ASSERT_NE(o.ops_port(), o.port());

  for (const std::string path : {"/metrics", "/readyz"}) {
    // Not an auth error that would confirm the path exists: the 404 of any unknown path.
    http_response anon = o.get(path, false);
    EXPECT_EQ(anon.status, 404) << path << ": " << anon.body;
    EXPECT_EQ(anon.header("www-authenticate"), std::nullopt) << path;
    EXPECT_NE(anon.body.find("not_found"), std::string::npos) << anon.body;
    EXPECT_EQ(o.get(path, true).status, 404) << path;
    EXPECT_EQ(o.post(path, json::object{}, {}, false).status, 404) << path;
  }
  http_response metrics = o.ops_get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("otpd_smpp_bind_up{carrier=\"vn\",bind=\"vn-trx\"} 1"),
            std::string::npos)
      << metrics.body;
  http_response ready = o.ops_get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_NE(ready.body.find("\"vn\""), std::string::npos) << ready.body;

  // Liveness on both; the API is not on the ops port.
  EXPECT_EQ(o.get("/healthz", false).status, 200);
  EXPECT_EQ(o.ops_get("/healthz").status, 200);
  EXPECT_EQ(http_call(o.ops_port(), "GET", "/v1/verifications/nope").status, 404);
  EXPECT_EQ(http_call(o.ops_port(), "POST", "/v1/verifications",
                      {{"Authorization", "Bearer " + std::string(api_key)},
                       {"Content-Type", "application/json"}},
                      json::serialize(json::object{{"to", "0912345678"}}))
                .status,
            404);
}

TEST(e2e_ops_listener, one_port_setups_expose_them_on_the_api_listener_when_told_to) {
  otpd_options opts;
  opts.ops_yaml = "ops:\n  enabled: false\n  on_api_listeners: true\n";
  single_world w(opts);
  otpd_process& o = *w.otpd;
  EXPECT_EQ(o.ops_port(), 0);
  bool ops_line = false;
  for (const auto& l : o.lines()) ops_line |= l.find("ops_listening") != std::string::npos;
  EXPECT_FALSE(ops_line) << o.output();
  EXPECT_EQ(o.get("/metrics", false).status, 200);
  EXPECT_EQ(o.get("/readyz", false).status, 200);
  EXPECT_EQ(o.get("/healthz", false).status, 200);
}

}  // namespace
}  // namespace otpd::test::e2e
