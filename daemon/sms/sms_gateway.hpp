// The SMS side of the service: one bind pool per carrier, failover between carriers, and
// receipts turned into correlation keys. It knows carriers and message ids, not OTPs.
// Runs on one executor (the I/O thread); not thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "daemon/sms/bind_waiters.hpp"
#include "daemon/sms/sms_sender.hpp"
#include "smpp/dlr/message_id.hpp"
#include "smpp/dlr/receipt.hpp"
#include "smpp/net/bind_pool.hpp"

namespace otpd::service {

class sms_gateway final : public sms_sender, private smpp::pool_listener {
 public:
  // A wait for a bind ended (for metrics): the route's first carrier and how it ended.
  using wait_handler = std::function<void(const std::string& carrier, bind_wait)>;

  // The carriers of cfg->routes (the gateway keeps `cfg` alive while it uses it).
  sms_gateway(boost::asio::any_io_executor ex, std::shared_ptr<const config::config> cfg,
              receipt_handler on_receipt, bind_handler on_bind = {});
  ~sms_gateway() override;

  void start() override;
  void stop(std::function<void()> on_stopped) override;
  // Where late submit_sm_resp go (none: they are dropped).
  void set_late_handler(late_handler h) override { on_late_ = std::move(h); }
  // Where receipts and bind changes go, when the gateway is built before their receiver (the
  // verification service is given the gateway): set before start().
  void set_receipt_handler(receipt_handler h) override { on_receipt_ = std::move(h); }
  void set_bind_handler(bind_handler h) override { on_bind_ = std::move(h); }

  // Sends over the first carrier that can; moves to the next one when a carrier has no bind
  // up, is throttled, or refuses with a retryable status. When none of them can send now
  // (a reconnect), waits for one as wait_for_carrier() does, and sends once one can. Never
  // resends a message whose outcome is unknown.
  boost::asio::awaitable<sms_result> send(sms_request req) override;

  // Returns at once when one of `carriers` can send. Else waits until one can, for at most the
  // longest reconnect_queue.max_wait among them and never past `until`, counted in the queue
  // of each that has room (reconnect_queue.size).
  boost::asio::awaitable<bind_wait> wait_for_carrier(std::vector<std::string> carriers,
                                                     smpp::time_point until) override;
  // The longest reconnect_queue.max_wait among `carriers`: what a refused request may wait
  // before trying again.
  std::chrono::milliseconds max_wait(const std::vector<std::string>& carriers) const override;
  void on_wait(wait_handler h) { on_wait_ = std::move(h); }
  // SMS waiting now for a bind of `carrier`.
  std::size_t waiting(std::string_view carrier) const { return waiters_.waiting(carrier); }

  // A receipt matched a pending submit: lets the carrier's id mapper learn the spelling.
  void learn(const std::string& carrier, std::string_view submit_id,
             std::string_view receipt_id) override;

  // Whether the carrier has a bound transmitter now.
  bool can_send(std::string_view carrier) const;
  // Ready when every carrier that has routes has a bound transmitter (degraded ones included:
  // only the traffic they carry can show that the SMSC answers again).
  bool ready() const override;
  std::vector<smpp::pool_status> status() const;
  std::vector<carrier_health> health() const override;
  // A reload's carriers: an unchanged bind stays up untouched (bind_pool::reconfigure), a
  // removed carrier's binds unbind gracefully, an added carrier connects. One line per change
  // in `changes` ("vn: bind vn-b added", ...).
  void reconfigure(std::shared_ptr<const config::config> next,
                   std::vector<std::string>& changes) override;

  // otpctl drain / enable: the carrier that has a bind of that name ("" when none).
  std::string drain(std::string_view bind);
  std::string enable(std::string_view bind);

  // Several nodes share the store (docs/scale-out.md): a bind runs only while this node holds
  // its lease (smpp::bind_pool::require_leases). Call before start().
  void require_leases();
  // Where the lease of `carrier`'s `bind` is now (the lease loop says so after each round).
  void set_lease(std::string_view carrier, std::string_view bind, smpp::bind_lease lease);
  // Holds the lease of at least one bind of `carrier` (always, when leases are not required).
  bool serves(std::string_view carrier) const override;

 private:
  struct carrier_state {
    std::shared_ptr<const config::config> owner;  // keeps *cfg alive
    const config::carrier* cfg;
    std::unique_ptr<smpp::bind_pool> pool;
    smpp::dlr::message_id_mapper ids;
  };
  // Shared: a send under way keeps its carrier alive across a reload that removes it.
  using carrier_ptr = std::shared_ptr<carrier_state>;
  carrier_ptr make_carrier(const std::shared_ptr<const config::config>& owner,
                           const config::carrier& c);
  carrier_ptr find(std::string_view name) const;
  void on_deliver(smpp::bind_pool&, smpp::session&, smpp::event::deliver&) override;
  void on_bind_state(smpp::bind_pool&, smpp::session&, bool up, smpp::error_code ec) override;
  void on_late_answer(smpp::bind_pool&, smpp::late_answer a) override;
  carrier_ptr owner_of(const smpp::bind_pool& pool) const;  // in service or retiring

  boost::asio::any_io_executor ex_;
  receipt_handler on_receipt_;
  bind_handler on_bind_;
  wait_handler on_wait_;
  bind_waiters waiters_;
  late_handler on_late_;
  std::map<std::string, carrier_ptr, std::less<>> carriers_;
  std::vector<carrier_ptr> retiring_;  // removed by a reload, unbinding
  bool started_ = false;
  bool leases_required_ = false;
};

}  // namespace otpd::service
