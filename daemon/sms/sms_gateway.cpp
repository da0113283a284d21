#include "daemon/sms/sms_gateway.hpp"

#include <algorithm>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "smpp/proto/status.hpp"

namespace otpd::service {
namespace asio = boost::asio;

namespace {

// bind_pool::submit as an awaitable. The completion always comes back through a post, also
// when the pool answers at once, so that the coroutine is never resumed inside submit().
asio::awaitable<smpp::pool_result> submit_async(asio::any_io_executor ex, smpp::bind_pool& pool,
                                                smpp::message_request req) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(smpp::pool_result)>(
      [&pool, ex](auto handler, smpp::message_request r) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        pool.submit(std::move(r), [h, ex](smpp::pool_result result) {
          asio::post(ex, [h, result = std::move(result)]() mutable { (*h)(std::move(result)); });
        });
      },
      asio::use_awaitable, std::move(req));
}

// Whether another carrier may take a message this one did not send. A message whose
// outcome is unknown is never sent again (docs/architecture.md §5).
bool try_next_carrier(const smpp::pool_result& r) {
  if (r.outcome_unknown) return false;
  return r.ec == smpp::errc::no_bind_available || r.ec == smpp::errc::window_full ||
         r.ec == smpp::errc::shutting_down || smpp::is_retryable(r.ec);
}

// A bind's state when this node does not hold its lease (/readyz, otpctl status).
const char* lease_state(smpp::bind_lease lease) {
  return lease == smpp::bind_lease::elsewhere ? "elsewhere" : "unleased";
}

}  // namespace

sms_gateway::sms_gateway(asio::any_io_executor ex, std::shared_ptr<const config::config> cfg,
                         receipt_handler on_receipt, bind_handler on_bind)
    : ex_(std::move(ex)),
      on_receipt_(std::move(on_receipt)),
      on_bind_(std::move(on_bind)),
      waiters_(ex_) {
  for (const config::carrier& c : cfg->routes.carriers)
    carriers_.emplace(c.name, make_carrier(cfg, c));
}

sms_gateway::~sms_gateway() = default;

sms_gateway::carrier_ptr sms_gateway::make_carrier(
    const std::shared_ptr<const config::config>& owner, const config::carrier& c) {
  smpp::pool_config pc;
  pc.name = c.name;
  pc.binds = c.binds;
  pc.max_queue = c.max_queue;
  auto made = std::make_shared<carrier_state>(
      carrier_state{owner, &c,
                    std::make_unique<smpp::bind_pool>(ex_, std::move(pc),
                                                      static_cast<smpp::pool_listener*>(this)),
                    smpp::dlr::message_id_mapper(c.message_ids)});
  if (leases_required_) made->pool->require_leases();
  return made;
}

sms_gateway::carrier_ptr sms_gateway::find(std::string_view name) const {
  auto it = carriers_.find(name);
  return it == carriers_.end() ? nullptr : it->second;
}

void sms_gateway::start() {
  started_ = true;
  for (auto& [name, c] : carriers_) c->pool->start();
}

void sms_gateway::reconfigure(std::shared_ptr<const config::config> next,
                              std::vector<std::string>& changes) {
  std::map<std::string, carrier_ptr, std::less<>> carriers;
  for (const config::carrier& c : next->routes.carriers) {
    carrier_ptr old = find(c.name);
    if (!old) {
      carrier_ptr fresh = make_carrier(next, c);
      if (started_) fresh->pool->start();
      changes.push_back(c.name + ": carrier added");
      carriers.emplace(c.name, std::move(fresh));
      continue;
    }
    smpp::pool_config pc;
    pc.name = c.name;
    pc.binds = c.binds;
    pc.max_queue = c.max_queue;
    const smpp::reconfigure_result r = old->pool->reconfigure(std::move(pc));
    for (const auto& b : r.added) changes.push_back(c.name + ": bind " + b + " added");
    for (const auto& b : r.replaced) changes.push_back(c.name + ": bind " + b + " changed");
    for (const auto& b : r.removed) changes.push_back(c.name + ": bind " + b + " removed");
    // Sender, receipts and the other carrier settings apply to the next message.
    old->owner = next;
    old->cfg = &c;
    carriers.emplace(c.name, std::move(old));
  }
  for (auto& [name, c] : carriers_) {
    if (carriers.count(name) != 0) continue;
    changes.push_back(name + ": carrier removed");
    // Its binds unbind once their messages in flight are answered; it is dropped after.
    retiring_.push_back(c);
    c->pool->stop([this, p = c.get()] {
      asio::post(ex_, [this, p] {
        std::erase_if(retiring_, [p](const carrier_ptr& r) { return r.get() == p; });
      });
    });
  }
  carriers_ = std::move(carriers);
}

