// Text to speech with espeak-ng, for the prompt clips no one recorded.
//
// espeak-ng keeps all its state in globals (voice, rate, callback, phoneme tables) and is not
// thread-safe, so every synthesizer in the process shares one engine behind one mutex; the
// engine is initialised on first use and stays up until exit. Synthesis is slow (tens of ms
// per word) and blocking: prompt sets call it once at start-up, never on a call's path, and
// callers that do otherwise belong on a thread pool (docs/architecture.md §8).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>

#include "voice/prompts/error.hpp"

namespace otpd::prompts {

struct synth_options {
  // espeak-ng data folder (the one holding phontab and the *_dict files); empty = the
  // library's built-in default. The first synthesizer to speak fixes it for the process.
  std::string data_path;
  // Speaking rate in words per minute, 80..450 (espeak-ng's range; its default is 175). Codes
  // are read slower than prose so that a listener can write them down.
  int words_per_minute = 130;
  int pitch = 50;          // 0..100, espeak-ng's default 50
  int sample_rate = 8000;  // of the samples speak() returns (G.711 rate by default)
};

class synthesizer {
 public:
  explicit synthesizer(synth_options opts = {});

  // Speaks UTF-8 text with an espeak-ng voice ("en", "vi", "en-us", "vi-vn-x-south", ...) and
  // returns mono samples at options().sample_rate in out (replaced). Blocks for the duration
  // of the synthesis, and while another synthesizer in the process is speaking. Errors:
  // errc::invalid_argument (empty text, options out of range), errc::tts_init_failed (espeak-ng
  // data missing, or a data path other than the one the engine was started with),
  // errc::unknown_voice, errc::tts_failed.
  boost::system::error_code speak(std::string_view utf8, std::string_view voice,
                                  std::vector<std::int16_t>& out);

  // How many times speak() ran espeak-ng (successfully or not): lets tests check that prompt
  // sets synthesise once, not per call.
  std::size_t synthesis_count() const noexcept { return count_.load(); }

  const synth_options& options() const noexcept { return opts_; }

 private:
  synth_options opts_;
  std::atomic<std::size_t> count_{0};
};

}  // namespace otpd::prompts
