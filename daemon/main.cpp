// otpd: the OTP gateway daemon.
//
//   otpd --config FILE          run
//   otpd --check-config FILE    print every configuration error, or OK (exit 1 / 0)
//   otpd --version | --help
//
// Threads: one I/O thread runs HTTP, the SMPP binds, webhooks and timers; the store has its
// own thread so that SQLite never blocks I/O. SIGTERM and SIGINT stop gracefully: no new
// requests, binds unbind after their in-flight responses, the store finishes queued work.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "config/loader.hpp"
#include "config/yaml_json.hpp"
#include "daemon/admin/admin_server.hpp"
#include "daemon/api/api.hpp"
#include "daemon/engine/template_check.hpp"
#include "daemon/http/server.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/metrics/registry.hpp"
#include "daemon/notify/sd_notify.hpp"
#include "daemon/process/process_policy.hpp"
#include "daemon/service/verification_service.hpp"
#include "daemon/store/sqlite_store.hpp"
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
    "                       or OK; exit 1 on errors, 0 when valid\n"
    "  --version            print the version\n"
    "\n"
    "exit codes: 0 normal stop, 1 configuration error, 2 usage error, 3 start-up failure\n";

// The configuration file as --check-config, the start and a reload accept it: loaded, then
// every SMS template checked against every carrier that may carry it (the loader knows the
// file, the engine what an SMS says; errors keep the file's positions).
config::load_result load_checked(const std::string& file, process::env_secrets& env) {
  config::load_options opts;
  opts.getenv = [&env](const std::string& name) { return env.get(name); };
  config::load_result r = config::load_config_file(file, opts);
  if (!r.ok()) return r;
  r.errors = engine::check_templates(*r.config);
  if (!r.errors.empty()) r.config.reset();
  return r;
}

// What the file weakens on purpose (policy.allow_short_codes), at start and at each reload.
void log_config_warnings(const std::vector<config::config_error>& warnings, log::logger& logger) {
  for (const auto& w : warnings) {
    logger.warning(
        "config_warning",
        {{"file", w.file}, {"line", w.line}, {"column", w.column}, {"warning", w.message}});
  }
}

// The route table of cfg.routes with its ported-numbers file; nullopt (errors logged) when
// either is invalid.
std::optional<routing::route_table> load_routes(const config::config& cfg, log::logger& logger) {
  auto errors = std::vector<std::string>{};
  auto routes = routing::route_table::build(cfg.routes.carriers, errors);
  if (!routes) {
    for (const auto& e : errors) logger.error("routing_invalid", {{"error", e}});
    return std::nullopt;
  }
  if (cfg.routes.ported_numbers_file) {
    std::FILE* f = std::fopen(cfg.routes.ported_numbers_file->c_str(), "rb");
    if (!f) {
      logger.error("ported_numbers_unreadable", {{"file", cfg.routes.ported_numbers_file->string()},
                                                 {"error", std::strerror(errno)}});
      return std::nullopt;
    }
    std::string text;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
    std::fclose(f);
    std::vector<routing::ported_error> errs;
    if (!routes->load_ported(text, errs)) {
      for (const auto& e : errs) {
        logger.error("ported_numbers_invalid", {{"line", e.line}, {"error", e.message}});
      }
      return std::nullopt;
    }
  }
  return routes;
}

