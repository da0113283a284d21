#include "voice/sip/uac_call_fsm.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "voice/sip/digest.hpp"
#include "voice/sip/headers.hpp"
#include "voice/sip/status.hpp"
#include "voice/sip/uri.hpp"

namespace otpd::sip {
namespace {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

constexpr std::string_view offer = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=otpd\r\n";
constexpr std::string_view answer = "v=0\r\no=- 2 2 IN IP4 10.0.0.9\r\ns=-\r\n";

uac_call_params params(std::string transport = "UDP") {
  uac_call_params p;
  p.request_uri = "sip:84912345678@carrier.example";
  p.to_uri = p.request_uri;
  p.from_uri = "sip:otpd@10.0.0.1";
  p.from_display = "OTP";
  p.contact_uri = "sip:otpd@10.0.0.1:40000";
  p.outbound_proxy = "sip:10.0.0.2:5070";
  p.via_host = "10.0.0.1";
  p.via_port = 40000;
  p.transport = std::move(transport);
  p.credentials = {"alice", "secret"};
  p.sdp_offer = std::string(offer);
  p.ring_timeout = 20s;
  auto counter = std::make_shared<std::uint64_t>(0x1234);
  p.random = [counter] { return ++*counter * 0x9E3779B97F4A7C15ull; };
  return p;
}

struct sent_message {
  ms at;
  destination to;
  message msg;
};

// Carries out the FSM's steps on a fake clock, like the call layer does on a real one.
struct harness {
  uac_call_fsm fsm;
  ms now{0};
  std::map<call_timer, ms> armed;
  std::vector<sent_message> sent;
  std::vector<uac_event> events;

  explicit harness(uac_call_params p = params()) : fsm(std::move(p)) {}

  void apply(const uac_step& s) {
    for (const call_timer t : s.cancel) armed.erase(t);
    for (const outgoing& o : s.send) {
      message m;
      ASSERT_FALSE(parse(o.bytes, m)) << o.bytes;
      sent.push_back({now, o.to, std::move(m)});
    }
    for (const call_timer_arm& a : s.arm) armed[a.id] = now + a.after;
    for (const uac_event& e : s.events) {
      ASSERT_FALSE(!events.empty() && events.back().what == uac_event::kind::ended)
          << "event after the end";
      events.push_back(e);
    }
  }
  void start() { apply(fsm.start()); }
  void receive(const message& m) { apply(fsm.on_message(m)); }
  void run_until(ms until) {
    while (!armed.empty() && !fsm.ended()) {
      auto next = std::min_element(armed.begin(), armed.end(),
                                   [](auto& x, auto& y) { return x.second < y.second; });
      if (next->second > until) break;
      now = next->second;
      const call_timer id = next->first;
      armed.erase(next);
      apply(fsm.on_timer(id));
    }
    if (!fsm.ended()) now = until;
  }
  const message& last() const { return sent.back().msg; }
  const message& last(std::string_view method) const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
      if (it->msg.is_request() && it->msg.request()->method == method) return it->msg;
    }
    static const message none;
    ADD_FAILURE() << "no " << method << " sent";
    return none;
  }
  std::size_t count(std::string_view method) const {
    return static_cast<std::size_t>(std::count_if(sent.begin(), sent.end(), [&](const auto& s) {
      return s.msg.is_request() && s.msg.request()->method == method;
    }));
  }
  const uac_event* ended() const {
    return !events.empty() && events.back().what == uac_event::kind::ended ? &events.back()
                                                                           : nullptr;
  }
};

// The response a UAS gives to `req` (RFC 3261 §8.2.6).
message reply(const message& req, int code, std::string_view to_tag = "callee1") {
  message r = make_response(code);
  for (const std::string_view v : req.values("Via")) r.add("Via", v);
  r.add("From", *req.find("From"));
  std::string to = *req.find("To");
  if (code > 100 && !to_tag.empty() && to.find("tag=") == std::string::npos) {
    to += ";tag=" + std::string(to_tag);
  }
  r.add("To", to);
  r.add("Call-ID", *req.find("Call-ID"));
  r.add("CSeq", *req.find("CSeq"));
  return r;
}

