// A carrier's only bind goes down and comes back: requests made meanwhile wait for it (the
// carrier's reconnect_queue) and get 201 with their SMS sent; past the queue's size or its wait
// they get 503 with Retry-After, without burning a limit or sending an SMS. /readyz names the
// carrier that is down or degraded and its bind's last error.
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string number(int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0913%06d", n);
  return buf;
}
std::string dest(int n) { return "84" + number(n).substr(1); }

// Polls `probe` (an HTTP read of otpd's state) until it holds; false at the deadline.
bool poll_until(const std::function<bool()>& probe, std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (steady::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(20ms);  // polling interval
  }
  return false;
}

// Submits the SMSC took for `to` (E.164 digits without '+') so far.
std::size_t submits_to(smsc_process& smsc, const std::string& to) {
  smsc.sync();
  std::size_t n = 0;
  for (const auto& ev : smsc.events()) n += str(ev, "event") == "submit" && dest_of(ev) == to;
  return n;
}

// The carrier `name` in a /readyz body (empty when absent).
json::object carrier_in(const http_response& r, std::string_view name) {
  const auto* list = r.obj().if_contains("carriers");
  if (!list || !list->is_array()) return {};
  for (const auto& c : list->get_array()) {
    if (c.is_object() && str(c.get_object(), "name") == name) return c.get_object();
  }
  return {};
}

// The first bind's error of carrier `name` in a /readyz body.
std::string bind_error(const http_response& r, std::string_view name) {
  const json::object c = carrier_in(r, name);
  const auto* binds = c.if_contains("binds");
  if (!binds || !binds->is_array() || binds->get_array().empty()) return {};
  return str(binds->get_array()[0].as_object(), "error");
}

// Creates a verification for each number on its own connection at once; their statuses.
std::vector<int> create_all(otpd_process& o, const std::vector<int>& numbers) {
  std::vector<int> statuses(numbers.size(), 0);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    threads.emplace_back([&, i] {
      statuses[i] = o.post("/v1/verifications", json::object{{"to", number(numbers[i])}}).status;
    });
  }
  for (auto& t : threads) t.join();
  return statuses;
}

struct reconnect_world {
  reconnect_world() : smsc(smsc_flags()) {
    otpd_options opts;
    carrier_spec vn = vietnam_carrier(smsc.port());
    vn.extra_yaml = "reconnect_queue: {max_wait: 5s, size: 5}";
    opts.carriers = {vn};
    // One SMS per number: a request answered 503 that counted would make the next one 429.
    opts.rate_limits["per_number"] = "[{max: 1, window: 10m}]";
    otpd = std::make_unique<otpd_process>(opts, dir.path());
    if (!otpd->wait_ready()) {
      throw std::runtime_error("otpd did not become ready; its output:\n" + otpd->output());
    }
  }
  // Every bind attempt is refused from now on, and the bind is dropped; returns once otpd has
  // been refused and /readyz says so.
  void take_down() {
    const std::size_t from = smsc.size();
    smsc.command(json::object{{"cmd", "refuse_binds"}, {"on", true}});
    smsc.command(json::object{{"cmd", "close_all"}});
    ASSERT_TRUE(smsc.wait_for_event("bind_rejected", 10s, from));
    ASSERT_TRUE(poll_until(
        [&] {
          const http_response r = otpd->ops_get("/readyz");
          return r.status == 503 && bind_error(r, "vn").find("ESME_RBINDFAIL") != std::string::npos;
        },
        10s))
        << otpd->ops_get("/readyz").body;
  }
  bool waiting_is(int n) {
    return poll_until(
        [&] {
          return metric(otpd->ops_get("/metrics").body,
                        R"(otpd_sms_waiting_for_bind{carrier="vn"})") == n;
        },
        10s);
  }

  temp_dir dir;
  smsc_process smsc;
  std::unique_ptr<otpd_process> otpd;
};

