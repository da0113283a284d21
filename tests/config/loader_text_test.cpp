// The loader's handling of SMS text and message ids: templates normalised to NFC, the positions
// kept for the checks that run after loading, and a carrier's fixed message-id mapping.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.hpp"

namespace otpd::config {
namespace {

using ::testing::HasSubstr;

const std::string good_hash = "db6bcf6a2a36ee93dafa7dfcdc40973da39f2e2843e4c6f76e08aefc767b0caa";

// A valid file with these templates and these more keys of carrier vn (indented by 6).
std::string yaml(std::string_view templates, std::string_view carrier_extra = {}) {
  return "api_keys:\n  - name: backend\n    sha256: " + good_hash +
         "\nsecrets:\n  code_mac_key: 0123456789abcdef0123456789abcdef\n" + std::string(templates) +
         "routing:\n"
         "  carriers:\n"
         "    - name: vn\n"
         "      prefixes: [\"84\"]\n"
         "      sender: {addr: BRAND}\n" +
         std::string(carrier_extra) +
         "      binds:\n"
         "        - {name: vn-trx, host: h, port: 1, bind: trx, system_id: s, password: p}\n";
}

std::string all_errors(const load_result& r) { return check_config_report(r); }

TEST(templates, decomposed_text_is_normalised_to_nfc) {
  // "Hiệu lực" decomposed: e + U+0323 (dot below) + U+0302 (circumflex), u + U+031B + U+0323.
  const std::string nfd =
      "Hie\xcc\xa3\xcc\x82u lu\xcc\x9b\xcc\xa3"
      "c {code}";
  const std::string nfc =
      "Hi\xe1\xbb\x87u l\xe1\xbb\xb1"
      "c {code}";
  auto r = load_config(yaml("templates:\n  sms:\n    vi: \"" + nfd + "\"\n"), "otpd.yaml");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->text.sms.at("vi"), nfc);
  // Already NFC, and ASCII: unchanged.
  r = load_config(yaml("templates:\n  sms:\n    vi: \"" + nfc + "\"\n    en: \"Code {code}\"\n"),
                  "otpd.yaml");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->text.sms.at("vi"), nfc);
  EXPECT_EQ(r.config->text.sms.at("en"), "Code {code}");
}

TEST(templates, positions_are_kept_for_later_checks) {
  auto r = load_config(yaml("templates:\n  sms:\n    en: \"Code {code}\"\n    vi: \"Ma {code}\"\n"),
                       "otpd.yaml");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->text.sms_at.at("en"), (source_position{8, 9}));
  EXPECT_EQ(r.config->text.sms_at.at("vi"), (source_position{9, 9}));
  ASSERT_EQ(r.config->routes.carriers.size(), 1u);
  const carrier& c = r.config->routes.carriers[0];
  EXPECT_EQ(c.at, (source_position{12, 7}));  // the carrier's "name:"
  ASSERT_EQ(c.binds_at.size(), 1u);
  EXPECT_EQ(c.binds_at[0], (source_position{16, 11}));
}

TEST(message_ids, a_fixed_mapping_as_otpd_smpp_reports_it) {
  using smpp::dlr::id_format;
  using smpp::dlr::id_mode;
  auto r = load_config(yaml({}), "otpd.yaml");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->routes.carriers[0].message_ids.mode, id_mode::automatic);
  const std::pair<const char*, std::pair<id_format, id_format>> cases[] = {
      {"decimal_to_hex", {id_format::hex, id_format::decimal}},
      {"hex_to_decimal", {id_format::decimal, id_format::hex}},
      {"same", {id_format::hex, id_format::hex}},
  };
  for (const auto& [name, formats] : cases) {
    r = load_config(yaml({}, std::string("      message_ids: ") + name + "\n"), "otpd.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    const smpp::dlr::id_config& ids = r.config->routes.carriers[0].message_ids;
    EXPECT_EQ(ids.mode, id_mode::fixed) << name;
    EXPECT_EQ(ids.submit_format, formats.first) << name;
    EXPECT_EQ(ids.receipt_format, formats.second) << name;
  }
  r = load_config(yaml({}, "      message_ids: learn\n"), "otpd.yaml");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->routes.carriers[0].message_ids.mode, id_mode::automatic);
}

TEST(message_ids, an_unknown_mapping_is_an_error_at_its_value) {
  auto r = load_config(yaml({}, "      message_ids: hex\n"), "otpd.yaml");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 11u);
  EXPECT_EQ(r.errors[0].column, 20u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("routing.carriers[0].message_ids"));
  EXPECT_THAT(r.errors[0].message, HasSubstr("decimal_to_hex"));
}

}  // namespace
}  // namespace otpd::config