message ok_with_routes(const message& invite) {
  message r = reply(invite, 200);
  // Two proxies, in the order the callee saw them (the proxy nearest to us is last).
  r.add("Record-Route", "<sip:p2.example;lr>");
  r.add("Record-Route", "<sip:10.0.0.2:5070;lr=on;ftag=x>");
  r.add("Contact", "<sip:bob@10.0.0.9:5062>");
  r.add("Content-Type", "application/sdp");
  r.body = std::string(answer);
  return r;
}

std::string branch_of(const message& m) {
  via v;
  EXPECT_FALSE(parse_via(*m.find("Via"), v));
  return v.branch();
}

// A request from the callee within the dialog.
message callee_request(const harness& h, std::string_view method) {
  const message& inv = h.fsm.invite();
  message m = make_request(method, "sip:otpd@10.0.0.1:40000");
  m.add("Via", "SIP/2.0/UDP 10.0.0.9:5062;branch=z9hG4bKcallee" + std::string(method));
  m.add("Max-Forwards", "70");
  m.add("From", "<sip:84912345678@carrier.example>;tag=callee1");
  m.add("To", *inv.find("From"));
  m.add("Call-ID", *inv.find("Call-ID"));
  m.add("CSeq", "7 " + std::string(method));
  return m;
}

void answer_call(harness& h) {
  h.start();
  h.receive(reply(h.fsm.invite(), 100));
  h.receive(reply(h.fsm.invite(), 180));
  h.receive(ok_with_routes(h.fsm.invite()));
}

TEST(uac_call_fsm, invite_carries_what_rfc3261_asks) {
  harness h;
  h.start();
  ASSERT_EQ(h.sent.size(), 1u);
  const message& inv = h.last();
  EXPECT_EQ(inv.request()->method, "INVITE");
  EXPECT_EQ(inv.request()->uri, "sip:84912345678@carrier.example");
  EXPECT_EQ(h.sent[0].to, (destination{false, "10.0.0.2", 5070, ""}));
  via v;
  ASSERT_FALSE(parse_via(*inv.find("Via"), v));
  EXPECT_EQ(v.host, "10.0.0.1");
  EXPECT_EQ(v.port, 40000);
  EXPECT_TRUE(v.has_rport());
  EXPECT_TRUE(v.branch().starts_with(branch_cookie));
  EXPECT_EQ(*inv.find("Max-Forwards"), "70");
  EXPECT_EQ(*inv.find("To"), "<sip:84912345678@carrier.example>");
  name_addr from;
  ASSERT_FALSE(parse_name_addr(*inv.find("From"), from));
  EXPECT_EQ(from.display_name, "OTP");
  EXPECT_EQ(from.tag(), h.fsm.local_tag());
  EXPECT_EQ(*inv.find("Call-ID"), h.fsm.call_id());
  EXPECT_EQ(*inv.find("CSeq"), "1 INVITE");
  EXPECT_EQ(*inv.find("Contact"), "<sip:otpd@10.0.0.1:40000>");
  EXPECT_EQ(*inv.find("Content-Type"), "application/sdp");
  EXPECT_EQ(inv.body, offer);
  EXPECT_TRUE(h.armed.count(call_timer::ring));
  EXPECT_TRUE(h.armed.count(call_timer::invite_a));
  EXPECT_TRUE(h.armed.count(call_timer::invite_b));
}

TEST(uac_call_fsm, tcp_has_no_retransmission_timer) {
  harness h(params("tcp"));
  h.start();
  EXPECT_TRUE(h.last().find("Via")->starts_with("SIP/2.0/TCP "));
  EXPECT_FALSE(h.armed.count(call_timer::invite_a));
  EXPECT_TRUE(h.armed.count(call_timer::invite_b));
}

