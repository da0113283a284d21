#include "voice/sip/uac_call_fsm.hpp"

#include <algorithm>

#include "common/ascii.hpp"
#include "voice/sip/headers.hpp"
#include "voice/sip/status.hpp"
#include "voice/sip/uri.hpp"

namespace otpd::sip {
namespace {

constexpr std::string_view allow_value = "INVITE, ACK, CANCEL, BYE, OPTIONS";

// The next hop named by a SIP URI (RFC 3263 without DNS: host, port, transport as written).
destination hop_of(std::string_view uri_text) {
  destination d;
  uri u;
  if (parse_uri(uri_text, u)) return d;  // empty host: the call layer cannot send
  d.host = u.host;
  d.port = u.port.value_or(0);
  d.transport = ascii::to_lower(u.transport());
  return d;
}

// The URI inside a name-addr ("<sip:p.example;lr>" -> "sip:p.example;lr"), or the text.
std::string uri_of(std::string_view name_addr_text) {
  name_addr n;
  if (parse_name_addr(name_addr_text, n)) return std::string(name_addr_text);
  return n.uri;
}

std::optional<cseq> cseq_of(const message& m) {
  const std::string* v = m.find("CSeq");
  cseq c;
  if (!v || parse_cseq(*v, c)) return std::nullopt;
  return c;
}

std::string tag_of(const message& m, std::string_view header) {
  const std::string* v = m.find(header);
  name_addr n;
  if (!v || parse_name_addr(*v, n)) return {};
  return n.tag();
}

std::string reason_of(const message& r) {
  const status_line* s = r.response();
  if (s && !s->reason.empty()) return s->reason;
  return reason_phrase(r.code());
}

// RFC 3261 §8.2.6.2: a response copies Via, From, To, Call-ID and CSeq of the request.
message make_reply(const message& req, int code, std::string_view local_tag) {
  message r = make_response(code);
  for (const std::string_view v : req.values("Via")) r.add("Via", v);
  if (const std::string* f = req.find("From")) r.add("From", *f);
  if (const std::string* t = req.find("To")) {
    name_addr n;
    if (!parse_name_addr(*t, n) && n.tag().empty() && !local_tag.empty()) {
      set_param(n.params, "tag", local_tag);
      r.add("To", to_string(n));
    } else {
      r.add("To", *t);
    }
  }
  if (const std::string* i = req.find("Call-ID")) r.add("Call-ID", *i);
  if (const std::string* c = req.find("CSeq")) r.add("CSeq", *c);
  if (code == 200 || code == 501) r.add("Allow", allow_value);
  return r;
}

call_end end_for(int code) {
  switch (outcome_for(status_error(code))) {
    case call_outcome::busy:
      return call_end::busy;
    case call_outcome::no_answer:
      return call_end::no_answer;
    case call_outcome::rejected:
      return call_end::rejected;
    default:
      return call_end::failed;
  }
}

std::optional<call_timer> invite_timer(timer_id t) {
  switch (t) {
    case timer_id::a:
      return call_timer::invite_a;
    case timer_id::b:
      return call_timer::invite_b;
    default:
      return std::nullopt;  // D: see call_timer
  }
}

std::optional<call_timer> non_invite_timer(timer_id t, bool cancel) {
  switch (t) {
    case timer_id::e:
      return cancel ? call_timer::cancel_e : call_timer::bye_e;
    case timer_id::f:
      return cancel ? call_timer::cancel_f : call_timer::bye_f;
    default:
      return std::nullopt;  // K: see call_timer
  }
}

template <class Map>
void map_timers(const action& a, uac_step& out, Map map) {
  for (const timer_id t : a.cancel) {
    if (auto c = map(t)) out.cancel.push_back(*c);
  }
  for (const timer_arm& t : a.arm) {
    if (auto c = map(t.id)) out.arm.push_back({*c, t.after});
  }
}

}  // namespace

const char* to_string(call_timer t) noexcept {
  switch (t) {
    case call_timer::invite_a:
      return "INVITE/A";
    case call_timer::invite_b:
      return "INVITE/B";
    case call_timer::cancel_e:
      return "CANCEL/E";
    case call_timer::cancel_f:
      return "CANCEL/F";
    case call_timer::bye_e:
      return "BYE/E";
    case call_timer::bye_f:
      return "BYE/F";
    case call_timer::ring:
      return "ring";
    case call_timer::cancel_wait:
      return "cancel-wait";
  }
  return "?";
}

const char* to_string(call_end e) noexcept {
  switch (e) {
    case call_end::completed:
      return "completed";
    case call_end::remote_hangup:
      return "remote_hangup";
    case call_end::busy:
      return "busy";
    case call_end::no_answer:
      return "no_answer";
    case call_end::rejected:
      return "rejected";
    case call_end::failed:
      return "failed";
    case call_end::cancelled:
      return "cancelled";
  }
  return "?";
}

uac_call_fsm::uac_call_fsm(uac_call_params params) : p_(std::move(params)) {
  if (!p_.random) p_.random = csprng_source();
  p_.transport = ascii::to_upper(p_.transport.empty() ? std::string("UDP") : p_.transport);
  reliable_ = p_.transport != "UDP";
  call_id_ = make_call_id(p_.random, p_.via_host);
  local_tag_ = make_tag(p_.random);
  name_addr from;
  from.display_name = p_.from_display;
  from.uri = p_.from_uri;
  set_param(from.params, "tag", local_tag_);
  from_value_ = to_string(from);
  first_hop_ = hop_of(p_.outbound_proxy.empty() ? p_.request_uri : p_.outbound_proxy);
}

uac_call_fsm::~uac_call_fsm() = default;

const message& uac_call_fsm::invite() const noexcept {
  static const message none;
  return invite_ ? invite_->request() : none;
}

uac_step uac_call_fsm::start() {
  uac_step out;
  if (state_ != state::idle) return out;
  state_ = state::calling;
  start_invite(out);
  if (state_ == state::calling) out.arm.push_back({call_timer::ring, p_.ring_timeout});
  return out;
}

void uac_call_fsm::start_invite(uac_step& out) {
  message m = make_request("INVITE", p_.request_uri);
  via v;
  v.transport = p_.transport;
  v.host = p_.via_host;
  if (p_.via_port != 0) v.port = p_.via_port;
  set_param(v.params, "branch", make_branch(p_.random));
  set_param(v.params, "rport", std::nullopt);  // RFC 3581
  m.add("Via", to_string(v));
  m.add("Max-Forwards", std::to_string(p_.max_forwards));
  m.add("From", from_value_);
  m.add("To", "<" + p_.to_uri + ">");
  m.add("Call-ID", call_id_);
  m.add("CSeq", std::to_string(cseq_) + " INVITE");
  m.add("Contact", "<" + p_.contact_uri + ">");
  for (const credential& c : credentials_) m.add(c.header, c.value);
  m.add("Allow", allow_value);
  if (!p_.user_agent.empty()) m.add("User-Agent", p_.user_agent);
  if (!p_.sdp_offer.empty()) m.add("Content-Type", "application/sdp");
  m.body = p_.sdp_offer;
  invite_ = std::make_unique<invite_client_fsm>(std::move(m), reliable_, p_.timers);
  apply_invite(invite_->start(), out, nullptr);
}

// RFC 3261 §12.2.1.1: a request within the dialog.
message uac_call_fsm::dialog_request(std::string_view method, std::uint32_t cseq_no) const {
  std::string ruri = remote_target_;
  std::vector<std::string> routes = route_set_;
  if (!routes.empty()) {
    uri first;
    if (!parse_uri(uri_of(routes.front()), first) && !first.lr()) {
      // Strict routing (RFC 2543): the first route becomes the Request-URI and the remote
      // target the last Route.
      ruri = uri_of(routes.front());
      routes.erase(routes.begin());
      routes.push_back("<" + remote_target_ + ">");
    }
  }
  message m = make_request(method, ruri);
  via v;
  v.transport = p_.transport;
  v.host = p_.via_host;
  if (p_.via_port != 0) v.port = p_.via_port;
  set_param(v.params, "branch", make_branch(p_.random));
  set_param(v.params, "rport", std::nullopt);
  m.add("Via", to_string(v));
  for (const std::string& r : routes) m.add("Route", r);
  m.add("Max-Forwards", std::to_string(p_.max_forwards));
  m.add("From", from_value_);
  m.add("To", to_value_);
  m.add("Call-ID", call_id_);
  m.add("CSeq", std::to_string(cseq_no) + " " + std::string(method));
  return m;
}

void uac_call_fsm::apply_invite(const action& a, uac_step& out, const message* response) {
  map_timers(a, out, invite_timer);
  if (!a.send.empty()) out.send.push_back({first_hop_, a.send});
  if (a.error) {
    if (state_ == state::cancelling && cancel_cause_ == call_end::cancelled) {
      end(out, cancel_cause_, 0, cancel_reason_, a.error);
    } else if (a.error == errc::transaction_timeout) {
      // Timer B: nobody answered at all (not even 100), which is a routing failure rather
      // than no answer, even when the ring timeout passed meanwhile.
      end(out, call_end::failed, 408, "no response to the INVITE (Timer B)", a.error);
    } else {
      end(out, call_end::failed, 0, a.error.message(), a.error);
    }
    return;
  }
  if (a.deliver && response) on_invite_response(*response, out);
}

void uac_call_fsm::apply_cancel(const action& a, uac_step& out) {
  map_timers(a, out, [](timer_id t) { return non_invite_timer(t, true); });
  if (!a.send.empty()) out.send.push_back({first_hop_, a.send});
  // The CANCEL's own response tells nothing: the INVITE's 487 (or cancel_wait) ends the call.
}

void uac_call_fsm::apply_bye(const action& a, uac_step& out, const message* response) {
  map_timers(a, out, [](timer_id t) { return non_invite_timer(t, false); });
  if (!a.send.empty()) {
    destination d = route_set_.empty() ? hop_of(remote_target_) : hop_of(uri_of(route_set_[0]));
    out.send.push_back({std::move(d), a.send});
  }
  if (state_ != state::terminating) return;
  if (a.error) {
    // RFC 3261 §15.1.1: no answer to the BYE still ends the session.
    end(out, bye_cause_, 0, bye_reason_, a.error);
  } else if (a.deliver && response && response->code() >= 200) {
    end(out, bye_cause_, response->code(), bye_reason_, {});
  }
}

void uac_call_fsm::on_invite_response(const message& r, uac_step& out) {
  const int code = r.code();
  if (code < 200) {
    provisional_seen_ = true;
    if (code > 100 && state_ == state::calling) {
      out.events.push_back({uac_event::kind::ringing, code, reason_of(r), {}, {}, {}});
    }
    if (cancel_pending_) {
      cancel_pending_ = false;
      send_cancel(out);
    }
    return;
  }
  if (code < 300) {
    on_2xx(r, out);
    return;
  }
  on_final_failure(r, out);
}

void uac_call_fsm::on_final_failure(const message& r, uac_step& out) {
  const int code = r.code();
  // The transaction has ACKed it (RFC 3261 §17.1.1.3); keep the ACK for retransmissions.
  if (const message* ack = invite_->ack())
    old_acks_.emplace_back(invite_->branch(), serialize(*ack));
  if (state_ == state::cancelling) {
    end(out, cancel_cause_, code, cancel_reason_, status_error(code));
    return;
  }
  if (code == 401 || code == 407) {
    if (answer_challenge(r)) {
      ++cseq_;  // RFC 3261 §22.2: same Call-ID and From tag, CSeq + 1, a new branch
      provisional_seen_ = false;
      start_invite(out);
      return;
    }
    end(out, call_end::failed, code, "authentication failed: " + reason_of(r), status_error(code));
    return;
  }
  end(out, end_for(code), code, reason_of(r), status_error(code));
}

// RFC 3261 §22.2, RFC 7616 §3.4.
bool uac_call_fsm::answer_challenge(const message& r) {
  if (p_.credentials.username.empty() || auth_attempts_ >= p_.max_auth_attempts) return false;
  const bool proxy = r.code() == 407;
  const std::string_view challenge_header = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
  const std::string_view answer_header = proxy ? "Proxy-Authorization" : "Authorization";
  bool answered_any = false;
  for (const std::string_view value : r.values(challenge_header)) {
    digest_challenge ch;
    if (parse_challenge(value, ch)) continue;
    auto it = std::find_if(credentials_.begin(), credentials_.end(),
                           [&](const credential& c) { return c.realm == ch.realm; });
    // A second challenge for a realm we answered: the password is wrong unless the server
    // only says that the nonce went stale (RFC 7616 §3.3).
    if (it != credentials_.end() && !ch.stale) return false;
    if (it == credentials_.end()) {
      credentials_.push_back({ch.realm, std::string(answer_header), {}, 0, {}});
      it = credentials_.end() - 1;
    }
    it->header = std::string(answer_header);
    it->nc = it->nonce == ch.nonce ? it->nc + 1 : 1;
    it->nonce = ch.nonce;
    const std::string cnonce = make_cnonce(p_.random);
    digest_request req{"INVITE", p_.request_uri, it->nc, cnonce};
    if (make_authorization(ch, p_.credentials, req, it->value)) {
      credentials_.erase(it);
      continue;
    }
    answered_any = true;
  }
  if (answered_any) ++auth_attempts_;
  return answered_any;
}

void uac_call_fsm::on_2xx(const message& r, uac_step& out) {
  // RFC 3261 §12.1.2: the dialog state from the 2xx.
  remote_tag_ = tag_of(r, "To");
  if (const std::string* t = r.find("To")) to_value_ = *t;
  remote_target_ = p_.request_uri;
  if (const std::string* c = r.find("Contact")) remote_target_ = uri_of(*c);
  route_set_.clear();
  for (const std::string_view rr : r.values("Record-Route")) route_set_.emplace_back(rr);
  std::reverse(route_set_.begin(), route_set_.end());
  answered_ = true;
  out.cancel.push_back(call_timer::ring);
  out.cancel.push_back(call_timer::cancel_wait);

  // RFC 3261 §13.2.2.4: the ACK is a new transaction-less request with the INVITE's CSeq
  // number and credentials, sent along the route set.
  message ack = dialog_request("ACK", cseq_);
  for (const credential& c : credentials_) ack.add(c.header, c.value);
  ack_bytes_ = serialize(ack);
  destination d = route_set_.empty() ? hop_of(remote_target_) : hop_of(uri_of(route_set_[0]));
  out.send.push_back({std::move(d), ack_bytes_});

  if (state_ == state::cancelling) {
    // The 2xx crossed our CANCEL (RFC 3261 §9.1): the session exists, so end it with BYE.
    cancel_pending_ = false;
    send_bye(out, cancel_cause_, cancel_reason_);
    return;
  }
  state_ = state::confirmed;
  answer_code_ = r.code();
  out.events.push_back({uac_event::kind::answered, r.code(), reason_of(r), r.body, {}, {}});
}

// RFC 3261 §9.1: same Request-URI, Call-ID, To, From, CSeq number and top Via as the INVITE.
void uac_call_fsm::send_cancel(uac_step& out) {
  const message& inv = invite_->request();
  message c = make_request("CANCEL", inv.request()->uri);
  if (const std::string* v = inv.find("Via")) c.add("Via", *v);
  for (const std::string_view r : inv.values("Route")) c.add("Route", r);
  c.add("Max-Forwards", std::to_string(p_.max_forwards));
  if (const std::string* f = inv.find("From")) c.add("From", *f);
  if (const std::string* t = inv.find("To")) c.add("To", *t);
  c.add("Call-ID", call_id_);
  c.add("CSeq", std::to_string(cseq_) + " CANCEL");
  if (!p_.user_agent.empty()) c.add("User-Agent", p_.user_agent);
  cancel_ = std::make_unique<non_invite_client_fsm>(std::move(c), reliable_, p_.timers);
  apply_cancel(cancel_->start(), out);
  // The INVITE transaction has no timer left in Proceeding: bound the wait for the 487.
  out.arm.push_back({call_timer::cancel_wait, 64 * p_.timers.t1});
}

void uac_call_fsm::begin_cancel(uac_step& out, call_end cause, std::string reason) {
  state_ = state::cancelling;
  cancel_cause_ = cause;
  cancel_reason_ = std::move(reason);
  out.cancel.push_back(call_timer::ring);
  if (provisional_seen_) {
    send_cancel(out);
  } else {
    cancel_pending_ = true;  // Timer B still bounds the wait for a first response
  }
}

void uac_call_fsm::send_bye(uac_step& out, call_end cause, std::string reason) {
  state_ = state::terminating;
  bye_cause_ = cause;
  bye_reason_ = std::move(reason);
  message b = dialog_request("BYE", cseq_ + 1);
  if (!p_.user_agent.empty()) b.add("User-Agent", p_.user_agent);
  bye_ = std::make_unique<non_invite_client_fsm>(std::move(b), reliable_, p_.timers);
  apply_bye(bye_->start(), out, nullptr);
}

uac_step uac_call_fsm::hangup() {
  uac_step out;
  switch (state_) {
    case state::idle:
      end(out, call_end::cancelled, 0, "cancelled before start", {});
      break;
    case state::calling:
      begin_cancel(out, call_end::cancelled, "cancelled");
      break;
    case state::confirmed:
      send_bye(out, call_end::completed, "hung up");
      break;
    default:
      break;
  }
  return out;
}

uac_step uac_call_fsm::cancel() {
  uac_step out;
  switch (state_) {
    case state::idle:
      end(out, call_end::cancelled, 0, "cancelled before start", {});
      break;
    case state::calling:
      begin_cancel(out, call_end::cancelled, "cancelled");
      break;
    case state::cancelling:
      cancel_cause_ = call_end::cancelled;
      cancel_reason_ = "cancelled";
      break;
    case state::confirmed:
      send_bye(out, call_end::cancelled, "cancelled");
      break;
    default:
      break;
  }
  return out;
}

uac_step uac_call_fsm::on_timer(call_timer id) {
  uac_step out;
  if (state_ == state::idle || state_ == state::ended) return out;
  switch (id) {
    case call_timer::invite_a:
    case call_timer::invite_b:
      if (invite_) {
        apply_invite(invite_->on_timer(id == call_timer::invite_a ? timer_id::a : timer_id::b), out,
                     nullptr);
      }
      break;
    case call_timer::cancel_e:
    case call_timer::cancel_f:
      if (cancel_) {
        apply_cancel(cancel_->on_timer(id == call_timer::cancel_e ? timer_id::e : timer_id::f),
                     out);
      }
      break;
    case call_timer::bye_e:
    case call_timer::bye_f:
      if (bye_) {
        apply_bye(bye_->on_timer(id == call_timer::bye_e ? timer_id::e : timer_id::f), out,
                  nullptr);
      }
      break;
    case call_timer::ring:
      if (state_ == state::calling) begin_cancel(out, call_end::no_answer, "ring timeout");
      break;
    case call_timer::cancel_wait:
      if (state_ == state::cancelling) {
        end(out, cancel_cause_, 0, cancel_reason_ + " (no final response after CANCEL)",
            errc::transaction_timeout);
      }
      break;
  }
  return out;
}

uac_step uac_call_fsm::on_transport_error(std::string_view reason) {
  uac_step out;
  if (state_ == state::idle || state_ == state::ended) return out;
  if (state_ == state::terminating) {
    end(out, bye_cause_, 0, bye_reason_, errc::transport_error);
  } else if (state_ == state::cancelling) {
    end(out, cancel_cause_, 0, cancel_reason_, errc::transport_error);
  } else {
    end(out, call_end::failed, 0, std::string(reason), errc::transport_error);
  }
  return out;
}

uac_step uac_call_fsm::on_message(const message& m) {
  uac_step out;
  if (state_ == state::idle || state_ == state::ended) return out;
  if (m.is_request()) {
    on_request(m, out);
    return out;
  }
  const std::string* call_id = m.find("Call-ID");
  if (!call_id || *call_id != call_id_) return out;
  const std::optional<cseq> cs = cseq_of(m);
  if (!cs) return out;
  if (cs->method == "INVITE") {
    if (invite_ && invite_->current() != invite_client_fsm::state::terminated &&
        matches(m, invite_->branch(), "INVITE")) {
      apply_invite(invite_->on_response(m), out, &m);
      return out;
    }
    const int code = m.code();
    if (code >= 200 && code < 300 && answered_ && tag_of(m, "To") == remote_tag_) {
      // RFC 6026 §8.1: the INVITE transaction ended on the 2xx; retransmissions of it are
      // the dialog's to ACK.
      destination d = route_set_.empty() ? hop_of(remote_target_) : hop_of(uri_of(route_set_[0]));
      out.send.push_back({std::move(d), ack_bytes_});
      return out;
    }
    if (code >= 300) {
      via v;
      const std::string* top = m.find("Via");
      if (top && !parse_via(*top, v)) {
        for (const auto& [branch, ack] : old_acks_) {
          if (branch == v.branch()) out.send.push_back({first_hop_, ack});
        }
      }
    }
    return out;
  }
  if (cs->method == "CANCEL" && cancel_) {
    apply_cancel(cancel_->on_response(m), out);
  } else if (cs->method == "BYE" && bye_) {
    apply_bye(bye_->on_response(m), out, &m);
  }
  return out;
}

void uac_call_fsm::on_request(const message& m, uac_step& out) {
  const std::string method = m.request()->method;
  if (method == "ACK") return;  // to a response of ours: nothing to do
  const std::string* call_id = m.find("Call-ID");
  if (!m.find("Via") || !m.find("CSeq") || !m.find("From") || !m.find("To") || !call_id) return;
  auto reply = [&](int code) {
    out.send.push_back({destination{true, {}, 0, {}}, serialize(make_reply(m, code, local_tag_))});
  };
  // RFC 3261 §12.2.2: a request of no dialog of ours.
  if (*call_id != call_id_ || tag_of(m, "To") != local_tag_ ||
      (answered_ && tag_of(m, "From") != remote_tag_)) {
    reply(481);
    return;
  }
  if (method == "BYE") {
    if (!answered_) {
      reply(481);
      return;
    }
    reply(200);  // RFC 3261 §15.1.2
    if (state_ == state::confirmed) {
      end(out, call_end::remote_hangup, 0, "remote hangup", {});
    } else if (state_ == state::terminating) {
      end(out, bye_cause_, 0, bye_reason_, {});  // the BYEs crossed
    }
    return;
  }
  if (method == "OPTIONS") {
    reply(200);
    return;
  }
  reply(501);  // INFO, UPDATE, re-INVITE, ...: not needed to read a code aloud
}

void uac_call_fsm::end(uac_step& out, call_end e, int code, std::string reason,
                       boost::system::error_code ec) {
  state_ = state::ended;
  cancel_pending_ = false;
  for (std::size_t i = 0; i < call_timer_count; ++i) {
    out.cancel.push_back(static_cast<call_timer>(i));
  }
  out.arm.clear();
  uac_event ev;
  ev.what = uac_event::kind::ended;
  // Once answered, the call's SIP outcome is the 2xx: the BYE that ends it (ours answered with
  // whatever, the callee's with 0) only says how it ended, in `reason`.
  ev.code = answer_code_ != 0 ? answer_code_ : code;
  ev.reason = std::move(reason);
  ev.end = e;
  ev.ec = ec;
  out.events.push_back(std::move(ev));
}

}  // namespace otpd::sip
