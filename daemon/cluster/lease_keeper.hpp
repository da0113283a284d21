// Which leases one node holds, and when it holds them no longer: the work that one node at a
// time may do when several share the store (docs/scale-out.md). Its own lease "node:<name>"
// says the node is alive; "purge" lets it run the store's retention; "bind:<carrier>/<bind>"
// lets it bind that bind (a carrier allows a fixed number of binds per account).
//
// Rules only, no I/O, in the manner of smpp::session_fsm: the shell (lease_loop) passes the
// store's listing, the store's answers and the time in, and carries out what comes out. Two
// clocks: the store counts a lease on the wall clock (the caller's, so the nodes' clocks must
// agree, NTP), this node on the steady clock from BEFORE it asked, and it lets a lease go
// `margin` before the store would let another node take it, so that a bind is never up on two
// nodes at once (the margin covers the graceful unbind).
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/store/store.hpp"

namespace otpd::cluster {

using steady_time = std::chrono::steady_clock::time_point;
using service::sys_time;
using std::chrono::milliseconds;

// A configured bind, as the gateway knows it.
struct bind_id {
  std::string carrier;
  std::string bind;
  friend bool operator==(const bind_id&, const bind_id&) = default;
};

std::string node_lease(std::string_view node);
std::string bind_lease(const bind_id& b);
inline constexpr std::string_view purge_lease = "purge";

// A lease this node took (held) or let go (!held).
struct lease_change {
  std::string name;
  bool held = false;
  friend bool operator==(const lease_change&, const lease_change&) = default;
};

// Where a configured bind's lease is, for the gateway and /readyz.
enum class bind_holder : std::uint8_t {
  here,       // this node holds it: the bind may run
  elsewhere,  // another node holds it, unexpired
  nobody,     // free (or expired): someone takes it at their next round
};

// What a round asks of the store.
struct round_plan {
  std::vector<std::string> acquire;  // acquire_leases(node, acquire, ...)
  // Binds given up to a node that has fewer than its share: down at once here, not renewed,
  // free in the store once their lease runs out.
  std::vector<lease_change> given_up;
};

class lease_keeper {
 public:
  // `period`: the lease the store grants (cluster.lease). Renewed every period / 3; a lease
  // not renewed counts as lost locally at asked + period - period / 4.
  lease_keeper(std::string node, milliseconds period);

  const std::string& node() const noexcept { return node_; }
  milliseconds period() const noexcept { return period_; }
  milliseconds renew_every() const noexcept { return period_ / 3; }
  milliseconds margin() const noexcept { return period_ / 4; }

  // What to ask for now: the node's lease, "purge", the binds it holds and those it may take.
  // `binds`: the binds of this node's configuration; `listing`: every lease in the store
  // (list_leases("")) read at `wall`. A free bind is taken while this node holds fewer than
  // its share of the carrier's binds, ceil(binds / live nodes), live nodes being those with
  // an unexpired "node:" lease (this one included); a bind free for a whole period is taken
  // whatever the share, so that a bind never stays down. A node holding more than its share
  // while another live node holds fewer than floor(binds / live nodes) gives one bind up.
  round_plan plan(steady_time now, sys_time wall, std::span<const bind_id> binds,
                  std::span<const service::lease> listing);
  // The store's answer to the plan's acquire, asked at `asked_at` (steady, read before the
  // call): what it granted now counts as held until asked_at + period - margin.
  std::vector<lease_change> acquired(steady_time asked_at, std::span<const std::string> held);
  // The round failed (store down): nothing changes now, each lease runs out locally.
  void failed();
  // The leases whose local expiry has passed: lost.
  std::vector<lease_change> expire(steady_time now);
  // When the shell should call again: the next renewal or the next local expiry.
  steady_time next_wakeup() const;
  // When the next round (plan, acquire) is due.
  steady_time next_round() const noexcept { return next_round_; }
  // Stop: every lease is let go (the shell releases them in the store once the binds are down).
  std::vector<lease_change> release_all();

  bool holds(std::string_view name) const { return held_.count(std::string(name)) != 0; }
  std::vector<std::string> held() const;
  bind_holder holder_of(const bind_id& b) const;

 private:
  // What the listing says: the live nodes (this one included) and how many of each carrier's
  // binds each other node holds.
  struct counts {
    std::set<std::string, std::less<>> live;
    std::map<std::string, std::map<std::string, std::size_t, std::less<>>, std::less<>>
        by_carrier_node;
  };
  counts count(sys_time wall, std::span<const service::lease> listing,
               std::span<const bind_id> binds);
  void track_free(steady_time now, std::span<const bind_id> binds);
  bool may_take(steady_time now, const std::string& name) const;
  void give_up_surplus(steady_time now, std::span<const bind_id> binds, const counts& c,
                       round_plan& out);
  void drop(const std::string& name, steady_time now, round_plan& out);

  std::string node_;
  milliseconds period_;
  std::map<std::string, steady_time, std::less<>> held_;  // name -> local expiry
  std::set<std::string, std::less<>> elsewhere_;          // bind leases another node holds
  std::set<std::string, std::less<>> taken_;              // bind leases anyone holds, unexpired
  std::map<std::string, steady_time, std::less<>> free_since_;
  std::map<std::string, steady_time, std::less<>> cooldown_;  // given up: not taken back before
  std::vector<std::string> asked_;
  steady_time next_round_{};  // the epoch: at once
};

}  // namespace otpd::cluster
