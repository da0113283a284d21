// A throw-away PostgreSQL 15 cluster for tests: initdb into a fresh temporary directory, the
// server on 127.0.0.1 and a free port (its unix socket inside that directory), fsync on as in
// production, removed with everything in it when the object goes. The server refuses to run
// as root: when the tests run as root, every server program runs as the `postgres` user
// (runuser), and the directory belongs to that user.
//
// Authentication: trust for 127.0.0.1, except for password_user, who must give password.
// Tests take a database each (create_database): CREATE DATABASE is quick, a cluster is not, so
// one cluster per test binary is enough (shared()).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace otpd::test {

class pg_cluster {
 public:
  static constexpr const char* superuser = "postgres";
  static constexpr const char* password_user = "otpd_pw";
  static constexpr const char* password = "pw-9f3c1e7a";

  // initdb and start. Throws std::runtime_error saying which step failed (with its output).
  pg_cluster();
  // Stops the server (-m immediate) and removes the directory.
  ~pg_cluster();
  pg_cluster(const pg_cluster&) = delete;
  pg_cluster& operator=(const pg_cluster&) = delete;

  // The cluster of this test binary, started on first use and removed at exit.
  static pg_cluster& shared();

  int port() const noexcept { return port_; }
  const std::filesystem::path& directory() const noexcept { return dir_; }

  // Creates database `name` (owned by password_user, so that both users may use it) and
  // returns a conninfo for it as the superuser, without password.
  std::string create_database(const std::string& name);
  // Drops it, closing the connections still open to it.
  void drop_database(const std::string& name);
  // "host=127.0.0.1 port=N dbname=<db> user=<user>" (and password=... when given).
  std::string conninfo(const std::string& db, const std::string& user = superuser,
                       const std::string& pw = {}) const;
  // Runs `sql` with psql in `db`; returns its output (unaligned, tuples only). Throws on
  // failure.
  std::string psql(const std::string& db, const std::string& sql);

  // pg_ctl stop -m fast (connections are closed), and start again on the same port; both wait
  // until done (pg_ctl -w, bounded by its -t).
  void stop();
  void start();
  // SIGKILL to the postmaster, by the PID in postmaster.pid; returns once it has gone.
  void kill();
  bool running() const;

  // Serves TLS from now on with `cert` and `key` (copied into the data directory, the key
  // readable by the server's user alone); clients that do not ask for TLS are still served.
  // Restarts the server (stop, start) so that the setting holds when it returns.
  void enable_tls(const std::filesystem::path& cert, const std::filesystem::path& key);

  // A streaming standby of this cluster (pg_basebackup -R), started on a port of its own.
  std::unique_ptr<pg_cluster> make_standby();
  // pg_ctl promote -w: a standby becomes a primary.
  void promote();
  // On a primary: a commit waits until a standby has the WAL on disk
  // (synchronous_standby_names = '*'), once the standby has caught up and says it is one
  // (polled in pg_stat_replication, within a bound). Throws when none does in time.
  void require_synchronous_standby();

 private:
  struct standby_tag {};
  pg_cluster(standby_tag, const pg_cluster& primary);

  // argv of a server program in PostgreSQL's bin directory, as the user that owns the data.
  std::vector<std::string> server_command(std::string_view program,
                                          std::vector<std::string> args) const;
  // Runs it; throws with its output when it fails.
  std::string run(std::string_view what, std::vector<std::string> argv,
                  std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  void make_directory();
  void set_up();                                   // initdb, start, the password user
  void set_up_standby(const pg_cluster& primary);  // pg_basebackup, start
  // Stops the server (-m immediate) and removes the directory.
  void remove() noexcept;
  void write_config();
  void start_on_a_free_port();
  pid_t postmaster_pid() const;

  std::filesystem::path dir_;  // owns data/, the socket and the log
  std::filesystem::path data_;
  int port_ = 0;
};

}  // namespace otpd::test
