// The Asio session and the bind pool against a real SMSC: node-smpp run by the harness on
// 127.0.0.1 with an OS-chosen port. Every wait has a deadline; nothing sleeps.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <future>
#include <mutex>
#include <thread>

#include "smpp/dlr/message_id.hpp"
#include "smpp/dlr/receipt.hpp"
#include "smpp/net/bind_pool.hpp"
#include "smpp/proto/status.hpp"
#include "smpp/proto/tlv.hpp"
#include "tests/support/smsc_process.hpp"

namespace otpd::smpp {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using test::smsc_process;

// Runs an io_context on its own thread; the test thread talks to the pool through call().
class io_thread {
 public:
  io_thread() : guard_(asio::make_work_guard(ioc_)), thread_([this] { ioc_.run(); }) {}
  ~io_thread() {
    guard_.reset();
    ioc_.stop();
    thread_.join();
  }
  template <class F>
  auto call(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    asio::post(ioc_, [&task] { task(); });
    return fut.get();
  }
  asio::io_context& ioc() { return ioc_; }

 private:
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
};

// Collects what the pool reports, from the io thread, for the test thread to wait on.
class recorder : public pool_listener {
 public:
  void on_deliver(bind_pool&, session&, event::deliver& d) override {
    std::lock_guard lk(mu_);
    delivers_.push_back(d.message);
    cv_.notify_all();
  }
  void on_bind_state(bind_pool&, session& s, bool bound, error_code ec) override {
    std::lock_guard lk(mu_);
    states_.push_back({s.name(), bound, ec});
    cv_.notify_all();
  }
  void on_late_answer(bind_pool&, late_answer a) override {
    std::lock_guard lk(mu_);
    late_.push_back(std::move(a));
    cv_.notify_all();
  }
  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return pred(*this); });
  }
  // bound_count from the test thread (the predicates of wait() run under the lock already).
  std::size_t bound_now(std::string_view name) {
    std::lock_guard lk(mu_);
    return bound_count(name);
  }
  std::size_t bound_count(std::string_view name = {}) const {
    std::size_t n = 0;
    for (const auto& s : states_) n += s.bound && (name.empty() || s.name == name);
    return n;
  }

  struct state {
    std::string name;
    bool bound;
    error_code ec;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::variant<deliver_sm, data_sm>> delivers_;
  std::vector<state> states_;
  std::vector<late_answer> late_;
};

// Results of submits, by the order they were made.
class results {
 public:
  bind_pool::completion slot(std::size_t i) {
    {
      std::lock_guard lk(mu_);
      if (r_.size() <= i) r_.resize(i + 1);
    }
    return [this, i](pool_result r) {
      std::lock_guard lk(mu_);
      r_[i] = std::move(r);
      ++done_;
      cv_.notify_all();
    };
  }
  bool wait_all(std::size_t n, std::chrono::milliseconds timeout = 15s) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return done_ >= n; });
  }
  std::optional<pool_result> at(std::size_t i) {
    std::lock_guard lk(mu_);
    return i < r_.size() ? r_[i] : std::nullopt;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<pool_result>> r_;
  std::size_t done_ = 0;
};

bind_config make_bind(std::string name, std::uint16_t port, bind_type type = bind_type::transceiver,
                      std::string password = "secret") {
  bind_config b;
  b.session.name = std::move(name);
  b.session.endpoint.host = "127.0.0.1";
  b.session.endpoint.port = port;
  b.session.endpoint.connect_timeout = 2s;
  b.session.smpp.type = type;
  b.session.smpp.system_id = "otpd";
  b.session.smpp.password = secret(password);
  b.session.smpp.window = 10;
  b.session.smpp.bind_timeout = 3s;
  b.session.smpp.response_timeout = 3s;
  b.session.smpp.enquire_link_interval = 30s;
  b.session.reconnect.initial_delay = 50ms;
  b.session.reconnect.max_delay = 400ms;
  return b;
}

message_request otp(std::string text, std::string to = "84912345678") {
  message_request m;
  m.source = {5, 0, "OTPD"};
  m.dest = {1, 1, std::move(to)};
  m.text = std::move(text);
  m.registered_delivery = 1;
  m.deadline = clock_type::now() + 60s;
  return m;
}

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string str(const json::value& v) { return std::string(v.as_string()); }

