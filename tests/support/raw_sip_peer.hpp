// A SIP peer on 127.0.0.1 whose every byte the test writes: for the faults no real peer
// (baresip, kamailio) can be made to produce, such as a trunk answering with bytes that are not
// SIP, a response with a lying Content-Length, or an SDP answer that is not SDP.
//
// It listens on one transport (UDP or TCP, port 0: the kernel picks), runs its own thread, and
// hands each message it receives to `respond`, which returns what to send back (any bytes, in
// order; none at all is allowed). Over UDP a message is a datagram and the replies go to its
// source; over TCP a message is whatever one read returned (enough for one small request on
// loopback) and the replies are written on that connection, which stays open until the peer is
// destroyed. Every message received is kept (received()).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace otpd::test {

class raw_sip_peer {
 public:
  enum class transport { udp, tcp };
  using responder = std::function<std::vector<std::string>(const std::string& message)>;

  // Throws std::system_error when the socket cannot be set up.
  raw_sip_peer(transport t, responder respond);
  ~raw_sip_peer();
  raw_sip_peer(const raw_sip_peer&) = delete;
  raw_sip_peer& operator=(const raw_sip_peer&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::vector<std::string> received() const;
  // Waits until a received message starts with `prefix` (e.g. "BYE "); false at the deadline.
  bool wait_for(std::string_view prefix, std::chrono::milliseconds timeout) const;

 private:
  void run();
  void handle(int fd, const std::string& message, const void* addr, unsigned addr_len);

  transport transport_;
  responder respond_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // a pipe: the destructor writes to end the thread
  std::uint16_t port_ = 0;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::vector<std::string> received_;
  std::thread thread_;  // last: starts once the members above exist
};

// A response to `request` with the request's Via, From, To (with `to_tag` added when it has
// none), Call-ID and CSeq, then `extra_headers` (each ending in CRLF), a Content-Length of the
// body's size and the body.
std::string sip_response_to(std::string_view request, int code, std::string_view reason,
                            std::string_view to_tag = "raw", std::string_view extra_headers = "",
                            std::string_view body = "");

}  // namespace otpd::test
