// Places outgoing calls on one SIP trunk (docs/architecture.md §6): INVITE with an SDP offer over
// UDP or TCP to the trunk's next hop, digest authentication on 401/407, CANCEL when the ring
// timeout passes, ACK for the 2xx along the route set, the prompt played over RTP once answered,
// BYE when it ends (or a BYE from the callee answered). Over UDP the socket asks for ICMP errors
// (IP_RECVERR): "port unreachable" for the INVITE ends the call at once as a transport error. The
// SIP logic is sip::uac_call_fsm (pure); this is the Asio layer that carries out its actions.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/secret.hpp"
#include "voice/call/call_outcome.hpp"

namespace otpd::voice {

struct trunk_config {
  std::string name;
  // The next hop: "sip:host:port" (a proxy, an SBC or the callee's host); ";transport=tcp" or
  // `transport` picks TCP.
  std::string uri;
  std::string transport = "udp";  // udp | tcp
  // The Request-URI's host (the carrier's domain); empty: the next hop's host.
  std::string domain;
  std::string username;                     // digest credentials; empty: none
  secret password;                          // shared with the configuration (common/secret.hpp)
  std::string caller_id;                    // From user part (a number or a name)
  std::string local_address = "127.0.0.1";  // where SIP and RTP sockets bind
  std::chrono::milliseconds ring_timeout{30000};
  std::chrono::milliseconds max_call{180000};  // a hard bound on one call, answered or not
  std::chrono::milliseconds t1{500};           // RFC 3261 T1
  // Where the SDP answer may send our RTP (media::parse_network CIDRs). Empty: the next hop's
  // resolved address(es) only. Special-use ranges are refused either way, loopback unless the
  // next hop is loopback too (media_policy.hpp). An entry that does not parse allows nothing.
  std::vector<std::string> media_networks;
};

struct call_event {
  call_state state = call_state::trying;
  int sip_code = 0;  // the response that caused it, 0 if none
  std::string sip_reason;
};

struct call_request {
  // The callee: the Request-URI user part, e.g. "+84912345678" or "84912345678".
  std::string to;
  std::shared_ptr<const std::vector<std::int16_t>> audio;  // the prompt, 8 kHz
  // Progress (trying, ringing, answered) on the caller's executor, before the call ends.
  std::function<void(const call_event&)> on_event;
  // A key that replays the prompt once more when pressed (RFC 4733); '\0': none.
  char replay_key = '\0';
  int max_replays = 2;
  // Where in `audio` the code has been read once in full (the end of its last digit the first
  // time); 0: the whole audio. A call is `completed` only when the first play got that far.
  std::size_t code_end = 0;
};

struct call_result {
  call_event final;                     // a final state
  std::chrono::milliseconds setup{0};   // INVITE to 2xx (0 if not answered)
  std::chrono::milliseconds talk{0};    // 2xx to the end
  std::chrono::milliseconds played{0};  // prompt audio sent to the callee, every play together
  bool read_in_full = false;            // the first play got past code_end
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_late = 0;
  // Messages from the trunk that are not SIP (or not well-formed SIP). Over UDP each is
  // discarded and the call goes on (RFC 3261 §18.1.2); over TCP the first one ends the
  // connection, and the call fails with "malformed SIP from the trunk".
  std::uint64_t malformed = 0;
  // UDP datagrams whose source (address and port) was not the trunk's resolved next hop:
  // dropped unread, so that an off-path host cannot answer in the trunk's place.
  std::uint64_t foreign = 0;
  std::string call_id;
  // Why we ended the call, for the attempt's error: "media_address_refused" when the SDP
  // answer named an address or port the trunk's media may not go to (no RTP was sent; the
  // address is in final.sip_reason); empty otherwise.
  std::string error;
};

class caller {
 public:
  caller(boost::asio::any_io_executor ex, trunk_config cfg);
  ~caller();
  caller(const caller&) = delete;
  caller& operator=(const caller&) = delete;

  // One call, start to end. Never throws for what the network does; cancelling the awaiting
  // coroutine (or stop()) ends the call properly (CANCEL or BYE) within a bounded time. An
  // exception in the call's code (a bug, bad_alloc, or one from on_event) ends the call (CANCEL
  // or BYE queued, best effort) and is rethrown once its sockets are closed and its coroutines
  // joined.
  boost::asio::awaitable<call_result> call(call_request req);
  // Ends every call under way (CANCEL / BYE) and refuses new ones.
  void stop();
  std::size_t active_calls() const noexcept;
  const trunk_config& config() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace otpd::voice