// Matches the nth event of that name (the harness calls a predicate once per event, in order).
smsc_process::predicate nth(std::string name, std::size_t n) {
  return [name = std::move(name), n, seen = std::size_t{0}](const json::object& e) mutable {
    return e.at("event").as_string() == name && ++seen == n;
  };
}

struct fixture : ::testing::Test {
  void start(std::vector<bind_config> binds, std::vector<std::string> smsc_flags = {}) {
    (void)smsc_flags;
    pool_config cfg;
    cfg.name = "carrier";
    cfg.binds = std::move(binds);
    pool = std::make_unique<bind_pool>(io.ioc().get_executor(), cfg, &rec);
    io.call([&] {
      pool->start();
      return 0;
    });
  }
  bool wait_bound(std::size_t n = 1) {
    return rec.wait([&](recorder& r) { return r.bound_count() >= n; });
  }
  void submit(std::size_t i, message_request m) {
    io.call([&] {
      pool->submit(std::move(m), res.slot(i));
      return 0;
    });
  }
  void TearDown() override {
    if (!pool) return;
    std::promise<void> stopped;
    io.call([&] {
      pool->stop([&] { stopped.set_value(); });
      return 0;
    });
    EXPECT_EQ(stopped.get_future().wait_for(10s), std::future_status::ready);
    pool.reset();
  }

  io_thread io;
  recorder rec;
  results res;
  std::unique_ptr<bind_pool> pool;
};

TEST_F(fixture, binds_of_every_type) {
  smsc_process smsc;
  start({make_bind("tx", smsc.port(), bind_type::transmitter),
         make_bind("rx", smsc.port(), bind_type::receiver),
         make_bind("trx", smsc.port(), bind_type::transceiver)});
  ASSERT_TRUE(wait_bound(3));
  for (const char* type : {"transmitter", "receiver", "transceiver"}) {
    EXPECT_TRUE(
        smsc.wait_for(test::event_with("bind", {{"type", type}, {"system_id", "otpd"}}), 5s))
        << type;
  }
  auto st = io.call([&] { return pool->status(); });
  EXPECT_EQ(st.bound_transmitters, 2u);
  EXPECT_EQ(st.bound_receivers, 2u);
}

TEST_F(fixture, a_wrong_password_is_reported_and_retried_with_backoff) {
  smsc_process smsc;
  start({make_bind("trx", smsc.port(), bind_type::transceiver, "wrong")});
  ASSERT_TRUE(smsc.wait_for(nth("bind_rejected", 3), 10s));
  auto st = io.call([&] { return pool->status(); });
  ASSERT_EQ(st.sessions.size(), 1u);
  EXPECT_EQ(st.sessions[0].last_error, command_status::invalid_password);
  EXPECT_EQ(st.sessions[0].binds, 0u);
  EXPECT_GE(st.sessions[0].connects, 3u);
  EXPECT_EQ(st.bound_transmitters, 0u);
  // Nothing can be sent: a submit fails at once so that the caller can fail over.
  submit(0, otp("Your code is 123456"));
  ASSERT_TRUE(res.wait_all(1));
  EXPECT_EQ(res.at(0)->ec, errc::no_bind_available);
}

TEST_F(fixture, gsm7_text_is_sent_unpacked_and_the_message_id_is_returned) {
  smsc_process smsc;
  start({make_bind("trx", smsc.port())});
  ASSERT_TRUE(wait_bound());
  submit(0, otp("Code @123"));
  ASSERT_TRUE(res.wait_all(1));
  auto r = *res.at(0);
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_EQ(r.parts.size(), 1u);
  auto ev = smsc.wait_for_event("submit", 5s);
  ASSERT_TRUE(ev);
  EXPECT_EQ((*ev)["data_coding"].as_int64(), 0);
  // GSM 03.38: '@' is 0x00, one septet per octet.
  EXPECT_EQ(str((*ev)["short_message"]),
            "436f6465200031323"
            "3");
  EXPECT_EQ(str((*ev)["message_id"]), r.parts[0].message_id);
  EXPECT_EQ((*ev)["source"].as_object().at("ton").as_int64(), 5);
  EXPECT_EQ((*ev)["registered_delivery"].as_int64(), 1);
  // validity_period: relative, from the deadline (about 60 s).
  EXPECT_EQ(str((*ev)["validity_period"]).substr(0, 8), "00000000");
  EXPECT_EQ(str((*ev)["validity_period"]).back(), 'R');
}

