// RTP packet parser (voice/media/rtp, RFC 3550 §5.1): any datagram parses or is refused
// without a crash, and parse -> encode -> parse is stable: the same header, extension and
// payload, and the same bytes when encoded again.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tests/fuzz/fuzz_check.hpp"
#include "voice/media/rtp.hpp"

namespace media = otpd::media;

namespace {

bool same(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

bool same_header(const media::rtp_header& a, const media::rtp_header& b) {
  return a.marker == b.marker && a.payload_type == b.payload_type && a.sequence == b.sequence &&
         a.timestamp == b.timestamp && a.ssrc == b.ssrc && a.csrc_count == b.csrc_count &&
         std::equal(a.csrc.begin(), a.csrc.begin() + a.csrc_count, b.csrc.begin()) &&
         a.extension == b.extension && a.extension_profile == b.extension_profile;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  media::rtp_packet first;
  if (media::parse(std::span(data, size), first)) return 0;
  FUZZ_CHECK(first.header.payload_type <= 127 && first.header.csrc_count <= 15);
  FUZZ_CHECK(first.payload.size() + first.extension.size() + first.padding <= size);

  std::vector<std::uint8_t> wire(media::encoded_size(first));
  std::size_t written = 0;
  FUZZ_CHECK(!media::encode(first, wire, written));
  FUZZ_CHECK(written == wire.size());

  media::rtp_packet second;
  FUZZ_CHECK(!media::parse(wire, second));
  FUZZ_CHECK(same_header(first.header, second.header));
  FUZZ_CHECK(same(first.extension, second.extension));
  FUZZ_CHECK(same(first.payload, second.payload));
  FUZZ_CHECK(first.padding == second.padding);

  std::vector<std::uint8_t> again(media::encoded_size(second));
  FUZZ_CHECK(!media::encode(second, again, written));
  FUZZ_CHECK(again == wire);
  return 0;
}
