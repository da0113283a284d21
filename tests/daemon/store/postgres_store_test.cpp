// The PostgreSQL store: the store's contract (store_contract.hpp) against a throw-away cluster,
// and what only PostgreSQL has: nodes migrating at once, a schema newer than the binary, the
// server going away and coming back, the statement timeout, passwords kept out of messages,
// rate limits decided across connections at once.
#include "daemon/store/postgres_store.hpp"

#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/store/postgres_connection.hpp"
#include "tests/daemon/store/store_contract.hpp"
#include "tests/daemon/store/store_test_util.hpp"
#include "tests/support/pg_cluster.hpp"
#include "tests/support/pki.hpp"

namespace otpd::service {
namespace {

using namespace std::chrono_literals;
using otpd::test::pg_cluster;
using otpd::test::pki;
using test::at_ms;
using test::make_verification;
using test::store_contract;
using test::t0_ms;

// A database of its own on the test binary's cluster, dropped at the end.
class postgres_database final : public test::store_database {
 public:
  postgres_database() {
    static std::atomic<int> counter{0};
    name_ = "otpd_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    conninfo_ = pg_cluster::shared().create_database(name_);
  }
  ~postgres_database() override { pg_cluster::shared().drop_database(name_); }

  std::unique_ptr<store> connect() override { return open(options()); }

  postgres_options options() const {
    postgres_options o;
    o.conninfo = conninfo_;
    return o;
  }
  std::unique_ptr<store> open(const postgres_options& o) {
    std::unique_ptr<store> out;
    std::string why;
    EXPECT_FALSE(open_postgres_store(o, out, why)) << why;
    return out;
  }
  const std::string& name() const { return name_; }
  std::string psql(const std::string& sql) { return pg_cluster::shared().psql(name_, sql); }

 private:
  std::string name_;
  std::string conninfo_;
};

INSTANTIATE_TEST_SUITE_P(postgres, store_contract,
                         ::testing::Values(test::store_backend{
                             "postgres", [] { return std::make_unique<postgres_database>(); }}),
                         test::backend_name);

class postgres_store_test : public ::testing::Test {
 protected:
  // Runs `during(b)` while another connection holds row "v1" (inside its modify, which then
  // sets checks to 1); `b` is a store whose statement timeout is 200 ms, returned for more.
  std::unique_ptr<store> while_v1_is_held(const std::function<void(store& b)>& during) {
    auto a = db_.connect();
    postgres_options o = db_.options();
    o.statement_timeout = 200ms;
    auto b = db_.open(o);
    EXPECT_FALSE(a->insert(make_verification("v1")));
    verification out;
    EXPECT_FALSE(a->modify(
        "v1",
        [&](verification& v) {
          during(*b);
          v.checks = 1;
          return error_code{};
        },
        out));
    return b;
  }

  postgres_database db_;
};

TEST_F(postgres_store_test, nodes_opening_at_once_migrate_once) {
  constexpr int nodes = 4;
  std::vector<std::unique_ptr<store>> opened(nodes);
  std::vector<std::string> why(nodes);
  std::vector<error_code> result(nodes);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < nodes; ++i) {
      threads.emplace_back(
          [&, i] { result[i] = open_postgres_store(db_.options(), opened[i], why[i]); });
    }
  }
  for (int i = 0; i < nodes; ++i) EXPECT_FALSE(result[i]) << why[i];
  // Each migration recorded once.
  EXPECT_EQ(db_.psql("SELECT count(*), count(DISTINCT version), max(version) FROM schema_version"),
            "2|2|2\n");
  // Every node works on the one schema.
  ASSERT_FALSE(opened[0]->insert(make_verification("v1")));
  verification read;
  EXPECT_FALSE(opened[nodes - 1]->get("v1", read));
  EXPECT_EQ(read, make_verification("v1"));
}

TEST_F(postgres_store_test, a_schema_newer_than_the_binary_is_refused) {
  ASSERT_NE(db_.connect(), nullptr);
  db_.psql("INSERT INTO schema_version (version) VALUES (99)");
  std::unique_ptr<store> out;
  std::string why;
  EXPECT_EQ(open_postgres_store(db_.options(), out, why), store_errc::io_error);
  EXPECT_EQ(out, nullptr);
  EXPECT_NE(why.find("schema version 99 is newer"), std::string::npos) << why;
}

