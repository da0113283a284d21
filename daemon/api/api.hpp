// The HTTP API v1 (docs/openapi.yaml): JSON in, the service's outcomes out as JSON or RFC 9457
// problems.
#pragma once

#include "daemon/http/router.hpp"
#include "daemon/metrics/registry.hpp"
#include "daemon/service/verification_service.hpp"
#include "daemon/sms/sms_sender.hpp"

namespace otpd::api {

// The API: /v1/... with a key, and /healthz. /readyz and /metrics only when
// ops.on_api_listeners is set; otherwise they are 404 here, as any unknown path. /readyz shows
// each carrier of `sms` (the gateway).
http::router make_router(service::verification_service& svc, const service::sms_sender& sms,
                         metrics::registry& metrics);

// The ops listener's routes: /healthz, /readyz and /metrics, without a key.
http::router make_ops_router(service::verification_service& svc, const service::sms_sender& sms,
                             metrics::registry& metrics);

}  // namespace otpd::api
