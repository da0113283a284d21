// SMPP 3.4 PDU decoder (smpp/proto/codec): any bytes decode without a crash, and a PDU that
// decodes and re-encodes is stable: decode -> encode -> decode gives the same PDU, and encoding
// it again gives the same bytes.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "smpp/proto/codec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace smpp = otpd::smpp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  smpp::pdu first;
  smpp::decode_info info;
  if (smpp::decode(std::span(data, size), first, &info)) return 0;
  FUZZ_CHECK(info.header_valid);

  // Decoding is lenient where encoding is strict (SMPP 3.4 field limits), so a decoded PDU
  // may legitimately fail to encode; one that encodes must round-trip.
  std::string wire;
  if (smpp::encode(first, wire)) {
    FUZZ_CHECK(wire.empty());  // nothing appended on error
    return 0;
  }
  FUZZ_CHECK(wire.size() == smpp::encoded_size(first));

  smpp::pdu second;
  const auto* w = reinterpret_cast<const std::uint8_t*>(wire.data());
  FUZZ_CHECK(!smpp::decode(std::span(w, wire.size()), second));
  FUZZ_CHECK(second == first);

  std::string again;
  FUZZ_CHECK(!smpp::encode(second, again));
  FUZZ_CHECK(again == wire);
  return 0;
}