// The server goes away (`away`): calls fail with io_error and say why, each trying to
// reconnect. It comes back: the same store object serves again, without a restart.
void fails_then_serves_again(store& s, const std::function<void()>& away) {
  ASSERT_FALSE(s.insert(make_verification("v1"))) << s.last_error();
  away();
  verification read;
  EXPECT_EQ(s.get("v1", read), store_errc::io_error);
  EXPECT_FALSE(s.last_error().empty());
  EXPECT_EQ(s.insert(make_verification("v2")), store_errc::io_error);
  EXPECT_NE(s.last_error().find("Connection refused"), std::string::npos) << s.last_error();
  pg_cluster::shared().start();
  EXPECT_FALSE(s.get("v1", read)) << s.last_error();
  EXPECT_EQ(read, make_verification("v1"));
  EXPECT_FALSE(s.insert(make_verification("v2"))) << s.last_error();
}

TEST_F(postgres_store_test, the_same_store_serves_again_once_the_server_is_back) {
  fails_then_serves_again(*db_.connect(), [] { pg_cluster::shared().stop(); });
}

TEST_F(postgres_store_test, the_same_store_serves_again_once_a_killed_server_has_recovered) {
  fails_then_serves_again(*db_.connect(), [] { pg_cluster::shared().kill(); });
}

TEST_F(postgres_store_test, a_statement_waiting_past_the_timeout_fails_with_io_error) {
  // B tries to modify the row A holds: it waits for the lock past its timeout.
  error_code b_result;
  auto b = while_v1_is_held([&](store& held) {
    verification ignored;
    b_result = held.modify(
        "v1", [](verification&) { return error_code{}; }, ignored);
  });
  EXPECT_EQ(b_result, store_errc::io_error);
  EXPECT_NE(b->last_error().find("canceling statement due to statement timeout"), std::string::npos)
      << b->last_error();
  // B goes on without a reconnect, and sees A's change.
  verification read;
  ASSERT_FALSE(b->get("v1", read)) << b->last_error();
  EXPECT_EQ(read.checks, 1);
}

TEST_F(postgres_store_test, a_call_the_server_fails_inside_a_batch_fails_the_whole_batch) {
  // A modify has no savepoint of its own in a batch: when the server fails it (here the
  // statement timeout, waiting for the row another connection holds), the batch cannot commit,
  // the calls after it fail at once, and nothing of the batch is written; the executor then
  // runs each call again alone.
  error_code in_batch[3];
  error_code batch_end;
  auto b = while_v1_is_held([&](store& held) {
    EXPECT_FALSE(held.begin_batch());
    in_batch[0] = held.insert(make_verification("v2"));
    verification ignored;
    in_batch[1] = held.modify(
        "v1", [](verification&) { return error_code{}; }, ignored);
    in_batch[2] = held.insert(make_verification("v3"));
    batch_end = held.end_batch();
  });
  EXPECT_FALSE(in_batch[0]);
  EXPECT_EQ(in_batch[1], store_errc::io_error);
  EXPECT_EQ(in_batch[2], store_errc::io_error);
  EXPECT_EQ(batch_end, store_errc::io_error);
  EXPECT_NE(b->last_error().find("statement timeout"), std::string::npos) << b->last_error();
  verification read;
  auto other = db_.connect();
  EXPECT_EQ(other->get("v2", read), store_errc::not_found);
  // The same store goes on: alone, and in the next batch.
  ASSERT_FALSE(b->insert(make_verification("v2"))) << b->last_error();
  ASSERT_FALSE(b->begin_batch());
  ASSERT_FALSE(b->insert(make_verification("v3")));
  ASSERT_FALSE(b->end_batch()) << b->last_error();
  EXPECT_FALSE(other->get("v3", read));
}

TEST_F(postgres_store_test, a_wrong_password_is_refused_without_showing_it) {
  const std::string wrong = "not-the-password-41ab";
  postgres_options o;
  o.conninfo = pg_cluster::shared().conninfo(db_.name(), pg_cluster::password_user, wrong);
  std::unique_ptr<store> out;
  std::string why;
  EXPECT_EQ(open_postgres_store(o, out, why), store_errc::io_error);
  EXPECT_NE(why.find("password authentication failed"), std::string::npos) << why;
  EXPECT_EQ(why.find(wrong), std::string::npos) << why;
  // The right one opens, and a conninfo that does not parse is not quoted either.
  o.conninfo =
      pg_cluster::shared().conninfo(db_.name(), pg_cluster::password_user, pg_cluster::password);
  EXPECT_FALSE(open_postgres_store(o, out, why)) << why;
  o.conninfo = "host=127.0.0.1 password=" + wrong + " port";
  EXPECT_EQ(open_postgres_store(o, out, why), store_errc::io_error);
  EXPECT_EQ(why.find(wrong), std::string::npos) << why;
}

