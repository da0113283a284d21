// SIP stream framer (voice/sip/stream_framer, RFC 3261 §18.3 over TCP/TLS): bytes arrive in
// reads of fuzzer-chosen sizes. Every message it yields serializes and parses back; the
// buffered bytes stay within the limits; an error is sticky.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.hpp"
#include "voice/sip/message.hpp"
#include "voice/sip/stream_framer.hpp"

namespace sip = otpd::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // Byte 0: read size (1..127, or the whole stream for 0); bit 7 selects small limits.
  const std::size_t chunk = (data[0] & 0x7F) == 0 ? size : (data[0] & 0x7F);
  sip::limits lim;
  if (data[0] & 0x80) {
    lim.max_header_bytes = 512;
    lim.max_body_bytes = 256;
    lim.max_headers = 8;
  }
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  sip::stream_framer f(lim);
  std::size_t fed = 0;
  boost::system::error_code ec;
  for (;;) {
    sip::message m;
    if (f.next(m, ec)) {
      FUZZ_CHECK(!ec);
      FUZZ_CHECK(m.body.size() <= lim.max_body_bytes);
      const std::string wire = sip::serialize(m);
      sip::limits roomy;
      roomy.max_header_bytes = 4 * wire.size() + 1024;
      roomy.max_body_bytes = wire.size() + 1024;
      roomy.max_headers = m.headers.size() + 2;
      sip::message again;
      FUZZ_CHECK(!sip::parse(wire, again, roomy));
      FUZZ_CHECK(again.start == m.start && again.body == m.body);
      continue;
    }
    if (ec) {
      sip::message m2;
      boost::system::error_code ec2;
      f.put("\r\n");
      FUZZ_CHECK(!f.next(m2, ec2) && ec2 == ec);  // sticky
      break;
    }
    FUZZ_CHECK(f.buffered() <= lim.max_header_bytes + lim.max_body_bytes + chunk);
    if (fed == stream.size()) break;
    const std::size_t n = std::min(chunk, stream.size() - fed);
    f.put(stream.substr(fed, n));
    fed += n;
  }
  return 0;
}
