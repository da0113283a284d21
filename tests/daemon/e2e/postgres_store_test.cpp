// otpd on a PostgreSQL store (a throw-away cluster, tests/support/pg_cluster.hpp): a
// verification goes its whole way; with the database stopped, requests that need state answer
// 503 with Retry-After and /readyz says why; once it is back otpd is ready again by itself (no
// request in between: the store probe finds it) and nothing acknowledged was lost.
#include <gtest/gtest.h>

#include "tests/daemon/e2e/scenario.hpp"
#include "tests/support/pg_cluster.hpp"

namespace otpd::test::e2e {
namespace {

std::string store_status(const http_response& r) {
  const auto* s = r.obj().if_contains("store");
  return s && s->is_object() ? str(s->as_object(), "status") : std::string();
}

TEST(e2e_postgres_store, serves_answers_503_while_the_database_is_away_and_recovers_by_itself) {
  pg_cluster pg;  // its own: this test stops it
  otpd_options opts;
  opts.store_kind = "postgres";
  opts.code_seal_key = std::string(32, 's');
  opts.store_yaml = "postgres:\n  url: \"" + pg.create_database("otpd") +
                    "\"\n  pool_size: 3\n  connect_timeout: 2s\n  statement_timeout: 2s\n";
  single_world w(opts);
  const auto open = w.otpd->wait_for_line(
      [](std::string_view l) { return l.find("store_open ") != std::string_view::npos; }, 1s);
  ASSERT_TRUE(open) << w.otpd->output();
  EXPECT_NE(open->find("kind=postgres"), std::string::npos) << *open;
  EXPECT_NE(open->find("connections=3"), std::string::npos) << *open;
  EXPECT_NE(open->find("node="), std::string::npos) << *open;

  // The whole way on PostgreSQL: created, sent, checked.
  std::size_t from = w.smsc.size();
  const std::string id = create(*w.otpd, {{"to", "0912 345 678"}});
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(check(*w.otpd, id, next_code(w.smsc, from)).status, 200);
  EXPECT_EQ(store_status(w.otpd->ops_get("/readyz")), "up");

  pg.stop();
  const http_response refused = w.otpd->post("/v1/verifications", {{"to", "0912 345 679"}});
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.problem_slug(), "store_unavailable") << refused.body;
  EXPECT_TRUE(refused.header("retry-after").has_value()) << refused.body;
  EXPECT_GE(num(refused.obj(), "retry_after"), 1) << refused.body;
  EXPECT_EQ(w.otpd->get("/v1/verifications/" + id).status, 503);
  // Down from the call that failed, before its 503 was answered.
  const http_response down = w.otpd->ops_get("/readyz");
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(store_status(down), "down") << down.body;
  EXPECT_FALSE(str(down.obj().at("store").as_object(), "error").empty()) << down.body;

  pg.start();
  // Only /readyz from here on: the probe alone must find the store up again.
  EXPECT_TRUE(w.otpd->wait_ready(15s)) << w.otpd->output();
  const http_response up = w.otpd->ops_get("/readyz");
  EXPECT_EQ(store_status(up), "up") << up.body;
  EXPECT_TRUE(w.otpd->wait_for_line(
      [](std::string_view l) { return l.find("store_up") != std::string_view::npos; }, 1s));

  const http_response before = w.otpd->get("/v1/verifications/" + id);
  EXPECT_EQ(before.status, 200) << before.body;
  EXPECT_EQ(str(before.obj(), "status"), "approved") << before.body;
  from = w.smsc.size();
  const std::string again = create(*w.otpd, {{"to", "0912 345 679"}});
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(check(*w.otpd, again, next_code(w.smsc, from)).status, 200);
}

}  // namespace
}  // namespace otpd::test::e2e