TEST_F(postgres_store_test, a_rate_limit_holds_across_connections_counting_at_once) {
  constexpr int nodes = 4;
  constexpr int tries = 10;
  constexpr int max = 7;
  std::vector<std::unique_ptr<store>> stores;
  for (int i = 0; i < nodes; ++i) stores.push_back(db_.connect());
  std::atomic<int> allowed{0};
  std::atomic<int> failed{0};
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < nodes; ++i) {
      threads.emplace_back([&, i] {
        // Two keys in opposite orders on alternate nodes: the locks never deadlock.
        std::vector<limit_check> checks{{"num:+1", max, 60s}, {"ip:1", 1000, 60s}};
        if (i % 2 == 1) std::swap(checks[0], checks[1]);
        for (int t = 0; t < tries; ++t) {
          limit_result r;
          if (stores[i]->check_and_count(checks, at_ms(t0_ms + t), r)) {
            ++failed;
          } else if (r.allowed) {
            ++allowed;
          }
        }
      });
    }
  }
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(allowed.load(), max);
}

// A peer's bytes that are not UTF-8 (an SMSC's receipt stat, a trunk's reason phrase) are
// stored with U+FFFD in their place, not refused: SQLite keeps them as they are.
TEST_F(postgres_store_test, text_that_is_not_utf8_is_stored_marked_not_refused) {
  auto s = db_.connect();
  verification v = make_verification("v1");
  v.attempts[0].dlr_stat = std::string("DEL\xffVRD\0x", 9);
  v.attempts[0].sip_reason = "\xc3\xa9t\xe9";  // "ét" then a lone Latin-1 byte
  ASSERT_FALSE(s->insert(v)) << s->last_error();
  verification read;
  ASSERT_FALSE(s->get("v1", read));
  EXPECT_EQ(read.attempts[0].dlr_stat, "DEL\xef\xbf\xbdVRD\xef\xbf\xbdx");
  EXPECT_EQ(read.attempts[0].sip_reason, "\xc3\xa9t\xef\xbf\xbd");
}

TEST_F(postgres_store_test, unfinished_attempts_are_found_from_their_index_not_by_reading_all) {
  // Many pending verifications whose SMS has left (a busy node whose users have not typed
  // their code yet), one with an attempt still queued: the sweep's query starts from the
  // unfinished attempts, never from every pending verification.
  auto s = db_.connect();
  ASSERT_FALSE(s->begin_batch());
  for (int i = 0; i < 3000; ++i)
    ASSERT_FALSE(s->insert(make_verification("p" + std::to_string(i))));
  ASSERT_FALSE(s->end_batch());
  verification queued = make_verification("queued-one");
  queued.attempts[0].status = attempt_status::queued;
  ASSERT_FALSE(s->insert(queued));
  std::vector<verification> found;
  ASSERT_FALSE(s->list_queued(found)) << s->last_error();
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(found[0].id, "queued-one");
  const std::string plan =
      db_.psql("EXPLAIN " + std::string(pg::statement_text(pg::sql::select_queued)));
  EXPECT_NE(plan.find("attempts_unfinished"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("on verifications"), std::string::npos) << plan;
}

TEST_F(postgres_store_test, a_batch_commits_once_and_a_failed_call_in_it_writes_nothing) {
  auto s = db_.connect();
  auto other = db_.connect();
  ASSERT_FALSE(s->insert(make_verification("v1")));
  ASSERT_FALSE(s->begin_batch());
  EXPECT_FALSE(s->insert(make_verification("v2")));
  EXPECT_EQ(s->insert(make_verification("v1")), store_errc::duplicate_id);
  EXPECT_FALSE(s->insert(make_verification("v3")));
  verification read;
  EXPECT_EQ(other->get("v2", read), store_errc::not_found);  // not committed yet
  ASSERT_FALSE(s->end_batch()) << s->last_error();
  EXPECT_FALSE(other->get("v2", read));
  EXPECT_FALSE(other->get("v3", read));
}

}  // namespace
}  // namespace otpd::service

