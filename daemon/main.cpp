// otpd: the OTP gateway daemon.
//
//   otpd --config FILE          run
//   otpd --check-config FILE    print every configuration error, or OK (exit 1 / 0)
//   otpd --version | --help
//
// Threads: one I/O thread runs HTTP, the SMPP binds, webhooks and timers; the store has
// threads of its own (one per connection) so that the database never blocks I/O. SIGTERM and
// SIGINT stop gracefully: no new requests, binds unbind after their in-flight responses, the
// store finishes queued work.
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "daemon/admin/admin_server.hpp"
#include "daemon/app/config_file.hpp"
#include "daemon/app/leases.hpp"
#include "daemon/app/listeners.hpp"
#include "daemon/app/postgres_check.hpp"
#include "daemon/app/reloader.hpp"
#include "daemon/app/shutdown.hpp"
#include "daemon/app/startup.hpp"
#include "daemon/app/store_probe.hpp"
#include "daemon/app/systemd_heartbeat.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/metrics/registry.hpp"
#include "daemon/process/process_policy.hpp"
#include "daemon/service/verification_service.hpp"
#include "daemon/sms/gateway_metrics.hpp"
#include "daemon/store/store_executor.hpp"
#include "daemon/webhook/webhook_sender.hpp"

#ifndef OTPD_VERSION
#define OTPD_VERSION "0.0.0"
#endif

namespace {

namespace asio = boost::asio;
using namespace otpd;

constexpr const char* usage_text =
    "usage: otpd --config FILE\n"
    "       otpd --check-config FILE\n"
    "       otpd --version | --help\n"
    "\n"
    "  --config FILE        run with this configuration (see docs/configuration.md)\n"
    "  --check-config FILE  check the file: print each error as file:line:column: message,\n"
    "                       or OK; exit 1 on errors, 0 when valid (with store.kind\n"
    "                       postgres, also when the database cannot be reached)\n"
    "  --version            print the version\n"
    "\n"
    "exit codes: 0 normal stop, 1 configuration error, 2 usage error, 3 start-up failure\n";

constexpr int exit_ok = 0;
constexpr int exit_config_error = 1;
constexpr int exit_usage = 2;
constexpr int exit_start_failed = 3;

// How long, once the loop has stopped, the completions it left queued may take to run.
constexpr std::chrono::milliseconds pending_limit{2000};

// Serves once the service has started: the listeners, READY=1, then the systemd heartbeat.
asio::awaitable<void> serve(cluster::lease_loop& leases, service::verification_service& svc,
                            app::listeners& http, app::systemd_heartbeat& heartbeat,
                            bool& started) {
  // The leases first: the binds start with theirs known.
  co_await leases.start();
  co_await svc.start();
  http.start();
  started = true;
  co_await heartbeat.run();
}

// A start that throws (a listener that cannot bind) stops the loop: otpd exits with 3.
auto stop_if_start_failed(asio::io_context& io, log::logger& logger) {
  return [&io, &logger](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      logger.error("start_failed", {{"error", ex.what()}});
    }
    io.stop();
  };
}

// The control socket for otpctl, when configured; false (admin_socket_failed logged) when it
// cannot be opened.
bool open_admin(asio::any_io_executor ex, const config::config& cfg,
                service::verification_service& svc, service::sms_gateway& gateway,
                app::reloader& reload, log::logger& logger,
                std::unique_ptr<service::admin_server>& admin) {
  if (cfg.control.socket.empty()) return true;
  admin = std::make_unique<service::admin_server>(
      ex, cfg.control.socket, svc, gateway, [&reload] { return reload.reload_now(); }, logger);
  std::string why;
  if (admin->start(why)) {
    logger.error("admin_socket_failed", {{"error", why}});
    return false;
  }
  logger.notice("admin_socket", {{"path", cfg.control.socket.string()}});
  return true;
}