TEST(e2e_reconnect, requests_during_a_reconnect_wait_for_the_bind_and_get_their_sms) {
  reconnect_world w;
  otpd_process& o = *w.otpd;

  // The connection drops and the bind comes back by itself (after 0.5 to 1 s): requests made
  // once otpd has seen it go are all answered 201 and their SMS arrive.
  w.smsc.command(json::object{{"cmd", "close_all"}});
  ASSERT_TRUE(poll_until([&] { return o.ops_get("/readyz").status == 503; }, 5s));
  const std::vector<int> first = {1, 2, 3, 4, 5};
  for (int status : create_all(o, first)) EXPECT_EQ(status, 201);
  ASSERT_TRUE(w.smsc.wait_for(
      [&](const json::object&) {
        std::size_t n = 0;
        for (const auto& ev : w.smsc.events()) n += str(ev, "event") == "submit";
        return n >= first.size();
      },
      15s));
  for (int n : first) EXPECT_EQ(submits_to(w.smsc, dest(n)), 1u) << n;

  // The bind stays down: five requests wait (the queue's size), a sixth is refused at once.
  ASSERT_NO_FATAL_FAILURE(w.take_down());
  const std::vector<int> second = {11, 12, 13, 14, 15};
  std::vector<int> statuses;
  std::jthread waiting([&] { statuses = create_all(o, second); });  // joined on any exit
  ASSERT_TRUE(w.waiting_is(5)) << o.ops_get("/metrics").body;
  const auto t0 = steady::now();
  const http_response full = o.post("/v1/verifications", json::object{{"to", number(16)}});
  EXPECT_EQ(full.status, 503) << full.body;
  EXPECT_EQ(full.problem_slug(), "no_carrier_available");
  EXPECT_EQ(full.header("retry-after").value_or(""), "5");
  EXPECT_LT(steady::now() - t0, 2s);  // not waited for

  // The bind comes back: the five waiting requests are answered 201 and their SMS go out.
  w.smsc.command(json::object{{"cmd", "refuse_binds"}, {"on", false}});
  waiting.join();
  ASSERT_EQ(statuses.size(), second.size());
  for (int status : statuses) EXPECT_EQ(status, 201);
  ASSERT_TRUE(o.wait_ready(10s));
  for (int n : second) {
    ASSERT_TRUE(w.smsc.wait_for(
        [&](const json::object& ev) {
          return str(ev, "event") == "submit" && dest_of(ev) == dest(n);
        },
        10s))
        << n;
  }

  // Down for longer than the wait: 503 with Retry-After after 5 s, no SMS, no limit counted.
  ASSERT_NO_FATAL_FAILURE(w.take_down());
  const auto t1 = steady::now();
  const http_response late = o.post("/v1/verifications", json::object{{"to", number(17)}});
  EXPECT_EQ(late.status, 503) << late.body;
  EXPECT_EQ(late.problem_slug(), "no_carrier_available");
  EXPECT_EQ(late.header("retry-after").value_or(""), "5");
  EXPECT_EQ(num(late.obj(), "retry_after"), 5);
  EXPECT_GE(steady::now() - t1, 4500ms);
  const std::string m = o.ops_get("/metrics").body;
  EXPECT_GE(metric(m, R"(otpd_sms_bind_waits_total{carrier="vn",outcome="ready"})"), 5);
  EXPECT_EQ(metric(m, R"(otpd_sms_bind_waits_total{carrier="vn",outcome="queue_full"})"), 1);
  EXPECT_EQ(metric(m, R"(otpd_sms_bind_waits_total{carrier="vn",outcome="timed_out"})"), 1);

  // Back up: the numbers refused with 503 were neither sent to nor counted against.
  w.smsc.command(json::object{{"cmd", "refuse_binds"}, {"on", false}});
  ASSERT_TRUE(o.wait_ready(10s));
  for (int n : {16, 17}) {
    EXPECT_EQ(submits_to(w.smsc, dest(n)), 0u) << n;
    const std::size_t from = w.smsc.size();
    create(o, json::object{{"to", number(n)}});
    ASSERT_TRUE(w.smsc.wait_for(
        [&](const json::object& ev) {
          return str(ev, "event") == "submit" && dest_of(ev) == dest(n);
        },
        10s, from))
        << n;
    EXPECT_EQ(submits_to(w.smsc, dest(n)), 1u) << n;
  }
}

TEST(e2e_reconnect, sms_queued_behind_the_window_when_the_bind_drops_go_out_after_it) {
  // A window of one and a slow SMSC: the first SMS is in flight, the next three wait in otpd.
  smsc_process smsc(smsc_flags({"--submit-delay-ms", "800"}));
  otpd_options opts;
  carrier_spec vn = vietnam_carrier(smsc.port());
  vn.binds[0].extra_yaml = "window: 1";
  opts.carriers = {vn};
  temp_dir dir;
  otpd_process o(opts, dir.path());
  ASSERT_TRUE(o.wait_ready());
  std::vector<std::string> ids;
  for (int n = 21; n <= 24; ++n) ids.push_back(create(o, json::object{{"to", number(n)}}));
  ASSERT_TRUE(
      smsc.wait_for([](const json::object& ev) { return str(ev, "event") == "submit"; }, 10s));
  smsc.sync();
  ASSERT_EQ(smsc.count("submit"), 1u);  // the others wait for window room

  // The connection drops: the one in flight has an unknown outcome and is not sent again; the
  // three never written wait for the bind and go out once it is back.
  smsc.command(json::object{{"cmd", "close_all"}});
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const json::object v = o.poll_verification(
        ids[i],
        [](const json::object& b) {
          return attempt_status_is(b, 0, "submitted") || attempt_status_is(b, 0, "delivered") ||
                 attempt_status_is(b, 0, "failed");
        },
        20s);
    if (i == 0) {
      EXPECT_TRUE(attempt(v, 0).contains("outcome_unknown")) << json::serialize(v);
    } else {
      EXPECT_FALSE(attempt_status_is(v, 0, "failed")) << json::serialize(v);
      EXPECT_FALSE(attempt(v, 0).contains("outcome_unknown")) << json::serialize(v);
    }
  }
  for (int n = 21; n <= 24; ++n) EXPECT_EQ(submits_to(smsc, dest(n)), 1u) << n;
}