int run(const config::config& cfg, const std::string& file,
        const std::vector<config::config_error>& warnings, process::env_secrets& env) {
  log::logger logger(log::options_from(cfg.log));
  log_config_warnings(warnings, logger);
  metrics::registry metrics;
  // mlock is refused without CAP_IPC_LOCK past RLIMIT_MEMLOCK (LimitMEMLOCK= in the unit):
  // the secrets are then still out of cores, only swappable.
  const secret_counts held = count_secrets();
  logger.notice("process_protection", {{"core_dumps", process::dumpable()},
                                       {"secrets", held.held},
                                       {"secrets_not_locked", held.unlocked}});

  auto routes = load_routes(cfg, logger);
  if (!routes) return 1;

  std::unique_ptr<service::store> db;
  service::sqlite_options store_options;
  store_options.max_size_bytes = cfg.state.sqlite_max_bytes;
  std::string store_why;
  if (auto ec = service::open_sqlite_store(cfg.state.sqlite_path.string(), store_options, db,
                                           store_why)) {
    logger.error("store_open_failed", {{"path", cfg.state.sqlite_path.string()},
                                       {"error", store_why.empty() ? ec.message() : store_why}});
    return 3;
  }
  service::store_executor store(std::move(db));

  asio::io_context io(1);
  // The settings the gateway and the service share; moved, so that a reload's replacing them
  // frees these.
  auto live = std::make_shared<const config::config>(cfg);
  service::sms_gateway gateway(io.get_executor(), live, {});
  service::webhook_sender webhooks(io.get_executor(), cfg.webhooks, 10'000, &logger);
  service::verification_service svc(io.get_executor(), cfg, std::move(live), store,
                                    std::move(*routes), gateway, webhooks, logger, metrics);
  if (!cfg.calls.trunks.empty()) {
    // The prompts are synthesised (or read) here, once, before the API serves.
    std::vector<std::string> locales;
    for (const auto& [locale, text] : cfg.text.sms) locales.push_back(locale);
    std::unique_ptr<service::voice_dialer> dialer;
    std::string why;
    if (auto ec = service::voice_dialer::create(io.get_executor(), cfg.calls, cfg.numbers, locales,
                                                cfg.policy.default_locale, dialer, why)) {
      logger.error("voice_prompts_failed", {{"error", why}});
      return 1;
    }
    logger.notice("voice_ready", {{"trunks", cfg.calls.trunks.size()}});
    svc.attach_dialer(std::move(dialer));
  }
  http::server_options so;
  so.listeners = cfg.listeners;
  so.limits = cfg.http;
  http::server server(io.get_executor(), so, api::make_router(svc, metrics),
                      http::api_key_auth(cfg.api_keys), logger, &metrics);
  // /healthz, /readyz and /metrics on a port of their own (config::ops_listener), without a key.
  // Its requests are not counted in the otpd_http_ series, which describe the API.
  std::unique_ptr<http::server> ops_server;
  if (cfg.ops.enabled) {
    http::server_options oo;
    oo.listeners = {config::http_listener{cfg.ops.address, cfg.ops.port, std::nullopt}};
    oo.limits = cfg.http;
    ops_server =
        std::make_unique<http::server>(io.get_executor(), oo, api::make_ops_router(svc, metrics),
                                       http::api_key_auth(), logger, nullptr);
  }

  // systemd (Type=notify): READY=1 once the store is open and the listeners are up (binds may
  // still be connecting), STATUS= with the bind counts, WATCHDOG=1 from this I/O loop (a loop
  // that stops turning stops the pings and systemd restarts otpd), STOPPING=1 on shutdown.
  const notify::notifier systemd = notify::notifier::from_environment();
  if (auto ec = systemd.setup_error()) {
    logger.warning("systemd_notify_unusable", {{"error", ec.message()}});
  }
  auto bind_counts = [&gateway] {
    std::size_t bound = 0;
    std::size_t total = 0;
    for (const smpp::pool_status& p : gateway.status()) {
      for (const smpp::session_status& s : p.sessions) {
        ++total;
        if (s.state == smpp::session_state::bound) ++bound;
      }
    }
    return std::to_string(bound) + "/" + std::to_string(total) + " SMPP binds bound";
  };
  asio::steady_timer heartbeat(io);
  const auto watchdog = notify::watchdog_interval();
  const auto beat = watchdog ? std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog)
                             : std::chrono::milliseconds(5000);

  bool started = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await svc.start();
        server.start();
        for (const auto& ep : server.local_endpoints()) {
          logger.notice("listening", {{"address", ep.address().to_string()}, {"port", ep.port()}});
        }
        if (ops_server) {
          ops_server->start();
          for (const auto& ep : ops_server->local_endpoints()) {
            logger.notice("ops_listening",
                          {{"address", ep.address().to_string()}, {"port", ep.port()}});
          }
        }
        started = true;
        systemd.ready();
        systemd.status(bind_counts());
        // The heartbeat: WATCHDOG=1 (when systemd asked for it) and a fresh STATUS= line.
        while (true) {
          heartbeat.expires_after(beat);
          auto [ec] = co_await heartbeat.async_wait(asio::as_tuple(asio::use_awaitable));
          if (ec) co_return;
          if (watchdog) systemd.watchdog();
          systemd.status(bind_counts());
        }
      },
      [&](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          logger.error("start_failed", {{"error", ex.what()}});
        }
        io.stop();
      });

  // SIGHUP: read the file again. An invalid file is rejected with its errors and the running
  // configuration kept. A valid one applies api_keys, policy, rate_limits, number_plan,
  // templates and logging.level at once, and routing (carriers, binds, prefixes, the ported
  // numbers file, read again) and the SIP trunks as a diff: what did not change stays up
  // untouched, what was removed ends gracefully, what was added starts. The other sections
  // (listeners, http, the rest of voice, store, secrets, webhooks) are compared with what is
  // running and each one that changed is named in a log line: they take effect at the next
  // restart.
  static const std::set<std::string, std::less<>> live_sections = {
      "api_keys", "policy", "rate_limits", "number_plan", "templates", "logging"};
  // A secret written in the file itself is kept only as a fingerprint (and the text read
  // unbuffered, straight into a string that is wiped).
  auto sections_of = [&file] {
    std::string text;
    std::ifstream in;
    in.rdbuf()->pubsetbuf(nullptr, 0);
    in.open(file, std::ios::binary | std::ios::ate);
    if (in) {
      text.resize(static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0)));
      in.seekg(0);
      in.read(text.data(), static_cast<std::streamsize>(text.size()));
    }
    auto doc = config::yaml_to_json(text);
    wipe(text);
    if (!doc || !doc->is_object()) return boost::json::object{};
    config::fingerprint_values(
        *doc, {"password", "secret", "code_mac_key", "code_seal_key", "redis_url", "url"});
    return doc->as_object();
  };
  boost::json::object running = sections_of();
  asio::signal_set hup(io, SIGHUP);
  // One reload, for SIGHUP and `otpctl reload`: what happened, as a JSON object.
  auto reload_now = [&]() -> boost::json::object {
    systemd.reloading();
    boost::json::object out;
    std::optional<routing::route_table> next_routes;
    config::load_result next = load_checked(file, env);
    env.scrub();  // a variable named for the first time by this file
    if (!next.ok()) {
      boost::json::array errors;
      for (const auto& e : next.errors) {
        logger.error(
            "reload_error",
            {{"file", e.file}, {"line", e.line}, {"column", e.column}, {"error", e.message}});
        errors.push_back(boost::json::string(e.file + ":" + std::to_string(e.line) + ":" +
                                             std::to_string(e.column) + ": " + e.message));
      }
      logger.warning("reload_rejected", {{"errors", next.errors.size()}});
      out["outcome"] = "rejected";
      out["errors"] = std::move(errors);
    } else if (log_config_warnings(next.warnings, logger);
               !(next_routes = load_routes(*next.config, logger))) {
      // Routing is always applied again, so that a changed ported-numbers file or a password
      // behind ${file:} is read; a file that has become invalid rejects the reload.
      logger.warning("reload_rejected", {{"errors", 1}});
      out["outcome"] = "rejected";
      out["errors"] = boost::json::array{
          boost::json::string("routing: the routes or the ported-numbers file are invalid; "
                              "see the log")};
    } else {
      boost::json::object now = sections_of();
      // voice: the trunks apply live (when otpd has a dialer) as long as nothing else in the
      // section changed (prompts are built at start-up).
      auto without_trunks = [](const boost::json::object& doc) {
        const auto* v = doc.if_contains("voice");
        if (v == nullptr || !v->is_object()) return v ? *v : boost::json::value();
        boost::json::object o = v->as_object();
        o.erase("trunks");
        return boost::json::value(std::move(o));
      };
      const bool apply_trunks = svc.has_dialer() && running.contains("voice") &&
                                now.contains("voice") &&
                                without_trunks(running) == without_trunks(now);
      std::string later;
      boost::json::array later_list;
      std::set<std::string> keys;
      for (const auto& kv : running) keys.insert(std::string(kv.key()));
      for (const auto& kv : now) keys.insert(std::string(kv.key()));
      for (const std::string& k : keys) {
        const bool changed = running.if_contains(k) == nullptr || now.if_contains(k) == nullptr ||
                             running.at(k) != now.at(k);
        if (!changed) continue;
        if (live_sections.count(k) != 0 || k == "routing" || (k == "voice" && apply_trunks)) {
          running[k] = now.if_contains(k) ? now.at(k) : boost::json::value();
        } else {
          later += (later.empty() ? "" : ",") + k;
          later_list.push_back(boost::json::string(k));
        }
      }
      const std::size_t key_count = next.config->api_keys.size();
      server.set_api_keys(http::api_key_auth(next.config->api_keys));
      logger.set_level(log::options_from(next.config->log).min_level);
      auto applied = std::make_shared<const config::config>(std::move(*next.config));
      for (const std::string& change : svc.reload(applied, std::move(*next_routes), apply_trunks)) {
        logger.notice("reload_change", {{"change", change}});
      }
      logger.notice("reloaded", {{"api_keys", key_count}, {"restart_needed_for", later}});
      out["outcome"] = "reloaded";
      out["restart_needed_for"] = std::move(later_list);
    }
    systemd.ready();
    return out;
  };
  std::function<void()> on_hup = [&] {
    hup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      reload_now();
      on_hup();
    });
  };
  on_hup();

  std::unique_ptr<service::admin_server> admin;
  if (!cfg.control.socket.empty()) {
    admin = std::make_unique<service::admin_server>(io.get_executor(), cfg.control.socket, svc,
                                                    gateway, reload_now, logger);
    std::string why;
    if (admin->start(why)) {
      logger.error("admin_socket_failed", {{"error", why}});
      return 3;
    }
    logger.notice("admin_socket", {{"path", cfg.control.socket.string()}});
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    logger.notice("stopping", {{"signal", sig}});
    systemd.stopping();
    heartbeat.cancel();
    hup.cancel();
    if (admin) admin->stop();
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await server.stop();
          if (ops_server) co_await ops_server->stop();
          if (admin) co_await admin->join();
          svc.stop([&] {
            store.shutdown();
            logger.notice("stopped");
            io.stop();
          });
        },
        asio::detached);
  });

  io.run();
  return started ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv, char** envp) {
  // Before anything is read: no core, no ptrace by the same user, private files.
  process::harden_at_start();
  process::env_secrets env(envp);
  std::string mode;
  std::string file;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage_text;
      return 0;
    }
    if (a == "--version") {
      std::cout << "otpd " << OTPD_VERSION << '\n';
      return 0;
    }
    if ((a == "--config" || a == "--check-config") && i + 1 < argc) {
      mode = a;
      file = argv[++i];
      continue;
    }
    std::cerr << "otpd: unknown or incomplete argument: " << a << "\n\n" << usage_text;
    return 2;
  }
  if (mode.empty()) {
    std::cerr << usage_text;
    return 2;
  }
  config::load_result loaded = load_checked(file, env);
  if (mode == "--check-config") {
    std::cout << config::check_config_report(loaded) << '\n';
    return loaded.ok() ? 0 : 1;
  }
  if (!loaded.ok()) {
    std::cerr << config::check_config_report(loaded) << '\n';
    return 1;
  }
  env.scrub();
  process::apply_core_dump_policy(loaded.config->proc.core_dumps);
  try {
    return run(*loaded.config, file, loaded.warnings, env);
  } catch (const std::exception& e) {
    std::cerr << "otpd: " << e.what() << '\n';
    return 3;
  }
}
