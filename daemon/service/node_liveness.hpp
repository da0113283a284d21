// Which nodes of a shared store are alive, from their "node:<name>" leases (docs/scale-out.md):
// the attempts of a node that is not are settled by a live one (node_sweep.cpp).
#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/store/store.hpp"

namespace otpd::service {

inline constexpr std::string_view node_lease_prefix = "node:";

// The nodes whose lease is live at `now`, or expired less than `grace` ago: a node late to
// renew (an overloaded machine, a pause) is not taken for dead at once, and what it is doing
// (a call being read out) is not settled under it. A node that released its lease (a clean
// stop: the row is gone, or has no holder) has no grace. `leases`: those named
// node_lease_prefix + name.
inline std::set<std::string, std::less<>> live_nodes(const std::vector<lease>& leases, sys_time now,
                                                     std::chrono::milliseconds grace) {
  std::set<std::string, std::less<>> out;
  for (const lease& l : leases) {
    if (l.expires_at + grace > now && !l.holder.empty() && l.name.starts_with(node_lease_prefix)) {
      out.insert(l.name.substr(node_lease_prefix.size()));
    }
  }
  return out;
}

}  // namespace otpd::service
