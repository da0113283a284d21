// Splits a stream transport's bytes (TCP, TLS) into whole SIP messages (RFC 3261 §18.3:
// Content-Length is mandatory there). Limits are checked before the bytes are buffered in
// full, so a hostile peer cannot make us hold more than max_header_bytes + max_body_bytes.
// CRLF keep-alives between messages (RFC 5626 §4.4.1) are skipped and counted.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "voice/sip/message.hpp"

namespace otpd::sip {

class stream_framer {
 public:
  explicit stream_framer(limits lim = {}) : limits_(lim) {}

  // Appends received bytes.
  void put(std::string_view bytes);

  // Takes the next whole message into `out` and returns true; returns false when more bytes
  // are needed (ec clear) or on error (ec set). After an error the stream cannot be
  // resynchronised: drop the connection. The error is sticky.
  bool next(message& out, boost::system::error_code& ec);

  std::size_t buffered() const noexcept { return buf_.size() - begin_; }
  // CRLF sequences seen between messages (a "\r\n\r\n" ping counts 2).
  std::size_t keepalives() const noexcept { return keepalives_; }

 private:
  limits limits_;
  std::string buf_;
  std::size_t begin_ = 0;  // first unconsumed byte
  std::size_t scan_ = 0;   // bytes from begin_ already searched for the end of headers
  std::size_t keepalives_ = 0;
  boost::system::error_code error_;
};

}  // namespace otpd::sip