TEST(uac_call_fsm, ringing_then_answer_acks_along_the_route_set) {
  harness h;
  answer_call(h);
  ASSERT_EQ(h.events.size(), 2u);
  EXPECT_EQ(h.events[0].what, uac_event::kind::ringing);
  EXPECT_EQ(h.events[0].code, 180);
  EXPECT_EQ(h.events[1].what, uac_event::kind::answered);
  EXPECT_EQ(h.events[1].sdp, answer);
  EXPECT_TRUE(h.fsm.answered());
  EXPECT_EQ(h.fsm.remote_tag(), "callee1");
  EXPECT_EQ(h.fsm.remote_target(), "sip:bob@10.0.0.9:5062");
  ASSERT_EQ(h.fsm.route_set().size(), 2u);
  EXPECT_EQ(h.fsm.route_set()[0], "<sip:10.0.0.2:5070;lr=on;ftag=x>");  // reversed

  const message& ack = h.last();
  EXPECT_EQ(ack.request()->method, "ACK");
  // Loose routing: the Request-URI is the remote target, the route set goes in Route.
  EXPECT_EQ(ack.request()->uri, "sip:bob@10.0.0.9:5062");
  const auto routes = ack.values("Route");
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0], "<sip:10.0.0.2:5070;lr=on;ftag=x>");
  EXPECT_EQ(routes[1], "<sip:p2.example;lr>");
  EXPECT_EQ(h.sent.back().to, (destination{false, "10.0.0.2", 5070, ""}));
  EXPECT_EQ(*ack.find("CSeq"), "1 ACK");
  EXPECT_NE(branch_of(ack), branch_of(h.fsm.invite()));  // §13.2.2.4: a new branch
  EXPECT_NE(ack.find("To")->find("tag=callee1"), std::string::npos);
  EXPECT_EQ(*ack.find("Max-Forwards"), "70");
  EXPECT_TRUE(ack.body.empty());
  EXPECT_FALSE(h.armed.count(call_timer::ring));
  EXPECT_FALSE(h.armed.count(call_timer::invite_a));
  EXPECT_FALSE(h.armed.count(call_timer::invite_b));
}

TEST(uac_call_fsm, answer_without_record_route_goes_to_the_contact) {
  harness h;
  h.start();
  message ok = reply(h.fsm.invite(), 200);
  ok.add("Contact", "<sip:bob@10.0.0.9:5062;transport=udp>");
  h.receive(ok);
  EXPECT_EQ(h.last().request()->uri, "sip:bob@10.0.0.9:5062;transport=udp");
  EXPECT_TRUE(h.last().values("Route").empty());
  EXPECT_EQ(h.sent.back().to, (destination{false, "10.0.0.9", 5062, "udp"}));
}

TEST(uac_call_fsm, strict_route_becomes_the_request_uri) {
  harness h;
  h.start();
  message ok = reply(h.fsm.invite(), 200);
  ok.add("Record-Route", "<sip:strict.example:5080>");
  ok.add("Contact", "<sip:bob@10.0.0.9:5062>");
  h.receive(ok);
  const message& ack = h.last();
  EXPECT_EQ(ack.request()->uri, "sip:strict.example:5080");
  const auto routes = ack.values("Route");
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0], "<sip:bob@10.0.0.9:5062>");
  EXPECT_EQ(h.sent.back().to, (destination{false, "strict.example", 5080, ""}));
}

TEST(uac_call_fsm, retransmitted_2xx_is_acked_again) {
  harness h;
  answer_call(h);
  const std::size_t acks = h.count("ACK");
  h.receive(ok_with_routes(h.fsm.invite()));
  h.receive(ok_with_routes(h.fsm.invite()));
  EXPECT_EQ(h.count("ACK"), acks + 2);
  EXPECT_EQ(h.sent.back().msg, h.sent[h.sent.size() - 2].msg);  // the same ACK
  EXPECT_EQ(h.events.size(), 2u);                               // answered once
}

