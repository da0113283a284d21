// The gateway's series that concern binds coming and going: SMS waiting for a bind, how those
// waits ended, and binds whose submits get no response.
#pragma once

#include "daemon/metrics/registry.hpp"
#include "daemon/sms/sms_gateway.hpp"

namespace otpd::service {

// Registers them in `metrics`; `gateway` must outlive the registry's collections.
void register_gateway_metrics(sms_gateway& gateway, metrics::registry& metrics);

}  // namespace otpd::service