TEST_F(fixture, vietnamese_text_goes_as_ucs2_or_transliterated) {
  smsc_process smsc;
  auto plain = make_bind("ucs2", smsc.port());
  start({plain});
  ASSERT_TRUE(wait_bound());
  submit(0, otp("Mã xác thực của bạn là 482917"));
  ASSERT_TRUE(res.wait_all(1));
  ASSERT_FALSE(res.at(0)->ec);
  auto ev = smsc.wait_for_event("submit", 5s);
  ASSERT_TRUE(ev);
  EXPECT_EQ((*ev)["data_coding"].as_int64(), 8);
  // UTF-16BE, no BOM: "M" then "ã" (U+00E3).
  EXPECT_EQ(str((*ev)["short_message"]).substr(0, 8), "004d00e3");
}

TEST_F(fixture, vietnamese_transliterated_to_gsm7) {
  smsc_process smsc;
  auto b = make_bind("gsm", smsc.port());
  b.text.encoding.transliterate = true;
  b.text.encoding.policy = text::coding_policy::gsm7;
  start({b});
  ASSERT_TRUE(wait_bound());
  submit(0, otp("Mã xác thực của bạn"));
  ASSERT_TRUE(res.wait_all(1));
  ASSERT_FALSE(res.at(0)->ec);
  auto ev = smsc.wait_for_event("submit", 5s);
  ASSERT_TRUE(ev);
  EXPECT_EQ((*ev)["data_coding"].as_int64(), 0);
  EXPECT_EQ(str((*ev)["short_message"]), hex("Ma xac thuc cua ban"));
}

// A text the bind's coding or max_parts cannot carry fails at once, never reaches the SMSC, and
// says why in words (the attempt's error), without quoting the text.
TEST_F(fixture, a_text_the_bind_cannot_carry_fails_with_the_reason) {
  smsc_process smsc;
  auto gsm = make_bind("gsm", smsc.port());
  gsm.text.encoding.policy = text::coding_policy::gsm7;
  gsm.text.split.max_parts = 1;
  start({gsm});
  ASSERT_TRUE(wait_bound());
  submit(0, otp("Mã xác thực 482917"));
  submit(1, otp(std::string(161, 'a') + " 482917"));
  ASSERT_TRUE(res.wait_all(2));
  EXPECT_EQ(res.at(0)->ec, text::errc::unencodable_character);
  EXPECT_EQ(res.at(0)->text_reason, "character not representable in gsm7: 'ã' (U+00E3)");
  EXPECT_EQ(res.at(1)->ec, text::errc::too_many_parts);
  EXPECT_EQ(res.at(1)->text_reason, "text needs 2 parts, max_parts is 1");
  EXPECT_EQ(res.at(1)->text_reason.find("482917"), std::string::npos);
  // A text that fits goes out, and it is the only submit the SMSC saw.
  submit(2, otp("Code 482917"));
  ASSERT_TRUE(res.wait_all(3));
  ASSERT_FALSE(res.at(2)->ec) << res.at(2)->ec.message();
  EXPECT_TRUE(res.at(2)->text_reason.empty());
  smsc.sync();
  EXPECT_EQ(smsc.count("submit"), 1u);
}

class concat_test : public fixture, public ::testing::WithParamInterface<text::concat_method> {};

