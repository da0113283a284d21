#include "voice/media/error.hpp"

#include <string>

namespace otpd::media {
namespace {

// boost::system::error_category has a non-virtual destructor by design (categories are
// function-local statics, never deleted through a base pointer).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class error_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "media"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::truncated_header:
        return "RTP header truncated";
      case errc::bad_version:
        return "RTP version is not 2";
      case errc::truncated_extension:
        return "RTP header extension truncated";
      case errc::bad_padding:
        return "RTP padding count invalid";
      case errc::buffer_too_small:
        return "output buffer too small";
      case errc::invalid_field:
        return "field value cannot be encoded";
      case errc::truncated_event:
        return "telephone-event payload truncated";
      case errc::sdp_malformed:
        return "malformed SDP";
      case errc::no_audio_stream:
        return "no audio stream in the SDP answer";
      case errc::stream_rejected:
        return "audio stream rejected (port 0)";
      case errc::unsupported_transport:
        return "audio stream transport is not RTP/AVP";
      case errc::no_connection_address:
        return "no connection address in the SDP";
      case errc::no_common_codec:
        return "no common codec";
      case errc::packet_limit:
        return "RTP packet limit of the call reached";
    }
    return "unknown media error " + std::to_string(ev);
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const error_category_impl instance;
  return instance;
}

}  // namespace otpd::media
