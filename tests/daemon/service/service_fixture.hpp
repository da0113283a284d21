// The verification service over an in-memory SQLite store, with fakes for what it is given: an
// SMS sender that answers as the test says (and can hold a send until released), a notifier
// that keeps what is posted and a dialer whose trunk takes every call. The clock is the
// fixture's: tests move it instead of waiting.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/engine/codes.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/service/verification_service.hpp"
#include "daemon/store/store.hpp"
#include "smpp/proto/status.hpp"

namespace otpd::service::unit {

namespace asio = boost::asio;
using namespace std::chrono_literals;

inline constexpr std::string_view code = "482917";
inline constexpr std::string_view number = "+4915112345678";

// The events the service posts, kept.
class recording_notifier final : public notifier {
 public:
  void start() override {}
  bool enabled() const override { return true; }
  void post(std::string json) override { posted.push_back(std::move(json)); }
  void stop() override {}
  asio::awaitable<void> join() override { co_return; }

  std::vector<std::string> posted;
};

// An SMS sender that answers each send with `answer`. While `held`, a send waits until
// release() before it answers (a slow submit_sm_resp).
class fake_sms final : public sms_sender {
 public:
  enum class answer : std::uint8_t { accepted, refused, unknown };

  explicit fake_sms(asio::any_io_executor ex) : gate_(ex) {}

  void start() override {}
  void stop(std::function<void()> on_stopped) override { on_stopped(); }
  void set_late_handler(late_handler h) override { on_late = std::move(h); }
  void set_receipt_handler(receipt_handler h) override { on_receipt = std::move(h); }
  void set_bind_handler(bind_handler) override {}

  asio::awaitable<sms_result> send(sms_request req) override {
    sent.push_back(req);
    const std::size_t n = sent.size();
    // An SMSC answers over the network, so the caller goes on meanwhile (create stores its row
    // while the SMS is out); a gateway without a bind answers at once (at_once).
    if (!at_once) co_await asio::post(gate_.get_executor(), asio::use_awaitable);
    if (throws) throw std::logic_error("a bug in the sender");
    while (held) {
      gate_.expires_at(asio::steady_timer::time_point::max());
      auto [ec] = co_await gate_.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec && held) break;  // cancelled by the service's stop
    }
    co_return result(n);
  }
  asio::awaitable<bind_wait> wait_for_carrier(std::vector<std::string>, smpp::time_point) override {
    co_return carrier_wait;
  }
  std::chrono::milliseconds max_wait(const std::vector<std::string>&) const override {
    return 2500ms;
  }
  void learn(const std::string& carrier, std::string_view submit_id,
             std::string_view receipt_id) override {
    learnt.push_back(carrier + ":" + std::string(submit_id) + "=" + std::string(receipt_id));
  }
  bool serves(std::string_view) const override { return serving; }
  bool ready() const override { return true; }
  std::vector<carrier_health> health() const override { return {}; }
  void reconfigure(std::shared_ptr<const config::config>, std::vector<std::string>&) override {}

  // The sends held so far answer now.
  bool at_once = false;  // send answers without suspending
  bool throws = false;   // send ends with an exception
  void release() {
    held = false;
    gate_.cancel();
  }
  // A receipt from carrier "c" for the message the n-th send got (1-based).
  void receipt_for(std::size_t n, smpp::dlr::message_state state, std::string stat) {
    sms_receipt r;
    r.carrier = "c";
    r.bind = "c-1";
    r.receipt.id = message_id(n);
    r.receipt.state = state;
    r.receipt.stat = std::move(stat);
    r.keys = {key(n)};
    r.answer = smpp::deliver_answer([this](std::uint32_t status) { answered.push_back(status); });
    on_receipt(std::move(r));
  }
  static std::string message_id(std::size_t n) { return "m" + std::to_string(n); }
  static std::string key(std::size_t n) { return "c/" + message_id(n); }

  answer next = answer::accepted;
  bool held = false;
  bool serving = true;  // this node holds a bind of every carrier
  bind_wait carrier_wait = bind_wait::ready;
  std::vector<sms_request> sent;
  std::vector<std::string> learnt;
  std::vector<std::uint32_t> answered;  // the deliver_sm_resp statuses owed to the SMSC
  receipt_handler on_receipt;
  late_handler on_late;

 private:
  sms_result result(std::size_t n) const {
    sms_result r;
    r.id = n;
    r.carrier = "c";
    r.bind = "c-1";
    r.part_count = 1;
    r.tried = {"c"};
    if (next == answer::accepted) {
      r.parts = {smpp::part_outcome{0, message_id(n)}};
      r.keys = {key(n)};
    } else if (next == answer::refused) {
      r.ec = smpp::make_error_code(smpp::command_status::submit_failed);
      r.parts = {
          smpp::part_outcome{static_cast<std::uint32_t>(smpp::command_status::submit_failed), ""}};
    } else {
      r.ec = smpp::make_error_code(smpp::errc::response_timeout);
      r.outcome_unknown = true;
    }
    return r;
  }

