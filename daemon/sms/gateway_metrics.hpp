// The gateway's series: each bind's state, window in use, rate limit and connections, SMS
// waiting for a bind and how those waits ended, and binds whose submits get no response.
#pragma once

#include "daemon/metrics/registry.hpp"
#include "daemon/sms/sms_gateway.hpp"

namespace otpd::service {

// Registers them in `metrics`; `gateway` must outlive the registry's collections.
void register_gateway_metrics(sms_gateway& gateway, metrics::registry& metrics);

}  // namespace otpd::service
