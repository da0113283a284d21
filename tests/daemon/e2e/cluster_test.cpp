// Several otpd nodes on one PostgreSQL database (docs/scale-out.md), end to end: the built otpd
// three times, a throw-away PostgreSQL cluster (tests/support/pg_cluster), the SMSC stand-in
// with one account and two binds configured on every node, and baresip for the call.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <set>

#include "tests/daemon/e2e/scenario.hpp"
#include "tests/support/pg_cluster.hpp"
#include "tests/support/sip_peers.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

constexpr const char* seal_key = "0123456789abcdef0123456789abcdef";
constexpr auto lease = 3s;  // cluster.lease: the shortest allowed

// A database of its own for each test, on the test program's cluster.
std::string fresh_database(pg_cluster& pg) {
  static std::atomic<int> n{0};
  const std::string name = "otpd_e2e_" + std::to_string(::getpid()) + "_" + std::to_string(++n);
  pg.create_database(name);
  return name;
}

// Nodes of one cluster: the same configuration but for cluster.node, each in a folder of its own.
struct nodes_world {
  nodes_world(std::string conninfo, otpd_options base = {}) : smsc(smsc_flags()) {
    options = std::move(base);
    options.carriers = {carrier_spec{"vn",
                                     {"84"},
                                     {bind_spec{"vn-a", smsc.port(), "transceiver"},
                                      bind_spec{"vn-b", smsc.port(), "transceiver"}},
                                     {}}};
    options.code_seal_key = seal_key;
    options.store_kind = "postgres";
    options.store_yaml = "postgres:\n  url: \"" + conninfo + "\"";
    url = std::move(conninfo);
  }

  otpd_process& start(const std::string& name) {
    otpd_options o = options;
    o.extra_yaml +=
        "cluster:\n  node: " + name + "\n  lease: " + std::to_string(lease.count()) + "s\n";
    dirs.push_back(std::make_unique<temp_dir>());
    nodes.push_back(std::make_unique<otpd_process>(o, dirs.back()->path()));
    names.push_back(name);
    return *nodes.back();
  }

  // Binds open at the SMSC now: every bind event minus every close of a bound session.
  int bound_sessions() {
    smsc.sync();
    std::set<std::int64_t> open;
    for (const auto& ev : smsc.events()) {
      const std::string e = str(ev, "event");
      if (e == "bind") open.insert(num(ev, "session"));
      if (e == "close") open.erase(num(ev, "session"));
    }
    return static_cast<int>(open.size());
  }

  // The most sessions bound at the same time over the whole run.
  int most_bound_at_once() {
    smsc.sync();
    std::set<std::int64_t> open;
    std::size_t most = 0;
    for (const auto& ev : smsc.events()) {
      const std::string e = str(ev, "event");
      if (e == "bind") open.insert(num(ev, "session"));
      if (e == "close") open.erase(num(ev, "session"));
      most = std::max(most, open.size());
    }
    return static_cast<int>(most);
  }

  std::string url;
  smsc_process smsc;
  otpd_options options;
  std::vector<std::unique_ptr<temp_dir>> dirs;
  std::vector<std::unique_ptr<otpd_process>> nodes;
  std::vector<std::string> names;
};

// Whether node `o` has bind `bind` of vn up (otpd_smpp_bind_up in its /metrics).
bool holds(otpd_process& o, std::string_view bind) {
  const http_response m = o.ops_get("/metrics");
  return metric(m.body, "otpd_smpp_bind_up{carrier=\"vn\",bind=\"" + std::string(bind) + "\"}") ==
         1;
}

// Polls until `pred` holds or the deadline passes; its last answer.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// Nodes a, b and c started, ready, and both binds bound at the SMSC (failures are the test's).
std::vector<otpd_process*> start_three(nodes_world& w) {
  std::vector<otpd_process*> n = {&w.start("node-a"), &w.start("node-b"), &w.start("node-c")};
  for (auto* x : n) EXPECT_TRUE(x->wait_ready(30s)) << x->output();
  EXPECT_TRUE(eventually([&] { return w.bound_sessions() == 2; }, 20s));
  return n;
}

// The index of the node holding `bind` of vn (n.size() when none does).
std::size_t holder_of(const std::vector<otpd_process*>& n, std::string_view bind) {
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (holds(*n[i], bind)) return i;
  }
  return n.size();
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto until = steady::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (steady::now() >= until) return false;
    std::this_thread::sleep_for(50ms);  // a polling interval, not a synchronisation
  }
}

// Not left unfinished: the SMSC took it (a receipt may or may not follow), or it has its outcome.
bool settled_attempt(const json::object& v, std::size_t i) {
  const std::string s = str(attempt(v, i), "status");
  return !s.empty() && s != "queued" && s != "ringing" && s != "answered";
}

