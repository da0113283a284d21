#include "daemon/engine/message.hpp"

#include <chrono>

#include <gtest/gtest.h>

namespace otpd::engine {
namespace {

using namespace std::chrono_literals;

const service::sys_time t0{std::chrono::seconds{1'700'000'000}};

TEST(remaining_validity, whole_seconds_rounded_down_never_negative) {
  service::verification v;
  v.expires_at = t0 + 300s;
  EXPECT_EQ(remaining_validity(v, t0), 300s);
  EXPECT_EQ(remaining_validity(v, t0 + 100'700ms), 199s);
  EXPECT_EQ(remaining_validity(v, t0 + 299'500ms), 0s);
  EXPECT_EQ(remaining_validity(v, t0 + 300s), 0s);
  EXPECT_EQ(remaining_validity(v, t0 + 900s), 0s);
}

TEST(validity_minutes, rounded_down_at_least_one_while_time_is_left) {
  EXPECT_EQ(validity_minutes(300s), 5);
  EXPECT_EQ(validity_minutes(299s), 5);
  EXPECT_EQ(validity_minutes(295s), 5);
  EXPECT_EQ(validity_minutes(294s), 4);
  EXPECT_EQ(validity_minutes(115s), 2);
  EXPECT_EQ(validity_minutes(114s), 1);
  EXPECT_EQ(validity_minutes(61s), 1);
  EXPECT_EQ(validity_minutes(60s), 1);
  EXPECT_EQ(validity_minutes(59s), 1);
  EXPECT_EQ(validity_minutes(1s), 1);
  EXPECT_EQ(validity_minutes(0s), 0);
  EXPECT_EQ(validity_minutes(600s), 10);
}

TEST(render_sms, default_templates) {
  const config::templates t;
  auto r = render_sms(t, "vi", "vi", "482917", 300s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "Ma xac thuc cua ban la 482917. Hieu luc 5 phut.");
  EXPECT_EQ(r->locale, "vi");
  r = render_sms(t, "en", "vi", "048291", 120s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "Your verification code is 048291. It expires in 2 minutes.");
  EXPECT_EQ(r->locale, "en");
}

TEST(render_sms, locale_fallbacks) {
  const config::templates t;
  EXPECT_EQ(pick_locale(t, "en", "vi"), "en");
  EXPECT_EQ(pick_locale(t, "EN", "vi"), "en");
  EXPECT_EQ(pick_locale(t, "en-US", "vi"), "en");
  EXPECT_EQ(pick_locale(t, "en_GB", "vi"), "en");
  EXPECT_EQ(pick_locale(t, "vi-VN", "en"), "vi");
  EXPECT_EQ(pick_locale(t, "fr", "vi"), "vi");
  EXPECT_EQ(pick_locale(t, "fr-FR", "en"), "en");
  EXPECT_EQ(pick_locale(t, "", "en"), "en");
  EXPECT_EQ(pick_locale(t, "-", "en"), "en");
  EXPECT_EQ(pick_locale(t, "fr", "de"), std::nullopt);
  EXPECT_FALSE(render_sms(t, "fr", "de", "482917", 300s).has_value());
}

TEST(render_sms, regional_template_wins_over_language) {
  config::templates t;
  t.sms["en-GB"] = "Code {code}";
  EXPECT_EQ(pick_locale(t, "en-GB", "vi"), "en-GB");
  EXPECT_EQ(pick_locale(t, "en_gb", "vi"), "en-GB");
  EXPECT_EQ(pick_locale(t, "en-US", "vi"), "en");
}

TEST(render_sms, every_placeholder_replaced_others_kept) {
  config::templates t;
  t.sms = {{"x", "{code} {minutes} {code}{other} {code"}};
  const auto r = render_sms(t, "x", "x", "1234", 600s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "1234 10 1234{other} {code");
}

}  // namespace
}  // namespace otpd::engine
