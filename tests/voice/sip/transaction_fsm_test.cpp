#include "voice/sip/transaction_fsm.hpp"

#include <gtest/gtest.h>

#include <map>

#include "voice/sip/headers.hpp"
#include "voice/sip/status.hpp"

namespace otpd::sip {
namespace {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

message invite() {
  message m = make_request("INVITE", "sip:bob@biloxi.com");
  m.add("Via", "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;rport");
  m.add("Max-Forwards", "70");
  m.add("Route", "<sip:p1.example.com;lr>");
  m.add("Route", "<sip:p2.example.com;lr>");
  m.add("To", "Bob <sip:bob@biloxi.com>");
  m.add("From", "Alice <sip:alice@atlanta.com>;tag=1928301774");
  m.add("Call-ID", "a84b4c76e66710");
  m.add("CSeq", "314159 INVITE");
  m.add("Contact", "<sip:alice@pc33.atlanta.com>");
  m.add("Content-Type", "application/sdp");
  m.body = "v=0\r\n";
  return m;
}

message bye() {
  message m = make_request("BYE", "sip:bob@192.0.2.4");
  m.add("Via", "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds10");
  m.add("Max-Forwards", "70");
  m.add("From", "Alice <sip:alice@atlanta.com>;tag=1928301774");
  m.add("To", "Bob <sip:bob@biloxi.com>;tag=a6c85cf");
  m.add("Call-ID", "a84b4c76e66710");
  m.add("CSeq", "314160 BYE");
  return m;
}

message response(int code, std::string_view branch = "z9hG4bKnashds8",
                 std::string_view cseq = "314159 INVITE") {
  message m = make_response(code);
  m.add("Via", "SIP/2.0/UDP pc33.atlanta.com;branch=" + std::string(branch) +
                   ";rport=5060;received=192.0.2.1");
  m.add("From", "Alice <sip:alice@atlanta.com>;tag=1928301774");
  m.add("To", "Bob <sip:bob@biloxi.com>;tag=a6c85cf");
  m.add("Call-ID", "a84b4c76e66710");
  m.add("CSeq", cseq);
  return m;
}

// A fake timeline: carries out actions, keeps armed timers and fires them in order.
template <class Fsm>
struct timeline {
  Fsm& fsm;
  ms now{0};
  std::map<timer_id, ms> armed;  // due times
  std::vector<std::pair<ms, std::string>> sent;
  int delivered = 0;
  boost::system::error_code error;
  bool terminated = false;
  ms terminated_at{-1};

