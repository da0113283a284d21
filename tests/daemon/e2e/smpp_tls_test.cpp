// SMPP over TLS against the node-smpp stand-in serving a certificate from a CA made for the
// test: with the CA configured otpd binds and the flow runs; the certificate is checked by
// default, so without the CA, or for another name, the bind fails with a clear error and no
// SMS is sent.
#include <gtest/gtest.h>

#include "tests/daemon/e2e/scenario.hpp"
#include "tests/support/pki.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

// A stand-in serving SMPP over TLS with a certificate from a CA made for the test, and otpd's
// options with one bind to it whose tls: map is `tls_yaml` (CA_FILE names the test CA).
struct tls_world {
  explicit tls_world(std::string tls_yaml)
      : smsc(smsc_flags({"--tls-cert", p.cert().string(), "--tls-key", p.key().string()})) {
    if (const auto at = tls_yaml.find("CA_FILE"); at != std::string::npos) {
      tls_yaml.replace(at, 7, p.ca().string());
    }
    opts.carriers = {vietnam_carrier(smsc.port())};
    opts.carriers[0].binds[0].extra_yaml = "tls: " + tls_yaml;
  }
  pki p;
  temp_dir dir;
  smsc_process smsc;
  otpd_options opts;
};

TEST(e2e_smpp_tls, binds_to_an_smsc_whose_certificate_the_configured_ca_signed) {
  tls_world w("{enabled: true, ca_file: CA_FILE}");
  smsc_process& smsc = w.smsc;
  otpd_process o(w.opts, w.dir.path());
  ASSERT_TRUE(o.wait_ready()) << o.output();

  const std::string id = create(o, {{"to", "0912345678"}});
  ASSERT_FALSE(id.empty());
  const std::string code = next_code(smsc, 0, 6, "84912345678");
  EXPECT_EQ(check(o, id, code).status, 200);
}

struct refused_case {
  std::string name;
  std::string tls_yaml;  // the bind's tls: map
  std::string error;     // what the log must say
};

void PrintTo(const refused_case& c, std::ostream* os) { *os << c.name; }

class e2e_smpp_tls_refused : public ::testing::TestWithParam<refused_case> {};

TEST_P(e2e_smpp_tls_refused, the_bind_fails_with_a_clear_error) {
  tls_world w(GetParam().tls_yaml);
  smsc_process& smsc = w.smsc;
  otpd_process o(w.opts, w.dir.path());

  const auto line = o.wait_for_line(
      [&](std::string_view l) {
        return l.find("smpp_bind_down") != std::string::npos &&
               l.find(GetParam().error) != std::string::npos;
      },
      20s);
  ASSERT_TRUE(line) << o.output();
  // Not ready, a create is refused, and the stand-in never saw a bind.
  EXPECT_EQ(o.ops_get("/readyz").status, 503);
  http_response r = o.post("/v1/verifications", json::object{{"to", "0912345678"}});
  EXPECT_EQ(r.status, 503) << r.body;
  smsc.sync();
  EXPECT_EQ(smsc.count("bind"), 0u);
  EXPECT_EQ(smsc.count("submit"), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    tls, e2e_smpp_tls_refused,
    ::testing::Values(
        // No ca_file: the system's CAs, which do not know the test CA.
        refused_case{"untrusted_ca", "{enabled: true}", "certificate verify failed"},
        // The right CA, but the certificate names 127.0.0.1 and localhost only.
        refused_case{"another_name", "{enabled: true, ca_file: CA_FILE, server_name: smsc.example}",
                     "certificate verify failed"}),
    [](const ::testing::TestParamInfo<refused_case>& i) { return i.param.name; });

}  // namespace
}  // namespace otpd::test::e2e
