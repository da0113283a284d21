// The server against docs/openapi.yaml: every route of the spec exists with the security the
// spec gives it, every status the spec lists for an operation is produced by a real request,
// and every status otpd answers along the way is one the spec lists.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "config/yaml_json.hpp"
#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

using triple = std::tuple<std::string, std::string, int>;  // method, path template, status

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

struct spec {
  std::set<triple> declared;
  std::map<std::pair<std::string, std::string>, bool> secured;  // (method, path) -> bearer
  std::set<std::string> ops_paths;  // paths with servers of their own: the ops listener
};

spec load_spec() {
  std::ifstream in(std::string(OTPD_SOURCE_DIR) + "/docs/openapi.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string error;
  auto doc = config::yaml_to_json(ss.str(), &error);
  EXPECT_TRUE(doc) << error;
  spec s;
  if (!doc) return s;
  const bool global_security = !doc->as_object().at("security").as_array().empty();
  for (const auto& [path, item] : doc->as_object().at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      if (method == "servers") {
        s.ops_paths.insert(std::string(path));
        continue;
      }
      const auto& o = op.as_object();
      bool secured = global_security;
      if (auto* sec = o.if_contains("security")) secured = !sec->as_array().empty();
      s.secured[{upper(std::string(method)), std::string(path)}] = secured;
      for (const auto& [status, resp] : o.at("responses").as_object()) {
        s.declared.emplace(upper(std::string(method)), std::string(path),
                           std::stoi(std::string(status)));
      }
    }
  }
  return s;
}

class conformance {
 public:
  explicit conformance(const spec& s) : spec_(s) {}

  // Records what a request got and checks that the spec allows it.
  const http_response& saw(std::string method, std::string path, const http_response& r) {
    const triple t{method, path, r.status};
    EXPECT_TRUE(spec_.declared.count(t)) << method << " " << path << " answered " << r.status
                                         << ", which docs/openapi.yaml does not list: " << r.body;
    if (r.status >= 400 && r.status != 501) {
      EXPECT_EQ(r.header("content-type").value_or(""), "application/problem+json") << r.body;
    }
    observed_.insert(t);
    return r;
  }

  void expect_everything_seen() const {
    for (const triple& t : spec_.declared) {
      EXPECT_TRUE(observed_.count(t))
          << std::get<0>(t) << " " << std::get<1>(t) << " " << std::get<2>(t)
          << " is in docs/openapi.yaml but no request produced it";
    }
  }

 private:
  const spec& spec_;
  std::set<triple> observed_;
};

