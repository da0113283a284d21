#include "daemon/http/json_body.hpp"

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/stream_parser.hpp>

#include "common/ascii.hpp"
#include "daemon/http/problem.hpp"

namespace otpd::http {

namespace {

using ascii::trim;  // OWS: space and tab (RFC 9110 §5.6.3)
std::string lowercase(std::string_view s) { return ascii::to_lower(s); }

response malformed(std::string_view detail, const boost::json::object& extra = {}) {
  return problem(400, "malformed_json", "Malformed JSON", detail, extra);
}

// Whether v holds a double that is not finite. Boost.JSON (1.81) reads a number beyond the
// range of a double (1e400) as an infinity, which serializes as `Infinity`: not JSON. The
// nesting is at most 32 deep (parse_json_body), which bounds the recursion.
bool holds_non_finite(const boost::json::value& v) noexcept {
  switch (v.kind()) {
    case boost::json::kind::double_:
      return !std::isfinite(v.get_double());
    case boost::json::kind::array:
      for (const auto& e : v.get_array()) {
        if (holds_non_finite(e)) return true;
      }
      return false;
    case boost::json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (holds_non_finite(kv.value())) return true;
      }
      return false;
    default:
      return false;
  }
}

// The first key that appears twice in one object of `text`, a body that has already parsed as
// JSON (so strings are closed and the nesting is at most 32 deep); nullopt when none does.
// Boost.JSON 1.81 keeps the last of duplicate keys and has no option to refuse them (RFC 8259
// §4: names SHOULD be unique; otherwise behaviour is unpredictable). Keys compare as decoded
// text: "a" and "\u0061" are the same key. Each step moves forward, so the loop is bounded.
std::optional<std::string> first_duplicate_key(std::string_view text) {
  struct level {
    bool object = false;
    bool expect_key = false;
    std::set<std::string, std::less<>> keys;
  };
  std::vector<level> stack;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '"') {
      std::size_t end = i + 1;
      while (end < text.size() && text[end] != '"') end += text[end] == '\\' ? 2 : 1;
      const std::string_view token = text.substr(i, end + 1 - i);
      i = end + 1;
      if (stack.empty() || !stack.back().object || !stack.back().expect_key) continue;
      stack.back().expect_key = false;
      boost::system::error_code ec;
      const boost::json::value key = boost::json::parse(token, ec);
      if (ec || !key.is_string()) continue;  // cannot happen after a successful parse
      std::string name(key.get_string());
      if (!stack.back().keys.insert(name).second) return name;
      continue;
    }
    if (c == '{' || c == '[') {
      stack.push_back({c == '{', c == '{', {}});
    } else if ((c == '}' || c == ']') && !stack.empty()) {
      stack.pop_back();
    } else if (c == ',' && !stack.empty() && stack.back().object) {
      stack.back().expect_key = true;
    }
    ++i;
  }
  return std::nullopt;
}

}  // namespace

bool is_json_media_type(std::string_view content_type) noexcept {
  // RFC 9110 §8.3.1: media-type = type "/" subtype parameters; all case-insensitive, except
  // parameter values, but charset values are case-insensitive too.
  const auto semi = content_type.find(';');
  const std::string type = lowercase(trim(content_type.substr(0, semi)));
  const bool json =
      type == "application/json" || (type.starts_with("application/") && type.ends_with("+json"));
  if (!json) return false;
  std::string_view params =
      semi == std::string_view::npos ? std::string_view{} : content_type.substr(semi + 1);
  while (!params.empty()) {
    const auto next = params.find(';');
    const std::string_view p = trim(params.substr(0, next));
    params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
    const auto eq = p.find('=');
    if (eq == std::string_view::npos) continue;
    if (lowercase(trim(p.substr(0, eq))) != "charset") continue;
    std::string_view v = trim(p.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    const std::string cs = lowercase(v);
    if (cs != "utf-8" && cs != "utf8") return false;
  }
  return true;
}

std::optional<response> require_json(const request& req) {
  const auto ct = req.header("Content-Type");
  if (ct && is_json_media_type(*ct)) return std::nullopt;
  boost::json::object extra;
  extra["accept"] = boost::json::array{"application/json"};
  return problem(415, "unsupported_media_type", {},
                 ct ? "the request body must be application/json, not " + std::string(*ct)
                    : std::string("the request body must be application/json (no Content-Type)"),
                 extra)
      .set_header("Accept-Post", "application/json");
}

std::optional<response> parse_json_body(const request& req, boost::json::value& out) {
  if (auto p = require_json(req)) return p;
  if (trim(req.body).empty()) return malformed("the request body is empty");

  boost::json::parse_options opts;
  opts.max_depth = 32;
  // The parser's temporary stack and the value both in out's storage: a caller parsing a
  // secret (the code on /check) gives storage that is wiped when freed.
  boost::json::stream_parser parser(out.storage(), opts);
  parser.reset(out.storage());
  boost::system::error_code ec;
  // write() stops at the first error and returns how many bytes it accepted: the error's
  // offset. It also reports data after a complete value (error::extra_data).
  const std::size_t n = parser.write(req.body.data(), req.body.size(), ec);
  std::size_t offset = n;
  if (!ec) {
    parser.finish(ec);
    offset = req.body.size();
  }
  if (ec) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < req.body.size(); ++i) {
      if (req.body[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    boost::json::object extra;
    extra["line"] = line;
    extra["column"] = column;
    extra["offset"] = offset;
    return malformed("invalid JSON at line " + std::to_string(line) + ", column " +
                         std::to_string(column) + ": " + ec.message(),
                     extra);
  }
  out = parser.release();
  if (auto key = first_duplicate_key(req.body)) {
    if (key->size() > 64) {
      std::size_t cut = 64;  // at a character's start: the problem document stays UTF-8
      while (cut > 0 && (static_cast<unsigned char>((*key)[cut]) & 0xC0) == 0x80) --cut;
      *key = key->substr(0, cut) + "...";
    }
    return malformed("the key \"" + *key + "\" appears twice in one object of the request body",
                     {{"duplicate_key", *key}});
  }
  if (holds_non_finite(out)) {
    return malformed("a number in the request body is out of range (beyond about 1.8e308)");
  }
  return std::nullopt;
}

std::optional<response> parse_json_object(const request& req, boost::json::object& out) {
  boost::json::value v(out.storage());
  if (auto p = parse_json_body(req, v)) return p;
  if (!v.is_object()) return malformed("the request body must be a JSON object");
  out = std::move(v.get_object());
  return std::nullopt;
}

}  // namespace otpd::http
