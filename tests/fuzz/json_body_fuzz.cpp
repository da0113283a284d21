// The API's JSON request bodies (daemon/http/json_body: parse_json_object is what every POST
// handler of daemon/api calls first). The first line of the input is the Content-Type, the
// rest the body. A body is accepted only as a JSON object under a JSON media type; anything
// else is answered 400 or 415 with a problem document, never a crash.
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "daemon/http/json_body.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace http = otpd::http;
namespace json = boost::json;

namespace {

// How many representable doubles lie between a and b (both finite, same sign).
std::uint64_t ulps_apart(double a, double b) {
  const auto x = std::bit_cast<std::uint64_t>(std::fabs(a));
  const auto y = std::bit_cast<std::uint64_t>(std::fabs(b));
  return x > y ? x - y : y - x;
}

// Equal, except that a double may come back a couple of units in the last place off: Boost
// 1.81's JSON parser is not correctly rounded (its precise mode came in 1.83), so neither
// "49999...98" nor the "5E76" it serializes to parses to the nearest double. The API takes
// only integers (a double is refused as the wrong type), so this never reaches a handler.
bool same(const json::value& a, const json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double(), y = b.get_double();
    return x == y || (std::signbit(x) == std::signbit(y) && ulps_apart(x, y) <= 2);
  }
  if (a.is_object() && b.is_object()) {
    const auto &p = a.get_object(), &q = b.get_object();
    if (p.size() != q.size()) return false;
    for (const auto& kv : p) {
      const auto* other = q.if_contains(kv.key());
      if (!other || !same(kv.value(), *other)) return false;
    }
    return true;
  }
  if (a.is_array() && b.is_array()) {
    const auto &p = a.get_array(), &q = b.get_array();
    if (p.size() != q.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (!same(p[i], q[i])) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = in.find('\n');
  const std::string_view content_type =
      nl == in.npos ? std::string_view("application/json") : in.substr(0, nl);
  http::request req;
  req.method = http::method::post;
  req.target = req.path = "/v1/verifications";
  req.headers.add("Content-Type", std::string(content_type));
  req.body = std::string(nl == in.npos ? in : in.substr(nl + 1));

  json::object body;
  if (auto bad = http::parse_json_object(req, body)) {
    FUZZ_CHECK(bad->status == 400 || bad->status == 415);
    return 0;
  }
  FUZZ_CHECK(http::is_json_media_type(content_type));
  // What was accepted serializes and parses back to the same object (doubles to within 2 ulp).
  http::request again = req;
  again.body = json::serialize(body);
  json::object body2;
  FUZZ_CHECK(!http::parse_json_object(again, body2));
  FUZZ_CHECK(same(body2, body));
  return 0;
}
