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
#include "smpp/dlr/message_id.hpp"
#include "smpp/dlr/receipt.hpp"
#include "smpp/net/bind_pool.hpp"

namespace otpd::service {

struct sms_request {
  std::string to;    // E.164 with '+'
  std::string text;  // UTF-8, already rendered (holds the code: never logged)
  smpp::time_point deadline = smpp::time_point::max();
  std::vector<std::string> carriers;  // to try, in order (routing's answer)
  bool request_receipt = true;
};

struct sms_result {
  smpp::error_code ec;  // of the last carrier tried
  std::string carrier;  // the carrier that took it (or the last tried)
  std::string bind;
  std::vector<smpp::part_outcome> parts;
  std::vector<std::string> keys;  // correlation keys, one per accepted part
  bool outcome_unknown = false;
  std::vector<std::string> tried;  // carriers tried, in order
  // Why the text could not go out with the bind's coding or max_parts (never the text itself);
  // empty for any other outcome.
  std::string text_reason;
};

struct sms_receipt {
  std::string carrier;
  std::string bind;
  smpp::dlr::receipt receipt;
  std::vector<std::string> keys;  // candidate correlation keys, in preference order
  // The deliver_sm_resp owed to the SMSC: ESME_ROK once recorded (or when dropped unanswered),
  // or a temporary error for the SMSC to send the receipt again.
  smpp::deliver_answer answer;
};

class sms_gateway : private smpp::pool_listener {
 public:
  using receipt_handler = std::function<void(sms_receipt)>;
  // A bind came up (ec empty) or went down / failed to come up (ec says why).
  using bind_handler = std::function<void(const std::string& carrier, const std::string& bind,
                                          bool up, smpp::error_code ec)>;

  // The carriers of cfg->routes (the gateway keeps `cfg` alive while it uses it).
  sms_gateway(boost::asio::any_io_executor ex, std::shared_ptr<const config::config> cfg,
              receipt_handler on_receipt, bind_handler on_bind = {});
  ~sms_gateway() override;

  void start();
  void stop(std::function<void()> on_stopped);

  // Sends over the first carrier that can; moves to the next one when a carrier has no bind
  // up, is throttled, or refuses with a retryable status. Never resends a message whose
  // outcome is unknown.
  boost::asio::awaitable<sms_result> send(sms_request req);

  // A receipt matched a pending submit: lets the carrier's id mapper learn the spelling.
  void learn(const std::string& carrier, std::string_view submit_id, std::string_view receipt_id);

  // Whether the carrier has a bound transmitter now.
  bool can_send(std::string_view carrier) const;
  // Ready when every carrier that has routes has a bound transmitter.
  bool ready() const;
  std::vector<smpp::pool_status> status() const;
  // A reload's carriers: an unchanged bind stays up untouched (bind_pool::reconfigure), a
  // removed carrier's binds unbind gracefully, an added carrier connects. One line per change
  // in `changes` ("vn: bind vn-b added", ...).
  void reconfigure(std::shared_ptr<const config::config> next, std::vector<std::string>& changes);

  // otpctl drain / enable: the carrier that has a bind of that name ("" when none).
  std::string drain(std::string_view bind);
  std::string enable(std::string_view bind);

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

  boost::asio::any_io_executor ex_;
  receipt_handler on_receipt_;
  bind_handler on_bind_;
  std::map<std::string, carrier_ptr, std::less<>> carriers_;
  std::vector<carrier_ptr> retiring_;  // removed by a reload, unbinding
  bool started_ = false;
};

}  // namespace otpd::service
