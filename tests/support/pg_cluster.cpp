#include "tests/support/pg_cluster.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/child_process.hpp"

namespace otpd::test {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Debian's layout; OTPD_PG_BIN overrides it (another version, another distribution).
fs::path bin_dir() {
  if (const char* env = ::getenv("OTPD_PG_BIN"); env != nullptr && *env != '\0') return env;
  return "/usr/lib/postgresql/15/bin";
}

bool as_root() { return ::geteuid() == 0; }

// A port that was free a moment ago: bound to 127.0.0.1:0 and closed. Another process may take
// it before the server binds it; start() then fails and the caller tries another.
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("pg_cluster: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("pg_cluster: cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Gone for good: a zombie still counts, since the next postmaster takes a PID file naming a
// zombie for a server still running.
bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

// The PIDs whose parent is `parent` (the postmaster's backends and helpers).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');
    if (paren == std::string::npos) continue;
    char state = 0;
    long ppid = 0;
    std::istringstream rest(line.substr(paren + 1));
    if (rest >> state >> ppid && ppid == parent) out.push_back(std::stoi(name));
  }
  return out;
}

std::string quoted_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace

pg_cluster::pg_cluster() {
  make_directory();
  try {
    set_up();
  } catch (...) {
    remove();  // the destructor does not run for an object that was never made
    throw;
  }
}

void pg_cluster::set_up() {
  run("initdb", server_command("initdb", {"-D", data_.string(), "-U", superuser, "-E", "UTF8",
                                          "--locale=C", "--auth=trust"}));
  start_on_a_free_port();
  psql("postgres",
       "CREATE ROLE " + std::string(password_user) + " LOGIN PASSWORD " + quoted_literal(password));
}

pg_cluster::pg_cluster(standby_tag, const pg_cluster& primary) {
  make_directory();
  try {
    set_up_standby(primary);
  } catch (...) {
    remove();
    throw;
  }
}

void pg_cluster::set_up_standby(const pg_cluster& primary) {
  // -R writes standby.signal and primary_conninfo; -X stream copies the WAL the backup needs;
  // -c fast: a checkpoint at once rather than spread over minutes.
  run("pg_basebackup",
      server_command("pg_basebackup",
                     {"-D", data_.string(), "-R", "-X", "stream", "-c", "fast", "-h", "127.0.0.1",
                      "-p", std::to_string(primary.port_), "-U", superuser}));
  start_on_a_free_port();
}

void pg_cluster::start_on_a_free_port() {
  // Up to three ports: another process may take the one chosen before the server binds it.
  for (int tries = 0;; ++tries) {
    port_ = free_port();
    write_config();
    try {
      start();
      return;
    } catch (const std::runtime_error&) {
      if (tries == 2) throw;
    }
  }
}

pg_cluster::~pg_cluster() { remove(); }

void pg_cluster::remove() noexcept {
  if (running()) {
    try {
      run("pg_ctl stop", server_command("pg_ctl", {"-D", data_.string(), "-m", "immediate", "-w",
                                                   "-t", "30", "stop"}));
    } catch (const std::exception&) {
      if (pid_t pid = postmaster_pid(); pid > 0) ::kill(pid, SIGKILL);
    }
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

pg_cluster& pg_cluster::shared() {
  static pg_cluster cluster;
  return cluster;
}

void pg_cluster::make_directory() {
  std::string templ = (fs::temp_directory_path() / "otpd-pg-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("pg_cluster: mkdtemp failed");
  dir_ = templ;
  data_ = dir_ / "data";
  if (as_root()) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) throw std::runtime_error("pg_cluster: no user postgres to run the server");
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      throw std::runtime_error("pg_cluster: cannot chown " + dir_.string());
    }
  }
}