TEST(uac_call_fsm, hangup_sends_bye_and_ends_on_200) {
  harness h;
  answer_call(h);
  h.apply(h.fsm.hangup());
  const message& bye = h.last();
  EXPECT_EQ(bye.request()->method, "BYE");
  EXPECT_EQ(bye.request()->uri, "sip:bob@10.0.0.9:5062");
  EXPECT_EQ(bye.values("Route").size(), 2u);
  EXPECT_EQ(*bye.find("CSeq"), "2 BYE");
  EXPECT_EQ(h.sent.back().to, (destination{false, "10.0.0.2", 5070, ""}));
  EXPECT_TRUE(h.armed.count(call_timer::bye_e));
  EXPECT_FALSE(h.ended());
  h.receive(reply(bye, 200, ""));
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->end, call_end::completed);
  EXPECT_EQ(h.ended()->code, 200);
  EXPECT_TRUE(h.armed.empty());
}

TEST(uac_call_fsm, bye_without_answer_still_ends_on_timer_f) {
  harness h;
  answer_call(h);
  h.apply(h.fsm.hangup());
  h.run_until(h.now + 60s);
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->end, call_end::completed);
  EXPECT_EQ(h.ended()->ec, errc::transaction_timeout);
  EXPECT_EQ(h.now, 32s);          // Timer F = 64*T1
  EXPECT_GT(h.count("BYE"), 5u);  // Timer E retransmissions
}

TEST(uac_call_fsm, bye_from_callee_is_answered_and_ends_the_call) {
  harness h;
  answer_call(h);
  const message bye = callee_request(h, "BYE");
  h.receive(bye);
  const message& ok = h.last();
  ASSERT_FALSE(ok.is_request());
  EXPECT_EQ(ok.code(), 200);
  EXPECT_TRUE(h.sent.back().to.reply);
  EXPECT_EQ(*ok.find("Via"), *bye.find("Via"));
  EXPECT_EQ(*ok.find("CSeq"), "7 BYE");
  EXPECT_EQ(*ok.find("Call-ID"), h.fsm.call_id());
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->end, call_end::remote_hangup);
  // The call's SIP outcome is the INVITE's final answer, not the callee's BYE.
  EXPECT_EQ(h.ended()->code, 200);
  EXPECT_EQ(h.ended()->reason, "remote hangup");
}

TEST(uac_call_fsm, after_the_answer_the_outcome_code_is_the_2xx_whatever_the_bye_gets) {
  for (const int bye_answer : {481, 408, 500}) {
    harness h;
    answer_call(h);
    h.apply(h.fsm.hangup());
    h.receive(reply(h.last("BYE"), bye_answer, ""));
    ASSERT_TRUE(h.ended()) << bye_answer;
    EXPECT_EQ(h.ended()->end, call_end::completed) << bye_answer;
    EXPECT_EQ(h.ended()->code, 200) << bye_answer;
  }
  // Timer F on our BYE, and a transport error after the answer: still the 2xx.
  harness f;
  answer_call(f);
  f.apply(f.fsm.hangup());
  f.run_until(f.now + 60s);
  ASSERT_TRUE(f.ended());
  EXPECT_EQ(f.ended()->code, 200);
  harness t;
  answer_call(t);
  t.apply(t.fsm.on_transport_error("connection lost"));
  ASSERT_TRUE(t.ended());
  EXPECT_EQ(t.ended()->end, call_end::failed);
  EXPECT_EQ(t.ended()->code, 200);
  EXPECT_EQ(t.ended()->reason, "connection lost");
}

TEST(uac_call_fsm, options_and_info_in_dialog) {
  harness h;
  answer_call(h);
  h.receive(callee_request(h, "OPTIONS"));
  EXPECT_EQ(h.last().code(), 200);
  h.receive(callee_request(h, "INFO"));
  EXPECT_EQ(h.last().code(), 501);
  EXPECT_FALSE(h.ended());
}

