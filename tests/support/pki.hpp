// A throwaway PKI made with the openssl CLI for one test: a CA, and a server certificate it
// signs for IP 127.0.0.1 and DNS localhost (P-256 keys, valid two days). Removed with its
// folder at the end.
#pragma once

#include <filesystem>

namespace otpd::test {

class pki {
 public:
  pki();  // throws std::runtime_error when openssl fails
  ~pki();
  pki(const pki&) = delete;
  pki& operator=(const pki&) = delete;

  std::filesystem::path ca() const { return dir_ / "ca.pem"; }
  std::filesystem::path cert() const { return dir_ / "server.pem"; }
  std::filesystem::path key() const { return dir_ / "server.key"; }
  std::filesystem::path dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace otpd::test
