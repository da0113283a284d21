#include "voice/sip/transaction_fsm.hpp"

#include <algorithm>

#include "voice/sip/headers.hpp"
#include "voice/sip/status.hpp"

namespace otpd::sip {
namespace {

// The branch of the top Via, or empty.
std::string top_branch(const message& m) {
  const std::string* v = m.find("Via");
  via parsed;
  if (!v || parse_via(*v, parsed)) return {};
  return parsed.branch();
}

std::string cseq_method(const message& m) {
  const std::string* v = m.find("CSeq");
  cseq c;
  if (!v || parse_cseq(*v, c)) return {};
  return c.method;
}

action fail(const boost::system::error_code& ec) {
  action a;
  a.error = ec;
  a.terminated = true;
  return a;
}

}  // namespace

const char* to_string(timer_id t) noexcept {
  switch (t) {
    case timer_id::a:
      return "A";
    case timer_id::b:
      return "B";
    case timer_id::d:
      return "D";
    case timer_id::e:
      return "E";
    case timer_id::f:
      return "F";
    case timer_id::k:
      return "K";
  }
  return "?";
}

bool matches(const message& response, std::string_view branch, std::string_view method) {
  if (response.is_request() || branch.empty()) return false;
  // §17.1.3: branch comparison is case-sensitive in practice (it is an opaque token).
  return top_branch(response) == branch && cseq_method(response) == method;
}

message make_non2xx_ack(const message& invite, const message& response) {
  const request_line* rl = invite.request();
  message ack = make_request("ACK", rl ? rl->uri : std::string());
  // §17.1.1.3: a single Via equal to the INVITE's top Via.
  if (const std::string* v = invite.find("Via")) ack.add("Via", *v);
  for (const std::string_view r : invite.values("Route")) ack.add("Route", r);
  // §8.1.1.6: Max-Forwards is mandatory (kamailio rejects requests without it).
  const std::string* mf = invite.find("Max-Forwards");
  ack.add("Max-Forwards", mf ? std::string_view(*mf) : std::string_view("70"));
  if (const std::string* f = invite.find("From")) ack.add("From", *f);
  if (const std::string* t = response.find("To")) ack.add("To", *t);
  if (const std::string* i = invite.find("Call-ID")) ack.add("Call-ID", *i);
  cseq c;
  if (const std::string* s = invite.find("CSeq"); s && !parse_cseq(*s, c)) {
    ack.add("CSeq", std::to_string(c.number) + " ACK");
  }
  ack.add("Content-Length", "0");
  return ack;
}

// ---- INVITE client transaction (RFC 3261 §17.1.1) ----

invite_client_fsm::invite_client_fsm(message invite, bool reliable, timer_config cfg)
    : request_(std::move(invite)), reliable_(reliable), cfg_(cfg) {
  branch_ = top_branch(request_);
  bytes_ = serialize(request_);
}

action invite_client_fsm::start() {
  if (state_ != state::idle) return {};
  if (branch_.empty() || cseq_method(request_) != "INVITE") {
    state_ = state::terminated;
    return fail(errc::missing_header);
  }
  state_ = state::calling;
  action a;
  a.send = bytes_;
  // §17.1.1.2: Timer B = 64*T1 bounds the wait for any response; Timer A (UDP only) starts
  // at T1 and doubles.
  a.arm.push_back({timer_id::b, 64 * cfg_.t1});
  if (!reliable_) {
    a_interval_ = cfg_.t1;
    a.arm.push_back({timer_id::a, a_interval_});
  }
  return a;
}

action invite_client_fsm::on_response(const message& response) {
  if (state_ == state::idle || state_ == state::terminated) return {};
  if (!matches(response, branch_, "INVITE")) return {};
  const int code = response.code();
  action a;
  switch (state_) {
    case state::calling:
    case state::proceeding:
      if (code < 200) {
        // §17.1.1.2: a provisional response stops retransmissions; Timer B only guards
        // Calling (the TU's ring timeout and CANCEL take over in Proceeding).
        if (state_ == state::calling) {
          a.cancel = {timer_id::a, timer_id::b};
          state_ = state::proceeding;
        }
        a.deliver = true;
        return a;
      }
      a.cancel = {timer_id::a, timer_id::b};
      a.deliver = true;
      if (code < 300) {
        // §17.1.1.2: a 2xx goes to the TU, which sends the ACK itself (§13.2.2.4).
        state_ = state::terminated;
        a.terminated = true;
        return a;
      }
      // §17.1.1.3: ACK the non-2xx final response within the transaction.
      ack_ = make_non2xx_ack(request_, response);
      ack_bytes_ = serialize(ack_);
      a.send = ack_bytes_;
      if (reliable_) {
        state_ = state::terminated;  // Timer D = 0 over a reliable transport
        a.terminated = true;
      } else {
        state_ = state::completed;
        a.arm.push_back({timer_id::d, cfg_.d});
      }
      return a;
    case state::completed:
      // §17.1.1.2: a retransmitted final response is ACKed again and not passed up.
      if (code >= 300) a.send = ack_bytes_;
      return a;
    default:
      return {};
  }
}

action invite_client_fsm::on_timer(timer_id id) {
  action a;
  if (state_ == state::calling && id == timer_id::a && !reliable_) {
    a.send = bytes_;
    a_interval_ *= 2;
    a.arm.push_back({timer_id::a, a_interval_});
    return a;
  }
  if (state_ == state::calling && id == timer_id::b) {
    state_ = state::terminated;
    a = fail(errc::transaction_timeout);
    a.cancel = {timer_id::a};
    return a;
  }
  if (state_ == state::completed && id == timer_id::d) {
    state_ = state::terminated;
    a.terminated = true;
  }
  return a;
}

action invite_client_fsm::on_transport_error() {
  if (state_ == state::idle || state_ == state::terminated) return {};
  const bool final_seen = state_ == state::completed;
  state_ = state::terminated;
  action a;
  a.cancel = {timer_id::a, timer_id::b, timer_id::d};
  if (!final_seen) a.error = errc::transport_error;
  a.terminated = true;
  return a;
}

// ---- non-INVITE client transaction (RFC 3261 §17.1.2) ----

non_invite_client_fsm::non_invite_client_fsm(message request, bool reliable, timer_config cfg)
    : request_(std::move(request)), reliable_(reliable), cfg_(cfg) {
  branch_ = top_branch(request_);
  bytes_ = serialize(request_);
}

action non_invite_client_fsm::start() {
  if (state_ != state::idle) return {};
  const request_line* rl = request_.request();
  if (branch_.empty() || !rl || rl->method == "INVITE" || rl->method == "ACK" ||
      cseq_method(request_) != rl->method) {
    state_ = state::terminated;
    return fail(errc::missing_header);
  }
  state_ = state::trying;
  action a;
  a.send = bytes_;
  a.arm.push_back({timer_id::f, 64 * cfg_.t1});
  if (!reliable_) {
    e_interval_ = cfg_.t1;
    a.arm.push_back({timer_id::e, e_interval_});
  }
  return a;
}

action non_invite_client_fsm::on_response(const message& response) {
  if (state_ != state::trying && state_ != state::proceeding) return {};
  if (!matches(response, branch_, request_.request()->method)) return {};
  action a;
  a.deliver = true;
  if (response.code() < 200) {
    state_ = state::proceeding;  // Timer E keeps running, at T2 from its next firing
    return a;
  }
  a.cancel = {timer_id::e, timer_id::f};
  if (reliable_) {
    state_ = state::terminated;  // Timer K = 0 over a reliable transport
    a.terminated = true;
  } else {
    state_ = state::completed;
    a.arm.push_back({timer_id::k, cfg_.t4});
  }
  return a;
}

action non_invite_client_fsm::on_timer(timer_id id) {
  action a;
  if ((state_ == state::trying || state_ == state::proceeding) && id == timer_id::e && !reliable_) {
    // §17.1.2.2: E doubles up to T2 in Trying, and is T2 in Proceeding.
    e_interval_ = state_ == state::trying ? std::min(2 * e_interval_, cfg_.t2) : cfg_.t2;
    a.send = bytes_;
    a.arm.push_back({timer_id::e, e_interval_});
    return a;
  }
  if ((state_ == state::trying || state_ == state::proceeding) && id == timer_id::f) {
    state_ = state::terminated;
    a = fail(errc::transaction_timeout);
    a.cancel = {timer_id::e};
    return a;
  }
  if (state_ == state::completed && id == timer_id::k) {
    state_ = state::terminated;
    a.terminated = true;
  }
  return a;
}

action non_invite_client_fsm::on_transport_error() {
  if (state_ == state::idle || state_ == state::terminated) return {};
  const bool final_seen = state_ == state::completed;
  state_ = state::terminated;
  action a;
  a.cancel = {timer_id::e, timer_id::f, timer_id::k};
  if (!final_seen) a.error = errc::transport_error;
  a.terminated = true;
  return a;
}

}  // namespace otpd::sip
