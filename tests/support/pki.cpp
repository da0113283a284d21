#include "tests/support/pki.hpp"

#include <stdlib.h>

#include <fstream>
#include <stdexcept>
#include <string>

#include "tests/support/child_process.hpp"

namespace otpd::test {

namespace fs = std::filesystem;

namespace {

void check(const command_result& r) {
  if (r.exit_code != 0) throw std::runtime_error("openssl failed:\n" + r.output());
}

}  // namespace

pki::pki() {
  std::string tmpl = (fs::temp_directory_path() / "otpd-tls-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
  dir_ = tmpl;
  const auto p = [&](const char* name) { return (dir_ / name).string(); };
  check(run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", p("ca.key"), "-out",
                     p("ca.pem"), "-days", "2", "-subj", "/CN=otpd test CA"},
                    std::chrono::seconds(30), true));
  check(run_command({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", p("server.key"), "-out",
                     p("server.csr"), "-subj", "/CN=otpd test server"},
                    std::chrono::seconds(30), true));
  std::ofstream(p("server.ext")) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                    "basicConstraints=CA:FALSE\n"
                                    "keyUsage=critical,digitalSignature\n"
                                    "extendedKeyUsage=serverAuth\n";
  check(run_command(
      {"openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
       "-CAcreateserial", "-out", p("server.pem"), "-days", "2", "-extfile", p("server.ext")},
      std::chrono::seconds(30), true));
}

pki::~pki() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

}  // namespace otpd::test
