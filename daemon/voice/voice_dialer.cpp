#include "daemon/voice/voice_dialer.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/exception_text.hpp"
#include "daemon/voice/call_rate.hpp"
#include "voice/prompts/prompt_set.hpp"

namespace otpd::service {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

// One call on one trunk. The caller rethrows an exception from the call's code (a bug, or
// bad_alloc) once the call is ended and its sockets are closed; the attempt then ends failed
// with its own error rather than staying "calling" for ever. `failed` says it did.
asio::awaitable<voice::call_result> call_reporting_bugs(voice::caller& c, voice::call_request req,
                                                        bool& failed) {
  std::exception_ptr e;
  try {
    co_return co_await c.call(std::move(req));
  } catch (...) {
    e = std::current_exception();
  }
  failed = true;
  voice::call_result r;
  r.final = {voice::call_state::failed, 0, "internal error: " + describe(e)};
  co_return r;
}

}  // namespace

// A trunk: its caller and the limits on what it takes.
struct voice_dialer::trunk {
  trunk(asio::any_io_executor ex, const config::voice_trunk& c)
      : cfg(c), caller(std::move(ex), caller_config(c)), rate(c.calls_per_second) {}

  static voice::trunk_config caller_config(const config::voice_trunk& t) {
    voice::trunk_config vc;
    vc.name = t.name;
    vc.uri = t.uri;
    vc.transport = t.transport;
    vc.domain = t.domain;
    vc.username = t.username;
    vc.password = t.password;
    vc.caller_id = t.caller_id;
    vc.local_address = t.local_address;
    vc.ring_timeout = t.ring_timeout;
    vc.max_call = t.max_call;
    vc.media_networks = t.media_networks;
    return vc;
  }

  config::voice_trunk cfg;
  voice::caller caller;
  call_rate rate;  // calls_per_second, with a burst of one second's worth (at least one call)
  int active = 0;  // calls in progress, and calls waiting for this trunk's rate
};

// The trunk a call goes to, and how long it waits for the trunk's rate first.
struct voice_dialer::choice {
  std::shared_ptr<trunk> t;
  steady::duration wait{};
};

namespace {

// Where the code has been read once in full: the end of its last digit the first time (the
// prompt is the intro, the digits, then "I repeat" and the digits again, then goodbye).
std::size_t first_reading_end(const prompts::prompt& p, std::size_t digits) {
  std::size_t seen = 0;
  for (const prompts::segment& s : p.segments) {
    if (s.id >= prompts::clip::digit_0 && s.id <= prompts::clip::digit_9 && ++seen == digits) {
      return s.start + s.length;
    }
  }
  return 0;  // the whole prompt
}

}  // namespace

boost::system::error_code voice_dialer::create(asio::any_io_executor ex, const config::voice& cfg,
                                               const config::number_plan& numbers,
                                               const std::vector<std::string>& locales,
                                               const std::string& default_locale,
                                               std::unique_ptr<voice_dialer>& out,
                                               std::string& why) {
  std::unique_ptr<voice_dialer> d(new voice_dialer());
  d->ex_ = ex;
  d->cfg_ = cfg;
  d->numbers_ = numbers;
  d->default_locale_ = default_locale;

  prompts::synth_options so;
  so.words_per_minute = cfg.words_per_minute;
  prompts::synthesizer tts(so);
  prompts::prompt_set_options po;
  if (cfg.prompts_folder) po.recordings = *cfg.prompts_folder;
  std::vector<std::string> wanted = locales;
  if (std::find(wanted.begin(), wanted.end(), default_locale) == wanted.end()) {
    wanted.push_back(default_locale);
  }
  for (const std::string& locale : wanted) {
    auto set = std::make_unique<prompts::prompt_set>();
    prompts::build_error where;
    if (auto ec = prompts::prompt_set::build(locale, po, tts, *set, &where)) {
      if (locale != default_locale) continue;  // calls in this locale use the default's prompts
      why = "voice prompts for locale '" + locale + "', clip " +
            std::string(prompts::clip_name(where.which)) +
            (where.file.empty() ? std::string() : " (" + where.file.string() + ")") + ": " +
            ec.message();
      return ec;
    }
    d->prompts_.emplace(locale, std::move(set));
  }

  for (const config::voice_trunk* t : by_priority(cfg.trunks)) {
    d->trunks_.push_back(std::make_shared<trunk>(ex, *t));
  }
  out = std::move(d);
  return {};
}

