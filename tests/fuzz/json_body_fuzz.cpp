// The API's JSON request bodies (daemon/http/json_body: parse_json_object is what every POST
// handler of daemon/api calls first). The first line of the input is the Content-Type, the
// rest the body. A body is accepted only as a JSON object under a JSON media type; anything
// else is answered 400 or 415 with a problem document, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "daemon/http/json_body.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace http = otpd::http;
namespace json = boost::json;

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
  // What was accepted serializes and parses back to the same object.
  http::request again = req;
  again.body = json::serialize(body);
  json::object body2;
  FUZZ_CHECK(!http::parse_json_object(again, body2));
  FUZZ_CHECK(body2 == body);
  return 0;
}
