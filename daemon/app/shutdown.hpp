// SIGTERM and SIGINT stop otpd gracefully: no new requests, the SMS and calls under way end
// (for at most the service's drain), binds unbind after their in-flight responses, the store
// finishes queued work, the HTTP connections still inside a service call end; then the I/O
// loop stops.
//
// Lifetime: every object a coroutine of the loop references is declared after the store and
// the io_context (so destroyed before them) and outlives the loop's last turn: once the loop
// has stopped, finish_pending() runs what is still queued (completions posted by the stop
// itself), so that no coroutine frame is left for ~io_context to destroy after the objects
// it references are gone.
#pragma once

#include <chrono>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "daemon/admin/admin_server.hpp"
#include "daemon/app/listeners.hpp"
#include "daemon/app/reloader.hpp"
#include "daemon/app/store_probe.hpp"
#include "daemon/app/systemd_heartbeat.hpp"
#include "daemon/cluster/lease_loop.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/service/verification_service.hpp"
#include "daemon/store/store_executor.hpp"

namespace otpd::app {

// What the shutdown stops, in this order.
struct stoppable {
  systemd_heartbeat& heartbeat;
  store_probe& probe;
  reloader& reload;
  service::admin_server* admin;  // null: no control socket
  listeners& http;
  service::verification_service& svc;
  cluster::lease_loop& leases;
  service::store_executor& store;
};

class stop_on_signal {
 public:
  // Waits for SIGINT or SIGTERM, then runs the shutdown; io.stop() at its end.
  stop_on_signal(boost::asio::io_context& io, log::logger& logger, stoppable parts);

  // Whether the shutdown ran to its end (the service stopped, the store flushed).
  bool done() const noexcept { return done_; }

 private:
  void begin(int sig);
  // Once the service has stopped (its binds down): releases the leases, shuts the store down
  // and finishes.
  boost::asio::awaitable<void> release_then_finish();
  // Once the service has stopped and the store has shut down: joins the HTTP connections,
  // then stops the loop.
  boost::asio::awaitable<void> finish();

  boost::asio::io_context& io_;
  log::logger& logger_;
  stoppable parts_;
  boost::asio::signal_set signals_;
  bool done_ = false;
};

// After io.run() has returned from a shutdown that ran to its end: runs the handlers still
// queued until none is left, for at most `limit` (a coroutine that waits for more than that is
// left to ~io_context). Not after a failed start: the service was never stopped.
void finish_pending(boost::asio::io_context& io, std::chrono::milliseconds limit);

}  // namespace otpd::app