TEST(uac_call_fsm, request_of_another_call_gets_481) {
  harness h;
  answer_call(h);
  message bye = callee_request(h, "BYE");
  bye.set("Call-ID", "other@elsewhere");
  h.receive(bye);
  EXPECT_EQ(h.last().code(), 481);
  EXPECT_FALSE(h.ended());
}

TEST(uac_call_fsm, proxy_challenge_is_acked_and_answered) {
  harness h;
  h.start();
  const message first = h.fsm.invite();
  message challenge = reply(first, 407, "proxy1");
  challenge.add("Proxy-Authenticate",
                R"(Digest realm="kamailio.test", nonce="abc123", qop="auth", algorithm=MD5)");
  h.receive(challenge);
  ASSERT_EQ(h.sent.size(), 3u);  // INVITE, ACK, INVITE
  const message ack = h.sent[1].msg;
  EXPECT_EQ(ack.request()->method, "ACK");
  EXPECT_EQ(branch_of(ack), branch_of(first));  // the transaction's ACK: same branch
  EXPECT_EQ(*ack.find("CSeq"), "1 ACK");
  EXPECT_EQ(h.sent[1].to, (destination{false, "10.0.0.2", 5070, ""}));

  const message second = h.last();
  EXPECT_EQ(second.request()->method, "INVITE");
  EXPECT_EQ(*second.find("CSeq"), "2 INVITE");
  EXPECT_EQ(*second.find("Call-ID"), *first.find("Call-ID"));
  EXPECT_EQ(*second.find("From"), *first.find("From"));
  EXPECT_EQ(*second.find("To"), *first.find("To"));
  EXPECT_NE(branch_of(second), branch_of(first));
  ASSERT_NE(second.find("Proxy-Authorization"), nullptr);
  EXPECT_EQ(second.find("Authorization"), nullptr);

  // Verify the response hash as the proxy would.
  const std::string auth = *second.find("Proxy-Authorization");
  auto field = [&](std::string_view name) {
    const std::string key = std::string(name) + "=";
    std::size_t at = auth.find(" " + key);
    if (at == std::string::npos) at = auth.find("," + key);
    EXPECT_NE(at, std::string::npos) << name << " in " << auth;
    std::size_t b = at + key.size() + 1;
    std::size_t e;
    if (auth[b] == '"') {
      ++b;
      e = auth.find('"', b);
    } else {
      e = auth.find_first_of(", ", b);
    }
    return auth.substr(b, e == std::string::npos ? std::string::npos : e - b);
  };
  EXPECT_EQ(field("username"), "alice");
  EXPECT_EQ(field("realm"), "kamailio.test");
  EXPECT_EQ(field("uri"), "sip:84912345678@carrier.example");
  EXPECT_EQ(field("nc"), "00000001");
  const std::string expected = digest_response(
      digest_algorithm::md5, "alice", "kamailio.test", "secret", "INVITE",
      "sip:84912345678@carrier.example", "abc123", "00000001", field("cnonce"), "auth");
  EXPECT_EQ(field("response"), expected);

  // A retransmitted 407 of the first transaction is ACKed again, nothing else happens.
  h.receive(challenge);
  EXPECT_EQ(h.sent.size(), 4u);
  EXPECT_EQ(h.last(), ack);

  // Answered, the ACK of the 2xx carries the same credentials.
  h.receive(reply(second, 180));
  message ok = reply(second, 200);
  ok.add("Contact", "<sip:bob@10.0.0.9:5062>");
  h.receive(ok);
  EXPECT_EQ(h.last().request()->method, "ACK");
  EXPECT_EQ(*h.last().find("CSeq"), "2 ACK");
  EXPECT_EQ(*h.last().find("Proxy-Authorization"), auth);
  EXPECT_TRUE(h.fsm.answered());
}

