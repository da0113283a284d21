#include "daemon/log/logger.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>

#include "config/config.hpp"

namespace otpd::log {
namespace {

using namespace std::chrono_literals;

struct captured {
  std::mutex mutex;
  std::vector<std::string> lines;
  sink make() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
    };
  }
};

TEST(logger, journal_line_has_priority_prefix_and_fields) {
  captured out;
  logger l({.format = format::journal, .min_level = level::debug}, out.make());
  l.info("bind_up", {{"carrier", "viettel"}, {"window", 10}, {"tls", true}, {"ratio", 0.5}});
  l.error("bind_down", {{"reason", "connection refused"}});
  l.debug("tick");
  ASSERT_EQ(out.lines.size(), 3u);
  EXPECT_EQ(out.lines[0], "<6>bind_up carrier=viettel window=10 tls=true ratio=0.5\n");
  EXPECT_EQ(out.lines[1], "<3>bind_down reason=\"connection refused\"\n");
  EXPECT_EQ(out.lines[2], "<7>tick\n");
}

TEST(logger, level_filter) {
  captured out;
  logger l({.format = format::journal, .min_level = level::warning}, out.make());
  l.info("dropped");
  l.notice("dropped");
  l.warning("kept");
  EXPECT_FALSE(l.enabled(level::info));
  l.set_level(level::info);
  l.info("kept_too");
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_EQ(out.lines[0], "<4>kept\n");
  EXPECT_EQ(out.lines[1], "<6>kept_too\n");
}

TEST(logger, values_cannot_inject_lines) {
  captured out;
  logger l({}, out.make());
  l.info("x", {{"ua", "curl\n<3>fake_event admin=1"}, {"q", "say \"hi\"\\"}, {"bad", "\x01\xff"}});
  ASSERT_EQ(out.lines.size(), 1u);
  const std::string& line = out.lines[0];
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(line,
            "<6>x ua=\"curl\\n<3>fake_event admin=1\" q=\"say \\\"hi\\\"\\\\\" "
            "bad=\"\\x01\\xff\"\n");
}

TEST(logger, masked_number_always_masks) {
  captured out;
  logger l({}, out.make());
  l.info("sms_sent", {{"number", masked_number{"+84901234567"}}, {"id", "v_1"}});
  // A string under a key that names a number is masked even without masked_number.
  l.info("sms_sent", {{"to", "+84901234567"}, {"msisdn", std::string("+84912345678")}});
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_EQ(out.lines[0], "<6>sms_sent number=+8490****567 id=v_1\n");
  EXPECT_EQ(out.lines[1], "<6>sms_sent to=+8490****567 msisdn=+8491****678\n");
  for (const auto& line : out.lines) {
    EXPECT_EQ(line.find("1234"), std::string::npos) << line;
    EXPECT_EQ(line.find("2345"), std::string::npos) << line;
  }
}

TEST(logger, secrets_are_redacted_whatever_their_type) {
  captured out;
  logger l({.format = format::journal, .min_level = level::debug}, out.make());
  const std::string secret = "sk_live_5f2b8c0a9d";
  l.info("request", {{"authorization", "Bearer " + secret},
                     {"Authorization", secret},
                     {"code", 482917},
                     {"body", R"({"code":"482917"})"},
                     {"webhook_secret", secret},
                     {"api_key", "backend-1"}});
  logger j({.format = format::json, .min_level = level::debug}, out.make());
  j.warning("request", {{"authorization", "Bearer " + secret}, {"otp", "482917"}});
  ASSERT_EQ(out.lines.size(), 2u);
  for (const auto& line : out.lines) {
    EXPECT_EQ(line.find(secret), std::string::npos) << line;
    EXPECT_EQ(line.find("482917"), std::string::npos) << line;
  }
  EXPECT_NE(out.lines[0].find("authorization=[redacted]"), std::string::npos);
  EXPECT_NE(out.lines[0].find("api_key=backend-1"), std::string::npos);  // a name, not a secret
}

TEST(logger, json_lines_are_valid_json) {
  captured out;
  logger l({.format = format::json}, out.make());
  l.notice("verification_created", {{"id", "v_1"},
                                    {"to", masked_number{"+84901234567"}},
                                    {"checks", 0},
                                    {"latency", duration_ms{1234567ns}},
                                    {"weird", "tab\there \"q\" \xc3\xa9 \xff"}});
  ASSERT_EQ(out.lines.size(), 1u);
  const auto v = boost::json::parse(out.lines[0]);
  const auto& o = v.as_object();
  EXPECT_EQ(o.at("level").as_string(), "notice");
  EXPECT_EQ(o.at("event").as_string(), "verification_created");
  EXPECT_EQ(o.at("to").as_string(), "+8490****567");
  EXPECT_EQ(o.at("checks").as_int64(), 0);
  EXPECT_DOUBLE_EQ(o.at("latency").as_double(), 1.234);
  EXPECT_EQ(o.at("weird").as_string(), "tab\there \"q\" \xc3\xa9 \xef\xbf\xbd");
  EXPECT_EQ(o.at("ts").as_string().size(), std::string_view("2024-01-01T00:00:00.000Z").size());
}

TEST(logger, durations_in_milliseconds) {
  captured out;
  logger l({}, out.make());
  l.info("t", {{"a", duration_ms{12ms}}, {"b", duration_ms{1500us}}, {"c", duration_ms{7us}}});
  EXPECT_EQ(out.lines.at(0), "<6>t a=12.000 b=1.500 c=0.007\n");
}

TEST(logger, options_from_config) {
  config::logging cfg;
  cfg.format = config::log_format::json;
  cfg.level = config::log_level::warning;
  const auto o = options_from(cfg);
  EXPECT_EQ(o.format, format::json);
  EXPECT_EQ(o.min_level, level::warning);
}

TEST(logger, concurrent_lines_stay_whole) {
  captured out;
  logger l({}, out.make());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&l, t] {
      for (int i = 0; i < 500; ++i) l.info("tick", {{"thread", t}, {"i", i}});
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(out.lines.size(), 2000u);
  for (const auto& line : out.lines) {
    ASSERT_TRUE(line.starts_with("<6>tick thread=")) << line;
    ASSERT_EQ(line.find('\n'), line.size() - 1);
  }
}

}  // namespace
}  // namespace otpd::log
