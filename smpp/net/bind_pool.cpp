#include "smpp/net/bind_pool.hpp"

#include <algorithm>
#include <atomic>

#include "smpp/proto/status.hpp"
#include "smpp/text/explain.hpp"

namespace otpd::smpp {
namespace {

constexpr auto sweep_interval = std::chrono::milliseconds(100);

// Unique across pools, so that a late answer names its message whatever carrier sent it.
std::uint64_t next_message_id() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// SMPP 3.4 §7.1.1.2 relative time "YYMMDDhhmmsstnnR", capped at 99 days.
std::string relative_validity(time_point deadline, time_point now) {
  if (deadline == time_point::max()) return {};
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(deadline - now).count();
  secs = std::clamp<long long>(secs, 1, 99LL * 86400 + 86399);
  const auto two = [](long long v) { return std::string{char('0' + v / 10), char('0' + v % 10)}; };
  return "0000" + two(secs / 86400) + two(secs / 3600 % 24) + two(secs / 60 % 60) + two(secs % 60) +
         "000R";
}

}  // namespace

std::string_view to_string(bind_lease l) noexcept {
  switch (l) {
    case bind_lease::held:
      return "held";
    case bind_lease::elsewhere:
      return "elsewhere";
    case bind_lease::free:
      return "free";
  }
  return "free";
}

bind_pool::bind_pool(boost::asio::any_io_executor ex, pool_config cfg, pool_listener* listener)
    : ex_(std::move(ex)), cfg_(std::move(cfg)), listener_(listener), sweep_(ex_) {
  for (const bind_config& b : cfg_.binds) {
    sessions_.push_back(
        std::make_unique<session>(ex_, b.session, static_cast<session_listener&>(*this)));
  }
}

bind_pool::~bind_pool() = default;

void bind_pool::start() {
  started_ = true;
  for (auto& s : sessions_) {
    gate(*s);
    s->start();
  }
}

reconfigure_result bind_pool::reconfigure(pool_config next) {
  reconfigure_result r;
  std::vector<std::unique_ptr<session>> sessions;
  std::vector<session*> fresh;
  for (const bind_config& b : next.binds) {
    const std::string& name = b.session.name;
    std::size_t i = 0;
    while (i < sessions_.size() && !(sessions_[i] && sessions_[i]->name() == name)) ++i;
    if (i < sessions_.size() && cfg_.binds[i] == b) {
      sessions.push_back(std::move(sessions_[i]));
      r.kept.push_back(name);
      continue;
    }
    (i < sessions_.size() ? r.replaced : r.added).push_back(name);
    sessions.push_back(
        std::make_unique<session>(ex_, b.session, static_cast<session_listener&>(*this)));
    fresh.push_back(sessions.back().get());
  }
  // What was not kept (removed, or the old session of a changed bind) unbinds.
  std::vector<std::unique_ptr<session>> leaving;
  for (auto& s : sessions_) {
    if (!s) continue;
    if (std::find(r.replaced.begin(), r.replaced.end(), s->name()) == r.replaced.end()) {
      r.removed.push_back(s->name());
    }
    leaving.push_back(std::move(s));
  }
  sessions_ = std::move(sessions);
  const std::string name = cfg_.name;
  cfg_ = std::move(next);
  cfg_.name = name;
  if (started_) {  // a session never started has nothing to unbind
    for (auto& s : leaving) {
      session& ref = *s;
      retiring_.push_back(std::move(s));
      ref.stop();
    }
  }
  if (started_ && !stopping_) {
    for (session* s : fresh) {
      gate(*s);
      s->start();
    }
  }
  dispatch();
  return r;
}

void bind_pool::stop(std::function<void()> on_stopped) {
  if (stopping_) return;
  stopping_ = true;
  on_stopped_ = std::move(on_stopped);
  sweep_.cancel();
  fail_queue(errc::shutting_down);
  to_stop_ = sessions_.size() + retiring_.size();
  if (to_stop_ == 0 && on_stopped_) {
    boost::asio::post(ex_, std::move(on_stopped_));
    return;
  }
  for (auto& s : sessions_) s->stop();
}

const text_profile& bind_pool::profile_of(const session& s) const {
  for (std::size_t i = 0; i < sessions_.size(); ++i) {
    if (sessions_[i].get() == &s) return cfg_.binds[i].text;
  }
  return cfg_.binds.front().text;  // unreachable: every session belongs to a bind
}

session* bind_pool::find(std::string_view bind) noexcept {
  for (auto& s : sessions_) {
    if (s->name() == bind) return s.get();
  }
  return nullptr;
}

void bind_pool::gate(session& s) {
  if (stopping_) return;
  const bool drained = drained_.count(s.name()) != 0;
  const auto lease = leases_.find(s.name());
  const bool leased =
      !leases_required_ || (lease != leases_.end() && lease->second == bind_lease::held);
  if (drained || !leased) {
    s.pause();
  } else {
    s.resume();
  }
}

bool bind_pool::drain(std::string_view bind) {
  session* s = find(bind);
  if (s && !stopping_) {
    drained_.emplace(bind);
    gate(*s);
  }
  return s != nullptr;
}

bool bind_pool::enable(std::string_view bind) {
  session* s = find(bind);
  if (s && !stopping_) {
    drained_.erase(std::string(bind));
    gate(*s);
  }
  return s != nullptr;
}

void bind_pool::require_leases() {
  leases_required_ = true;
  for (auto& s : sessions_) gate(*s);
}

bool bind_pool::set_lease(std::string_view bind, bind_lease lease) {
  leases_[std::string(bind)] = lease;
  session* s = find(bind);
  if (s) gate(*s);
  return s != nullptr;
}

bool bind_pool::can_submit() const noexcept {
  return !stopping_ && std::any_of(sessions_.begin(), sessions_.end(), [](const auto& s) {
    return s->bound() && smpp::can_submit(s->options().smpp.type);
  });
}

void bind_pool::submit(message_request req, completion done) {
  entry e{next_message_id(), std::move(req), std::move(done)};
  if (stopping_) return complete(e, pool_result{make_error_code(errc::shutting_down)});
  if (!can_submit()) return complete(e, pool_result{make_error_code(errc::no_bind_available)});
  if (queue_.size() >= cfg_.max_queue) {
    return complete(e, pool_result{make_error_code(errc::window_full)});
  }
  queue_.push_back(std::move(e));
  dispatch();
  arm_sweep();
}

session* bind_pool::pick() noexcept {
  session* best = nullptr;
  for (auto& s : sessions_) {
    if (!s->has_room()) continue;
    if (!best || (best->throttled() && !s->throttled()) ||
        (best->throttled() == s->throttled() && s->queued() < best->queued())) {
      best = s.get();
    }
  }
  return best;
}

void bind_pool::dispatch() {
  while (!queue_.empty()) {
    session* s = pick();
    if (!s) return;
    entry e = std::move(queue_.front());
    queue_.pop_front();
    if (clock_type::now() >= e.req.deadline) {
      complete(e, pool_result{make_error_code(errc::deadline_passed)});
      continue;
    }
    const std::uint64_t id = e.id;
    entry& placed = sent_.emplace(id, std::move(e)).first->second;
    if (!send_on(*s, placed)) {
      // Either an encoding error completed it (gone from sent_), or the session refused it.
      auto again = sent_.find(id);
      if (again != sent_.end()) {
        queue_.push_front(std::move(again->second));
        sent_.erase(again);
        return;
      }
    }
  }
}

bool bind_pool::send_on(session& s, entry& e) {
  const text_profile& prof = profile_of(s);
  text::encoded_text enc;
  text::error_info info;
  std::vector<text::message_part> parts;
  // The encodings of the text, which holds the code, are wiped however this returns.
  struct wipe_encodings {
    text::encoded_text& enc;
    std::vector<text::message_part>& parts;
    ~wipe_encodings() {
      wipe(enc.units);
      for (text::message_part& p : parts) {
        wipe(p.short_message);
        for (tlv& t : p.tlvs) wipe(t.value);
      }
    }
  } wiped{enc, parts};
  error_code ec = text::encode(e.req.text, prof.encoding, enc, info);
  if (!ec) ec = text::split(enc, prof.split, next_ref_++, parts);
  if (ec) {
    pool_result r;
    r.ec = ec;
    r.text_error = info;
    r.text_reason = text::why_unsendable(e.req.text, prof.encoding, prof.split);
    entry done = std::move(e);
    sent_.erase(done.id);
    complete(done, std::move(r));
    return false;
  }
  outbound_message m;
  m.id = e.id;
  m.deadline = e.req.deadline;
  const std::string validity = relative_validity(e.req.deadline, clock_type::now());
  m.parts.reserve(parts.size());
  for (const text::message_part& p : parts) {
    submit_sm sm;
    sm.service_type = e.req.service_type;
    sm.source = e.req.source;
    sm.dest = e.req.dest;
    sm.registered_delivery = e.req.registered_delivery;
    sm.validity_period = validity;
    text::apply_to(p, sm);  // esm_class UDHI, data_coding, short_message, TLVs
    m.parts.push_back(std::move(sm));
  }
  e.part_count = m.parts.size();
  e.bind = s.name();
  if (!s.has_room()) {
    wipe_text(m);
    return false;  // left with the caller: nothing may be on the wire
  }
  if (e.req.before_submit) e.req.before_submit();
  const bool taken = s.submit(m);
  if (!taken) wipe_text(m);
  return taken;
}

void bind_pool::complete(entry& e, pool_result r) {
  r.id = e.id;
  r.returns = e.returns;
  r.part_count = e.part_count;
  if (r.bind.empty()) r.bind = e.bind;
  wipe(e.req.text);  // the message is done with: its text (and code) goes
  completion done = std::move(e.done);
  if (done) done(std::move(r));
}

void bind_pool::fail_queue(error_code ec) {
  std::deque<entry> q = std::move(queue_);
  queue_.clear();
  for (entry& e : q) complete(e, pool_result{ec});
}

void bind_pool::arm_sweep() {
  if (sweeping_ || queue_.empty() || stopping_) return;
  sweeping_ = true;
  sweep_.expires_after(sweep_interval);
  sweep_.async_wait([this](error_code ec) {
    sweeping_ = false;
    if (ec) return;
    // Fail the queued messages whose deadline passed; they would never be written.
    const time_point now = clock_type::now();
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (now >= it->req.deadline) {
        entry e = std::move(*it);
        it = queue_.erase(it);
        complete(e, pool_result{make_error_code(errc::deadline_passed)});
      } else {
        ++it;
      }
    }
    dispatch();
    arm_sweep();
  });
}