namespace otpd::service {
namespace {

// store.postgres with sslmode verify-full and the server's CA: the connection is TLS; a server
// whose certificate another CA signed, or one without TLS, is refused with the reason.
TEST(postgres_tls, a_store_verifying_the_server_connects_over_tls_and_refuses_others) {
  pki ours;
  pki theirs;
  pg_cluster pg;
  pg.enable_tls(ours.cert(), ours.key());
  postgres_options o;
  o.conninfo = pg.create_database("tls");  // host=127.0.0.1: the certificate names that IP
  o.sslmode = "verify-full";
  o.sslrootcert = ours.ca().string();
  o.application_name = "otpd-tls-test";
  std::unique_ptr<store> s;
  std::string why;
  ASSERT_FALSE(open_postgres_store(o, s, why)) << why;
  ASSERT_FALSE(s->insert(make_verification("v1"))) << s->last_error();
  EXPECT_EQ(pg.psql("postgres",
                    "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
                    "WHERE a.application_name = 'otpd-tls-test' AND s.ssl"),
            "1\n");

  o.sslrootcert = theirs.ca().string();
  std::unique_ptr<store> wrong_ca;
  EXPECT_EQ(open_postgres_store(o, wrong_ca, why), store_errc::io_error);
  EXPECT_NE(why.find("certificate verify failed"), std::string::npos) << why;

  o.conninfo = pg_cluster::shared().create_database("no_tls");  // a server without TLS
  o.sslrootcert = ours.ca().string();
  std::unique_ptr<store> plain;
  EXPECT_EQ(open_postgres_store(o, plain, why), store_errc::io_error);
  EXPECT_NE(why.find("SSL"), std::string::npos) << why;
}

// A node whose conninfo names a primary and its standby (target_session_attrs=read-write), as
// docs/scale-out.md advises: the primary stops, the standby is promoted, and the same store
// object carries on with it; a server that turns read-only under an open connection is left
// for the host that takes writes.
TEST(postgres_failover, a_store_naming_both_hosts_follows_the_promoted_standby) {
  pg_cluster primary;
  primary.create_database("failover");
  auto standby = primary.make_standby();
  postgres_options o;
  o.conninfo = "host=127.0.0.1,127.0.0.1 port=" + std::to_string(primary.port()) + "," +
               std::to_string(standby->port()) +
               " dbname=failover user=postgres target_session_attrs=read-write";
  std::unique_ptr<store> s;
  std::string why;
  ASSERT_FALSE(open_postgres_store(o, s, why)) << why;
  ASSERT_FALSE(s->insert(make_verification("v1"))) << s->last_error();
  // A clean stop sends the standby all the WAL first.
  primary.stop();
  verification read;
  EXPECT_EQ(s->get("v1", read), store_errc::io_error);
  // No read-write host: the standby is still one.
  EXPECT_EQ(s->get("v1", read), store_errc::io_error);
  standby->promote();
  ASSERT_FALSE(s->get("v1", read)) << s->last_error();
  EXPECT_EQ(read, make_verification("v1"));
  EXPECT_FALSE(s->insert(make_verification("v2"))) << s->last_error();

  // The promoted server turns read-only (as a demoted primary would): a write fails, the
  // connection is dropped, and once the server takes writes again the store does too. The
  // server's backend sees a reload some time after pg_reload_conf() returns: polled.
  standby->psql("postgres", "ALTER SYSTEM SET default_transaction_read_only = on");
  standby->psql("postgres", "SELECT pg_reload_conf()");
  int n = 3;
  const auto until_read_only = std::chrono::steady_clock::now() + 20s;
  while (!s->insert(make_verification(test::numbered("v", n)))) {
    ++n;
    ASSERT_LT(std::chrono::steady_clock::now(), until_read_only)
        << "the server never turned read-only";
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(s->last_error().find("read-only"), std::string::npos) << s->last_error();
  standby->psql("postgres", "ALTER SYSTEM RESET default_transaction_read_only");
  standby->psql("postgres", "SELECT pg_reload_conf()");
  const auto until_writable = std::chrono::steady_clock::now() + 20s;
  while (s->insert(make_verification(test::numbered("v", n)))) {
    ASSERT_LT(std::chrono::steady_clock::now(), until_writable) << s->last_error();
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_FALSE(s->get(test::numbered("v", n), read)) << s->last_error();
}

}  // namespace
}  // namespace otpd::service