TEST_P(concat_test, long_messages_arrive_in_order_with_the_method_of_the_bind) {
  smsc_process smsc;
  auto b = make_bind("trx", smsc.port());
  b.text.split.method = GetParam();
  start({b});
  ASSERT_TRUE(wait_bound());
  std::string text;
  for (int i = 0; i < 40; ++i) text += "otp" + std::to_string(i % 10) + " ";  // 200 septets
  submit(0, otp(text));
  ASSERT_TRUE(res.wait_all(1));
  auto r = *res.at(0);
  ASSERT_FALSE(r.ec) << r.ec.message();
  const std::size_t expected_parts = GetParam() == text::concat_method::payload ? 1 : 2;
  EXPECT_EQ(r.part_count, expected_parts);
  ASSERT_TRUE(smsc.wait_for(nth("submit", expected_parts), 5s));
  std::vector<json::object> submits;
  for (auto& e : smsc.events()) {
    if (e.at("event").as_string() == "submit") submits.push_back(e);
  }
  ASSERT_EQ(submits.size(), expected_parts);
  std::string reassembled;
  for (std::size_t i = 0; i < submits.size(); ++i) {
    const auto& s = submits[i];
    const std::string sm = str(s.at("short_message"));
    switch (GetParam()) {
      case text::concat_method::udh8:
        EXPECT_EQ(s.at("esm_class").as_int64() & 0x40, 0x40);
        EXPECT_EQ(sm.substr(0, 6), "050003");
        EXPECT_EQ(sm.substr(8, 4), "02" + std::string(i == 0 ? "01" : "02"));
        reassembled += sm.substr(12);
        break;
      case text::concat_method::udh16:
        EXPECT_EQ(sm.substr(0, 6), "060804");
        EXPECT_EQ(sm.substr(10, 4), "02" + std::string(i == 0 ? "01" : "02"));
        reassembled += sm.substr(14);
        break;
      case text::concat_method::sar: {
        EXPECT_EQ(s.at("esm_class").as_int64() & 0x40, 0);
        std::map<std::string, std::string> tlvs;
        for (auto& t : s.at("tlvs").as_array()) {
          tlvs[str(t.at("name"))] = str(t.at("hex"));
        }
        EXPECT_EQ(tlvs["sar_total_segments"], "02");
        EXPECT_EQ(tlvs["sar_segment_seqnum"], i == 0 ? "01" : "02");
        reassembled += sm;
        break;
      }
      case text::concat_method::payload: {
        EXPECT_EQ(sm, "");
        auto& t = s.at("tlvs").as_array();
        ASSERT_EQ(t.size(), 1u);
        EXPECT_EQ(t[0].at("tag").as_int64(), 0x0424);
        reassembled += str(t[0].at("hex"));
        break;
      }
    }
  }
  EXPECT_EQ(reassembled, hex(text));
}

INSTANTIATE_TEST_SUITE_P(methods, concat_test,
                         ::testing::Values(text::concat_method::udh8, text::concat_method::udh16,
                                           text::concat_method::sar, text::concat_method::payload));

TEST_F(fixture, a_receipt_with_a_decimal_id_finds_the_hex_submit_id) {
  smsc_process smsc({"--id-start", "0x812FC7470000001B", "--receipt-id-format", "decimal"});
  start({make_bind("trx", smsc.port())});
  ASSERT_TRUE(wait_bound());
  submit(0, otp("Your code is 482917"));
  ASSERT_TRUE(res.wait_all(1));
  auto r = *res.at(0);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.parts[0].message_id, "812FC7470000001B");
  ASSERT_TRUE(rec.wait([](recorder& x) { return !x.delivers_.empty(); }));
  dlr::receipt receipt;
  {
    std::lock_guard lk(rec.mu_);
    ASSERT_FALSE(dlr::parse_receipt(std::get<deliver_sm>(rec.delivers_[0]), receipt));
  }
  EXPECT_EQ(receipt.id, "9308878062554710043");
  EXPECT_EQ(receipt.state, dlr::message_state::delivered);
  dlr::message_id_mapper mapper(
      dlr::id_config{dlr::id_mode::fixed, dlr::id_format::hex, dlr::id_format::decimal});
  const std::string key = mapper.key_for_submit(r.parts[0].message_id);
  auto keys = mapper.keys_for_receipt(receipt.id);
  EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end());
  // The SMSC saw our deliver_sm_resp.
  EXPECT_TRUE(smsc.wait_for(test::event_with("deliver_sm_resp", {{"status", 0}}), 5s));
}

TEST_F(fixture, enquire_link_both_ways) {
  smsc_process smsc({"--enquire-link-ms", "100"});
  auto b = make_bind("trx", smsc.port());
  b.session.smpp.enquire_link_interval = 150ms;
  start({b});
  ASSERT_TRUE(wait_bound());
  // The SMSC's enquire_link is answered...
  ASSERT_TRUE(smsc.wait_for_event("enquire_link_resp", 5s));
  // ...and ours is sent once the link is quiet. The SMSC's own enquire_links keep the link
  // busy, so turn them off first.
  smsc.command({{"cmd", "enquire_link"}, {"every_ms", 0}});
  ASSERT_TRUE(smsc.wait_for_event("enquire_link", 5s));
  EXPECT_EQ(smsc.count("enquire_link_unanswered"), 0u);
}

