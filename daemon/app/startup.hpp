// The parts otpd builds before its I/O loop runs, each logging why it could not.
#pragma once

#include <memory>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "config/config.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/store/store.hpp"
#include "daemon/voice/voice_dialer.hpp"

namespace otpd::app {

// The process_protection line: whether a core may be written, how many secrets are held and
// how many mlock refused.
void log_process_protection(log::logger& logger);

// The store of cfg.state, as connections for the store executor's threads: one SQLite
// connection, or store.postgres.pool_size PostgreSQL connections. Logs store_open with this
// node's name (cluster.node); empty (store_open_failed logged) when it cannot be opened.
std::vector<std::unique_ptr<service::store>> open_stores(const config::config& cfg,
                                                         log::logger& logger);

// The state folder (store.sqlite_path's folder) holds this node's SMS send journal with either
// store: without it a restart could not tell an SMS that may have left from one that never
// did. false (state_folder_unusable logged) when it cannot be written.
bool state_folder_writable(const config::config& cfg, log::logger& logger);

// The voice dialer when cfg.calls has trunks: the prompts are synthesised (or read) here, once,
// before the API serves. False (voice_prompts_failed logged) when they cannot be built; true
// with `out` null when there are no trunks.
bool make_dialer(boost::asio::any_io_executor ex, const config::config& cfg, log::logger& logger,
                 std::unique_ptr<service::voice_dialer>& out);

}  // namespace otpd::app
