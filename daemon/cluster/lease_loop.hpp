// The lease keeper's shell: a timer loop that renews this node's leases in the store every
// third of a period, tells the gateway which binds it may run, and lets every lease go at stop
// (docs/scale-out.md). The rules are lease_keeper's; this only carries them out.
//
// One executor (the I/O thread): start, stop, holds() and the hooks run on it.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/cluster/lease_keeper.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/service/task_group.hpp"
#include "daemon/store/store_executor.hpp"

namespace otpd::metrics {
class registry;
}

namespace otpd::cluster {

// How many leases of each kind a node holds (otpd_leases_held).
struct leases_held {
  std::size_t node = 0;
  std::size_t purge = 0;
  std::size_t bind = 0;
};

class lease_loop {
 public:
  struct hooks {
    // The binds of the configuration now (a reload may change them).
    std::function<std::vector<bind_id>()> binds;
    // Where each bind's lease is, after every round and every local expiry.
    std::function<void(const bind_id&, bind_holder)> on_bind;
    // The wall clock the store's leases are counted on.
    std::function<sys_time()> wall;
  };

  lease_loop(boost::asio::any_io_executor ex, service::store_executor& store, lease_keeper keeper,
             hooks h, log::logger& log);
  ~lease_loop();
  lease_loop(const lease_loop&) = delete;
  lease_loop& operator=(const lease_loop&) = delete;

  // Runs a first round before it returns, so that the binds start with their leases known
  // (one node on its own store binds at once), then renews in the background.
  boost::asio::awaitable<void> start();
  // Ends the loop and gives up every lease, in the store too, so that another node takes them
  // at once: call it once the binds are down.
  boost::asio::awaitable<void> stop();

  bool holds(std::string_view name) const { return keeper_.holds(name); }
  leases_held count() const;
  const lease_keeper& keeper() const noexcept { return keeper_; }

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> round();
  void apply(const std::vector<lease_change>& changes, std::string_view why);
  void publish();
  void store_failed(std::string_view what, service::error_code ec);

  service::store_executor& store_;
  lease_keeper keeper_;
  hooks hooks_;
  log::logger& log_;
  std::vector<bind_id> binds_;  // as of the last round
  boost::asio::steady_timer timer_;
  bool store_down_ = false;  // the last round failed: logged once until one succeeds
  service::task_group tasks_;
};

// otpd_leases_held{kind="node|purge|bind"}.
void register_lease_metrics(const lease_loop& leases, metrics::registry& metrics);

// cluster.node, or the host name when it is empty.
std::string node_name(const std::string& configured);

}  // namespace otpd::cluster
