#include "daemon/cluster/lease_loop.hpp"

#include <unistd.h>

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/metrics/registry.hpp"

namespace otpd::cluster {
namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

}  // namespace

lease_loop::lease_loop(asio::any_io_executor ex, service::store_executor& store,
                       lease_keeper keeper, hooks h, log::logger& log)
    : store_(store),
      keeper_(std::move(keeper)),
      hooks_(std::move(h)),
      log_(log),
      timer_(ex),
      tasks_(ex, [&log](std::exception_ptr e) {
        log.error("lease_loop_failed", {{"error", describe(e)}});
      }) {}

lease_loop::~lease_loop() = default;

asio::awaitable<void> lease_loop::start() {
  co_await round();
  tasks_.spawn(run());
}

asio::awaitable<void> lease_loop::run() {
  for (;;) {
    timer_.expires_at(keeper_.next_wakeup());
    auto [ec] = co_await timer_.async_wait(use_nothrow);
    if (ec) co_return;  // stop()
    const clock_type::time_point now = clock_type::now();
    apply(keeper_.expire(now), "expired");
    if (now >= keeper_.next_round()) co_await round();
  }
}

asio::awaitable<void> lease_loop::round() {
  // Before the store is asked: the lease is counted from no later than the store counts it.
  const clock_type::time_point asked_at = clock_type::now();
  const sys_time wall = hooks_.wall();
  auto [lec, listing] = co_await store_.run([](service::store& s) {
    std::vector<service::lease> out;
    const service::error_code ec = s.list_leases("", out);
    return std::pair{ec, std::move(out)};
  });
  if (lec) {
    keeper_.failed();
    co_return store_failed("list_leases", lec);
  }
  binds_ = hooks_.binds();
  round_plan plan = keeper_.plan(asked_at, wall, binds_, listing);
  apply(plan.given_up, "given_up");
  // By reference to this frame's locals, which outlive the call (store_executor::async_run).
  const std::string& node = keeper_.node();
  const milliseconds ttl = keeper_.period();
  std::vector<std::string> held;
  const service::error_code aec = co_await store_.run(
      [&](service::store& s) { return s.acquire_leases(node, plan.acquire, wall, ttl, held); });
  if (aec) {
    keeper_.failed();
    co_return store_failed("acquire_leases", aec);
  }
  if (store_down_) log_.notice("lease_store_back");
  store_down_ = false;
  apply(keeper_.acquired(asked_at, held), "taken");
}

void lease_loop::store_failed(std::string_view what, service::error_code ec) {
  // Logged once: the leases run out locally meanwhile (lease_lost says when).
  if (!store_down_) {
    log_.warning("lease_renewal_failed",
                 {{"call", what}, {"error", ec.message()}, {"detail", store_.last_error()}});
  }
  store_down_ = true;
  publish();
}

void lease_loop::apply(const std::vector<lease_change>& changes, std::string_view why) {
  for (const lease_change& c : changes) {
    if (c.held) {
      log_.notice("lease_acquired", {{"lease", c.name}, {"node", keeper_.node()}});
    } else {
      log_.warning("lease_lost", {{"lease", c.name}, {"node", keeper_.node()}, {"reason", why}});
    }
  }
  publish();
}

void lease_loop::publish() {
  if (!hooks_.on_bind) return;
  for (const bind_id& b : binds_) hooks_.on_bind(b, keeper_.holder_of(b));
}

asio::awaitable<void> lease_loop::stop() {
  timer_.cancel();
  co_await tasks_.join();
  const std::vector<std::string> names = keeper_.held();
  apply(keeper_.release_all(), "released");
  if (names.empty()) co_return;
  const std::string& node = keeper_.node();
  const service::error_code ec =
      co_await store_.run([&](service::store& s) { return s.release_leases(node, names); });
  // Not released: they run out by themselves within a period.
  if (ec) log_.warning("lease_release_failed", {{"error", ec.message()}});
}

leases_held lease_loop::count() const {
  leases_held n;
  for (const std::string& name : keeper_.held()) {
    if (name.starts_with("bind:")) {
      ++n.bind;
    } else if (name.starts_with("node:")) {
      ++n.node;
    } else if (name == purge_lease) {
      ++n.purge;
    }
  }
  return n;
}

void register_lease_metrics(const lease_loop& leases, metrics::registry& metrics) {
  auto& held = metrics.add_gauge("otpd_leases_held",
                                 "Leases this node holds, by kind (node, purge, bind)", {"kind"});
  metrics.on_collect([&leases, &held] {
    const leases_held n = leases.count();
    held.with({"node"}).set(static_cast<double>(n.node));
    held.with({"purge"}).set(static_cast<double>(n.purge));
    held.with({"bind"}).set(static_cast<double>(n.bind));
  });
}

std::string node_name(const std::string& configured) {
  if (!configured.empty()) return configured;
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) return "otpd";
  return host.data();
}

}  // namespace otpd::cluster