  void apply(const action& a) {
    ASSERT_FALSE(terminated) << "action after termination";
    for (const timer_id t : a.cancel) armed.erase(t);
    if (!a.send.empty()) sent.emplace_back(now, a.send);
    for (const timer_arm& t : a.arm) armed[t.id] = now + t.after;
    delivered += a.deliver;
    if (a.error) error = a.error;
    if (a.terminated) {
      terminated = true;
      terminated_at = now;
      armed.clear();
    }
  }
  void start() { apply(fsm.start()); }
  void respond(const message& m) { apply(fsm.on_response(m)); }
  // Fires every timer due up to `until`, in order.
  void run_until(ms until) {
    while (!armed.empty() && !terminated) {
      auto next = std::min_element(armed.begin(), armed.end(),
                                   [](auto& x, auto& y) { return x.second < y.second; });
      if (next->second > until) break;
      now = next->second;
      const timer_id id = next->first;
      armed.erase(next);
      apply(fsm.on_timer(id));
    }
    if (!terminated) now = until;
  }
  std::vector<ms> send_times() const {
    std::vector<ms> v;
    for (const auto& s : sent) v.push_back(s.first);
    return v;
  }
};

TEST(sip_invite_client, timer_a_schedule_over_udp_then_timer_b_timeout) {
  invite_client_fsm fsm(invite(), /*reliable=*/false);
  timeline<invite_client_fsm> t{fsm};
  t.start();
  EXPECT_EQ(fsm.current(), invite_client_fsm::state::calling);
  t.run_until(64s);
  // §17.1.1.2: intervals 0.5, 1, 2, 4, 8, 16 s -> sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s.
  EXPECT_EQ(t.send_times(),
            (std::vector<ms>{0ms, 500ms, 1500ms, 3500ms, 7500ms, 15500ms, 31500ms}));
  for (const auto& s : t.sent) EXPECT_EQ(s.second, serialize(invite()));
  EXPECT_TRUE(t.terminated);
  EXPECT_EQ(t.terminated_at, 32s);  // Timer B = 64*T1
  EXPECT_EQ(t.error, errc::transaction_timeout);
  EXPECT_EQ(outcome_for(t.error), call_outcome::no_answer);
  EXPECT_EQ(fsm.current(), invite_client_fsm::state::terminated);
}

TEST(sip_invite_client, no_retransmission_over_tcp) {
  invite_client_fsm fsm(invite(), /*reliable=*/true);
  timeline<invite_client_fsm> t{fsm};
  t.start();
  t.run_until(64s);
  EXPECT_EQ(t.send_times(), (std::vector<ms>{0ms}));
  EXPECT_EQ(t.terminated_at, 32s);
  EXPECT_EQ(t.error, errc::transaction_timeout);
}

TEST(sip_invite_client, configurable_t1) {
  invite_client_fsm fsm(invite(), false, timer_config{100ms, 4s, 5s, 32s});
  timeline<invite_client_fsm> t{fsm};
  t.start();
  t.run_until(10s);
  EXPECT_EQ(t.send_times(), (std::vector<ms>{0ms, 100ms, 300ms, 700ms, 1500ms, 3100ms, 6300ms}));
  EXPECT_EQ(t.terminated_at, 6400ms);
}

TEST(sip_invite_client, ringing_then_ok_goes_to_the_tu) {
  invite_client_fsm fsm(invite(), false);
  timeline<invite_client_fsm> t{fsm};
  t.start();
  t.run_until(700ms);  // one retransmission at 0.5 s
  t.respond(response(180));
  EXPECT_EQ(fsm.current(), invite_client_fsm::state::proceeding);
  EXPECT_EQ(t.delivered, 1);
  EXPECT_TRUE(t.armed.empty());  // A and B stop in Proceeding
  t.run_until(100s);             // ringing for long: the TU's ring timeout decides, not B
  EXPECT_FALSE(t.terminated);
  t.respond(response(180));
  EXPECT_EQ(t.delivered, 2);
  t.respond(response(200));
  EXPECT_EQ(t.delivered, 3);
  EXPECT_TRUE(t.terminated);
  EXPECT_FALSE(t.error);
  EXPECT_EQ(t.send_times(), (std::vector<ms>{0ms, 500ms}));  // no ACK for a 2xx here
  EXPECT_EQ(fsm.ack(), nullptr);
}

TEST(sip_invite_client, busy_is_acked_and_retransmissions_absorbed_during_timer_d) {
  invite_client_fsm fsm(invite(), false);
  timeline<invite_client_fsm> t{fsm};
  t.start();
  t.run_until(200ms);
  t.respond(response(100));
  t.run_until(2s);
  t.respond(response(486));
  EXPECT_EQ(t.delivered, 2);
  EXPECT_EQ(fsm.current(), invite_client_fsm::state::completed);
  ASSERT_EQ(t.sent.size(), 2u);
  // §17.1.1.3: the ACK.
  message ack;
  ASSERT_FALSE(parse(t.sent[1].second, ack));
  ASSERT_TRUE(ack.is_request());
  EXPECT_EQ(ack.request()->method, "ACK");
  EXPECT_EQ(ack.request()->uri, "sip:bob@biloxi.com");
  ASSERT_EQ(ack.values("Via").size(), 1u);
  EXPECT_EQ(*ack.find("Via"), "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;rport");
  EXPECT_EQ(*ack.find("To"), "Bob <sip:bob@biloxi.com>;tag=a6c85cf");
  EXPECT_EQ(*ack.find("From"), "Alice <sip:alice@atlanta.com>;tag=1928301774");
  EXPECT_EQ(*ack.find("Call-ID"), "a84b4c76e66710");
  EXPECT_EQ(*ack.find("CSeq"), "314159 ACK");
  EXPECT_EQ(*ack.find("Max-Forwards"), "70");
  const auto routes = ack.values("Route");
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0], "<sip:p1.example.com;lr>");
  EXPECT_EQ(routes[1], "<sip:p2.example.com;lr>");
  EXPECT_TRUE(ack.body.empty());
  EXPECT_EQ(ack.find("Contact"), nullptr);
  ASSERT_NE(fsm.ack(), nullptr);
  EXPECT_EQ(*fsm.ack(), ack);
  // Retransmitted 486s: ACKed again, not passed up.
  t.run_until(5s);
  t.respond(response(486));
  t.run_until(9s);
  t.respond(response(486));
  EXPECT_EQ(t.delivered, 2);
  ASSERT_EQ(t.sent.size(), 4u);
  EXPECT_EQ(t.sent[2].second, t.sent[1].second);
  EXPECT_EQ(t.sent[3].second, t.sent[1].second);
  // Timer D: 32 s after the 486.
  t.run_until(100s);
  EXPECT_TRUE(t.terminated);
  EXPECT_EQ(t.terminated_at, 34s);
  EXPECT_FALSE(t.error);  // the outcome is the delivered 486
}

