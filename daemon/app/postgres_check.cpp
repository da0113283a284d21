#include "daemon/app/postgres_check.hpp"

#include <libpq-fe.h>

#include <memory>
#include <vector>

#include "common/secret.hpp"

namespace otpd::app {
namespace {

// libpq's messages end with a newline, and may span lines (one per host tried).
std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

// libpq does not quote the password in its messages; a server's message could still echo
// what it was sent, so the password is taken out of whatever is shown.
void hide(std::string& text, const char* password) {
  if (password == nullptr || *password == '\0') return;
  const std::string pw(password);
  for (auto at = text.find(pw); at != std::string::npos; at = text.find(pw, at)) {
    text.replace(at, pw.size(), "***");
  }
}

}  // namespace

std::string check_postgres(const config::postgres& pg) {
  std::string conninfo(pg.url.view());
  const std::string timeout = std::to_string(std::max<long long>(
      2, std::chrono::duration_cast<std::chrono::seconds>(pg.connect_timeout).count()));
  const std::string root = pg.sslrootcert.string();
  // The later keywords override what the URL says, as in the store's own connections.
  std::vector<const char*> keys{"dbname", "connect_timeout", "application_name"};
  std::vector<const char*> values{conninfo.c_str(), timeout.c_str(), "otpd-check-config"};
  if (!pg.sslmode.empty()) {
    keys.push_back("sslmode");
    values.push_back(pg.sslmode.c_str());
  }
  if (!root.empty()) {
    keys.push_back("sslrootcert");
    values.push_back(root.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(
      PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1), &PQfinish);
  wipe(conninfo);
  if (!conn) return "out of memory";
  if (PQstatus(conn.get()) == CONNECTION_OK) return {};
  std::string why = one_line(PQerrorMessage(conn.get()));
  hide(why, PQpass(conn.get()));
  return why.empty() ? "the connection failed" : why;
}

}  // namespace otpd::app
