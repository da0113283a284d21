// Several nodes on one store (docs/scale-out.md): an SMS that this node cannot send is queued
// sealed for a node that holds a bind, which claims and sends it as its own; the attempts a dead
// node left unfinished are settled by a live one; a restart settles only this node's attempts.
// Two services on one in-memory SQLite store play two nodes; leases are taken in the store
// directly, as the other nodes would.
#include <chrono>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/daemon/service/service_fixture.hpp"

namespace otpd::service::unit {
namespace {

class service_nodes : public service_fixture {
 protected:
  service_nodes() {
    // start() opens the send journal next to the database: a folder per node.
    dir_ = std::filesystem::temp_directory_path() /
           ("otpd-nodes-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_ / "a");
    std::filesystem::create_directories(dir_ / "b");
    cfg.state.sqlite_path = dir_ / "a" / "otpd.db";
    cfg_b = cfg;
    cfg_b.nodes.node = "node-b";
    cfg_b.state.sqlite_path = dir_ / "b" / "otpd.db";
  }

  ~service_nodes() override {
    if (svc_b) {
      bool stopped = false;
      svc_b->stop([&] { stopped = true; });
      EXPECT_TRUE(run_until([&] { return stopped; }));
      svc_b.reset();
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // The second node, on the same store, its sender serving every carrier; started.
  void start_node_b() {
    svc_b.emplace(io.get_executor(), cfg_b, std::make_shared<const config::config>(cfg_b), *db_,
                  routes(), sms_b, events_b, clock, logger, metrics_b);
    start(*svc_b);
  }

  // Runs start() to its end: the restart's settling done, the loops spawned.
  void start(verification_service& s) {
    bool started = false;
    std::exception_ptr failed;
    asio::co_spawn(io, s.start(), [&](std::exception_ptr e) {
      failed = e;
      started = true;
    });
    ASSERT_TRUE(run_until([&] { return started; }));
    if (failed) std::rethrow_exception(failed);
  }

  // `holder` holds lease `name` for a minute from now.
  void hold_lease(std::string name, std::string holder) {
    const sys_time now = clock.now();
    const error_code ec = await(db_->run([&](store& s) {
      std::vector<std::string> held;
      const std::vector<std::string> names{name};
      return s.acquire_leases(holder, names, now, std::chrono::minutes(1), held);
    }));
    ASSERT_FALSE(ec) << ec.message();
  }

  // Claims what is queued for carrier "c" as node `holder` would.
  std::vector<sms_handoff> claim(std::string holder) {
    const sys_time now = clock.now();
    auto [ec, out] =
        await(db_->run([&](store& s) -> std::pair<error_code, std::vector<sms_handoff>> {
          std::vector<sms_handoff> claimed;
          const std::vector<std::string> carriers{"c"};
          error_code e = s.claim_sms(holder, carriers, now, 10, claimed);
          return {e, std::move(claimed)};
        }));
    EXPECT_FALSE(ec) << ec.message();
    return out;
  }

  // A pending verification whose one attempt `node` left as `status` (an SMS, or a call).
  std::string left_by(std::string node, channel via = channel::sms,
                      attempt_status status = attempt_status::queued) {
    return stored_pending_as([&](verification& v) {
      v.attempts.back().node = std::move(node);
      v.attempts.back().via = via;
      v.attempts.back().status = status;
      v.attempts.back().carrier = via == channel::sms ? "c" : "trunk-1";
    });
  }

  attempt last_attempt(const std::string& id) {
    const verification v = row(id);
    return v.attempts.empty() ? attempt{} : v.attempts.back();
  }

  std::filesystem::path dir_;
  config::config cfg_b;
  metrics::registry metrics_b;
  fake_sms sms_b{io.get_executor()};
  recording_notifier events_b;
  std::optional<verification_service> svc_b;
};

TEST_F(service_nodes, an_sms_no_carrier_here_serves_is_queued_sealed_and_not_sent) {
  sms.serving = false;
  hold_lease("bind:c/c-1", "node-b");
  const create_outcome out = await(svc->create(request_to(std::string(number))));
  ASSERT_EQ(out.status, create_status::created);
  ASSERT_EQ(out.v.attempts.size(), 1u);
  EXPECT_EQ(out.v.attempts[0].status, attempt_status::queued);
  EXPECT_EQ(out.v.attempts[0].node, "");  // waiting for a node that serves "c"

  std::vector<sms_handoff> queued;
  ASSERT_TRUE(run_until([&] {
    if (queued.empty()) queued = claim("node-b");  // run_until asks once more at the end
    return !queued.empty();
  }));
  EXPECT_TRUE(sms.sent.empty());
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(queued[0].verification_id, out.v.id);
  EXPECT_EQ(queued[0].attempt, 1);
  EXPECT_EQ(queued[0].carriers, std::vector<std::string>{"c"});
  EXPECT_EQ(queued[0].deadline, std::chrono::floor<std::chrono::milliseconds>(out.v.expires_at));

  // Sealed, not in the clear: the seal key opens it, and what it holds is the code.
  const engine::code_protector protector(cfg.keys);
  const std::optional<std::string> plain = protector.unseal(out.v.id, queued[0].sealed_code);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(queued[0].sealed_code.find(*plain), std::string::npos);
  EXPECT_EQ(await(svc->check(out.v.id, *plain)).result.outcome, engine::check_outcome::approved);
}

TEST_F(service_nodes, when_no_node_holds_a_bind_create_answers_no_carrier_available) {
  sms.serving = false;
  sms.carrier_wait = bind_wait::timed_out;
  const create_outcome out = await(svc->create(request_to(std::string(number))));
  EXPECT_EQ(out.status, create_status::no_carrier_available);
  EXPECT_TRUE(claim("node-b").empty());
}

TEST_F(service_nodes, the_node_serving_the_carrier_claims_and_sends_it_once) {
  sms.serving = false;
  hold_lease("bind:c/c-1", "node-b");
  start_node_b();
  const create_outcome out = await(svc->create(request_to(std::string(number))));
  ASSERT_EQ(out.status, create_status::created);
  ASSERT_TRUE(recorded(out.v.id));

  EXPECT_TRUE(sms.sent.empty());
  ASSERT_EQ(sms_b.sent.size(), 1u);
  EXPECT_EQ(sms_b.sent[0].to, number);
  const attempt a = last_attempt(out.v.id);
  EXPECT_EQ(a.status, attempt_status::submitted);
  EXPECT_EQ(a.node, "node-b");
  EXPECT_EQ(a.message_ids, std::vector<std::string>{fake_sms::message_id(1)});
  // The webhook of the submit, once, from the node that sent it.
  EXPECT_EQ(events_b.posted.size(), 1u);
  EXPECT_TRUE(events.posted.empty());
  // Taken off the queue: nothing left to claim.
  EXPECT_TRUE(claim("node-c").empty());

  const std::string sent_code = code_in(sms_b.sent[0].text, cfg.policy.code_length);
  EXPECT_EQ(await(svc->check(out.v.id, sent_code)).result.outcome, engine::check_outcome::approved);
}

TEST_F(service_nodes, a_resend_by_sms_is_handed_off_too) {
  sms.serving = false;
  const std::string id = left_by("node-a", channel::sms, attempt_status::submitted);
  clock.advance(std::chrono::seconds(120));  // past the cooldown
  hold_lease("bind:c/c-1", "node-b");
  const resend_outcome out = await(svc->resend(id, channel::sms));
  ASSERT_EQ(out.result.outcome, engine::resend_outcome::accepted);
  EXPECT_EQ(out.v.attempts.back().node, "");

  std::vector<sms_handoff> queued;
  ASSERT_TRUE(run_until([&] {
    if (queued.empty()) queued = claim("node-b");  // run_until asks once more at the end
    return !queued.empty();
  }));
  EXPECT_EQ(queued[0].attempt, out.result.attempt_number);
  EXPECT_TRUE(sms.sent.empty());
}

TEST_F(service_nodes, a_code_sealed_with_another_key_fails_its_attempt_unsent) {
  sms.serving = false;
  hold_lease("bind:c/c-1", "node-b");
  cfg_b.keys.code_seal_key = secret(std::string(32, 'x'));
  start_node_b();
  const create_outcome out = await(svc->create(request_to(std::string(number))));
  ASSERT_EQ(out.status, create_status::created);
  ASSERT_TRUE(recorded(out.v.id));
  EXPECT_TRUE(sms_b.sent.empty());
  const attempt a = last_attempt(out.v.id);
  EXPECT_EQ(a.status, attempt_status::failed);
  EXPECT_EQ(a.error, "code_unsealable");
}

TEST_F(service_nodes, the_sweep_settles_a_dead_nodes_attempts_and_leaves_a_live_nodes) {
  cfg.nodes.lease = std::chrono::milliseconds(50);
  hold_lease("node:node-c", "node-c");
  const std::string live = left_by("node-c");
  const std::string sms_lost = left_by("node-dead");
  const std::string call_lost = left_by("node-dead", channel::voice, attempt_status::ringing);
  start(*svc);
  // After the restart, which settles the attempts of no node on SQLite (written before nodes
  // were named): in the handoff queue, any node may still claim it.
  const std::string waiting = left_by("");

  ASSERT_TRUE(run_until([&] { return last_attempt(sms_lost).status != attempt_status::queued; }));
  attempt a = last_attempt(sms_lost);
  // It may have been on the wire: submitted, outcome unknown.
  EXPECT_EQ(a.status, attempt_status::submitted);
  EXPECT_TRUE(a.outcome_unknown);
  EXPECT_EQ(a.error, "node_lost");
  ASSERT_TRUE(run_until([&] { return last_attempt(call_lost).status == attempt_status::failed; }));
  EXPECT_EQ(last_attempt(call_lost).error, "node_lost");

  // One more sweep after these: it went over every unfinished attempt again.
  const std::string later = left_by("node-dead");
  ASSERT_TRUE(run_until([&] { return last_attempt(later).status != attempt_status::queued; }));
  EXPECT_EQ(last_attempt(live).status, attempt_status::queued);
  EXPECT_EQ(last_attempt(waiting).status, attempt_status::queued);
  EXPECT_EQ(events.posted.size(), 3u);  // once per attempt settled
}

TEST_F(service_nodes, a_restart_settles_only_this_nodes_attempts) {
  cfg.nodes.lease = std::chrono::hours(1);  // no sweep during the test
  const std::string own = left_by("node-a");
  const std::string legacy = left_by("");  // written before nodes were named (SQLite)
  const std::string other = left_by("node-b");
  const std::string other_call = left_by("node-b", channel::voice, attempt_status::ringing);
  start(*svc);

  EXPECT_EQ(last_attempt(own).status, attempt_status::failed);
  EXPECT_EQ(last_attempt(own).error, "interrupted_by_restart");
  EXPECT_EQ(last_attempt(legacy).status, attempt_status::failed);
  EXPECT_EQ(last_attempt(other).status, attempt_status::queued);
  EXPECT_EQ(last_attempt(other_call).status, attempt_status::ringing);
}

}  // namespace
}  // namespace otpd::service::unit