TEST(sip_invite_client, busy_over_tcp_terminates_at_once) {
  invite_client_fsm fsm(invite(), true);
  timeline<invite_client_fsm> t{fsm};
  t.start();
  t.respond(response(486));
  EXPECT_TRUE(t.terminated);
  EXPECT_EQ(t.delivered, 1);
  EXPECT_EQ(t.sent.size(), 2u);  // INVITE and ACK
}

TEST(sip_invite_client, proxy_challenge_is_acked_with_the_proxy_to_tag) {
  invite_client_fsm fsm(invite(), false);
  timeline<invite_client_fsm> t{fsm};
  t.start();
  message r = response(407);
  r.set("To", "Bob <sip:bob@biloxi.com>;tag=b27e1a1d33761e85846fc98f5f3a7e58.7a1c");
  t.respond(r);
  ASSERT_NE(fsm.ack(), nullptr);
  EXPECT_EQ(*fsm.ack()->find("To"),
            "Bob <sip:bob@biloxi.com>;tag=b27e1a1d33761e85846fc98f5f3a7e58.7a1c");
  EXPECT_EQ(t.delivered, 1);
}

TEST(sip_invite_client, foreign_responses_are_ignored) {
  invite_client_fsm fsm(invite(), false);
  timeline<invite_client_fsm> t{fsm};
  t.start();
  t.respond(response(200, "z9hG4bKother"));
  t.respond(response(200, "z9hG4bKnashds8", "314159 CANCEL"));
  message req = invite();
  t.respond(req);
  EXPECT_EQ(t.delivered, 0);
  EXPECT_EQ(fsm.current(), invite_client_fsm::state::calling);
}

TEST(sip_invite_client, transport_error_and_bad_request) {
  invite_client_fsm fsm(invite(), false);
  timeline<invite_client_fsm> t{fsm};
  t.start();
  t.apply(fsm.on_transport_error());
  EXPECT_TRUE(t.terminated);
  EXPECT_EQ(t.error, errc::transport_error);
  message no_branch = invite();
  no_branch.set("Via", "SIP/2.0/UDP pc33.atlanta.com");
  invite_client_fsm bad(no_branch, false);
  const action a = bad.start();
  EXPECT_TRUE(a.terminated);
  EXPECT_EQ(a.error, errc::missing_header);
  EXPECT_TRUE(a.send.empty());
}

TEST(sip_invite_client, an_error_injected_at_each_step_never_leaves_it_hanging) {
  // After each prefix of a full run, a transport error or Timer B terminates it exactly once.
  for (int step = 0; step < 4; ++step) {
    invite_client_fsm fsm(invite(), false);
    timeline<invite_client_fsm> t{fsm};
    t.start();
    if (step >= 1) t.run_until(1s);
    if (step >= 2) t.respond(response(183));
    if (step >= 3) t.respond(response(480));
    t.apply(fsm.on_transport_error());
    EXPECT_TRUE(t.terminated) << step;
    EXPECT_EQ(static_cast<bool>(t.error), step < 3) << step;
    EXPECT_EQ(fsm.on_timer(timer_id::b).terminated, false);
    EXPECT_FALSE(fsm.on_response(response(200)).deliver);
  }
}

