// SIP message parser (voice/sip/message, RFC 3261 §7): any datagram parses or is refused
// without a crash, and parse -> serialize -> parse is stable: the second parse succeeds and
// serializes to the same bytes (serialize() normalises Content-Length, so the first parse may
// differ from the second only by that header).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.hpp"
#include "voice/sip/message.hpp"

namespace sip = otpd::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view datagram(reinterpret_cast<const char*>(data), size);
  sip::message first;
  if (sip::parse(datagram, first)) return 0;

  // Accessors the call layer uses on what a peer sent.
  (void)first.code();
  (void)first.method();
  (void)first.values("Via");
  (void)first.find("Call-ID");

  const std::string wire = sip::serialize(first);
  // Serializing may lengthen the head (compact names written in full, Content-Length added):
  // the second parse gets room for that.
  sip::limits roomy;
  roomy.max_header_bytes = 4 * wire.size() + 1024;
  roomy.max_body_bytes = wire.size() + 1024;
  roomy.max_headers = first.headers.size() + 2;
  sip::message second;
  FUZZ_CHECK(!sip::parse(wire, second, roomy));
  FUZZ_CHECK(second.start == first.start);
  FUZZ_CHECK(second.body == first.body);
  FUZZ_CHECK(sip::serialize(second) == wire);
  return 0;
}
