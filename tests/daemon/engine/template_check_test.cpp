// check_templates: every template, rendered with the worst-case code and {minutes}, against the
// text settings of every sending bind of every carrier; errors at the template's position.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "daemon/engine/template_check.hpp"

namespace otpd::engine {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string good_hash = "db6bcf6a2a36ee93dafa7dfcdc40973da39f2e2843e4c6f76e08aefc767b0caa";

// A valid file: `policy` and `templates` as given, carrier vn with `text` and `binds`.
std::string yaml(std::string_view templates, std::string_view text,
                 std::string_view more_binds = {}, std::string_view policy = {}) {
  return "api_keys:\n  - name: backend\n    sha256: " + good_hash +
         "\nsecrets:\n  code_mac_key: 0123456789abcdef0123456789abcdef\n" + std::string(policy) +
         std::string(templates) +
         "routing:\n"
         "  carriers:\n"
         "    - name: vn\n"
         "      prefixes: [\"84\"]\n"
         "      sender: {addr: BRAND}\n"
         "      text: " +
         std::string(text) +
         "\n"
         "      binds:\n"
         "        - {name: vn-trx, host: h, port: 1, bind: trx, system_id: s, password: p}\n" +
         std::string(more_binds);
}

std::vector<config::config_error> check(const std::string& text) {
  config::load_result r = config::load_config(text, "otpd.yaml");
  EXPECT_TRUE(r.ok()) << config::check_config_report(r);
  if (!r.ok()) return {};
  return check_templates(*r.config);
}

// "ệ" (U+1EC7): Vietnamese, in neither GSM 7-bit nor Latin-1.
const std::string vi_template =
    "templates:\n  sms:\n    en: \"Code {code}\"\n    vi: \"M\xc3\xa3 c\xe1\xbb\xa7"
    "a b\xe1\xba\xa1n: {code}. Hi\xe1\xbb\x87u l\xe1\xbb\xb1"
    "c {minutes} ph\xc3\xbat\"\n";

TEST(check_templates, a_character_the_coding_cannot_carry_is_an_error_at_the_template) {
  const std::string text = yaml(vi_template, "{coding: gsm7, transliterate: false}");
  auto errors = check(text);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, "otpd.yaml");
  EXPECT_EQ(errors[0].line, 9u);  // the vi text's line
  EXPECT_EQ(errors[0].column, 9u);
  EXPECT_THAT(errors[0].message, HasSubstr("templates.sms.vi: carrier 'vn'"));
  EXPECT_THAT(errors[0].message,
              HasSubstr("character not representable in gsm7: '\xc3\xa3' (U+00E3)"));
  EXPECT_THAT(errors[0].message, Not(HasSubstr("bind")));  // one sending bind: not named
  // Latin-1 has ã but not ủ.
  errors = check(yaml(vi_template, "{coding: latin1}"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message,
              HasSubstr("character not representable in latin1: '\xe1\xbb\xa7' (U+1EE7)"));
}

TEST(check_templates, a_coding_that_carries_the_text_passes) {
  EXPECT_TRUE(check(yaml(vi_template, "{coding: gsm7, transliterate: true}")).empty());
  EXPECT_TRUE(check(yaml(vi_template, "{coding: ucs2}")).empty());
  EXPECT_TRUE(check(yaml(vi_template, "{coding: auto}")).empty());
}

TEST(check_templates, too_many_parts_with_the_worst_case_code_and_minutes) {
  // 150 characters + a 10-digit code = 160 septets: one part; minutes make it 162.
  const std::string t150(150, 'a');
  const std::string policy = "policy: {code_length: 10, ttl: 5m, max_ttl: 10m}\n";
  auto errors = check(yaml("templates:\n  sms:\n    vi: \"" + t150 + "{code}{minutes}\"\n",
                           "{coding: gsm7, max_parts: 1}", {}, policy));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("text needs 2 parts, max_parts is 1"));
  EXPECT_THAT(errors[0].message, HasSubstr("10-digit code and {minutes} = 10"));
  // Without {minutes} the same text fits one part.
  EXPECT_TRUE(check(yaml("templates:\n  sms:\n    vi: \"" + t150 + "{code}\"\n",
                         "{coding: gsm7, max_parts: 1}", {}, policy))
                  .empty());
}

TEST(check_templates, every_sending_bind_is_checked_and_named_when_there_are_several) {
  const std::string binds =
      "        - {name: vn-tx2, host: h, port: 1, bind: tx, system_id: s, password: p,\n"
      "           text: {coding: gsm7, transliterate: false}}\n"
      "        - {name: vn-rx, host: h, port: 1, bind: rx, system_id: s, password: p,\n"
      "           text: {coding: latin1}}\n";
  auto errors = check(yaml(vi_template, "{coding: ucs2}", binds));
  ASSERT_EQ(errors.size(), 1u);  // the receiver never sends
  EXPECT_THAT(errors[0].message, HasSubstr("carrier 'vn' (bind 'vn-tx2')"));
}

TEST(check_templates, the_default_templates_fit_one_gsm7_part) {
  EXPECT_TRUE(check(yaml({}, "{coding: gsm7, max_parts: 1}", {},
                         "policy: {code_length: 10, max_ttl: 10m}\n"))
                  .empty());
}

// The shipped files pass the check: what an operator copies can send its own templates.
TEST(check_templates, the_example_and_sandbox_files_pass) {
  config::load_options o;
  o.read_file = [](const std::filesystem::path& p) -> std::optional<std::string> {
    const std::string name = p.filename().string();
    if (name.ends_with("-smpp-password")) return "smpp-pw\n";
    if (name.starts_with("code_")) return std::string(64, 'c') + "\n";
    return "credential-of-thirty-two-bytes-x\n";
  };
  o.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "OTPD_SANDBOX_SMSC_PORT") return "40123";
    if (name == "OTPD_SANDBOX_SMSC_PASSWORD") return "sbx1234";
    if (name == "OTPD_SANDBOX_CODE_MAC_KEY") return std::string(64, 'f');
    if (name == "OTPD_SANDBOX_SIP_URI") return "sip:127.0.0.1:5062";
    return std::nullopt;
  };
  const std::filesystem::path source_dir = OTPD_SOURCE_DIR;
  for (const char* file : {"config/otpd.example.yaml", "config/sandbox.yaml"}) {
    auto r = config::load_config_file(source_dir / file, o);
    ASSERT_TRUE(r.ok()) << file << "\n" << config::check_config_report(r);
    auto errors = check_templates(*r.config);
    for (const auto& e : errors) ADD_FAILURE() << file << ": " << config::to_string(e);
  }
}

}  // namespace
}  // namespace otpd::engine
