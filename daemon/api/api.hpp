// The HTTP API v1 (docs/openapi.yaml): JSON in, the service's outcomes out as JSON or RFC 9457
// problems.
#pragma once

#include "daemon/http/router.hpp"
#include "daemon/metrics/registry.hpp"
#include "daemon/service/verification_service.hpp"

namespace otpd::api {

http::router make_router(service::verification_service& svc, metrics::registry& metrics);

}  // namespace otpd::api
