// The shared store: PostgreSQL, for several nodes (docs/scale-out.md). One object is one libpq
// connection and is not thread-safe: use it from one thread at a time (store_executor gives each
// connection a store thread of its own). Every call runs in a transaction (READ COMMITTED, rows
// locked with SELECT ... FOR UPDATE where read and written), commits durably (synchronous_commit
// as the server sets it), and a lost connection is reconnected on the next call: the call that
// met the loss fails with io_error (503), nothing half-written.
//
// Schema: the same tables as the SQLite store (sqlite_store.hpp), plus leases and the SMS
// handoff queue; migrations are applied at open under an advisory lock, so that nodes starting
// together migrate once. Rate limits are decided by one statement (a function that locks the
// keys it counts), so that nodes counting the same key at once never both take the last event.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "daemon/store/store.hpp"

namespace otpd::service {

struct postgres_options {
  std::string conninfo;  // libpq connection string or URL (holds the password: never logged)
  std::chrono::milliseconds statement_timeout{5000};
  std::chrono::milliseconds connect_timeout{5000};
  std::string sslmode;      // empty: as conninfo says
  std::string sslrootcert;  // empty: as conninfo says
  std::string application_name = "otpd";
};

// Connects, and migrates the schema (under the advisory lock). On failure `why` says what the
// server or libpq reported (never the password) and the error is store_errc::io_error.
error_code open_postgres_store(const postgres_options& options, std::unique_ptr<store>& out,
                               std::string& why);

// Connects once as the store does and closes, reading and writing nothing (otpd
// --check-config): empty when it worked, else what the server or libpq reported (never the
// password).
std::string try_postgres_connection(const postgres_options& options);

}  // namespace otpd::service
