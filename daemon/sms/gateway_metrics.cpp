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
  metrics.on_collect([&gateway, &waiting, &degraded] {
    for (const smpp::pool_status& p : gateway.status()) {
      waiting.with({p.name}).set(static_cast<double>(gateway.waiting(p.name)));
      for (std::size_t i = 0; i < p.sessions.size() && i < p.health.size(); ++i) {
        degraded.with({p.name, p.sessions[i].name}).set(p.health[i].degraded ? 1 : 0);
      }
    }
  });
}

}  // namespace otpd::service