void sms_gateway::stop(std::function<void()> on_stopped) {
  waiters_.stop();
  // Carriers a reload removed are already unbinding on their own (bounded by their unbind
  // timeouts); the ones in service are waited for.
  std::vector<carrier_ptr> all;
  for (auto& [name, c] : carriers_) all.push_back(c);
  auto left = std::make_shared<std::size_t>(all.size());
  if (*left == 0) {
    asio::post(ex_, std::move(on_stopped));
    return;
  }
  auto done = std::make_shared<std::function<void()>>(std::move(on_stopped));
  for (auto& c : all) {
    c->pool->stop([left, done] {
      if (--*left == 0 && *done) (*done)();
    });
  }
}

asio::awaitable<sms_result> sms_gateway::send(sms_request req) {
  const wipe_at_exit wipe_text(req.text);  // the code is in it
  sms_result out;
  out.ec = smpp::errc::no_bind_available;
  // Carriers that refused or could not take this message: not tried again. A carrier whose
  // binds dropped before writing it (no_bind_available) may take it once one is back.
  std::vector<std::string> done;
  const auto usable = [&](const std::string& name) {
    return std::find(done.begin(), done.end(), name) == done.end();
  };
  const smpp::time_point wait_until =
      std::min(req.deadline, smpp::clock_type::now() + max_wait(req.carriers));
  // Each pass sends, or waits for a bind (bounded by wait_until); a pass without a wait ends
  // with a carrier done or with its binds lost, so the passes are few.
  for (std::size_t pass = 0; pass < 4 * req.carriers.size() + 8; ++pass) {
    carrier_ptr held;
    for (const std::string& name : req.carriers) {
      if (!usable(name)) continue;
      carrier_ptr c = find(name);
      if (c && c->pool->can_submit()) {
        held = std::move(c);
        break;
      }
    }
    if (!held) {
      std::vector<std::string> left;
      for (const std::string& name : req.carriers) {
        if (usable(name) && find(name)) left.push_back(name);
      }
      if (out.carrier.empty() && !left.empty()) out.carrier = left.front();
      if (left.empty() || co_await wait_for_carrier(left, wait_until) != bind_wait::ready) break;
      continue;
    }
    carrier_state& c = *held;
    const std::string& name = c.cfg->name;
    if (std::find(out.tried.begin(), out.tried.end(), name) == out.tried.end()) {
      out.tried.push_back(name);
    }
    out.carrier = name;

    smpp::message_request m;
    m.source = c.cfg->sender;
    // International number, E.164 digits without '+' (SMPP 3.4 §5.2.5 TON 1, §5.2.6 NPI 1).
    m.dest = {1, 1, req.to.size() > 1 && req.to[0] == '+' ? req.to.substr(1) : req.to};
    m.text = req.text;
    m.registered_delivery = req.request_receipt && c.cfg->request_receipts ? 1 : 0;
    m.deadline = req.deadline;
    m.before_submit = req.before_submit;
    smpp::pool_result r = co_await submit_async(ex_, *c.pool, std::move(m));

    out.id = r.id;
    out.ec = r.ec;
    out.bind = r.bind;
    out.parts = std::move(r.parts);
    out.outcome_unknown = r.outcome_unknown;
    out.part_count = r.part_count;
    out.text_reason = std::move(r.text_reason);
    // Also for a message cut short: the parts accepted may still get receipts.
    out.keys.clear();
    for (const auto& p : out.parts) out.keys.push_back(c.ids.key_for_submit(p.message_id));
    if (!r.ec) co_return out;
    if (!try_next_carrier(r)) co_return out;
    if (r.ec != smpp::errc::no_bind_available) done.push_back(name);
  }
  co_return out;
}