bool final_attempt(const json::object& v, std::size_t i) {
  const json::object a = attempt(v, i);
  const std::string s = str(a, "status");
  const auto* unknown = a.if_contains("outcome_unknown");
  const bool is_unknown = unknown && unknown->is_bool() && unknown->get_bool();
  return s == "delivered" || s == "undelivered" || s == "failed" || s == "completed" ||
         (s == "submitted" && is_unknown);
}

TEST(e2e_cluster, a_verification_moves_across_three_nodes_and_is_approved_once) {
  pg_cluster& pg = pg_cluster::shared();
  baresip_process phone(baresip_process::options{.user = "84912345678"});
  webhook_receiver hooks;
  otpd_options base;
  base.policy["new_code_on_resend"] = "false";  // every send carries the first code
  base.webhook_url = "http://127.0.0.1:" + std::to_string(hooks.port()) + "/hook";
  base.extra_yaml = "voice:\n  trunks:\n    - name: local\n      uri: sip:127.0.0.1:" +
                    std::to_string(phone.sip_port()) +
                    "\n      number_format: e164\n      ring_timeout: 5s\n";
  nodes_world w(pg.conninfo(fresh_database(pg)), base);
  otpd_process& a = w.start("node-a");
  otpd_process& b = w.start("node-b");
  otpd_process& c = w.start("node-c");
  for (auto* n : {&a, &b, &c}) ASSERT_TRUE(n->wait_ready(30s)) << n->output();

  // Created on A.
  std::size_t from = w.smsc.size();
  const std::string id = create(a, {{"to", "+84912345678"}});
  ASSERT_FALSE(id.empty());
  const std::string code = next_code(w.smsc, from);
  ASSERT_EQ(code.size(), 6u);

  // Sent again by SMS from B, once B's clock is past the cooldown.
  b.advance_clock(31s);
  from = w.smsc.size();
  http_response again = b.post("/v1/verifications/" + id + "/resend", {{"channel", "sms"}});
  ASSERT_EQ(again.status, 202) << again.body << b.output();
  EXPECT_EQ(next_code(w.smsc, from), code);

  // Then by voice from C.
  c.advance_clock(200s);
  http_response call = c.post("/v1/verifications/" + id + "/resend", {{"channel", "voice"}});
  ASSERT_EQ(call.status, 202) << call.body << c.output();
  json::object v = c.poll_verification(
      id, [](const json::object& x) { return final_attempt(x, 2); }, 60s);
  EXPECT_EQ(str(attempt(v, 2), "status"), "completed") << json::serialize(v) << c.output();

  // Checked on A: approved, once; B sees it approved.
  http_response ok = check(a, id, code);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(str(ok.obj(), "status"), "approved");
  EXPECT_NE(check(b, id, code).status, 200);
  EXPECT_EQ(str(b.get("/v1/verifications/" + id).obj(), "status"), "approved");
  ASSERT_TRUE(hooks.wait_for(
      [&](const received_request& r) {
        return r.body.find("\"approved\"") != std::string::npos &&
               r.body.find(id) != std::string::npos;
      },
      15s));
  int approvals = 0;
  for (const auto& r : hooks.requests()) {
    if (r.body.find(id) != std::string::npos &&
        r.body.find("\"status\":\"approved\"") != std::string::npos) {
      ++approvals;
    }
  }
  EXPECT_EQ(approvals, 1);
}

