// The store's contract (store.hpp), one suite for every backend: each test is a TEST_P of
// store_contract, and each backend instantiates the suite with its own store_backend
// (INSTANTIATE_TEST_SUITE_P in that backend's test file: SQLite in sqlite_store_test.cpp,
// PostgreSQL in postgres_store_test.cpp).
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "daemon/store/store.hpp"

namespace otpd::service::test {

// One empty database of a backend, to which a test opens as many connections as it wants (one
// per node it plays). Destroying it drops the database.
class store_database {
 public:
  virtual ~store_database() = default;
  // A new connection (a store of its own) to this database; fails the test when it cannot.
  virtual std::unique_ptr<store> connect() = 0;
};

struct store_backend {
  std::string name;  // the instantiation's name: "sqlite", "postgres"
  std::function<std::unique_ptr<store_database>()> create;
};

inline std::string backend_name(const ::testing::TestParamInfo<store_backend>& info) {
  return info.param.name;
}
// How gtest shows the parameter (ctest's test names include it): the name, not the bytes of
// the struct, which hold pointers and change from run to run.
inline void PrintTo(const store_backend& backend, std::ostream* os) { *os << backend.name; }

class store_contract : public ::testing::TestWithParam<store_backend> {
 protected:
  void SetUp() override {
    db_ = GetParam().create();
    ASSERT_NE(db_, nullptr);
    store_ = db_->connect();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
  }

  std::unique_ptr<store_database> db_;
  std::unique_ptr<store> store_;  // the first connection ("node A")
};

}  // namespace otpd::service::test