TEST_F(fixture, smsc_closing_mid_window_gives_unknown_outcomes_then_recovers) {
  smsc_process smsc({"--submit-delay-ms", "200"});
  start({make_bind("trx", smsc.port())});
  ASSERT_TRUE(wait_bound());
  for (std::size_t i = 0; i < 5; ++i) submit(i, otp("Your code is 11111" + std::to_string(i)));
  ASSERT_TRUE(smsc.wait_for(nth("submit", 5), 5s));
  smsc.command({{"cmd", "close_all"}});
  ASSERT_TRUE(res.wait_all(5));
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(res.at(i)->ec, errc::unknown_outcome) << i;
    EXPECT_TRUE(res.at(i)->outcome_unknown);
  }
  // The bind comes back by itself and sends again; nothing was resubmitted meanwhile.
  ASSERT_TRUE(rec.wait([](recorder& r) { return r.bound_count() >= 2; }));
  smsc.sync();
  EXPECT_EQ(smsc.count("submit"), 5u);
  smsc.command({{"cmd", "delay"}, {"ms", 0}});
  submit(5, otp("Your code is 222222"));
  ASSERT_TRUE(res.wait_all(6));
  EXPECT_FALSE(res.at(5)->ec);
}

TEST_F(fixture, a_throttling_episode_slows_down_and_every_message_gets_through) {
  smsc_process smsc({"--no-submit-events"});
  start({make_bind("trx", smsc.port())});
  ASSERT_TRUE(wait_bound());
  // The SMSC refuses every submit for 300 ms (ESME_RTHROTTLED), then accepts again.
  smsc.command({{"cmd", "throttle"}, {"for_ms", 300}});
  constexpr std::size_t n = 30;
  for (std::size_t i = 0; i < n; ++i) submit(i, otp("Your code is " + std::to_string(100000 + i)));
  ASSERT_TRUE(res.wait_all(n, 30s));
  unsigned returns = 0;
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_FALSE(res.at(i)->ec) << i << " " << res.at(i)->ec.message();
    returns += res.at(i)->returns;
  }
  EXPECT_GT(returns, 0u);
  auto st = io.call([&] { return pool->status(); });
  EXPECT_GT(st.sessions[0].counters.throttled_parts, 0u);
  EXPECT_EQ(st.sessions[0].counters.accepted_parts, n);
}

TEST_F(fixture, message_queue_full_replies_are_retried_not_failed) {
  smsc_process smsc({"--qfull-every", "4", "--no-submit-events"});
  start({make_bind("trx", smsc.port())});
  ASSERT_TRUE(wait_bound());
  constexpr std::size_t n = 8;
  for (std::size_t i = 0; i < n; ++i) submit(i, otp("Your code is " + std::to_string(200000 + i)));
  ASSERT_TRUE(res.wait_all(n, 30s));
  for (std::size_t i = 0; i < n; ++i) EXPECT_FALSE(res.at(i)->ec) << i;
  auto st = io.call([&] { return pool->status(); });
  EXPECT_GE(st.sessions[0].counters.throttled_parts, 2u);
  EXPECT_EQ(st.sessions[0].counters.accepted_parts, n);
}