std::vector<const config::voice_trunk*> voice_dialer::by_priority(
    const std::vector<config::voice_trunk>& trunks) {
  std::vector<const config::voice_trunk*> order;
  for (const auto& t : trunks) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->priority < b->priority; });
  return order;
}

void voice_dialer::reconfigure(const std::vector<config::voice_trunk>& next,
                               std::vector<std::string>& changes) {
  std::vector<std::shared_ptr<trunk>> trunks;
  for (const config::voice_trunk* t : by_priority(next)) {
    auto old = std::find_if(trunks_.begin(), trunks_.end(),
                            [&](const auto& x) { return x && x->cfg.name == t->name; });
    if (old != trunks_.end() && (*old)->cfg == *t) {
      trunks.push_back(std::move(*old));
      continue;
    }
    changes.push_back("trunk " + t->name + (old != trunks_.end() ? " changed" : " added"));
    if (old != trunks_.end()) old->reset();  // its calls in progress hold it until they end
    trunks.push_back(std::make_shared<trunk>(ex_, *t));
  }
  for (const auto& t : trunks_) {
    if (t) changes.push_back("trunk " + t->cfg.name + " removed");
  }
  trunks_ = std::move(trunks);
  cfg_.trunks = next;
}

voice_dialer::~voice_dialer() = default;

std::string voice_dialer::dial_string(const std::string& e164, const std::string& format,
                                      const config::number_plan& numbers) {
  const std::string digits = e164.starts_with('+') ? e164.substr(1) : e164;
  if (format == "e164") return digits;
  if (format == "national" && digits.starts_with(numbers.default_country_code)) {
    return numbers.national_prefix + digits.substr(numbers.default_country_code.size());
  }
  if (format == "national") return digits;  // abroad: international digits
  return "+" + digits;
}

voice_dialer::choice voice_dialer::pick(const std::vector<const trunk*>& tried) {
  const auto now = steady::now();
  std::shared_ptr<trunk> soonest;
  steady::duration soonest_wait = steady::duration::max();
  for (auto& t : trunks_) {
    if (std::find(tried.begin(), tried.end(), t.get()) != tried.end()) continue;
    if (t->active >= t->cfg.max_calls) continue;
    const steady::duration w = t->rate.wait(now);
    if (w == steady::duration::zero()) {
      t->rate.take(now);
      return {t, w};
    }
    if (w < soonest_wait) {
      soonest = t;
      soonest_wait = w;
    }
  }
  // Every trunk with room is at its rate: the one whose token comes first, if soon enough.
  if (!soonest || soonest_wait > cfg_.rate_wait) return {};
  return {soonest, soonest->rate.take(now)};
}

asio::awaitable<bool> voice_dialer::wait_for_rate(steady::duration d) {
  asio::steady_timer timer(ex_, d);
  waiting_.push_back(&timer);
  const auto it = std::prev(waiting_.end());
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  waiting_.erase(it);
  co_return !stopped_;
}

