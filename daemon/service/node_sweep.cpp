// Several nodes on one store: which attempts are this node's, and the attempts a dead node left
// unfinished (docs/scale-out.md). A node proves it is alive by renewing its "node:<name>" lease;
// once that lease has expired, what the node had queued or ringing will never be recorded by it,
// and a live node settles it. Part of verification_service, in a file of its own.

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/log/logger.hpp"
#include "daemon/service/node_liveness.hpp"
#include "daemon/service/verification_service.hpp"

namespace otpd::service {
namespace asio = boost::asio;

std::string verification_service::resolve_node(const config::cluster& c) {
  if (!c.node.empty()) return c.node;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "localhost";
  return host;
}

sys_time verification_service::lease_time() {
  // The wall clock the nodes agree on (NTP), as leases are counted on; not the service clock,
  // whose testing offset is one process's own and would make every other node look dead.
  return std::chrono::system_clock::now();
}

bool verification_service::unfinished(const attempt& a) {
  if (a.status == attempt_status::queued) return true;
  return a.via == channel::voice &&
         (a.status == attempt_status::ringing || a.status == attempt_status::answered);
}

bool verification_service::settled_at_restart(const attempt& a) const {
  if (a.node == node_) return true;
  return a.node.empty() && cfg_.state.kind == config::store_kind::sqlite;
}

asio::awaitable<void> verification_service::node_sweep_loop() {
  // The first sweep after one period: nodes that start together have taken their leases by then.
  while (!stopping_) {
    sweep_timer_.expires_after(cfg_.nodes.lease);
    co_await sweep_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopping_) break;
    co_await sweep_lost_nodes();
  }
}

asio::awaitable<void> verification_service::sweep_lost_nodes() {
  auto [lec, leases] =
      co_await store_.run([](store& s) -> std::pair<error_code, std::vector<lease>> {
        std::vector<lease> out;
        error_code e = s.list_leases(node_lease_prefix, out);
        return {e, std::move(out)};
      });
  if (store_failure("list_leases", {}, lec)) co_return;
  const auto live = live_nodes(leases, lease_time(), cfg_.nodes.lease);
  auto [qec, queued] = co_await store_.list_queued();
  if (store_failure("list_queued", {}, qec)) co_return;
  for (const verification& v : queued) {
    for (const attempt& a : v.attempts) {
      // "": waiting in the handoff queue, any node may still claim it.
      if (!unfinished(a) || a.node.empty() || a.node == node_ || live.contains(a.node)) continue;
      co_await settle_lost(v.id, a.number, a.node);
    }
  }
}

asio::awaitable<void> verification_service::settle_lost(std::string id, int attempt_number,
                                                        std::string node) {
  const std::shared_ptr<const config::config> live = live_;
  engine::delivery_effect effect;
  bool call = false;
  // Conditional: only while the attempt is still that node's and unfinished, so that two nodes
  // sweeping at once settle (and notify) it once; the other gets conflict.
  std::string event;
  auto settle_row = [&](verification& row) -> error_code {
    for (attempt& a : row.attempts) {
      if (a.number != attempt_number) continue;
      if (!unfinished(a) || a.node != node) break;
      a.error = "node_lost";
      call = a.via == channel::voice;
      // An SMS may have been on the wire (that node's send journal is out of reach): outcome
      // unknown, a receipt may still resolve it. A call was cut with its node.
      effect = call ? engine::on_call_outcome(row, live->policy, attempt_number, clock_.now(),
                                              attempt_status::failed, std::nullopt, "node_lost")
                    : engine::on_submit_unknown(row, attempt_number, clock_.now(),
                                                std::string(a.carrier), "");
      return {};
    }
    return make_error_code(store_errc::conflict);
  };
  auto [ec, v] = co_await store_.modify(id, {}, settle_row, event_of(effect, event));
  if (ec) {
    store_failure("settle_lost", id, ec);
    co_return;
  }
  log_.notice("attempt_settled_node_lost", {{"verification", id},
                                            {"attempt", attempt_number},
                                            {"node", node},
                                            {"channel", call ? "voice" : "sms"}});
  apply_effect(v, effect, std::move(event));
}

}  // namespace otpd::service
