#include "daemon/sms/gateway_metrics.hpp"

#include <string>

namespace otpd::service {

void register_gateway_metrics(sms_gateway& gateway, metrics::registry& metrics) {
  auto& waits = metrics.add_counter(
      "otpd_sms_bind_waits_total",
      "Waits for a bind of a route's carriers (no bound transmitter), by how they ended",
      {"carrier", "outcome"});
  gateway.on_wait([&waits](const std::string& carrier, bind_wait w) {
    waits.with({carrier, std::string(to_string(w))}).inc();
  });
  auto& waiting = metrics.add_gauge(
      "otpd_sms_waiting_for_bind", "SMS waiting for a bind of the carrier to come up", {"carrier"});
  auto& degraded = metrics.add_gauge(
      "otpd_smpp_bind_degraded", "1 when the bind is bound but its last submits got no response",
      {"carrier", "bind"});
  auto& bind_up =
      metrics.add_gauge("otpd_smpp_bind_up", "1 when the bind is bound", {"carrier", "bind"});
  auto& window = metrics.add_gauge("otpd_smpp_window_in_use",
                                   "Submits awaiting a response, by bind", {"carrier", "bind"});
  auto& tps = metrics.add_gauge("otpd_smpp_tps_limit", "Current send-rate limit (0 = unlimited)",
                                {"carrier", "bind"});
  auto& reconnects =
      metrics.add_gauge("otpd_smpp_connects", "TCP connections made, by bind", {"carrier", "bind"});
  metrics.on_collect([&gateway, &waiting, &degraded, &bind_up, &window, &tps, &reconnects] {
    for (const smpp::pool_status& p : gateway.status()) {
      waiting.with({p.name}).set(static_cast<double>(gateway.waiting(p.name)));
      for (std::size_t i = 0; i < p.sessions.size(); ++i) {
        const smpp::session_status& s = p.sessions[i];
        bind_up.with({p.name, s.name}).set(s.state == smpp::session_state::bound ? 1 : 0);
        window.with({p.name, s.name}).set(static_cast<double>(s.in_flight));
        tps.with({p.name, s.name}).set(s.tps_limit);
        reconnects.with({p.name, s.name}).set(static_cast<double>(s.connects));
        if (i < p.health.size()) {
          degraded.with({p.name, s.name}).set(p.health[i].degraded ? 1 : 0);
        }
      }
    }
  });
}

}  // namespace otpd::service
