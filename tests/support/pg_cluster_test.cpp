// The throw-away PostgreSQL cluster: it serves, stops and starts on its port, survives a
// SIGKILL of its postmaster (crash recovery at the next start), and is gone once destroyed.
#include "tests/support/pg_cluster.hpp"

#include <filesystem>

#include <gtest/gtest.h>

namespace otpd::test {
namespace {

TEST(pg_cluster, serves_a_database_of_its_own_and_is_removed_at_the_end) {
  std::filesystem::path dir;
  {
    pg_cluster cluster;
    dir = cluster.directory();
    const std::string conninfo = cluster.create_database("one");
    EXPECT_NE(conninfo.find("port=" + std::to_string(cluster.port())), std::string::npos);
    cluster.psql("one", "CREATE TABLE t (x int); INSERT INTO t VALUES (42)");
    EXPECT_EQ(cluster.psql("one", "SELECT x FROM t"), "42\n");
    EXPECT_EQ(cluster.psql("one", "SHOW fsync"), "on\n");
    EXPECT_TRUE(cluster.running());
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(pg_cluster, keeps_its_data_across_a_stop_and_a_kill) {
  pg_cluster cluster;
  cluster.create_database("kept");
  cluster.psql("kept", "CREATE TABLE t (x int); INSERT INTO t VALUES (7)");
  cluster.stop();
  EXPECT_FALSE(cluster.running());
  EXPECT_THROW(cluster.psql("kept", "SELECT 1"), std::runtime_error);
  cluster.start();
  EXPECT_EQ(cluster.psql("kept", "SELECT x FROM t"), "7\n");
  cluster.kill();
  EXPECT_FALSE(cluster.running());
  cluster.start();
  EXPECT_EQ(cluster.psql("kept", "SELECT x FROM t"), "7\n");
}

TEST(pg_cluster, a_standby_follows_its_primary_and_serves_writes_once_promoted) {
  pg_cluster primary;
  primary.create_database("replicated");
  primary.psql("replicated", "CREATE TABLE t (x int); INSERT INTO t VALUES (1)");
  auto standby = primary.make_standby();
  EXPECT_EQ(standby->psql("replicated", "SELECT pg_is_in_recovery()"), "t\n");
  EXPECT_EQ(standby->psql("replicated", "SELECT x FROM t"), "1\n");
  primary.stop();
  standby->promote();
  EXPECT_EQ(standby->psql("replicated", "SELECT pg_is_in_recovery()"), "f\n");
  standby->psql("replicated", "INSERT INTO t VALUES (2)");
  EXPECT_EQ(standby->psql("replicated", "SELECT count(*) FROM t"), "2\n");
}

}  // namespace
}  // namespace otpd::test
