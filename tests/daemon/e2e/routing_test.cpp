// Routing across carriers: two SMSC stand-ins, a carrier per prefix, a ported-numbers file
// that moves one number to the other carrier, a carrier whose only bind points at a closed
// port (failover to a working one), and a number no carrier covers.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

TEST(e2e_routing, prefix_ported_number_failover_and_no_route) {
  temp_dir dir;
  smsc_process smsc_a(smsc_flags());
  smsc_process smsc_b(smsc_flags());
  closed_port down;

  otpd_options opts;
  opts.carriers = {
      carrier_spec{"alpha", {"8491"}, {bind_spec{"alpha-trx", smsc_a.port()}}, {}},
      carrier_spec{"beta", {"8490"}, {bind_spec{"beta-trx", smsc_b.port()}}, {}},
      carrier_spec{"gamma", {"8498"}, {bind_spec{"gamma-trx", down.port()}}, {"beta"}},
  };
  opts.ported_numbers = "number,carrier\n# moved from alpha\n84911111111,beta\n";
  otpd_process o(opts, dir.path());
  // /readyz stays 503 (gamma never binds): wait for the two working binds instead.
  ASSERT_TRUE(o.wait_bound("alpha", "alpha-trx")) << o.output();
  ASSERT_TRUE(o.wait_bound("beta", "beta-trx")) << o.output();
  EXPECT_EQ(o.ops_get("/readyz").status, 503);

  const auto sent_via = [&](const std::string& id) {
    json::object v = o.poll_verification(id, [](const json::object& b) {
      return attempt_status_is(b, 0, "submitted") || attempt_status_is(b, 0, "delivered");
    });
    return str(attempt(v, 0), "carrier");
  };

  // By prefix: 8491 -> alpha (SMSC A).
  const std::string a = create(o, {{"to", "0912345678"}});
  auto ev = smsc_a.wait_for_event("submit", 15s);
  ASSERT_TRUE(ev) << o.output();
  EXPECT_EQ(dest_of(*ev), "84912345678");
  EXPECT_EQ(sent_via(a), "alpha");

  // By prefix: 8490 -> beta (SMSC B).
  const std::string b = create(o, {{"to", "0901234567"}});
  ev = smsc_b.wait_for_event("submit", 15s);
  ASSERT_TRUE(ev);
  EXPECT_EQ(dest_of(*ev), "84901234567");
  EXPECT_EQ(sent_via(b), "beta");
  smsc_b.sync();
  std::size_t mark_b = smsc_b.size();

  // The ported-numbers file overrides the prefix: 84911111111 is alpha's prefix but beta's.
  const std::string p = create(o, {{"to", "0911111111"}});
  ev = smsc_b.wait_for_event("submit", 15s, mark_b);
  ASSERT_TRUE(ev);
  EXPECT_EQ(dest_of(*ev), "84911111111");
  EXPECT_EQ(sent_via(p), "beta");
  smsc_b.sync();
  mark_b = smsc_b.size();

  // gamma's bind is down (connection refused): its failover, beta, sends the SMS.
  const std::string f = create(o, {{"to", "0981234567"}});
  ev = smsc_b.wait_for_event("submit", 15s, mark_b);
  ASSERT_TRUE(ev) << o.output();
  EXPECT_EQ(dest_of(*ev), "84981234567");
  EXPECT_EQ(sent_via(f), "beta");

  // No carrier covers +8428...: refused, not dropped.
  http_response none = o.post("/v1/verifications", json::object{{"to", "0281234567"}});
  EXPECT_EQ(none.status, 403) << none.body;
  EXPECT_EQ(none.problem_slug(), "destination_not_allowed");

  // Nothing went to a carrier it should not have.
  smsc_a.sync();
  smsc_b.sync();
  EXPECT_EQ(smsc_a.count("submit"), 1u);
  EXPECT_EQ(smsc_b.count("submit"), 3u);
}

}  // namespace
}  // namespace otpd::test::e2e