std::chrono::milliseconds sms_gateway::max_wait(const std::vector<std::string>& carriers) const {
  std::chrono::milliseconds most{0};
  for (const std::string& name : carriers) {
    if (carrier_ptr c = find(name)) most = std::max(most, c->cfg->queue.max_wait);
  }
  return most;
}

asio::awaitable<bind_wait> sms_gateway::wait_for_carrier(std::vector<std::string> carriers,
                                                         smpp::time_point until) {
  const auto any_can_send = [this, &carriers] {
    return std::any_of(carriers.begin(), carriers.end(),
                       [this](const std::string& c) { return can_send(c); });
  };
  if (any_can_send()) co_return bind_wait::ready;
  // Waits in the queue of each carrier that allows waiting and has room.
  std::vector<std::string> queues;
  std::chrono::milliseconds longest{0};
  bool full = false;
  for (const std::string& name : carriers) {
    carrier_ptr c = find(name);
    if (!c || c->cfg->queue.max_wait <= std::chrono::milliseconds::zero()) continue;
    if (waiters_.waiting(name) >= c->cfg->queue.size) {
      full = true;
      continue;
    }
    queues.push_back(name);
    longest = std::max(longest, c->cfg->queue.max_wait);
  }
  bind_wait result = full ? bind_wait::queue_full : bind_wait::timed_out;
  if (!queues.empty()) {
    const smpp::time_point deadline = std::min(until, smpp::clock_type::now() + longest);
    const bool ok = co_await waiters_.wait(std::move(queues), deadline, any_can_send);
    result = ok ? bind_wait::ready : bind_wait::timed_out;
  }
  if (on_wait_ && !carriers.empty()) on_wait_(carriers.front(), result);
  co_return result;
}

void sms_gateway::learn(const std::string& carrier, std::string_view submit_id,
                        std::string_view receipt_id) {
  if (carrier_ptr c = find(carrier)) c->ids.learn(submit_id, receipt_id);
}

sms_gateway::carrier_ptr sms_gateway::owner_of(const smpp::bind_pool& pool) const {
  // A carrier in service, or one a reload removed whose binds are still unbinding.
  for (const auto& [name, x] : carriers_) {
    if (x->pool.get() == &pool) return x;
  }
  for (const auto& x : retiring_) {
    if (x->pool.get() == &pool) return x;
  }
  return nullptr;
}

void sms_gateway::on_late_answer(smpp::bind_pool& pool, smpp::late_answer a) {
  carrier_ptr c = owner_of(pool);
  if (!c || !on_late_) return;
  sms_late l;
  l.id = a.id;
  l.carrier = pool.config().name;
  l.bind = std::move(a.bind);
  l.part = a.part;
  if (a.command_status != 0) {
    l.ec = make_error_code(static_cast<smpp::command_status>(a.command_status));
  } else {
    l.key = c->ids.key_for_submit(a.message_id);
  }
  l.message_id = std::move(a.message_id);
  on_late_(std::move(l));
}

void sms_gateway::on_deliver(smpp::bind_pool& pool, smpp::session& s, smpp::event::deliver& d) {
  carrier_ptr c = owner_of(pool);
  if (!c) return;
  sms_receipt r;
  r.carrier = pool.config().name;
  r.bind = s.name();
  const smpp::error_code ec =
      std::visit([&](const auto& m) { return smpp::dlr::parse_receipt(m, r.receipt); }, d.message);
  if (ec) return;  // a mobile-originated message: otpd has no use for it
  r.answer = std::move(d.answer);
  // The receipt comes from the handset: its source_addr is the number the SMS went to.
  const smpp::address& src =
      std::visit([](const auto& m) -> const smpp::address& { return m.source; }, d.message);
  r.from = src.addr.empty() || src.addr[0] == '+' ? src.addr : "+" + src.addr;
  r.keys = c->ids.keys_for_receipt(r.receipt.id);
  if (!r.receipt.text_id.empty() && r.receipt.text_id != r.receipt.id) {
    for (auto& k : c->ids.keys_for_receipt(r.receipt.text_id)) r.keys.push_back(k);
  }
  on_receipt_(std::move(r));
}

