#include "daemon/app/leases.hpp"

#include <chrono>

namespace otpd::app {

std::unique_ptr<cluster::lease_loop> make_leases(boost::asio::any_io_executor ex,
                                                 const config::config& cfg,
                                                 service::store_executor& store,
                                                 service::sms_gateway& gateway,
                                                 log::logger& logger) {
  gateway.require_leases();
  cluster::lease_loop::hooks hooks;
  hooks.binds = [&gateway] {
    std::vector<cluster::bind_id> out;
    for (const smpp::pool_status& p : gateway.status()) {
      for (const smpp::session_status& s : p.sessions) out.push_back({p.name, s.name});
    }
    return out;
  };
  hooks.on_bind = [&gateway](const cluster::bind_id& b, cluster::bind_holder h) {
    const smpp::bind_lease lease = h == cluster::bind_holder::here ? smpp::bind_lease::held
                                   : h == cluster::bind_holder::elsewhere
                                       ? smpp::bind_lease::elsewhere
                                       : smpp::bind_lease::free;
    gateway.set_lease(b.carrier, b.bind, lease);
  };
  // The real time, not the service clock that tests move forward: the nodes compare leases.
  hooks.wall = [] { return std::chrono::system_clock::now(); };
  const std::string node = cluster::node_name(cfg.nodes.node);
  logger.notice("cluster_node", {{"node", node}, {"lease_ms", cfg.nodes.lease.count()}});
  return std::make_unique<cluster::lease_loop>(
      std::move(ex), store, cluster::lease_keeper(node, cfg.nodes.lease), std::move(hooks), logger);
}

}  // namespace otpd::app