TEST(e2e_cluster, rate_limits_and_idempotency_keys_hold_across_nodes) {
  pg_cluster& pg = pg_cluster::shared();
  otpd_options base;
  base.rate_limits["per_number"] = "[{max: 3, window: 1h}]";
  nodes_world w(pg.conninfo(fresh_database(pg)), base);
  std::vector<otpd_process*> n = start_three(w);
  ASSERT_FALSE(HasFailure());

  // Nine requests for one number, round the nodes: three pass, wherever they land.
  int created = 0;
  int limited = 0;
  for (int i = 0; i < 9; ++i) {
    http_response r = n[i % 3]->post("/v1/verifications", {{"to", "+84912000777"}});
    if (r.status == 201) ++created;
    if (r.status == 429) ++limited;
  }
  EXPECT_EQ(created, 3);
  EXPECT_EQ(limited, 6);

  // An Idempotency-Key used on A answers the same on C.
  const json::object body{{"to", "+84912000888"}};
  http_response first = n[0]->post("/v1/verifications", body, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  http_response replay = n[2]->post("/v1/verifications", body, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(str(replay.obj(), "id"), str(first.obj(), "id"));
}

TEST(e2e_cluster, each_bind_is_bound_by_one_node_and_taken_over_after_kill9) {
  pg_cluster& pg = pg_cluster::shared();
  nodes_world w(pg.conninfo(fresh_database(pg)));
  std::vector<otpd_process*> n = start_three(w);
  ASSERT_FALSE(HasFailure());

  const std::size_t owner = holder_of(n, "vn-a");
  ASSERT_LT(owner, n.size());
  // A receipt reaching the node that holds vn-b for a message sent over vn-a still finds it.
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(create(*n[i % 3], {{"to", "+8491200010" + std::to_string(i)}}));
  }
  for (const auto& id : ids) {
    json::object v = n[0]->poll_verification(
        id, [](const json::object& x) { return attempt_status_is(x, 0, "delivered"); });
    EXPECT_EQ(str(attempt(v, 0), "status"), "delivered") << json::serialize(v);
  }
  // The SMSC hands receipts round its receivers: some went to the other bind's session.
  std::map<std::string, std::int64_t> submitted_on;  // message id -> session
  bool crossed = false;
  for (const auto& ev : w.smsc.events()) {
    if (str(ev, "event") == "submit") submitted_on[str(ev, "message_id")] = num(ev, "session");
    if (str(ev, "event") == "receipt_sent") {
      auto at = submitted_on.find(str(ev, "message_id"));
      if (at != submitted_on.end() && at->second != num(ev, "session")) crossed = true;
    }
  }
  EXPECT_TRUE(crossed) << "no receipt went to the other bind";

  // kill -9 the owner of vn-a: another node binds it within two lease periods.
  const auto killed_at = steady::now();
  n[owner]->kill9();
  EXPECT_TRUE(eventually(
      [&] {
        for (std::size_t i = 0; i < n.size(); ++i) {
          if (i != owner && holds(*n[i], "vn-a")) return true;
        }
        return false;
      },
      2 * lease + 10s));
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - killed_at);
  std::cout << "vn-a bound again " << took.count() << " ms after the kill\n";
  // The other bind too, when the dead node held both.
  EXPECT_TRUE(eventually([&] { return w.bound_sessions() == 2; }, 2 * lease + 10s));
  EXPECT_LE(w.most_bound_at_once(), 2) << "two nodes held one bind at once";
}

TEST(e2e_cluster, kill9_of_a_node_under_load_loses_no_verification) {
  pg_cluster& pg = pg_cluster::shared();
  nodes_world w(pg.conninfo(fresh_database(pg)));
  std::vector<otpd_process*> n = start_three(w);
  ASSERT_FALSE(HasFailure());
  const std::size_t victim = holder_of(n, "vn-a");
  ASSERT_LT(victim, n.size());

  std::vector<std::string> ids;
  int next = 0;
  auto create_on = [&](otpd_process& o) {
    http_response r =
        o.post("/v1/verifications", {{"to", "+849130" + std::to_string(10000 + next++)}});
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status == 201) ids.push_back(str(r.obj(), "id"));
  };
  for (int i = 0; i < 30; ++i) create_on(*n[i % 3]);
  // The SMSC answers slowly now: the victim's next SMS are on the wire, unanswered, when it dies.
  w.smsc.command({{"cmd", "delay"}, {"ms", 3000}});
  const std::size_t from = w.smsc.size();
  for (int i = 0; i < 5; ++i) create_on(*n[victim]);
  ASSERT_TRUE(w.smsc.wait_for(nth_event("submit", 5), 15s, from));
  n[victim]->kill9();
  w.smsc.command({{"cmd", "delay"}, {"ms", 0}});
  // The others keep serving.
  for (int i = 0; i < 30; ++i) {
    if (i % 3 != static_cast<int>(victim)) create_on(*n[i % 3]);
  }
  ASSERT_EQ(ids.size(), 55u);
  otpd_process& alive = *n[(victim + 1) % 3];
  // Every 201 is settled (what the dead node left unanswered: outcome unknown, node_lost), none
  // missing. A receipt is the SMSC's to send: the stand-in drops some when both binds of a node
  // close at once, so "submitted" counts here.
  int lost = 0;
  std::vector<std::string> lost_ids;
  for (const auto& id : ids) {
    json::object v = alive.poll_verification(
        id, [](const json::object& x) { return settled_attempt(x, 0); }, 4 * lease + 20s);
    EXPECT_TRUE(settled_attempt(v, 0)) << json::serialize(v);
    if (str(attempt(v, 0), "error") == "node_lost") {
      ++lost;
      lost_ids.push_back(id);
    }
  }
  std::cout << lost << " SMS settled as node_lost\n";
  EXPECT_GE(lost, 1) << "the dead node left nothing unanswered: the test is void";
  // Both survivors sweep: each attempt was settled (and its effects applied) by one of them.
  for (const auto& id : lost_ids) {
    int settled = 0;
    for (std::size_t i = 0; i < n.size(); ++i) {
      if (i == victim) continue;
      const std::string out = n[i]->output();
      const std::string line = "attempt_settled_node_lost verification=" + id;
      for (auto at = out.find(line); at != std::string::npos; at = out.find(line, at + 1)) {
        ++settled;
      }
    }
    EXPECT_EQ(settled, 1) << id;
  }
  // No number got two SMS: nothing was sent again, not even what the dead node left unknown.
  w.smsc.sync();
  std::map<std::string, int> sent;
  for (const auto& ev : w.smsc.events()) {
    if (str(ev, "event") == "submit") ++sent[dest_of(ev)];
  }
  for (const auto& [dest, count] : sent) EXPECT_LE(count, 1) << dest;
}

