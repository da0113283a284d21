#include "daemon/http/problem.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace otpd::http {

std::string problem_type(std::string_view slug) {
  std::string t(problem_type_prefix);
  t += slug;
  return t;
}

response problem(unsigned status, std::string_view slug, std::string_view title,
                 std::string_view detail, const boost::json::object& extra) {
  boost::json::object o;
  o.reserve(5 + extra.size());
  o["type"] = problem_type(slug);
  o["title"] = title.empty() ? reason_phrase(status) : title;
  o["status"] = status;
  if (!detail.empty()) o["detail"] = detail;
  for (const auto& kv : extra) {
    const auto k = kv.key();
    // The standard members are the builder's; "instance" (RFC 9457 §3.1.5) may come here.
    if (k == "type" || k == "title" || k == "status" || k == "detail") continue;
    o[k] = kv.value();
  }
  return response{status, {}, boost::json::serialize(o), std::string(problem_content_type)};
}

}  // namespace otpd::http
