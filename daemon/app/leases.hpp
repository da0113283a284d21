// This node's leases (docs/scale-out.md) wired to the SMS gateway: the binds it may take are the
// gateway's, and a bind runs only while its lease is held here.
#pragma once

#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "config/config.hpp"
#include "daemon/cluster/lease_loop.hpp"
#include "daemon/sms/sms_gateway.hpp"

namespace otpd::app {

// The lease loop of cfg.nodes over `store`; the gateway's binds wait for their leases from now
// on (sms_gateway::require_leases). One node on its own store takes every lease at its first
// round, before the binds start: it binds at once, as without leases.
std::unique_ptr<cluster::lease_loop> make_leases(boost::asio::any_io_executor ex,
                                                 const config::config& cfg,
                                                 service::store_executor& store,
                                                 service::sms_gateway& gateway,
                                                 log::logger& logger);

}  // namespace otpd::app
