#include "daemon/metrics/registry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace otpd::metrics {
namespace {

// Every line of a scrape is a comment (HELP/TYPE) or a sample; see the text format 0.0.4.
void expect_well_formed(const std::string& text) {
  static const std::regex help(R"(# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*)");
  static const std::regex type(R"(# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram))");
  static const std::regex sample(
      R"re([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\\\|\\"|\\n)*",?)*\})? [-+0-9.eEInfNa]+)re");
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_TRUE(std::regex_match(line, help) || std::regex_match(line, type) ||
                std::regex_match(line, sample))
        << line;
  }
}

TEST(metrics, counter_exposition) {
  registry r;
  auto& reqs = r.add_counter("otpd_http_requests_total", "HTTP requests.", {"route", "status"});
  auto ok = reqs.with({"/healthz", "200"});
  ok.inc();
  ok.inc(2);
  reqs.with({"/v1/verifications", "201"}).inc();
  EXPECT_EQ(ok.value(), 3u);
  const std::string text = r.expose();
  EXPECT_EQ(text,
            "# HELP otpd_http_requests_total HTTP requests.\n"
            "# TYPE otpd_http_requests_total counter\n"
            "otpd_http_requests_total{route=\"/healthz\",status=\"200\"} 3\n"
            "otpd_http_requests_total{route=\"/v1/verifications\",status=\"201\"} 1\n");
  expect_well_formed(text);
}

TEST(metrics, escaping_of_help_and_label_values) {
  registry r;
  r.add_gauge("otpd_weird", "line one\nback\\slash \"quotes\" stay", {"v"})
      .with({"a\"b\\c\nd"})
      .set(1.5);
  const std::string text = r.expose();
  EXPECT_EQ(text,
            "# HELP otpd_weird line one\\nback\\\\slash \"quotes\" stay\n"
            "# TYPE otpd_weird gauge\n"
            "otpd_weird{v=\"a\\\"b\\\\c\\nd\"} 1.5\n");
  expect_well_formed(text);
}

TEST(metrics, gauge_values) {
  registry r;
  auto& f = r.add_gauge("otpd_g", "g", {"k"});
  f.with({"a"}).set(-2);
  f.with({"b"}).set(std::numeric_limits<double>::infinity());
  f.with({"c"}).set(std::nan(""));
  auto d = f.with({"d"});
  d.inc();
  d.inc();
  d.dec();
  d.add(0.25);
  EXPECT_EQ(
      r.expose(),
      "# HELP otpd_g g\n# TYPE otpd_g gauge\n"
      "otpd_g{k=\"a\"} -2\notpd_g{k=\"b\"} +Inf\notpd_g{k=\"c\"} NaN\notpd_g{k=\"d\"} 1.25\n");
}

TEST(metrics, histogram_buckets_are_cumulative) {
  registry r;
  auto h =
      r.add_histogram("otpd_latency_seconds", "Latency.", {"route"}, {0.25, 0.5, 1}).with({"/x"});
  h.observe(0.125);
  h.observe(0.25);  // "le" is inclusive
  h.observe(0.75);
  h.observe(3);
  EXPECT_EQ(h.count(), 4u);
  const std::string text = r.expose();
  EXPECT_EQ(text,
            "# HELP otpd_latency_seconds Latency.\n"
            "# TYPE otpd_latency_seconds histogram\n"
            "otpd_latency_seconds_bucket{route=\"/x\",le=\"0.25\"} 2\n"
            "otpd_latency_seconds_bucket{route=\"/x\",le=\"0.5\"} 2\n"
            "otpd_latency_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
            "otpd_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
            "otpd_latency_seconds_sum{route=\"/x\"} 4.125\n"
            "otpd_latency_seconds_count{route=\"/x\"} 4\n");
  expect_well_formed(text);
}

