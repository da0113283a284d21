// Splits a byte stream into whole PDUs (SMPP 3.4 §3.1: command_length first). The maximum PDU
// length is checked on the four length bytes, before any allocation for the body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <boost/system/error_code.hpp>

namespace otpd::smpp {

class framer {
 public:
  explicit framer(std::size_t max_pdu_length = 64 * 1024);

  // Space for the next read: at least `n` writable bytes; pass what was read to commit().
  std::span<std::uint8_t> prepare(std::size_t n = 4096);
  void commit(std::size_t n) noexcept;

  // Feeds bytes directly (tests, copying callers).
  void put(std::span<const std::uint8_t> bytes);

  // The next complete PDU's bytes, or an empty span when more bytes are needed. A
  // command_length below 16 or above the maximum sets `ec` (errc::invalid_command_length):
  // the stream cannot be resynchronised and the bind must be dropped. The span stays valid
  // until the next call to prepare(), put() or next().
  std::span<const std::uint8_t> next(boost::system::error_code& ec) noexcept;

  std::size_t buffered() const noexcept { return end_ - begin_; }
  std::size_t max_pdu_length() const noexcept { return max_; }
  // Bytes currently allocated for buffering (for tests and metrics).
  std::size_t capacity() const noexcept { return buf_.size(); }

 private:
  std::string buf_;
  std::size_t begin_ = 0;  // first unconsumed byte
  std::size_t end_ = 0;    // one past the last committed byte
  std::size_t max_;
};

}  // namespace otpd::smpp