TEST_F(fixture, a_slow_smsc_gives_a_response_timeout_not_a_resubmission) {
  smsc_process smsc({"--submit-delay-ms", "800"});
  auto b = make_bind("trx", smsc.port());
  b.session.smpp.response_timeout = 200ms;
  start({b});
  ASSERT_TRUE(wait_bound());
  submit(0, otp("Your code is 333333"));
  ASSERT_TRUE(res.wait_all(1));
  EXPECT_EQ(res.at(0)->ec, errc::response_timeout);
  EXPECT_TRUE(res.at(0)->outcome_unknown);
  // The late response arrives and names the message; the bind stays up and nothing was resent.
  auto resp = smsc.wait_for_event("submit_resp", 5s);
  ASSERT_TRUE(resp);
  ASSERT_TRUE(rec.wait([](recorder& r) { return !r.late_.empty(); }));
  {
    std::lock_guard lk(rec.mu_);
    ASSERT_EQ(rec.late_.size(), 1u);
    EXPECT_EQ(rec.late_[0].id, res.at(0)->id);
    EXPECT_NE(rec.late_[0].id, 0u);
    EXPECT_EQ(rec.late_[0].bind, "trx");
    EXPECT_EQ(rec.late_[0].part, 0u);
    EXPECT_EQ(rec.late_[0].command_status, 0u);
    EXPECT_EQ(rec.late_[0].message_id, str((*resp)["message_id"]));
  }
  smsc.sync();
  EXPECT_EQ(smsc.count("submit"), 1u);
  auto st = io.call([&] { return pool->status(); });
  EXPECT_EQ(st.sessions[0].state, session_state::bound);
}

TEST_F(fixture, a_bind_whose_submits_get_no_response_is_degraded_until_one_is_answered) {
  smsc_process smsc;
  auto b = make_bind("trx", smsc.port());
  b.session.smpp.response_timeout = 200ms;
  start({b});
  ASSERT_TRUE(wait_bound());
  smsc.command(json::object{{"cmd", "silent"}, {"on", true}});
  for (std::size_t i = 0; i < 3; ++i) {
    auto st = io.call([&] { return pool->status(); });
    ASSERT_EQ(st.health.size(), 1u);
    EXPECT_FALSE(st.health[0].degraded) << i;
    EXPECT_EQ(st.health[0].unanswered, i);
    submit(i, otp("Your code is 444444"));
    ASSERT_TRUE(res.wait_all(i + 1));
    EXPECT_EQ(res.at(i)->ec, errc::response_timeout);
  }
  auto st = io.call([&] { return pool->status(); });
  EXPECT_TRUE(st.health[0].degraded);
  EXPECT_EQ(st.health[0].unanswered, 3u);
  EXPECT_EQ(st.sessions[0].state, session_state::bound);  // still bound: only reported

  smsc.command(json::object{{"cmd", "silent"}, {"on", false}});
  submit(3, otp("Your code is 555555"));
  ASSERT_TRUE(res.wait_all(4));
  EXPECT_FALSE(res.at(3)->ec) << res.at(3)->ec.message();
  st = io.call([&] { return pool->status(); });
  EXPECT_FALSE(st.health[0].degraded);
  EXPECT_EQ(st.health[0].unanswered, 0u);
}

TEST_F(fixture, messages_move_to_another_bind_when_one_drops) {
  smsc_process smsc;
  auto a = make_bind("a", smsc.port());
  auto b = make_bind("b", smsc.port());
  a.session.smpp.window = b.session.smpp.window = 1;  // one written message per bind
  start({a, b});
  ASSERT_TRUE(wait_bound(2));
  // The SMSC closes the first session that sends a submit, without answering: that one
  // message has an unknown outcome; every other goes through a bind that is up.
  smsc.command({{"cmd", "drop_after"}, {"n", 1}, {"once", true}});
  constexpr std::size_t n = 10;
  for (std::size_t i = 0; i < n; ++i) submit(i, otp("Your code is " + std::to_string(400000 + i)));
  ASSERT_TRUE(res.wait_all(n));
  std::size_t ok = 0, unknown = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ok += !res.at(i)->ec;
    unknown += res.at(i)->outcome_unknown;
  }
  EXPECT_EQ(unknown, 1u);
  EXPECT_EQ(ok, n - 1);
  // Nothing was sent twice: the SMSC saw each message once (the dropped one included).
  smsc.sync();  // every event the SMSC printed so far has been read
  EXPECT_EQ(smsc.count("submit"), n);
}

TEST_F(fixture, a_silent_smsc_is_detected_as_dead_and_the_bind_reconnects) {
  smsc_process smsc;
  auto b = make_bind("trx", smsc.port());
  b.session.smpp.enquire_link_interval = 100ms;
  b.session.smpp.response_timeout = 200ms;
  start({b});
  ASSERT_TRUE(wait_bound());
  smsc.command({{"cmd", "silent"}, {"on", true}});
  ASSERT_TRUE(rec.wait([](recorder& r) {
    return std::any_of(r.states_.begin(), r.states_.end(), [](const recorder::state& s) {
      return !s.bound && s.ec == errc::enquire_link_timeout;
    });
  }));
  smsc.command({{"cmd", "silent"}, {"on", false}});
  ASSERT_TRUE(rec.wait([](recorder& r) { return r.bound_count() >= 2; }));
}