  asio::steady_timer gate_;
};

// A trunk that takes every call: it reports the INVITE leaving, then `final`.
class fake_dialer final : public call_dialer {
 public:
  asio::awaitable<dialed> call(call_order order) override {
    to.push_back(order.to);
    code_length = order.code.size();
    voice::call_event trying;
    trying.state = voice::call_state::trying;
    order.on_event(trying, "trunk-1");
    dialed d;
    d.placed = true;
    d.trunk = "trunk-1";
    d.result.final = final;
    d.result.played = std::chrono::milliseconds(2500);
    co_return d;
  }
  void stop() override {}
  std::size_t active_calls() const noexcept override { return 0; }
  void reconfigure(const std::vector<config::voice_trunk>&, std::vector<std::string>&) override {}
  std::vector<trunk_info> trunks() const override { return {}; }

  voice::call_event final;
  std::vector<std::string> to;
  std::size_t code_length = 0;
};

// The code an SMS carries: its one run of exactly `length` digits.
inline std::string code_in(const std::string& text, int length) {
  std::string run;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      run += text[i];
      continue;
    }
    if (run.size() == static_cast<std::size_t>(length)) return run;
    run.clear();
  }
  return {};
}

inline create_request request_to(std::string to, std::string key = {}, std::string hash = {}) {
  create_request r;
  r.to = std::move(to);
  r.api_key = "test";
  r.idempotency_key = std::move(key);
  r.request_hash = std::move(hash);
  return r;
}

class service_fixture : public ::testing::Test {
 protected:
  service_fixture() {
    cfg.keys.code_mac_key = secret(std::string(32, 'm'));
    cfg.keys.code_seal_key = secret(std::string(32, 's'));
    cfg.nodes.node = "node-a";
    std::unique_ptr<store> db;
    EXPECT_FALSE(open_sqlite_store(":memory:", db));
    db_.emplace(std::move(db));
    svc.emplace(io.get_executor(), cfg, std::make_shared<const config::config>(cfg), *db_, routes(),
                sms, events, clock, logger, metrics);
  }

  ~service_fixture() override {
    bool stopped = false;
    svc->stop([&] { stopped = true; });
    EXPECT_TRUE(run_until([&] { return stopped; }));
    svc.reset();
  }

  // A route for +49 to carrier "c".
  static routing::route_table routes() {
    config::carrier c;
    c.name = "c";
    c.prefixes = {"49"};
    std::vector<std::string> errors;
    std::optional<routing::route_table> table = routing::route_table::build({c}, errors);
    EXPECT_TRUE(table.has_value());
    return std::move(*table);
  }

  // The policy changed as a reload changes it (for what starts from now on).
  void set_policy(const std::function<void(config::otp_policy&)>& change) {
    change(cfg.policy);
    svc->reload(std::make_shared<const config::config>(cfg), routes(), false);
  }

  // Runs the io_context until `done` holds, for at most 5 s (the store answers from its own
  // thread, so the io_context may be out of work for a moment).
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_one_for(50ms);
    }
    return done();
  }

  template <class T>
  T await(asio::awaitable<T> a) {
    std::optional<T> out;
    std::exception_ptr failed;
    asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
      failed = e;
      out = std::move(v);
    });
    EXPECT_TRUE(run_until([&] { return out.has_value(); }));
    if (failed) std::rethrow_exception(failed);
    return std::move(*out);
  }

  verification row(const std::string& id) { return await(svc->get(id)).second; }

  // Runs until the latest attempt of `id` has left status queued.
  bool recorded(const std::string& id) {
    return run_until([&] {
      const verification v = row(id);
      return !v.attempts.empty() && v.attempts.back().status != attempt_status::queued;
    });
  }

  // A pending verification stored as create stores it, whose code is `code`.
  std::string stored_pending(std::string idempotency_key = {}, std::string request_hash = {}) {
    return stored_pending_as([&](verification& v) {
      v.idempotency_key = std::move(idempotency_key);
      v.request_hash = std::move(request_hash);
    });
  }
  // The same, changed by `adjust` before it is stored.
  std::string stored_pending_as(const std::function<void(verification&)>& adjust) {
    verification v;
    v.id = engine::new_verification_id();
    v.to = number;
    v.locale = "en";
    v.api_key = "test";
    const engine::code_protector protector(cfg.keys);
    EXPECT_EQ(engine::start(v, cfg.policy, clock.now(), {}, protector, code),
              engine::start_outcome::started);
    adjust(v);
    EXPECT_FALSE(await(db_->insert(v)));
    return v.id;
  }

  config::config cfg;
  asio::io_context io;
  log::logger logger{log::options{}, [](std::string_view) {}};
  metrics::registry metrics;
  std::optional<store_executor> db_;
  fake_sms sms{io.get_executor()};
  recording_notifier events;
  service_clock clock;
  std::optional<verification_service> svc;
};

}  // namespace otpd::service::unit