TEST(metrics, unlabelled_series) {
  registry r;
  r.add_counter("otpd_c_total", "c").with().inc(7);
  auto h = r.add_histogram("otpd_h", "h", {}, {1}).with();
  h.observe(2);
  EXPECT_EQ(
      r.expose(),
      "# HELP otpd_c_total c\n# TYPE otpd_c_total counter\notpd_c_total 7\n"
      "# HELP otpd_h h\n# TYPE otpd_h histogram\n"
      "otpd_h_bucket{le=\"1\"} 0\notpd_h_bucket{le=\"+Inf\"} 1\notpd_h_sum 2\notpd_h_count 1\n");
}

TEST(metrics, registration_errors) {
  registry r;
  EXPECT_THROW(r.add_counter("9bad", "x"), std::invalid_argument);
  EXPECT_THROW(r.add_counter("bad-name", "x"), std::invalid_argument);
  EXPECT_THROW(r.add_counter("ok", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.add_counter("ok", "x", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(r.add_histogram("h", "x", {"le"}), std::invalid_argument);
  EXPECT_THROW(r.add_histogram("h2", "x", {}, {1, 1}), std::invalid_argument);
  EXPECT_THROW(r.add_histogram("h3", "x", {}, {2, 1}), std::invalid_argument);

  auto& a = r.add_counter("same_total", "x", {"k"});
  EXPECT_EQ(&a, &r.add_counter("same_total", "x", {"k"}));
  EXPECT_THROW(r.add_counter("same_total", "x", {"other"}), std::invalid_argument);
  EXPECT_THROW(r.add_gauge("same_total", "x", {"k"}), std::invalid_argument);
  EXPECT_THROW(a.with({"1", "2"}), std::invalid_argument);
  EXPECT_THROW(a.with(), std::invalid_argument);
}

TEST(metrics, default_handles_are_no_ops) {
  counter c;
  gauge g;
  histogram h;
  c.inc();
  g.set(3);
  h.observe(1);
  EXPECT_EQ(c.value(), 0u);
  EXPECT_EQ(g.value(), 0.0);
  EXPECT_EQ(h.count(), 0u);
}

TEST(metrics, handles_resolve_to_the_same_series) {
  registry r;
  auto& f = r.add_counter("x_total", "x", {"a", "b"});
  auto h1 = f.with({"1", "2"});
  auto h2 = f.with({"1", "2"});
  h1.inc();
  h2.inc();
  EXPECT_EQ(h1.value(), 2u);
  EXPECT_EQ(f.with({"1", "3"}).value(), 0u);
}

TEST(metrics, concurrent_updates_are_exact) {
  registry r;
  auto& f = r.add_counter("x_total", "x", {"t"});
  auto& hf = r.add_histogram("y", "y", {}, {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto shared = f.with({"shared"});
      auto own = f.with({std::to_string(t)});
      auto h = hf.with();
      for (int i = 0; i < 10000; ++i) {
        shared.inc();
        own.inc();
        h.observe(1.0);
        if (i % 1000 == 0) (void)r.expose();  // scrapes while counting
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(f.with({"shared"}).value(), 40000u);
  EXPECT_EQ(f.with({"2"}).value(), 10000u);
  EXPECT_EQ(hf.with().count(), 40000u);
  EXPECT_DOUBLE_EQ(hf.with().sum(), 40000.0);
}

TEST(metrics, collect_hooks_run_before_exposition) {
  registry r;
  auto g = r.add_gauge("otpd_binds_up", "b").with();
  int calls = 0;
  const auto id = r.on_collect([&] { g.set(++calls); });
  EXPECT_NE(r.expose().find("otpd_binds_up 1\n"), std::string::npos);
  EXPECT_NE(r.expose().find("otpd_binds_up 2\n"), std::string::npos);
  r.remove_hook(id);
  EXPECT_NE(r.expose().find("otpd_binds_up 2\n"), std::string::npos);
  EXPECT_EQ(calls, 2);
}

TEST(metrics, value_formatting) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(0.0005), "0.0005");
  EXPECT_EQ(format_value(-1.5), "-1.5");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  const auto b = exponential_buckets(0.001, 10, 3);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_DOUBLE_EQ(b[0], 0.001);
  EXPECT_DOUBLE_EQ(b[1], 0.01);
  EXPECT_DOUBLE_EQ(b[2], 0.1);
}

}  // namespace
}  // namespace otpd::metrics