TEST(uac_call_fsm, www_authenticate_gets_authorization_and_nc_counts_per_nonce) {
  harness h;
  h.start();
  auto challenge = [&](bool stale) {
    message c = reply(h.fsm.invite(), 401, "uas");
    c.add("WWW-Authenticate", std::string(R"(Digest realm="r", nonce="n1", qop="auth")") +
                                  (stale ? ", stale=true" : ""));
    return c;
  };
  h.receive(challenge(false));
  const std::string a1 = *h.last().find("Authorization");
  EXPECT_NE(a1.find("nc=00000001"), std::string::npos);
  // stale=true: the same credentials with a fresh nonce use (same nonce here: nc 2).
  h.receive(challenge(true));
  ASSERT_FALSE(h.ended());
  EXPECT_EQ(*h.last().find("CSeq"), "3 INVITE");
  const std::string a2 = *h.last().find("Authorization");
  EXPECT_NE(a2.find("nc=00000002"), std::string::npos);
  EXPECT_NE(a1, a2);  // fresh cnonce
}

TEST(uac_call_fsm, second_challenge_for_the_same_realm_fails) {
  harness h;
  h.start();
  for (int i = 0; i < 2; ++i) {
    message c = reply(h.fsm.invite(), 407, "proxy1");
    c.add("Proxy-Authenticate",
          R"(Digest realm="kamailio.test", nonce="n)" + std::to_string(i) + R"(", qop="auth")");
    h.receive(c);
  }
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->end, call_end::failed);
  EXPECT_EQ(h.ended()->code, 407);
  EXPECT_EQ(h.count("INVITE"), 2u);
  EXPECT_EQ(h.last().request()->method, "ACK");
}

TEST(uac_call_fsm, wrong_password_403_fails_with_403) {
  harness h;
  h.start();
  message c = reply(h.fsm.invite(), 407, "proxy1");
  c.add("Proxy-Authenticate", R"(Digest realm="kamailio.test", nonce="n", qop="auth")");
  h.receive(c);
  h.receive(reply(h.fsm.invite(), 403, "proxy1"));
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->end, call_end::failed);
  EXPECT_EQ(h.ended()->code, 403);
  EXPECT_EQ(h.ended()->ec, status_error(403));
  EXPECT_EQ(h.last().request()->method, "ACK");
  EXPECT_EQ(*h.last().find("CSeq"), "2 ACK");
  EXPECT_TRUE(h.armed.empty());
}

TEST(uac_call_fsm, challenge_without_credentials_fails) {
  uac_call_params p = params();
  p.credentials = {};
  harness h(p);
  h.start();
  message c = reply(h.fsm.invite(), 401, "uas");
  c.add("WWW-Authenticate", R"(Digest realm="r", nonce="n")");
  h.receive(c);
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->code, 401);
  EXPECT_EQ(h.ended()->end, call_end::failed);
}

struct final_case {
  int code;
  call_end end;
};

class final_response : public ::testing::TestWithParam<final_case> {};

TEST_P(final_response, maps_to_the_outcome_and_is_acked) {
  harness h;
  h.start();
  h.receive(reply(h.fsm.invite(), 180));
  h.receive(reply(h.fsm.invite(), GetParam().code));
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->end, GetParam().end);
  EXPECT_EQ(h.ended()->code, GetParam().code);
  EXPECT_EQ(h.last().request()->method, "ACK");
  EXPECT_EQ(branch_of(h.last()), branch_of(h.fsm.invite()));
  EXPECT_TRUE(h.armed.empty());
}

INSTANTIATE_TEST_SUITE_P(
    uac_call_fsm, final_response,
    ::testing::Values(final_case{486, call_end::busy}, final_case{600, call_end::busy},
                      final_case{603, call_end::rejected}, final_case{480, call_end::no_answer},
                      final_case{408, call_end::no_answer}, final_case{404, call_end::failed},
                      final_case{488, call_end::failed}, final_case{503, call_end::failed}));

