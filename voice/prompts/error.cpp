#include "voice/prompts/error.hpp"

#include <string>

namespace otpd::prompts {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories
// are never deleted through a base pointer); -Wnon-virtual-dtor cannot tell.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "otpd.voice.prompts"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::truncated:
        return "WAV data truncated";
      case errc::not_riff:
        return "not a RIFF/WAVE file";
      case errc::missing_fmt_chunk:
        return "WAV file has no fmt chunk before its data";
      case errc::missing_data_chunk:
        return "WAV file has no data chunk";
      case errc::unsupported_format:
        return "unsupported WAV sample format";
      case errc::invalid_format:
        return "inconsistent WAV format fields";
      case errc::invalid_argument:
        return "argument out of range";
      case errc::file_unreadable:
        return "file could not be read or written";
      case errc::tts_init_failed:
        return "espeak-ng initialisation failed";
      case errc::unknown_voice:
        return "unknown espeak-ng voice";
      case errc::tts_failed:
        return "speech synthesis failed";
      case errc::unknown_locale:
        return "no prompt texts for this locale";
      case errc::invalid_digit:
        return "code contains a character that is not a digit";
      case errc::empty_clip:
        return "prompt clip is empty or silent";
    }
    return "unknown prompt error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace otpd::prompts