void pg_cluster::write_config() {
  // Appended last, so that these win over what initdb (or the primary's copy) wrote before.
  std::ofstream conf(data_ / "postgresql.auto.conf", std::ios::app);
  conf << "listen_addresses = '127.0.0.1'\n"
       << "port = " << port_ << "\n"
       << "unix_socket_directories = '" << dir_.string() << "'\n"
       << "max_connections = 200\n"
       << "wal_level = replica\n"
       << "max_wal_senders = 5\n"
       << "hot_standby = on\n";
  conf.close();
  std::ofstream hba(data_ / "pg_hba.conf", std::ios::trunc);
  hba << "local all all trust\n"
      << "host all " << password_user << " 127.0.0.1/32 scram-sha-256\n"
      << "host all all 127.0.0.1/32 trust\n"
      << "local replication all trust\n"
      << "host replication all 127.0.0.1/32 trust\n";
  hba.close();
  if (as_root()) {
    const passwd* pw = ::getpwnam("postgres");
    for (const char* file : {"postgresql.auto.conf", "pg_hba.conf"}) {
      if (::chown((data_ / file).c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        throw std::runtime_error("pg_cluster: cannot chown " + (data_ / file).string());
      }
    }
  }
}

std::vector<std::string> pg_cluster::server_command(std::string_view program,
                                                    std::vector<std::string> args) const {
  std::vector<std::string> argv;
  if (as_root()) argv = {"runuser", "-u", "postgres", "--"};
  argv.push_back((bin_dir() / program).string());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string pg_cluster::run(std::string_view what, std::vector<std::string> argv,
                            std::chrono::milliseconds timeout) const {
  const command_result r = run_command(std::move(argv), timeout, true);
  if (r.exit_code != 0) {
    throw std::runtime_error("pg_cluster: " + std::string(what) + " failed (exit " +
                             std::to_string(r.exit_code) + "):\n" + r.output());
  }
  return r.output();
}

std::string pg_cluster::conninfo(const std::string& db, const std::string& user,
                                 const std::string& pw) const {
  std::string s =
      "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + db + " user=" + user;
  if (!pw.empty()) s += " password=" + pw;
  return s;
}

std::string pg_cluster::psql(const std::string& db, const std::string& sql) {
  // Through the socket directory: trust, whatever pg_hba says of passwords on TCP.
  return run("psql",
             {(bin_dir() / "psql").string(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
              dir_.string(), "-p", std::to_string(port_), "-U", superuser, "-d", db, "-c", sql});
}

std::string pg_cluster::create_database(const std::string& name) {
  psql("postgres", "CREATE DATABASE \"" + name + "\" OWNER " + password_user);
  return conninfo(name);
}

void pg_cluster::drop_database(const std::string& name) {
  psql("postgres", "DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
}

void pg_cluster::enable_tls(const std::filesystem::path& cert, const std::filesystem::path& key) {
  namespace fs = std::filesystem;
  fs::copy_file(cert, data_ / "server.crt", fs::copy_options::overwrite_existing);
  fs::copy_file(key, data_ / "server.key", fs::copy_options::overwrite_existing);
  fs::permissions(data_ / "server.key", fs::perms::owner_read | fs::perms::owner_write);
  {
    std::ofstream conf(data_ / "postgresql.auto.conf", std::ios::app);
    conf << "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n";
  }
  if (as_root()) {
    const passwd* pw = ::getpwnam("postgres");
    for (const char* file : {"server.crt", "server.key"}) {
      if (::chown((data_ / file).c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        throw std::runtime_error("pg_cluster: cannot chown " + (data_ / file).string());
      }
    }
  }
  stop();
  start();
}

void pg_cluster::start() {
  // -w polls until the server accepts connections, for at most -t seconds.
  try {
    run("pg_ctl start",
        server_command("pg_ctl", {"-D", data_.string(), "-l", (dir_ / "server.log").string(), "-w",
                                  "-t", "60", "start"}));
  } catch (const std::runtime_error& e) {
    std::ifstream log(dir_ / "server.log");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    if (text.size() > 4000) text.erase(0, text.size() - 4000);
    throw std::runtime_error(e.what() + std::string("server log:\n") + text);
  }
}

void pg_cluster::stop() {
  run("pg_ctl stop",
      server_command("pg_ctl", {"-D", data_.string(), "-m", "fast", "-w", "-t", "60", "stop"}));
}

void pg_cluster::kill() {
  const pid_t pid = postmaster_pid();
  if (pid <= 0) throw std::runtime_error("pg_cluster: no postmaster to kill");
  // Its backends notice its death and exit by themselves; the next start refuses to run while
  // one of them still holds the shared memory, so they are waited for as well.
  std::vector<pid_t> gone = children_of(pid);
  gone.push_back(pid);
  ::kill(pid, SIGKILL);
  // Not our children: polled until they have gone (and been reaped), within a bound.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  for (pid_t p : gone) {
    while (alive(p)) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("pg_cluster: the server outlived SIGKILL (PID " +
                                 std::to_string(p) + ")");
      }
      std::this_thread::sleep_for(10ms);
    }
  }
}

bool pg_cluster::running() const {
  const pid_t pid = postmaster_pid();
  return pid > 0 && alive(pid);
}

std::unique_ptr<pg_cluster> pg_cluster::make_standby() {
  return std::unique_ptr<pg_cluster>(new pg_cluster(standby_tag{}, *this));
}

void pg_cluster::promote() {
  run("pg_ctl promote",
      server_command("pg_ctl", {"-D", data_.string(), "-w", "-t", "60", "promote"}));
}

void pg_cluster::require_synchronous_standby() {
  psql("postgres", "ALTER SYSTEM SET synchronous_standby_names = '*'");
  psql("postgres", "SELECT pg_reload_conf()");
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (psql("postgres", "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") !=
         "1\n") {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("pg_cluster: no standby became synchronous");
    }
    std::this_thread::sleep_for(50ms);
  }
}

pid_t pg_cluster::postmaster_pid() const {
  std::ifstream file(data_ / "postmaster.pid");
  long pid = 0;
  if (!(file >> pid)) return -1;
  return static_cast<pid_t>(pid);
}

}  // namespace otpd::test