asio::awaitable<dialed> voice_dialer::call(call_order order) {
  dialed out;
  out.result.final.state = voice::call_state::failed;
  if (stopped_) {
    out.error = "shutting_down";
    co_return out;
  }
  auto set = prompts_.find(order.locale);
  if (set == prompts_.end()) set = prompts_.find(default_locale_);
  if (set == prompts_.end()) {
    out.error = "prompt_failed";
    co_return out;
  }
  prompts::prompt p;
  prompts::compose_options co;
  co.digit_gap_ms = static_cast<int>(cfg_.digit_pause.count());
  const std::size_t digits = order.code.size();
  if (auto ec = set->second->compose(order.code, cfg_.repeats, co, p)) {
    wipe(order.code);
    out.error = "prompt_failed";
    co_return out;
  }
  wipe(order.code);  // the audio is the only copy from here on
  const std::size_t code_end = first_reading_end(p, digits);
  const auto audio = std::make_shared<const std::vector<std::int16_t>>(std::move(p.samples));
  auto on_event = std::make_shared<decltype(order.on_event)>(std::move(order.on_event));

  // Trunks in priority order: the next one is tried when this one could not carry the call
  // (see trunk_failure), never when the callee answered, was busy, or declined.
  std::vector<const trunk*> tried;
  for (;;) {
    choice c = pick(tried);
    if (!c.t) break;
    std::shared_ptr<trunk> t = std::move(c.t);
    // Counted until the call ends (waiting for the rate included), even when the awaiting
    // coroutine is destroyed mid-call.
    struct in_progress {
      int& n;
      explicit in_progress(int& x) : n(++x) {}
      ~in_progress() { --n; }
    } guard(t->active);
    if (c.wait > steady::duration::zero() && !co_await wait_for_rate(c.wait)) {
      out.error = "shutting_down";
      co_return out;
    }
    if (!tried.empty()) out.failed_over.push_back(out.trunk);  // this trunk takes the call on
    tried.push_back(t.get());
    out.trunk = t->cfg.name;
    voice::call_request req;
    req.to = dial_string(order.to, t->cfg.number_format, numbers_);
    req.audio = audio;
    req.code_end = code_end;
    req.replay_key = cfg_.replay_key;
    bool progressed = false;  // a 18x or a 2xx came: the callee's side has the call
    req.on_event = [on_event, &progressed, &out, name = t->cfg.name](const voice::call_event& e) {
      if (e.state == voice::call_state::trying) out.placed = true;
      if (e.state != voice::call_state::trying) progressed = true;
      if (*on_event) (*on_event)(e, name);
    };
    bool bug = false;
    out.result = co_await call_reporting_bugs(t->caller, std::move(req), bug);
    if (out.result.malformed > 0) out.malformed.emplace_back(t->cfg.name, out.result.malformed);
    if (out.result.foreign > 0) out.foreign.emplace_back(t->cfg.name, out.result.foreign);
    if (bug) {
      out.error = "internal_error";  // not the trunk's fault: no other trunk is tried
      co_return out;
    }
    if (progressed || stopped_ || !trunk_failure(out.result.final)) break;
  }
  if (tried.empty()) {
    out.error = stopped_ ? "shutting_down" : "no_trunk_available";
  } else if (!out.placed) {
    out.error = "trunk_unreachable";
  } else if (!out.result.error.empty()) {
    out.error = out.result.error;  // the caller ended the call: media_address_refused
  }
  co_return out;
}

call_record record_of(const dialed& d) {
  const voice::call_result& r = d.result;
  call_record rec;
  rec.status = attempt_status_for(r.final.state);
  rec.trunk = d.trunk;
  rec.sip_code = r.final.sip_code;
  rec.reason = r.final.sip_reason;
  rec.error = d.error;
  rec.placed = d.placed;
  if (r.talk.count() > 0 || r.played.count() > 0) rec.played_ms = r.played.count();
  return rec;
}

bool voice_dialer::trunk_failure(const voice::call_event& e) noexcept {
  if (e.state != voice::call_state::failed) return false;
  const int c = e.sip_code;
  // No response or no connection (0, 408 from Timer B), the trunk refusing us (401/403/407:
  // credentials), or a server error on its side (5xx). Not 4xx about the number (404, 484,
  // 488: another trunk would say the same) and not 6xx (the callee's answer).
  return c == 0 || c == 408 || c == 401 || c == 403 || c == 407 || (c >= 500 && c <= 599);
}

void voice_dialer::stop() {
  stopped_ = true;
  for (asio::steady_timer* t : waiting_) t->cancel();
  for (auto& t : trunks_) t->caller.stop();
}

std::vector<trunk_info> voice_dialer::trunks() const {
  std::vector<trunk_info> out;
  for (const auto& t : trunks_) out.push_back({t->cfg.name, t->active, t->cfg.max_calls});
  return out;
}

std::size_t voice_dialer::active_calls() const noexcept {
  std::size_t n = 0;
  for (const auto& t : trunks_) n += static_cast<std::size_t>(t->active);
  return n;
}

}  // namespace otpd::service
