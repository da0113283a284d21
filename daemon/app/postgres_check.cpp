#include "daemon/app/postgres_check.hpp"

#include "common/secret.hpp"

namespace otpd::app {

service::postgres_options postgres_options_of(const config::postgres& pg) {
  service::postgres_options o;
  o.conninfo = std::string(pg.url.view());
  o.statement_timeout = pg.statement_timeout;
  o.connect_timeout = pg.connect_timeout;
  o.sslmode = pg.sslmode;
  o.sslrootcert = pg.sslrootcert.string();
  return o;
}

std::string check_postgres(const config::postgres& pg) {
  service::postgres_options o = postgres_options_of(pg);
  o.application_name = "otpd-check-config";
  std::string why = service::try_postgres_connection(o);
  wipe(o.conninfo);
  return why;
}

}  // namespace otpd::app