void sms_gateway::on_bind_state(smpp::bind_pool& pool, smpp::session& s, bool up,
                                smpp::error_code ec) {
  if (on_bind_) on_bind_(pool.config().name, s.name(), up, ec);
  if (up) waiters_.notify(pool.config().name);
}

bool sms_gateway::can_send(std::string_view carrier) const {
  carrier_ptr c = find(carrier);
  return c && c->pool->can_submit();
}

bool sms_gateway::ready() const {
  // A carrier whose binds other nodes hold is served there: this node hands its SMS over.
  for (const carrier_health& h : health()) {
    if (h.routed && h.status == "down") return false;
  }
  return true;
}

std::vector<carrier_health> sms_gateway::health() const {
  std::vector<carrier_health> out;
  for (const auto& [name, c] : carriers_) {
    const smpp::pool_status st = c->pool->status();
    carrier_health h;
    h.name = name;
    h.routed = !c->cfg->prefixes.empty();
    bool sending = false;
    bool answering = false;
    bool elsewhere = false;
    for (std::size_t i = 0; i < st.sessions.size(); ++i) {
      const smpp::session_status& s = st.sessions[i];
      const bool degraded = i < st.health.size() && st.health[i].degraded;
      const bool bound = s.state == smpp::session_state::bound;
      if (bound && smpp::can_submit(s.type)) {
        sending = true;
        answering = answering || !degraded;
      }
      carrier_health::bind b{s.name, bound && degraded ? "degraded" : smpp::to_string(s.state), ""};
      if (s.paused) b.state = "drained";
      const smpp::bind_lease lease =
          i < st.health.size() ? st.health[i].lease : smpp::bind_lease::held;
      if (lease != smpp::bind_lease::held) b.state = lease_state(lease);
      elsewhere = elsewhere || lease == smpp::bind_lease::elsewhere;
      if (!bound && s.last_error) b.error = s.last_error.message();
      if (bound && degraded) {
        b.error = std::to_string(st.health[i].unanswered) + " submits in a row got no response";
      }
      h.binds.push_back(std::move(b));
    }
    h.status = sending && c->pool->can_submit() ? (answering ? "ready" : "degraded")
               : elsewhere                      ? "elsewhere"
                                                : "down";
    out.push_back(std::move(h));
  }
  return out;
}

std::string_view to_string(bind_wait w) noexcept {
  switch (w) {
    case bind_wait::ready:
      return "ready";
    case bind_wait::timed_out:
      return "timed_out";
    case bind_wait::queue_full:
      return "queue_full";
  }
  return "timed_out";
}

std::vector<smpp::pool_status> sms_gateway::status() const {
  std::vector<smpp::pool_status> out;
  for (const auto& [name, c] : carriers_) out.push_back(c->pool->status());
  return out;
}

std::string sms_gateway::drain(std::string_view bind) {
  for (auto& [name, c] : carriers_) {
    if (c->pool->drain(bind)) return name;
  }
  return {};
}

std::string sms_gateway::enable(std::string_view bind) {
  for (auto& [name, c] : carriers_) {
    if (c->pool->enable(bind)) return name;
  }
  return {};
}

void sms_gateway::require_leases() {
  leases_required_ = true;
  for (auto& [name, c] : carriers_) c->pool->require_leases();
}

void sms_gateway::set_lease(std::string_view carrier, std::string_view bind,
                            smpp::bind_lease lease) {
  if (carrier_ptr c = find(carrier)) c->pool->set_lease(bind, lease);
}

bool sms_gateway::serves(std::string_view carrier) const {
  carrier_ptr c = find(carrier);
  if (!c) return false;
  if (!leases_required_) return true;
  const smpp::pool_status st = c->pool->status();
  return std::any_of(st.health.begin(), st.health.end(),
                     [](const smpp::bind_health& h) { return h.lease == smpp::bind_lease::held; });
}

}  // namespace otpd::service
