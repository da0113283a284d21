// SDP parser and offer/answer (voice/media/sdp, RFC 4566 / RFC 3264): any answer body parses
// or is refused without a crash, and negotiate() on what parsed picks a codec we offered.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/fuzz_check.hpp"
#include "voice/media/sdp.hpp"

namespace media = otpd::media;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  media::session_description sd;
  if (media::parse(text, sd)) return 0;
  for (const auto& m : sd.media) (void)m.find_rtpmap(0);

  static const media::offer_params offer = [] {
    media::offer_params o;
    o.address = "192.0.2.10";
    o.port = 40000;
    return o;
  }();
  media::negotiated_media nm;
  if (!media::negotiate(offer, sd, nm)) {
    FUZZ_CHECK(nm.remote_port != 0);
    FUZZ_CHECK(!nm.remote.address.empty());
    bool offered = false;
    for (const auto& c : offer.codecs) {
      offered =
          offered || (c.name == nm.send_codec.name && c.clock_rate == nm.send_codec.clock_rate);
    }
    FUZZ_CHECK(offered);
  }
  return 0;
}