TEST(e2e_reconnect, readyz_names_the_carrier_that_is_down_and_why) {
  // "vn" binds; "bad" has the wrong password and never does.
  smsc_process good(smsc_flags());
  smsc_process other({"--account", "otpd:another"});
  otpd_options opts;
  opts.carriers = {vietnam_carrier(good.port()),
                   carrier_spec{"bad", {"1"}, {bind_spec{"bad-trx", other.port()}}, {}, {}}};
  temp_dir dir;
  otpd_process o(opts, dir.path());
  ASSERT_TRUE(other.wait_for_event("bind_rejected", 10s));
  ASSERT_TRUE(o.wait_bound("vn", "vn-trx"));
  http_response r;
  ASSERT_TRUE(poll_until(
      [&] {
        r = o.ops_get("/readyz");
        return bind_error(r, "bad").find("ESME_RINVPASWD") != std::string::npos;
      },
      10s))
      << r.body;
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.problem_slug(), "not_ready");
  EXPECT_EQ(str(carrier_in(r, "bad"), "status"), "down");
  EXPECT_EQ(str(carrier_in(r, "vn"), "status"), "ready");
  EXPECT_NE(str(r.obj(), "detail").find("bad down (bad-trx: ESME_RINVPASWD"), std::string::npos)
      << r.body;
  EXPECT_EQ(str(r.obj(), "detail").find("vn"), std::string::npos) << r.body;

  // Numbers of the working carrier are still served.
  create(o, json::object{{"to", "0912 345 678"}});
}

TEST(e2e_reconnect, a_bind_whose_submits_get_no_response_is_degraded) {
  smsc_process smsc(smsc_flags());
  otpd_options opts;
  carrier_spec vn = vietnam_carrier(smsc.port());
  vn.binds[0].timeouts = "{connect: 2s, bind: 5s, response: 300ms, enquire_link: 0s}";
  opts.carriers = {vn};
  temp_dir dir;
  otpd_process o(opts, dir.path());
  ASSERT_TRUE(o.wait_ready());
  smsc.command(json::object{{"cmd", "silent"}, {"on", true}});
  for (int n = 1; n <= 3; ++n) {
    const std::string id = create(o, json::object{{"to", number(n)}});
    const json::object v = o.poll_verification(id, [](const json::object& b) {
      return attempt(b, 0).if_contains("outcome_unknown") &&
             attempt(b, 0).at("outcome_unknown").as_bool();
    });
    ASSERT_TRUE(attempt(v, 0).at("outcome_unknown").as_bool()) << json::serialize(v);
  }
  // Still in service (its traffic is what shows the SMSC answering again), but not "ready".
  const http_response r = o.ops_get("/readyz");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str(r.obj(), "status"), "degraded") << r.body;
  EXPECT_EQ(str(carrier_in(r, "vn"), "status"), "degraded") << r.body;
  EXPECT_NE(bind_error(r, "vn").find("3 submits in a row got no response"), std::string::npos)
      << r.body;
  EXPECT_EQ(
      metric(o.ops_get("/metrics").body, R"(otpd_smpp_bind_degraded{carrier="vn",bind="vn-trx"})"),
      1);

  // Answered again: ready.
  smsc.command(json::object{{"cmd", "silent"}, {"on", false}});
  const std::string id = create(o, json::object{{"to", number(4)}});
  const json::object v = o.poll_verification(id, [](const json::object& b) {
    return attempt_status_is(b, 0, "submitted") || attempt_status_is(b, 0, "delivered");
  });
  EXPECT_FALSE(attempt(v, 0).contains("outcome_unknown")) << json::serialize(v);
  const http_response again = o.ops_get("/readyz");
  EXPECT_EQ(str(again.obj(), "status"), "ready") << again.body;
  EXPECT_EQ(str(carrier_in(again, "vn"), "status"), "ready") << again.body;
}

}  // namespace
}  // namespace otpd::test::e2e