TEST(e2e_openapi, every_route_and_status_of_the_spec_is_served) {
  const spec s = load_spec();
  ASSERT_FALSE(s.declared.empty());
  conformance c(s);

  // A world whose carrier works, with a small body limit and a per-IP limit to reach 413/429.
  otpd_options opts;
  opts.http["max_body_bytes"] = "2048";
  opts.rate_limits["per_client_ip"] = "[{max: 1, window: 1m}]";
  single_world w(opts);
  otpd_process& o = *w.otpd;
  const std::string V = "/v1/verifications";
  const std::string ID = V + "/{id}";

  // Every route exists with the security the spec gives it.
  for (const auto& [key, secured] : s.secured) {
    std::string target = key.second;
    if (auto p = target.find("{id}"); p != std::string::npos) target.replace(p, 4, "nope");
    if (s.ops_paths.count(key.second) != 0) {
      // On the ops listener, and absent from the API's.
      EXPECT_EQ(http_call(o.port(), key.first, target).status, 404) << key.second;
      EXPECT_NE(http_call(o.ops_port(), key.first, target).status, 404) << key.second;
      continue;
    }
    http_response r = o.call(key.first, target, {{"Content-Type", "application/json"}},
                             key.first == "POST" ? std::optional<std::string>("{}") : std::nullopt,
                             /*auth=*/false);
    if (secured) {
      c.saw(key.first, key.second, r);
      EXPECT_EQ(r.status, 401) << key.first << " " << key.second;
      EXPECT_TRUE(r.header("www-authenticate")) << key.first << " " << key.second;
    } else {
      EXPECT_NE(r.status, 401) << key.first << " " << key.second;
      EXPECT_NE(r.status, 404) << key.first << " " << key.second;
    }
  }

  // Public routes.
  c.saw("GET", "/healthz", o.get("/healthz", false));
  c.saw("GET", "/readyz", o.ops_get("/readyz"));
  EXPECT_EQ(c.saw("GET", "/metrics", o.ops_get("/metrics")).status, 200);

  // POST /v1/verifications
  std::size_t from = w.smsc.size();
  auto created = c.saw(
      "POST", V, o.post(V, json::object{{"to", "0912 345 678"}}, {{"Idempotency-Key", "k-1"}}));
  ASSERT_EQ(created.status, 201);
  const std::string id = str(created.obj(), "id");
  const std::string code = next_code(w.smsc, from);
  EXPECT_EQ(c.saw("POST", V,
                  o.post(V, json::object{{"to", "0912 345 678"}}, {{"Idempotency-Key", "k-1"}}))
                .status,
            200);
  EXPECT_EQ(
      c.saw("POST", V,
            o.call("POST", V, {{"Content-Type", "application/json"}}, std::string("{\"to\":")))
          .status,
      400);
  EXPECT_EQ(c.saw("POST", V, o.post(V, json::object{{"to", "+1 202 555 0143"}})).status, 403);
  EXPECT_EQ(c.saw("POST", V,
                  o.call("POST", V, {{"Content-Type", "application/json"}},
                         std::string(4096, ' ') + "{}"))
                .status,
            413);
  EXPECT_EQ(
      c.saw("POST", V, o.call("POST", V, {{"Content-Type", "text/plain"}}, std::string("to=1")))
          .status,
      415);
  EXPECT_EQ(c.saw("POST", V, o.post(V, json::object{{"to", "12ab"}})).status, 422);
  from = w.smsc.size();
  EXPECT_EQ(
      c.saw("POST", V, o.post(V, json::object{{"to", "0912 345 001"}, {"client_ip", "10.9.9.9"}}))
          .status,
      201);
  // Its SMS is awaited, so that the next one the SMSC takes is the resend's below.
  next_code(w.smsc, from, 6, "84912345001");
  auto limited =
      c.saw("POST", V, o.post(V, json::object{{"to", "0912 345 002"}, {"client_ip", "10.9.9.9"}}));
  EXPECT_EQ(limited.status, 429);
  EXPECT_TRUE(limited.header("retry-after"));

  // GET /v1/verifications/{id}
  EXPECT_EQ(c.saw("GET", ID, o.get(V + "/" + id)).status, 200);
  EXPECT_EQ(c.saw("GET", ID, o.get(V + "/nope")).status, 404);

  // resend: 429 before the cooldown, 400, 404, 501 (voice), 202 after the cooldown.
  const std::string R = ID + "/resend";
  EXPECT_EQ(
      c.saw("POST", R, o.post(V + "/" + id + "/resend", json::object{{"channel", "sms"}})).status,
      429);
  EXPECT_EQ(
      c.saw("POST", R, o.post(V + "/" + id + "/resend", json::object{{"channel", "fax"}})).status,
      400);
  EXPECT_EQ(c.saw("POST", R, o.post(V + "/nope/resend", json::object{{"channel", "sms"}})).status,
            404);
  EXPECT_EQ(
      c.saw("POST", R, o.post(V + "/" + id + "/resend", json::object{{"channel", "voice"}})).status,
      501);
  o.advance_clock(31s);
  from = w.smsc.size();
  EXPECT_EQ(
      c.saw("POST", R, o.post(V + "/" + id + "/resend", json::object{{"channel", "sms"}})).status,
      202);
  const std::string code2 = next_code(w.smsc, from, 6, "84912345678");

  // check: 400, 404, 422, 200, then 409 (single use); resend after approval: 409.
  const std::string K = ID + "/check";
  EXPECT_EQ(c.saw("POST", K, o.post(V + "/" + id + "/check", json::object{{"code", "x"}})).status,
            400);
  EXPECT_EQ(c.saw("POST", K, o.post(V + "/nope/check", json::object{{"code", "123456"}})).status,
            404);
  EXPECT_EQ(c.saw("POST", K, check(o, id, wrong_code(code2))).status, 422);
  EXPECT_EQ(c.saw("POST", K, check(o, id, code2)).status, 200);
  EXPECT_EQ(c.saw("POST", K, check(o, id, code2)).status, 409);
  EXPECT_EQ(
      c.saw("POST", R, o.post(V + "/" + id + "/resend", json::object{{"channel", "sms"}})).status,
      409);
  (void)code;

  // cancel: 200, 409, 404.
  from = w.smsc.size();
  const std::string id2 = create(o, json::object{{"to", "0912 345 678"}});
  const std::string C = ID + "/cancel";
  EXPECT_EQ(c.saw("POST", C, o.post(V + "/" + id2 + "/cancel", json::object{})).status, 200);
  EXPECT_EQ(c.saw("POST", C, o.post(V + "/" + id2 + "/cancel", json::object{})).status, 409);
  EXPECT_EQ(c.saw("POST", C, o.post(V + "/nope/cancel", json::object{})).status, 404);

  // 410: past the lifetime, for check and resend.
  const std::string id3 = create(o, json::object{{"to", "0912 345 678"}});
  o.advance_clock(601s);
  EXPECT_EQ(c.saw("POST", K, check(o, id3, "123456")).status, 410);
  EXPECT_EQ(
      c.saw("POST", R, o.post(V + "/" + id3 + "/resend", json::object{{"channel", "sms"}})).status,
      410);

  // A world whose only carrier cannot bind: not ready, and a create answers 503.
  closed_port down;
  otpd_options dead;
  dead.carriers = {carrier_spec{"down", {"84"}, {bind_spec{"down-trx", down.port()}}, {}}};
  temp_dir dir;
  otpd_process o2(dead, dir.path());
  EXPECT_EQ(c.saw("GET", "/readyz", o2.ops_get("/readyz")).status, 503);
  EXPECT_EQ(c.saw("POST", V, o2.post(V, json::object{{"to", "0912 345 678"}})).status, 503);

  c.expect_everything_seen();
}

}  // namespace
}  // namespace otpd::test::e2e
