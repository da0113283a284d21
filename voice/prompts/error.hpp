// Errors of the prompt layer (WAV parsing, resampling, speech synthesis, prompt building and
// composition), as their own boost::system category. None of them is ever thrown.
#pragma once

#include <type_traits>

#include <boost/system/error_code.hpp>

namespace otpd::prompts {

enum class errc {
  truncated = 1,       // the data ends inside a header or chunk the file needs
  not_riff,            // no "RIFF" / "WAVE" signature
  missing_fmt_chunk,   // no "fmt " chunk before "data"
  missing_data_chunk,  // no "data" chunk
  unsupported_format,  // a format tag / bit depth we do not decode (ADPCM, A-law, 12-bit, ...)
  invalid_format,      // fmt fields that contradict each other (block align, zero channels, ...)
  invalid_argument,    // a sample rate, repeat count or option outside its range
  file_unreadable,     // a recording or output file could not be read or written
  tts_init_failed,     // espeak-ng could not load its data
  unknown_voice,       // espeak-ng has no voice of that name
  tts_failed,          // espeak-ng failed while synthesising, or produced no audio
  unknown_locale,      // no texts for this locale and no recordings to stand in for them
  invalid_digit,       // the code to read contains something other than 0-9
  empty_clip,          // a clip is silent or empty after loading
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace otpd::prompts

namespace boost::system {
template <>
struct is_error_code_enum<otpd::prompts::errc> : std::true_type {};
}  // namespace boost::system