TEST(sip_non_invite_client, timer_e_capped_at_t2_then_timer_f) {
  non_invite_client_fsm fsm(bye(), false);
  timeline<non_invite_client_fsm> t{fsm};
  t.start();
  EXPECT_EQ(fsm.current(), non_invite_client_fsm::state::trying);
  t.run_until(64s);
  // §17.1.2.2: intervals 0.5, 1, 2, 4, 4, 4, ... s.
  EXPECT_EQ(t.send_times(), (std::vector<ms>{0ms, 500ms, 1500ms, 3500ms, 7500ms, 11500ms, 15500ms,
                                             19500ms, 23500ms, 27500ms, 31500ms}));
  EXPECT_EQ(t.terminated_at, 32s);
  EXPECT_EQ(t.error, errc::transaction_timeout);
}

TEST(sip_non_invite_client, proceeding_retransmits_at_t2) {
  non_invite_client_fsm fsm(bye(), false);
  timeline<non_invite_client_fsm> t{fsm};
  t.start();
  t.run_until(600ms);
  t.respond(response(100, "z9hG4bKnashds10", "314160 BYE"));
  EXPECT_EQ(fsm.current(), non_invite_client_fsm::state::proceeding);
  t.run_until(10s);
  // E fired at 0.5 (next 1 s later) then at 1.5 s in Proceeding: T2 from then on.
  EXPECT_EQ(t.send_times(), (std::vector<ms>{0ms, 500ms, 1500ms, 5500ms, 9500ms}));
  t.respond(response(200, "z9hG4bKnashds10", "314160 BYE"));
  EXPECT_EQ(t.delivered, 2);
  EXPECT_EQ(fsm.current(), non_invite_client_fsm::state::completed);
  t.respond(response(200, "z9hG4bKnashds10", "314160 BYE"));  // absorbed
  EXPECT_EQ(t.delivered, 2);
  t.run_until(100s);
  EXPECT_EQ(t.terminated_at, 15s);  // Timer K = T4
  EXPECT_FALSE(t.error);
  EXPECT_EQ(t.sent.size(), 5u);
}

TEST(sip_non_invite_client, over_tcp) {
  non_invite_client_fsm fsm(bye(), true);
  timeline<non_invite_client_fsm> t{fsm};
  t.start();
  t.run_until(10s);
  EXPECT_EQ(t.sent.size(), 1u);
  t.respond(response(200, "z9hG4bKnashds10", "314160 BYE"));
  EXPECT_TRUE(t.terminated);
  EXPECT_EQ(t.terminated_at, 10s);  // Timer K = 0
  EXPECT_EQ(t.delivered, 1);
}

TEST(sip_non_invite_client, cancel_and_rejects_invite) {
  message cancel = make_request("CANCEL", "sip:bob@biloxi.com");
  cancel.add("Via", "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8");
  cancel.add("CSeq", "314159 CANCEL");
  non_invite_client_fsm fsm(cancel, false);
  timeline<non_invite_client_fsm> t{fsm};
  t.start();
  // The 200 to the INVITE shares the branch but not the method (§17.1.3).
  t.respond(response(200));
  EXPECT_EQ(t.delivered, 0);
  t.respond(response(200, "z9hG4bKnashds8", "314159 CANCEL"));
  EXPECT_EQ(t.delivered, 1);
  non_invite_client_fsm wrong(invite(), false);
  EXPECT_EQ(wrong.start().error, errc::missing_header);
}

TEST(sip_transaction, matching) {
  EXPECT_TRUE(matches(response(180), "z9hG4bKnashds8", "INVITE"));
  EXPECT_FALSE(matches(response(180), "z9hG4bKnashds9", "INVITE"));
  EXPECT_FALSE(matches(response(180), "z9hG4bKnashds8", "BYE"));
  EXPECT_FALSE(matches(response(180), "", "INVITE"));
  EXPECT_FALSE(matches(invite(), "z9hG4bKnashds8", "INVITE"));
  message no_via = response(180);
  no_via.remove("Via");
  EXPECT_FALSE(matches(no_via, "z9hG4bKnashds8", "INVITE"));
}

}  // namespace
}  // namespace otpd::sip