TEST_F(fixture, stop_unbinds_gracefully) {
  smsc_process smsc;
  start({make_bind("trx", smsc.port())});
  ASSERT_TRUE(wait_bound());
  TearDown();
  EXPECT_TRUE(smsc.wait_for_event("unbind", 5s));
}

TEST_F(fixture, reconfigure_keeps_an_unchanged_bind_and_retires_the_others) {
  smsc_process smsc;
  start({make_bind("a", smsc.port()), make_bind("b", smsc.port())});
  ASSERT_TRUE(wait_bound(2));
  // Messages in flight on both binds (the SMSC answers after 300 ms) when the binds change: "a"
  // stays as it is, "b" goes, "c" comes.
  smsc.command({{"cmd", "delay"}, {"ms", 300}});
  constexpr std::size_t n = 8;
  for (std::size_t i = 0; i < n; ++i) submit(i, otp("Your code is " + std::to_string(500000 + i)));
  pool_config next;
  next.binds = {make_bind("a", smsc.port()), make_bind("c", smsc.port())};
  const reconfigure_result r = io.call([&] { return pool->reconfigure(next); });
  EXPECT_EQ(r.kept, std::vector<std::string>{"a"});
  EXPECT_EQ(r.added, std::vector<std::string>{"c"});
  EXPECT_EQ(r.removed, std::vector<std::string>{"b"});
  EXPECT_TRUE(r.replaced.empty());
  ASSERT_TRUE(rec.wait([](recorder& x) { return x.bound_count("c") >= 1; }));
  // "b" unbound gracefully; every message was answered, none lost or sent twice.
  EXPECT_TRUE(smsc.wait_for_event("unbind", 5s));
  ASSERT_TRUE(res.wait_all(n));
  for (std::size_t i = 0; i < n; ++i)
    EXPECT_FALSE(res.at(i)->ec) << i << " " << res.at(i)->ec.message();
  smsc.sync();
  EXPECT_EQ(smsc.count("submit"), n);
  EXPECT_EQ(smsc.count("connect"), 3u) << "\"a\" reconnected";
  EXPECT_EQ(rec.bound_now("a"), 1u);
  // A changed bind is replaced: its old session unbinds, a new one binds.
  next.binds[1].session.smpp.window = 5;
  const reconfigure_result r2 = io.call([&] { return pool->reconfigure(next); });
  EXPECT_EQ(r2.replaced, std::vector<std::string>{"c"});
  ASSERT_TRUE(rec.wait([](recorder& x) { return x.bound_count("c") >= 2; }));
}

TEST_F(fixture, a_drained_bind_stays_down_until_enabled) {
  smsc_process smsc;
  start({make_bind("a", smsc.port()), make_bind("b", smsc.port())});
  ASSERT_TRUE(wait_bound(2));
  EXPECT_TRUE(io.call([&] { return pool->drain("a"); }));
  EXPECT_FALSE(io.call([&] { return pool->drain("nope"); }));
  EXPECT_TRUE(smsc.wait_for_event("unbind", 5s));
  // With a 50 ms reconnect delay, a bind that came back by itself would have done so long
  // before these ten messages are through: all go over "b".
  constexpr std::size_t n = 10;
  for (std::size_t i = 0; i < n; ++i) submit(i, otp("Your code is " + std::to_string(600000 + i)));
  ASSERT_TRUE(res.wait_all(n));
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(res.at(i)->bind, "b");
  const pool_status st = io.call([&] { return pool->status(); });
  EXPECT_EQ(st.bound_transmitters, 1u);
  EXPECT_TRUE(st.sessions[0].paused);
  EXPECT_EQ(rec.bound_now("a"), 1u);
  EXPECT_TRUE(io.call([&] { return pool->enable("a"); }));
  ASSERT_TRUE(rec.wait([](recorder& x) { return x.bound_count("a") >= 2; }));
  EXPECT_FALSE(io.call([&] { return pool->status(); }).sessions[0].paused);
}

}  // namespace
}  // namespace otpd::smpp