void bind_pool::on_bound(session& s) {
  if (listener_) listener_->on_bind_state(*this, s, true, {});
  dispatch();
}

void bind_pool::on_down(session& s, error_code ec) {
  if (listener_) listener_->on_bind_state(*this, s, false, ec);
  // With no bind left that can send, waiting messages fail at once so that the caller can
  // route them to another carrier; they were never written.
  if (!can_submit()) fail_queue(make_error_code(errc::no_bind_available));
}

void bind_pool::on_submit_done(session& s, submit_result r) {
  // A response of any status shows the SMSC answering; a timeout with none counts against it.
  if (r.ec == errc::response_timeout) {
    ++unanswered_[&s];
  } else if (!r.parts.empty()) {
    unanswered_.erase(&s);
  }
  auto it = sent_.find(r.id);
  if (it != sent_.end()) {
    entry e = std::move(it->second);
    sent_.erase(it);
    pool_result pr;
    pr.ec = r.ec;
    pr.parts = std::move(r.parts);
    pr.outcome_unknown = r.outcome_unknown;
    complete(e, std::move(pr));
  }
  dispatch();
}

void bind_pool::on_late_response(session& s, event::late_response ev) {
  if (listener_) {
    listener_->on_late_answer(
        *this, late_answer{ev.id, s.name(), ev.part, ev.command_status, std::move(ev.message_id)});
  }
}