// Objects are declared in the order they depend on each other and destroyed in reverse:
// the store (its thread posts completions to the loop) outlives the io_context, which
// outlives everything whose coroutines run on it (see daemon/app/shutdown.hpp).
int run(const config::config& cfg, const std::string& file,
        const std::vector<config::config_error>& warnings, process::env_secrets& env) {
  log::logger logger(log::options_from(cfg.log));
  app::log_config_warnings(warnings, logger);
  metrics::registry metrics;
  app::log_process_protection(logger);

  auto routes = app::load_routes(cfg, logger);
  if (!routes) return exit_config_error;
  std::vector<std::unique_ptr<service::store>> stores = app::open_stores(cfg, logger);
  if (stores.empty() || !app::state_folder_writable(cfg, logger)) return exit_start_failed;
  service::store_executor store(std::move(stores));

  asio::io_context io(1);
  app::store_probe probe(io.get_executor(), store, logger);
  asio::co_spawn(io, probe.run(), asio::detached);
  // The settings the gateway and the service share; moved, so that a reload's replacing them
  // frees these.
  auto live = std::make_shared<const config::config>(cfg);
  service::sms_gateway gateway(io.get_executor(), live, {});
  service::webhook_sender webhooks(io.get_executor(), cfg.webhooks, store,
                                   service::verification_service::resolve_node(cfg.nodes), metrics,
                                   &logger);
  service::service_clock wall_clock;
  service::verification_service svc(io.get_executor(), cfg, std::move(live), store,
                                    std::move(*routes), gateway, webhooks, wall_clock, logger,
                                    metrics);
  service::register_gateway_metrics(gateway, metrics);
  std::unique_ptr<cluster::lease_loop> leases =
      app::make_leases(io.get_executor(), cfg, store, gateway, logger);
  svc.set_purge_gate([&leases] { return leases->holds(cluster::purge_lease); });
  cluster::register_lease_metrics(*leases, metrics);
  std::unique_ptr<service::voice_dialer> dialer;
  if (!app::make_dialer(io.get_executor(), cfg, logger, dialer)) return exit_config_error;
  if (dialer) svc.attach_dialer(std::move(dialer));
  app::listeners http(io.get_executor(), cfg, svc, gateway, metrics, logger);
  app::systemd_heartbeat heartbeat(io.get_executor(), logger,
                                   [&gateway] { return app::bind_status(gateway); });

  bool started = false;
  asio::co_spawn(io, serve(*leases, svc, http, heartbeat, started),
                 stop_if_start_failed(io, logger));

  app::reloader reload(io.get_executor(), file, env, svc, http.api(), logger, heartbeat.systemd());
  reload.watch_sighup();
  std::unique_ptr<service::admin_server> admin;
  if (!open_admin(io.get_executor(), cfg, svc, gateway, reload, logger, admin)) {
    return exit_start_failed;
  }
  app::stop_on_signal stop(io, logger,
                           {heartbeat, probe, reload, admin.get(), http, svc, *leases, store});

  io.run();
  if (stop.done()) app::finish_pending(io, pending_limit);
  return started ? exit_ok : exit_start_failed;
}

// --check-config: the file's errors, or OK; with store.kind postgres, a database that cannot
// be reached is an error too.
int check_config(const config::load_result& loaded) {
  if (loaded.ok() && loaded.config->state.kind == config::store_kind::postgres) {
    if (std::string why = app::check_postgres(loaded.config->state.pg); !why.empty()) {
      std::cout << "store: PostgreSQL: " << why << '\n';
      return exit_config_error;
    }
  }
  std::cout << config::check_config_report(loaded) << '\n';
  return loaded.ok() ? exit_ok : exit_config_error;
}

struct command_line {
  std::string mode;  // --config or --check-config
  std::string file;
};

// The arguments; nullopt to go on, or the exit status once --help, --version or a usage error
// has been answered.
std::optional<int> parse_command_line(int argc, char** argv, command_line& out) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage_text;
      return exit_ok;
    }
    if (a == "--version") {
      std::cout << "otpd " << OTPD_VERSION << '\n';
      return exit_ok;
    }
    if ((a == "--config" || a == "--check-config") && i + 1 < argc) {
      out.mode = a;
      out.file = argv[++i];
      continue;
    }
    std::cerr << "otpd: unknown or incomplete argument: " << a << "\n\n" << usage_text;
    return exit_usage;
  }
  if (out.mode.empty()) {
    std::cerr << usage_text;
    return exit_usage;
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv, char** envp) {
  // Before anything is read: no core, no ptrace by the same user, private files.
  process::harden_at_start();
  process::env_secrets env(envp);
  command_line args;
  if (auto status = parse_command_line(argc, argv, args)) return *status;
  const std::string& file = args.file;
  config::load_result loaded = app::load_checked(file, env);
  if (args.mode == "--check-config") return check_config(loaded);
  if (!loaded.ok()) {
    std::cerr << config::check_config_report(loaded) << '\n';
    return exit_config_error;
  }
  env.scrub();
  process::apply_core_dump_policy(loaded.config->proc.core_dumps);
  try {
    return run(*loaded.config, file, loaded.warnings, env);
  } catch (const std::exception& e) {
    std::cerr << "otpd: " << e.what() << '\n';
    return exit_start_failed;
  }
}
