// SMPP stream framer (smpp/proto/framer): bytes arrive in reads of fuzzer-chosen sizes,
// through both prepare()/commit() and put(). Every PDU it yields has a valid command_length
// equal to its size, the PDUs are the stream's bytes in order, and each one decodes without a
// crash.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "smpp/proto/codec.hpp"
#include "smpp/proto/framer.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace smpp = otpd::smpp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // Byte 0: read size (1..64, or 4096 for the 0 value); byte 1: a small or the default
  // maximum PDU length.
  const std::size_t chunk = data[0] == 0 ? 4096 : (data[0] & 0x3F) + 1;
  const std::size_t max_len = data[1] & 1 ? 16 + data[1] : 64 * 1024;
  const bool use_put = data[0] & 0x40;
  data += 2;
  size -= 2;

  smpp::framer f(max_len);
  std::string out;  // the bytes of every PDU the framer yielded, in order
  std::size_t fed = 0;
  boost::system::error_code ec;
  while (!ec) {
    auto pdu = f.next(ec);
    if (ec) break;
    if (!pdu.empty()) {
      FUZZ_CHECK(pdu.size() >= smpp::header_length && pdu.size() <= f.max_pdu_length());
      const std::uint32_t len = (std::uint32_t{pdu[0]} << 24) | (std::uint32_t{pdu[1]} << 16) |
                                (std::uint32_t{pdu[2]} << 8) | std::uint32_t{pdu[3]};
      FUZZ_CHECK(len == pdu.size());
      out.append(reinterpret_cast<const char*>(pdu.data()), pdu.size());
      smpp::pdu p;
      (void)smpp::decode(pdu, p);
      continue;
    }
    if (fed == size) break;
    const std::size_t n = std::min(chunk, size - fed);
    if (use_put) {
      f.put(std::span(data + fed, n));
    } else {
      auto room = f.prepare(n);
      FUZZ_CHECK(room.size() >= n);
      std::memcpy(room.data(), data + fed, n);
      f.commit(n);
    }
    fed += n;
  }
  FUZZ_CHECK(out.size() + f.buffered() == fed);
  FUZZ_CHECK(std::memcmp(out.data(), data, out.size()) == 0);
  return 0;
}