void bind_pool::on_returned(session&, outbound_message m, error_code reason) {
  wipe_text(m);  // encoded again from the request's text for the next bind
  auto it = sent_.find(m.id);
  if (it == sent_.end()) return;
  entry e = std::move(it->second);
  sent_.erase(it);
  ++e.returns;
  e.bind.clear();
  if (stopping_ || !can_submit()) {
    const error_code ec =
        stopping_ ? make_error_code(errc::shutting_down) : make_error_code(errc::no_bind_available);
    (void)reason;
    complete(e, pool_result{ec});
    return;
  }
  queue_.push_front(std::move(e));  // ahead of newer messages
  boost::asio::post(ex_, [this] { dispatch(); });
  arm_sweep();
}

void bind_pool::on_deliver(session& s, event::deliver& d) {
  if (listener_) listener_->on_deliver(*this, s, d);
}

void bind_pool::on_stopped(session& s) {
  unanswered_.erase(&s);
  const auto retiring = std::find_if(retiring_.begin(), retiring_.end(),
                                     [&](const auto& r) { return r.get() == &s; });
  if (retiring != retiring_.end()) {
    // Destroyed once its coroutine, which is calling us, has returned.
    std::shared_ptr<session> owned(std::move(*retiring));
    retiring_.erase(retiring);
    boost::asio::post(ex_, [owned] {});
  }
  if (stopping_ && ++stopped_ == to_stop_ && on_stopped_) {
    auto fn = std::move(on_stopped_);
    fn();
  }
}

pool_status bind_pool::status() const {
  pool_status st;
  st.name = cfg_.name;
  st.queued = queue_.size();
  st.in_flight_messages = sent_.size();
  for (const auto& s : sessions_) {
    st.sessions.push_back(s->status());
    // The session is paused for either reason; `paused` says the operator's drain.
    st.sessions.back().paused = drained_.count(s->name()) != 0;
    bind_health h;
    if (leases_required_) {
      auto lease = leases_.find(s->name());
      h.lease = lease == leases_.end() ? bind_lease::free : lease->second;
    }
    if (auto it = unanswered_.find(s.get()); it != unanswered_.end()) h.unanswered = it->second;
    h.degraded = cfg_.degraded_after > 0 && h.unanswered >= cfg_.degraded_after;
    st.health.push_back(h);
    if (s->bound()) {
      if (smpp::can_submit(s->options().smpp.type)) ++st.bound_transmitters;
      if (can_receive(s->options().smpp.type)) ++st.bound_receivers;
    }
  }
  return st;
}

}  // namespace otpd::smpp
