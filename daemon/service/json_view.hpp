// How a verification looks in API responses and webhooks: the number masked, never a code or
// its MAC, times in RFC 3339 UTC.
#pragma once

#include <boost/json/object.hpp>

#include "config/config.hpp"
#include "daemon/model.hpp"

namespace otpd::service {

boost::json::object to_json(const verification& v, const config::otp_policy& policy, sys_time now);

// "2026-11-26T04:06:58.123Z"
std::string rfc3339(sys_time t);

}  // namespace otpd::service
