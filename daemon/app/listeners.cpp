#include "daemon/app/listeners.hpp"

#include "daemon/api/api.hpp"

namespace otpd::app {
namespace {

http::server_options api_options(const config::config& cfg) {
  http::server_options so;
  so.listeners = cfg.listeners;
  so.limits = cfg.http;
  return so;
}

std::unique_ptr<http::server> make_ops_server(boost::asio::any_io_executor ex,
                                              const config::config& cfg,
                                              service::verification_service& svc,
                                              const service::sms_sender& sms,
                                              metrics::registry& metrics, log::logger& logger) {
  if (!cfg.ops.enabled) return nullptr;
  http::server_options oo;
  oo.listeners = {config::http_listener{cfg.ops.address, cfg.ops.port, std::nullopt}};
  oo.limits = cfg.http;
  return std::make_unique<http::server>(ex, oo, api::make_ops_router(svc, sms, metrics),
                                        http::api_key_auth(), logger, nullptr);
}

}  // namespace

listeners::listeners(boost::asio::any_io_executor ex, const config::config& cfg,
                     service::verification_service& svc, const service::sms_sender& sms,
                     metrics::registry& metrics, log::logger& logger)
    : logger_(logger),
      api_(ex, api_options(cfg), api::make_router(svc, sms, metrics),
           http::api_key_auth(cfg.api_keys), logger, &metrics),
      ops_(make_ops_server(ex, cfg, svc, sms, metrics, logger)) {}

void listeners::start() {
  api_.start();
  for (const auto& ep : api_.local_endpoints()) {
    logger_.notice("listening", {{"address", ep.address().to_string()}, {"port", ep.port()}});
  }
  if (!ops_) return;
  ops_->start();
  for (const auto& ep : ops_->local_endpoints()) {
    logger_.notice("ops_listening", {{"address", ep.address().to_string()}, {"port", ep.port()}});
  }
}

boost::asio::awaitable<void> listeners::stop() {
  co_await api_.stop();
  if (ops_) co_await ops_->stop();
}

boost::asio::awaitable<void> listeners::join() {
  co_await api_.join();
  if (ops_) co_await ops_->join();
}

}  // namespace otpd::app
