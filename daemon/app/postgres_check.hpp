// `otpd --check-config` with store.kind postgres: one connection, made as otpd would make it
// (the URL, the timeout and the TLS settings of store.postgres), so that a database that cannot
// be reached is reported before a start fails on it. Nothing is read or written.
#pragma once

#include <string>

#include "config/config.hpp"
#include "daemon/store/postgres_store.hpp"

namespace otpd::app {

// The store's connection settings from store.postgres (the URL copied: wipe it after use).
service::postgres_options postgres_options_of(const config::postgres& pg);

// Empty when a connection was made (and closed); else libpq's reason, without the password.
std::string check_postgres(const config::postgres& pg);

}  // namespace otpd::app
