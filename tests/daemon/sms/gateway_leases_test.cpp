// The gateway's binds under leases (docs/scale-out.md), without an SMSC: what serves(),
// health() and ready() say for a carrier whose binds are held here, by another node, or by
// none. The io_context never runs: a bind held here has not connected yet, and one not held
// never will.
#include <memory>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "daemon/sms/sms_gateway.hpp"

namespace otpd::service {
namespace {

std::shared_ptr<const config::config> two_carriers() {
  auto cfg = std::make_shared<config::config>();
  for (const char* name : {"vn", "mf"}) {
    config::carrier c;
    c.name = name;
    c.prefixes = {std::string(name) == "vn" ? "84" : "85"};
    for (const char* b : {"-a", "-b"}) {
      smpp::bind_config bc;
      bc.session.name = std::string(name) + b;
      bc.session.endpoint.host = "127.0.0.1";
      bc.session.endpoint.port = 9;  // never reached: the loop does not run
      c.binds.push_back(bc);
    }
    cfg->routes.carriers.push_back(c);
  }
  return cfg;
}

const carrier_health& of(const std::vector<carrier_health>& all, std::string_view name) {
  for (const auto& h : all) {
    if (h.name == name) return h;
  }
  throw std::runtime_error("no carrier");
}

TEST(gateway_leases, without_leases_every_carrier_is_served_here) {
  boost::asio::io_context io;
  sms_gateway g(io.get_executor(), two_carriers(), {});
  EXPECT_TRUE(g.serves("vn"));
  EXPECT_TRUE(g.serves("mf"));
  EXPECT_FALSE(g.serves("nope"));
}

TEST(gateway_leases, a_carrier_is_served_where_one_of_its_binds_is_leased) {
  boost::asio::io_context io;
  sms_gateway g(io.get_executor(), two_carriers(), {});
  g.require_leases();
  EXPECT_FALSE(g.serves("vn"));
  g.set_lease("vn", "vn-b", smpp::bind_lease::held);
  EXPECT_TRUE(g.serves("vn"));
  EXPECT_FALSE(g.serves("mf"));
  g.set_lease("vn", "vn-b", smpp::bind_lease::elsewhere);
  EXPECT_FALSE(g.serves("vn"));
}

TEST(gateway_leases, a_carrier_held_by_another_node_is_elsewhere_and_ready) {
  boost::asio::io_context io;
  sms_gateway g(io.get_executor(), two_carriers(), {});
  g.require_leases();
  g.set_lease("vn", "vn-a", smpp::bind_lease::elsewhere);
  g.set_lease("vn", "vn-b", smpp::bind_lease::free);
  g.set_lease("mf", "mf-a", smpp::bind_lease::elsewhere);
  g.set_lease("mf", "mf-b", smpp::bind_lease::elsewhere);
  auto h = g.health();
  EXPECT_EQ(of(h, "vn").status, "elsewhere");
  EXPECT_EQ(of(h, "vn").binds[0].state, "elsewhere");
  EXPECT_EQ(of(h, "vn").binds[1].state, "unleased");
  EXPECT_EQ(of(h, "mf").status, "elsewhere");
  EXPECT_TRUE(g.ready());
  // No node holds any bind of mf: down, and not ready.
  g.set_lease("mf", "mf-a", smpp::bind_lease::free);
  g.set_lease("mf", "mf-b", smpp::bind_lease::free);
  h = g.health();
  EXPECT_EQ(of(h, "mf").status, "down");
  EXPECT_FALSE(g.ready());
}

}  // namespace
}  // namespace otpd::service
