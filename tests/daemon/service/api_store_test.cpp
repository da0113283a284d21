// The API when the store fails: a request that needs state answers 503 with Retry-After (and
// retry_after in the problem), /readyz says the store is down and why, and is ready again once
// a call (the probe's) succeeds. The store is a database opened read-only: reads answer, every
// write fails with io_error, as on a database that has gone away or a full disk.
#include <boost/json.hpp>

#include "daemon/api/api.hpp"
#include "daemon/store/sqlite_store.hpp"
#include "tests/daemon/service/service_fixture.hpp"
#include "tests/daemon/store/store_test_util.hpp"

namespace otpd::service::unit {
namespace {

namespace json = boost::json;

class api_store_test : public service_fixture {
 protected:
  api_store_test() {
    bool stopped = false;
    svc->stop([&] { stopped = true; });
    EXPECT_TRUE(run_until([&] { return stopped; }));
    svc.reset();
    db_.reset();
    const std::string path = dir_.file("otpd.db");
    std::unique_ptr<store> db;
    std::string why;
    EXPECT_FALSE(open_sqlite_store(path, sqlite_options{}, db, why)) << why;  // the schema
    db.reset();
    sqlite_options read_only;
    read_only.read_only = true;
    EXPECT_FALSE(open_sqlite_store(path, read_only, db, why)) << why;
    db_.emplace(std::move(db));
    svc.emplace(io.get_executor(), cfg, std::make_shared<const config::config>(cfg), *db_, routes(),
                sms, events, clock, logger, metrics);
  }

  http::response call(const http::router& r, http::method m, const std::string& path,
                      std::string body = {}) {
    auto found = r.match(m, path);
    EXPECT_EQ(found.result, http::router::match_result::kind::found) << path;
    http::request req;
    req.method = m;
    req.path = path;
    req.params = found.params;
    req.api_key = "test";
    req.body = std::move(body);
    req.headers.set("Content-Type", "application/json");
    return await(found.route->handler(req));
  }

  test::scratch_dir dir_;
};

TEST_F(api_store_test, a_create_the_store_cannot_write_is_503_with_retry_after) {
  const http::router api = api::make_router(*svc, sms, metrics);
  const http::response r =
      call(api, http::method::post, "/v1/verifications", R"({"to": "+4915112345678"})");
  EXPECT_EQ(r.status, 503U) << r.body;
  ASSERT_TRUE(r.headers.get("Retry-After").has_value());
  const auto retry = std::stoi(std::string(*r.headers.get("Retry-After")));
  EXPECT_GE(retry, 1);
  const json::object problem = json::parse(r.body).as_object();
  EXPECT_EQ(problem.at("type").as_string().ends_with("store_unavailable"), true) << r.body;
  EXPECT_EQ(problem.at("retry_after").as_int64(), retry);
  EXPECT_TRUE(sms.sent.empty());  // nothing written, nothing sent
}

TEST_F(api_store_test, a_read_the_store_answers_is_not_a_store_failure) {
  const http::router api = api::make_router(*svc, sms, metrics);
  EXPECT_EQ(call(api, http::method::get, "/v1/verifications/nothere").status, 404U);
}

TEST_F(api_store_test, readyz_is_503_while_the_store_fails_and_200_once_a_call_succeeds) {
  const http::router ops = api::make_ops_router(*svc, sms, metrics);
  http::response r = call(ops, http::method::get, "/readyz");
  EXPECT_EQ(r.status, 200U) << r.body;
  EXPECT_EQ(json::parse(r.body).at("store").at("status").as_string(), "up");

  const http::router api = api::make_router(*svc, sms, metrics);
  EXPECT_EQ(
      call(api, http::method::post, "/v1/verifications", R"({"to": "+4915112345678"})").status,
      503U);
  r = call(ops, http::method::get, "/readyz");
  EXPECT_EQ(r.status, 503U) << r.body;
  const json::value body = json::parse(r.body);
  EXPECT_EQ(body.at("store").at("status").as_string(), "down");
  const std::string error(body.at("store").at("error").as_string());
  EXPECT_FALSE(error.empty());
  EXPECT_NE(std::string(body.at("detail").as_string()).find(error), std::string::npos) << r.body;

  EXPECT_FALSE(await(db_->probe()));  // what the probe does while the store is down
  r = call(ops, http::method::get, "/readyz");
  EXPECT_EQ(r.status, 200U) << r.body;
  EXPECT_EQ(json::parse(r.body).at("store").at("status").as_string(), "up");
}

}  // namespace
}  // namespace otpd::service::unit