TEST(uac_call_fsm, ring_timeout_cancels_then_487_is_acked) {
  harness h;
  h.start();
  h.receive(reply(h.fsm.invite(), 180));
  h.run_until(19s);
  EXPECT_EQ(h.count("CANCEL"), 0u);
  h.run_until(20s);
  ASSERT_EQ(h.count("CANCEL"), 1u);
  const message& cancel = h.last();
  const message& inv = h.fsm.invite();
  EXPECT_EQ(cancel.request()->uri, inv.request()->uri);
  EXPECT_EQ(*cancel.find("Via"), *inv.find("Via"));  // same branch (§9.1)
  EXPECT_EQ(*cancel.find("CSeq"), "1 CANCEL");
  EXPECT_EQ(*cancel.find("To"), *inv.find("To"));
  EXPECT_EQ(*cancel.find("From"), *inv.find("From"));
  EXPECT_EQ(h.sent.back().to, (destination{false, "10.0.0.2", 5070, ""}));
  h.receive(reply(cancel, 200));
  EXPECT_FALSE(h.ended());
  h.receive(reply(inv, 487));
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->end, call_end::no_answer);
  EXPECT_EQ(h.ended()->code, 487);
  EXPECT_EQ(h.last().request()->method, "ACK");
  EXPECT_EQ(*h.last().find("CSeq"), "1 ACK");
}

TEST(uac_call_fsm, no_final_response_after_cancel_ends_after_64_t1) {
  harness h;
  h.start();
  h.receive(reply(h.fsm.invite(), 180));
  h.run_until(20s);
  h.receive(reply(h.last(), 200));
  h.run_until(120s);
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->end, call_end::no_answer);
  EXPECT_EQ(h.now, 52s);
}

TEST(uac_call_fsm, cancel_waits_for_a_provisional_response) {
  harness h;
  h.start();
  h.apply(h.fsm.cancel());
  EXPECT_EQ(h.count("CANCEL"), 0u);  // §9.1: not before a provisional response
  h.receive(reply(h.fsm.invite(), 100));
  EXPECT_EQ(h.count("CANCEL"), 1u);
  h.receive(reply(h.fsm.invite(), 487));
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->end, call_end::cancelled);
}

TEST(uac_call_fsm, answer_crossing_cancel_is_acked_and_byed) {
  harness h;
  h.start();
  h.receive(reply(h.fsm.invite(), 180));
  h.apply(h.fsm.cancel());
  h.receive(ok_with_routes(h.fsm.invite()));
  EXPECT_EQ(h.count("ACK"), 1u);
  EXPECT_EQ(h.last().request()->method, "BYE");
  EXPECT_FALSE(h.ended());
  h.receive(reply(h.last(), 200, ""));
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->end, call_end::cancelled);
  for (const auto& e : h.events) EXPECT_NE(e.what, uac_event::kind::answered);
}

TEST(uac_call_fsm, cancel_after_answer_sends_bye) {
  harness h;
  answer_call(h);
  h.apply(h.fsm.cancel());
  EXPECT_EQ(h.last().request()->method, "BYE");
  h.receive(reply(h.last(), 200, ""));
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->end, call_end::cancelled);
}

TEST(uac_call_fsm, timer_b_without_any_response_fails_408) {
  harness h;
  h.start();
  h.run_until(60s);
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->end, call_end::failed);
  EXPECT_EQ(h.ended()->code, 408);
  EXPECT_EQ(h.ended()->ec, errc::transaction_timeout);
  EXPECT_EQ(h.now, 32s);
  EXPECT_EQ(h.count("INVITE"), 7u);  // Timer A: 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s
  EXPECT_EQ(h.count("CANCEL"), 0u);  // the ring timeout passed, but nothing to CANCEL yet
}

TEST(uac_call_fsm, transport_error_fails) {
  harness h;
  h.start();
  h.apply(h.fsm.on_transport_error());
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->end, call_end::failed);
  EXPECT_EQ(h.ended()->ec, errc::transport_error);
}

