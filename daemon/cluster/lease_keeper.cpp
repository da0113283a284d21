#include "daemon/cluster/lease_keeper.hpp"

#include <algorithm>

namespace otpd::cluster {

std::string node_lease(std::string_view node) { return "node:" + std::string(node); }

std::string bind_lease(const bind_id& b) { return "bind:" + b.carrier + "/" + b.bind; }

lease_keeper::lease_keeper(std::string node, milliseconds period)
    : node_(std::move(node)), period_(period) {}

lease_keeper::counts lease_keeper::count(sys_time wall, std::span<const service::lease> listing,
                                         std::span<const bind_id> binds) {
  counts c;
  c.live.insert(node_);
  std::map<std::string, const bind_id*, std::less<>> configured;
  for (const bind_id& b : binds) configured.emplace(bind_lease(b), &b);
  elsewhere_.clear();
  taken_.clear();
  for (const service::lease& l : listing) {
    if (l.expires_at <= wall) continue;
    if (l.name.starts_with("node:")) c.live.insert(l.holder);
    auto it = configured.find(l.name);
    if (it == configured.end()) continue;
    taken_.insert(l.name);
    if (l.holder == node_) continue;
    elsewhere_.insert(l.name);
    ++c.by_carrier_node[it->second->carrier][l.holder];
  }
  return c;
}

void lease_keeper::track_free(steady_time now, std::span<const bind_id> binds) {
  std::map<std::string, steady_time, std::less<>> still;
  for (const bind_id& b : binds) {
    const std::string name = bind_lease(b);
    if (holds(name) || taken_.count(name) != 0) continue;
    auto it = free_since_.find(name);
    still.emplace(name, it == free_since_.end() ? now : it->second);
  }
  free_since_ = std::move(still);
}

bool lease_keeper::may_take(steady_time now, const std::string& name) const {
  auto it = cooldown_.find(name);
  return it == cooldown_.end() || now >= it->second;
}

void lease_keeper::drop(const std::string& name, steady_time now, round_plan& out) {
  held_.erase(name);
  cooldown_[name] = now + period_;
  out.given_up.push_back({name, false});
}

void lease_keeper::give_up_surplus(steady_time now, std::span<const bind_id> binds, const counts& c,
                                   round_plan& out) {
  // A bind the configuration no longer has (a reload removed it) is let go.
  for (auto it = held_.begin(); it != held_.end();) {
    const std::string name = (it++)->first;
    if (!name.starts_with("bind:")) continue;
    const bool configured = std::any_of(binds.begin(), binds.end(),
                                        [&](const bind_id& b) { return bind_lease(b) == name; });
    if (!configured) drop(name, now, out);
  }
  std::map<std::string, std::vector<std::string>, std::less<>> mine;  // held, config order
  std::map<std::string, std::size_t, std::less<>> total;
  for (const bind_id& b : binds) {
    ++total[b.carrier];
    if (holds(bind_lease(b))) mine[b.carrier].push_back(bind_lease(b));
  }
  const std::size_t live = c.live.size();
  for (auto& [carrier, held] : mine) {
    // Above its share while a live node is below it (two binds over three nodes: 1, 1, 0, not
    // 2, 0, 0): the one below takes the bind given up, and ends at most at its share, so this
    // never cycles.
    const std::size_t share = (total[carrier] + live - 1) / live;
    if (held.size() <= share) continue;
    auto found = c.by_carrier_node.find(carrier);
    const bool someone_short = std::any_of(c.live.begin(), c.live.end(), [&](const auto& n) {
      if (n == node_) return false;
      if (found == c.by_carrier_node.end()) return true;
      auto h = found->second.find(n);
      return (h == found->second.end() ? 0 : h->second) < share;
    });
    // One a round: the share is recomputed once the other node has taken it.
    if (someone_short) drop(held.back(), now, out);
  }
}

round_plan lease_keeper::plan(steady_time now, sys_time wall, std::span<const bind_id> binds,
                              std::span<const service::lease> listing) {
  next_round_ = now + renew_every();
  const counts c = count(wall, listing, binds);
  round_plan out;
  out.acquire = {node_lease(node_), std::string(purge_lease)};
  give_up_surplus(now, binds, c, out);
  track_free(now, binds);
  std::map<std::string, std::size_t, std::less<>> here;
  std::map<std::string, std::size_t, std::less<>> total;
  for (const bind_id& b : binds) {
    ++total[b.carrier];
    if (holds(bind_lease(b))) ++here[b.carrier];
  }
  const std::size_t live = c.live.size();
  for (const bind_id& b : binds) {
    std::string name = bind_lease(b);
    if (holds(name)) {
      out.acquire.push_back(std::move(name));
      continue;
    }
    if (elsewhere_.count(name) != 0 || !may_take(now, name)) continue;
    auto since = free_since_.find(name);
    const bool orphan = since != free_since_.end() && now - since->second >= period_;
    const std::size_t share = (total[b.carrier] + live - 1) / live;
    if (here[b.carrier] < share || orphan) {
      ++here[b.carrier];
      out.acquire.push_back(std::move(name));
    }
  }
  asked_ = out.acquire;
  return out;
}

std::vector<lease_change> lease_keeper::acquired(steady_time asked_at,
                                                 std::span<const std::string> held) {
  std::vector<lease_change> out;
  const steady_time until = asked_at + period_ - margin();
  for (const std::string& name : asked_) {
    const bool granted = std::find(held.begin(), held.end(), name) != held.end();
    auto it = held_.find(name);
    if (granted) {
      if (it == held_.end()) out.push_back({name, true});
      held_[name] = until;
      free_since_.erase(name);
      elsewhere_.erase(name);
    } else if (it != held_.end()) {
      held_.erase(it);  // another node has it: its clock runs ahead of ours
      out.push_back({name, false});
    }
  }
  asked_.clear();
  return out;
}

void lease_keeper::failed() {
  // The leases held run out at their local expiry meanwhile; the next round tries again.
  asked_.clear();
}

std::vector<lease_change> lease_keeper::expire(steady_time now) {
  std::vector<lease_change> out;
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->second <= now) {
      out.push_back({it->first, false});
      it = held_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

steady_time lease_keeper::next_wakeup() const {
  steady_time t = next_round_;
  for (const auto& [name, until] : held_) t = std::min(t, until);
  return t;
}

std::vector<lease_change> lease_keeper::release_all() {
  std::vector<lease_change> out;
  for (const auto& [name, until] : held_) out.push_back({name, false});
  held_.clear();
  asked_.clear();
  next_round_ = steady_time::max();
  return out;
}

std::vector<std::string> lease_keeper::held() const {
  std::vector<std::string> out;
  for (const auto& [name, until] : held_) out.push_back(name);
  return out;
}

bind_holder lease_keeper::holder_of(const bind_id& b) const {
  const std::string name = bind_lease(b);
  if (holds(name)) return bind_holder::here;
  return elsewhere_.count(name) != 0 ? bind_holder::elsewhere : bind_holder::nobody;
}

}  // namespace otpd::cluster
