// The voice channel's dialer (docs/architecture.md §6): the prompt sets, built once at start-up,
// and one voice::caller per SIP trunk. A call goes to the first trunk, by priority, that has room
// (max_calls) and a token (calls_per_second); when every trunk with room is at its rate, the
// call waits for the soonest token (at most voice.rate_wait, in the order calls came). When
// that trunk cannot carry it (no response, 401/403/407, 5xx) before anything rang, the next
// one is tried. The code is composed into the locale's prompt.
// Runs on the service's I/O executor. Knows nothing of verifications: the service records
// what happens.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "config/config.hpp"
#include "daemon/voice/call_report.hpp"
#include "voice/call/caller.hpp"

namespace otpd::prompts {
class prompt_set;
}

namespace otpd::service {

struct call_order {
  std::string to;      // E.164 with '+'
  std::string locale;  // the verification's; the default locale's prompts when it has none
  std::string code;    // digits; read aloud, never logged
  // Progress (trying: the INVITE left; ringing, answered) and the trunk that carries the call.
  std::function<void(const voice::call_event&, const std::string& trunk)> on_event;
};

struct dialed {
  voice::call_result result;
  std::string trunk;  // the last trunk tried; empty when no trunk took the call
  // Trunks that could not carry it and passed it to the next trunk, in order (not the last).
  std::vector<std::string> failed_over;
  // An INVITE left (on any trunk): a call was placed. False: nothing reached the network
  // (no trunk with room, a TCP connection refused, the prompt could not be made, shutdown).
  // Per trunk tried, how many messages from it did not parse (voice::call_result::malformed).
  std::vector<std::pair<std::string, std::uint64_t>> malformed;
  // Per trunk tried, how many UDP datagrams came from a source other than its next hop and were
  // dropped (voice::call_result::foreign).
  std::vector<std::pair<std::string, std::uint64_t>> foreign;
  bool placed = false;
  // Why no call was placed: "no_trunk_available" (no trunk with room, or none at its rate
  // within rate_wait), "trunk_unreachable" (trunks tried, none could send the INVITE),
  // "prompt_failed", "shutting_down". Or why a placed call was ended on our side:
  // "media_address_refused" (the SDP answer named a media target the trunk may not use).
  // "internal_error": an exception in otpd's call code ended the call (result.final says
  // which), placed or not.
  std::string error;
};

// What the service records on the attempt for a call that has ended (invite_at aside: the
// service's clock).
call_record record_of(const dialed& d);

struct trunk_info {
  std::string name;
  int active = 0;  // calls in progress
  int max_calls = 0;
};

// What the verification service calls through: the voice_dialer below in the daemon, a fake
// in the service's tests.
class call_dialer {
 public:
  virtual ~call_dialer() = default;
  virtual boost::asio::awaitable<dialed> call(call_order order) = 0;
  // Ends every call under way (CANCEL / BYE) and refuses new ones.
  virtual void stop() = 0;
  virtual std::size_t active_calls() const noexcept = 0;
  // A reload's trunks; one line per change in `changes`.
  virtual void reconfigure(const std::vector<config::voice_trunk>& next,
                           std::vector<std::string>& changes) = 0;
  // Every trunk, in priority order, for the operator CLI.
  virtual std::vector<trunk_info> trunks() const = 0;
};

class voice_dialer final : public call_dialer {
 public:
  // Builds the prompt sets of `locales` (recordings or espeak-ng: this blocks for a few hundred
  // milliseconds per locale) and the trunks' callers. A locale whose prompts cannot be built
  // is an error only when it is `default_locale`; the others fall back to it.
  static boost::system::error_code create(boost::asio::any_io_executor ex, const config::voice& cfg,
                                          const config::number_plan& numbers,
                                          const std::vector<std::string>& locales,
                                          const std::string& default_locale,
                                          std::unique_ptr<voice_dialer>& out, std::string& why);
  ~voice_dialer() override;
  voice_dialer(const voice_dialer&) = delete;
  voice_dialer& operator=(const voice_dialer&) = delete;

  boost::asio::awaitable<dialed> call(call_order order) override;
  // Ends every call under way (CANCEL / BYE) and refuses new ones.
  void stop() override;
  std::size_t active_calls() const noexcept override;
  // A reload's trunks: one whose settings are the same goes on as it is (its calls, its rate);
  // a removed or changed one takes no new call and its calls in progress end normally; an added
  // or changed one takes calls at once. One line per change in `changes`.
  void reconfigure(const std::vector<config::voice_trunk>& next,
                   std::vector<std::string>& changes) override;
  // Every trunk, in priority order, for the operator CLI.
  std::vector<trunk_info> trunks() const override;
  // The number as the trunk dials it (number_format), for tests.
  static std::string dial_string(const std::string& e164, const std::string& format,
                                 const config::number_plan& numbers);

 private:
  struct trunk;
  voice_dialer() = default;
  // Shared: a call in progress keeps its trunk alive across a reload that removes it.
  struct choice;
  choice pick(const std::vector<const trunk*>& tried);
  // Waits `d` on a timer that stop() cancels; false when stopped.
  boost::asio::awaitable<bool> wait_for_rate(std::chrono::steady_clock::duration d);
  static std::vector<const config::voice_trunk*> by_priority(
      const std::vector<config::voice_trunk>& trunks);
  static bool trunk_failure(const voice::call_event& e) noexcept;

  boost::asio::any_io_executor ex_;
  config::voice cfg_;
  config::number_plan numbers_;
  std::string default_locale_;
  std::map<std::string, std::unique_ptr<prompts::prompt_set>, std::less<>> prompts_;
  std::vector<std::shared_ptr<trunk>> trunks_;     // by priority
  std::list<boost::asio::steady_timer*> waiting_;  // calls waiting for a trunk's rate
  bool stopped_ = false;
};

}  // namespace otpd::service