TEST(uac_call_fsm, an_unreachable_first_hop_ends_the_call_at_once_without_timer_b) {
  // The call layer reports ICMP port unreachable for the INVITE as a transport error: the call
  // ends there, with no SIP code, and nothing is left to retransmit.
  harness h;
  h.start();
  h.run_until(600ms);  // one Timer A retransmission
  ASSERT_EQ(h.count("INVITE"), 2u);
  h.apply(h.fsm.on_transport_error("cannot reach 10.0.0.2:5070: Connection refused"));
  ASSERT_TRUE(h.ended());
  EXPECT_EQ(h.ended()->end, call_end::failed);
  EXPECT_EQ(h.ended()->code, 0);
  EXPECT_EQ(h.ended()->reason, "cannot reach 10.0.0.2:5070: Connection refused");
  EXPECT_TRUE(h.armed.empty());
  h.run_until(60s);
  EXPECT_EQ(h.count("INVITE"), 2u);
}

TEST(uac_call_fsm, unrelated_responses_are_ignored) {
  harness h;
  h.start();
  const std::size_t sent = h.sent.size();
  message other = reply(h.fsm.invite(), 486);
  other.set("Call-ID", "someone-else");
  h.receive(other);
  message wrong_branch = reply(h.fsm.invite(), 486);
  wrong_branch.set("Via", "SIP/2.0/UDP 10.0.0.1:40000;branch=z9hG4bKnotours");
  h.receive(wrong_branch);
  message no_cseq = reply(h.fsm.invite(), 486);
  no_cseq.remove("CSeq");
  h.receive(no_cseq);
  h.receive(make_response(200));  // nothing in it
  message ack = callee_request(h, "ACK");
  h.receive(ack);
  EXPECT_EQ(h.sent.size(), sent);
  EXPECT_TRUE(h.events.empty());
  EXPECT_FALSE(h.ended());
  EXPECT_EQ(h.fsm.current(), uac_call_fsm::state::calling);
}

TEST(uac_call_fsm, nothing_happens_after_the_end) {
  harness h;
  h.start();
  h.receive(reply(h.fsm.invite(), 486));
  ASSERT_TRUE(h.ended());
  EXPECT_TRUE(h.fsm.on_message(reply(h.fsm.invite(), 200)).empty());
  EXPECT_TRUE(h.fsm.on_timer(call_timer::ring).empty());
  EXPECT_TRUE(h.fsm.hangup().empty());
  EXPECT_TRUE(h.fsm.cancel().empty());
}

// Every step of an answered-then-hung-up call, with a transport error injected in its place:
// the call always ends exactly once with an ended event.
TEST(uac_call_fsm, transport_error_at_each_step_ends_once) {
  for (int fail_at = 1; fail_at < 5; ++fail_at) {
    harness h;
    int step = 0;
    auto next = [&](auto&& f) {
      if (h.fsm.ended()) return;
      if (step++ == fail_at) {
        h.apply(h.fsm.on_transport_error());
        return;
      }
      f();
    };
    next([&] { h.start(); });
    next([&] { h.receive(reply(h.fsm.invite(), 180)); });
    next([&] { h.receive(ok_with_routes(h.fsm.invite())); });
    next([&] { h.apply(h.fsm.hangup()); });
    next([&] { h.receive(reply(h.last("BYE"), 200, "")); });
    ASSERT_TRUE(h.ended()) << fail_at;
    const auto n = std::count_if(h.events.begin(), h.events.end(), [](const uac_event& e) {
      return e.what == uac_event::kind::ended;
    });
    EXPECT_EQ(n, 1) << fail_at;
    EXPECT_EQ(h.ended()->end, fail_at >= 4 ? call_end::completed : call_end::failed) << fail_at;
  }
}

}  // namespace
}  // namespace otpd::sip