TEST(e2e_cluster, postgres_away_answers_503_and_the_nodes_recover_without_restart) {
  // A cluster of its own: this test stops it.
  pg_cluster pg;
  nodes_world w(pg.conninfo(fresh_database(pg)));
  otpd_process& a = w.start("node-a");
  otpd_process& b = w.start("node-b");
  for (auto* x : {&a, &b}) ASSERT_TRUE(x->wait_ready(30s)) << x->output();

  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    ids.push_back(create(i % 2 ? b : a, {{"to", "+849140" + std::to_string(10000 + i)}}));
  }
  // An SMS on the wire when the database goes: the SMSC answers it 3 s later, while it is away.
  w.smsc.command({{"cmd", "delay"}, {"ms", 3000}});
  const std::size_t from = w.smsc.size();
  const std::string in_flight = create(a, {{"to", "+84914099999"}});
  ASSERT_TRUE(w.smsc.wait_for_event("submit", 15s, from));
  pg.stop();
  w.smsc.command({{"cmd", "delay"}, {"ms", 0}});
  // While it is away (10 s of requests): 503 with Retry-After, or 201 for what was committed
  // before the server went (none here: it is down before the first).
  const auto until = steady::now() + 10s;
  int unavailable = 0;
  int i = 0;
  while (steady::now() < until) {
    otpd_process& to = i % 2 ? b : a;
    http_response r = to.post("/v1/verifications", {{"to", "+849141" + std::to_string(10000 + i)}});
    ++i;
    ASSERT_EQ(r.status, 503) << r.body;
    EXPECT_TRUE(r.header("retry-after").has_value());
    ++unavailable;
    std::this_thread::sleep_for(200ms);  // the load's pace, not a synchronisation
  }
  EXPECT_GT(unavailable, 10);
  EXPECT_EQ(a.ops_get("/readyz").status, 503);
  pg.start();
  // Both serve again, without a restart.
  for (auto* x : {&a, &b}) {
    EXPECT_TRUE(eventually(
        [&] {
          return x->post("/v1/verifications", {{"to", "+84915000001"}}).status == 201;
        },
        30s))
        << x->output();
    EXPECT_TRUE(x->wait_ready(30s));
  }
  // Nothing acknowledged before the outage is lost, and the answer that came while the
  // database was away is recorded once it is back.
  for (const auto& id : ids) EXPECT_EQ(b.get("/v1/verifications/" + id).status, 200) << id;
  json::object v = b.poll_verification(
      in_flight, [](const json::object& x) { return settled_attempt(x, 0); }, 20s);
  EXPECT_TRUE(settled_attempt(v, 0)) << json::serialize(v) << a.output();
  EXPECT_NE(a.output().find("retry_ms="), std::string::npos) << "the outcome was not retried";
}

TEST(e2e_cluster, nodes_follow_a_promoted_standby_and_lose_nothing_acknowledged) {
  pg_cluster primary;
  const std::string db = fresh_database(primary);
  std::unique_ptr<pg_cluster> standby = primary.make_standby();
  // Synchronous replication: a commit (and so every 201) waits for the standby.
  primary.require_synchronous_standby();
  const std::string url = "host=127.0.0.1,127.0.0.1 port=" + std::to_string(primary.port()) + "," +
                          std::to_string(standby->port()) + " dbname=" + db +
                          " user=postgres target_session_attrs=read-write";
  nodes_world w(url);
  otpd_process& a = w.start("node-a");
  otpd_process& b = w.start("node-b");
  for (auto* x : {&a, &b}) ASSERT_TRUE(x->wait_ready(30s)) << x->output();

  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(create(i % 2 ? b : a, {{"to", "+849160" + std::to_string(10000 + i)}}));
  }
  primary.kill();
  standby->promote();
  for (auto* x : {&a, &b}) {
    EXPECT_TRUE(eventually(
        [&] {
          return x->post("/v1/verifications", {{"to", "+84916100001"}}).status == 201;
        },
        40s))
        << x->output();
  }
  for (const auto& id : ids) EXPECT_EQ(a.get("/v1/verifications/" + id).status, 200) << id;
}

}  // namespace
}  // namespace otpd::test::e2e
