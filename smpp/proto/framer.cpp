#include "smpp/proto/framer.hpp"

#include <algorithm>
#include <cstring>

#include "smpp/proto/status.hpp"

namespace otpd::smpp {
namespace {

// SMPP 3.4 §3.2: the header is four 32-bit fields, command_length first and counting itself.
constexpr std::size_t min_pdu_length = 16;

std::uint32_t load32(const char* p) noexcept {
  const auto* u = reinterpret_cast<const std::uint8_t*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
         std::uint32_t{u[3]};
}

}  // namespace

framer::framer(std::size_t max_pdu_length) : max_(std::max(max_pdu_length, min_pdu_length)) {}

std::span<std::uint8_t> framer::prepare(std::size_t n) {
  // When the length of a partly received PDU is known (and valid), make room for all of it so
  // that a large PDU arrives in few reads. An invalid length earns nothing: next() reports it.
  std::size_t want = n;
  const std::size_t have = end_ - begin_;
  if (have >= 4) {
    const std::uint32_t len = load32(buf_.data() + begin_);
    if (len >= min_pdu_length && len <= max_ && len > have) want = std::max(want, len - have);
  }
  if (begin_ == end_) begin_ = end_ = 0;  // everything consumed: start over at the front
  if (buf_.size() - end_ < want) {
    // Compact only when the tail is too short: what moves is at most one partial PDU.
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, have);
      begin_ = 0;
      end_ = have;
    }
    if (buf_.size() - end_ < want) {
      buf_.resize(end_ + want);
      buf_.resize(buf_.capacity());  // use the growth the string reserved anyway
    }
  }
  return {reinterpret_cast<std::uint8_t*>(buf_.data()) + end_, buf_.size() - end_};
}

void framer::commit(std::size_t n) noexcept { end_ += std::min(n, buf_.size() - end_); }

void framer::put(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return;
  const std::span<std::uint8_t> room = prepare(bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

std::span<const std::uint8_t> framer::next(boost::system::error_code& ec) noexcept {
  ec.clear();
  const std::size_t have = end_ - begin_;
  if (have < 4) return {};
  const std::uint32_t len = load32(buf_.data() + begin_);
  // SMPP 3.4 §3.2.1.1: decided on the four length bytes, before any of the body is awaited,
  // so that a hostile or broken peer cannot make us buffer up to 4 GiB.
  if (len < min_pdu_length || len > max_) {
    ec = errc::invalid_command_length;
    return {};
  }
  if (have < len) return {};
  const auto* p = reinterpret_cast<const std::uint8_t*>(buf_.data()) + begin_;
  begin_ += len;
  return {p, len};
}

}  // namespace otpd::smpp