namespace otpd::smpp {
namespace {

// Several nodes (docs/scale-out.md): a pool whose binds wait for their leases.
struct leased_fixture : fixture {
  void start_leased(std::vector<bind_config> binds) {
    pool_config cfg;
    cfg.name = "carrier";
    cfg.binds = std::move(binds);
    pool = std::make_unique<bind_pool>(io.ioc().get_executor(), cfg, &rec);
    io.call([&] {
      pool->require_leases();
      pool->set_lease("a", bind_lease::held);
      pool->start();
      return 0;
    });
  }
  bool set_lease(std::string_view bind, bind_lease l) {
    return io.call([&] { return pool->set_lease(bind, l); });
  }
};

TEST_F(leased_fixture, a_bind_runs_only_while_this_node_holds_its_lease) {
  smsc_process smsc;
  start_leased({make_bind("a", smsc.port()), make_bind("b", smsc.port())});
  ASSERT_TRUE(wait_bound(1));
  EXPECT_EQ(rec.bound_now("a"), 1u);
  pool_status st = io.call([&] { return pool->status(); });
  EXPECT_EQ(st.health[1].lease, bind_lease::free);
  EXPECT_NE(st.sessions[1].state, session_state::bound);
  // "b" connects once its lease is held, not before: one connection so far.
  smsc.sync();
  EXPECT_EQ(smsc.count("connect"), 1u);
  EXPECT_TRUE(set_lease("b", bind_lease::held));
  ASSERT_TRUE(rec.wait([](recorder& x) { return x.bound_count("b") >= 1; }));
  // Lost to another node: "a" unbinds gracefully (unbind, then close) and stays down.
  EXPECT_TRUE(set_lease("a", bind_lease::elsewhere));
  EXPECT_TRUE(smsc.wait_for_event("unbind", 5s));
  EXPECT_TRUE(smsc.wait_for_event("close", 5s));
  constexpr std::size_t n = 5;
  for (std::size_t i = 0; i < n; ++i) submit(i, otp("Your code is " + std::to_string(700000 + i)));
  ASSERT_TRUE(res.wait_all(n));
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(res.at(i)->bind, "b");
  st = io.call([&] { return pool->status(); });
  EXPECT_EQ(st.health[0].lease, bind_lease::elsewhere);
  EXPECT_FALSE(st.sessions[0].paused) << "not an operator's drain";
  EXPECT_EQ(st.bound_transmitters, 1u);
  EXPECT_FALSE(set_lease("nope", bind_lease::held));
}

TEST_F(leased_fixture, a_drained_bind_needs_its_lease_and_an_enable_to_run_again) {
  smsc_process smsc;
  start_leased({make_bind("a", smsc.port()), make_bind("b", smsc.port())});
  ASSERT_TRUE(wait_bound(1));
  EXPECT_TRUE(io.call([&] { return pool->drain("a"); }));
  EXPECT_TRUE(smsc.wait_for_event("unbind", 5s));
  EXPECT_TRUE(set_lease("a", bind_lease::free));
  EXPECT_TRUE(io.call([&] { return pool->enable("a"); }));  // still not leased: stays down
  // A barrier: "b" binds after the enable; "a" has not connected again meanwhile.
  EXPECT_TRUE(set_lease("b", bind_lease::held));
  ASSERT_TRUE(rec.wait([](recorder& x) { return x.bound_count("b") >= 1; }));
  smsc.sync();
  EXPECT_EQ(smsc.count("connect"), 2u);
  EXPECT_EQ(rec.bound_now("a"), 1u);
  // Leased again while drained: still down until enabled.
  EXPECT_TRUE(io.call([&] { return pool->drain("a"); }));
  EXPECT_TRUE(set_lease("a", bind_lease::held));
  EXPECT_TRUE(io.call([&] { return pool->status(); }).sessions[0].paused);
  EXPECT_TRUE(io.call([&] { return pool->enable("a"); }));
  ASSERT_TRUE(rec.wait([](recorder& x) { return x.bound_count("a") >= 2; }));
  EXPECT_FALSE(io.call([&] { return pool->status(); }).sessions[0].paused);
}

}  // namespace
}  // namespace otpd::smpp
