#include "voice/prompts/synth.hpp"

#include <espeak-ng/espeak_ng.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <optional>

#include "voice/prompts/resample.hpp"

namespace otpd::prompts {
namespace {

// The one espeak-ng instance of the process. Everything in it is guarded by mutex.
struct engine {
  std::mutex mutex;
  std::optional<espeak_ng_STATUS> init_status;  // set once the first initialisation ran
  std::string data_path;                        // what it was initialised with
  int native_rate = 0;
  std::vector<std::int16_t>* sink = nullptr;  // where the callback appends, during a speak

  ~engine() {
    if (init_status && *init_status == ENS_OK) espeak_ng_Terminate();
  }
};

engine& the_engine() {
  static engine e;
  return e;
}

// espeak-ng's synthesis callback (speak_lib.h t_espeak_callback): called repeatedly during
// espeak_ng_Synthesize in synchronous mode, with wav == nullptr at the end. 0 = go on.
int on_samples(short* wav, int count, espeak_EVENT*) {
  engine& e = the_engine();  // the caller holds e.mutex
  if (wav != nullptr && count > 0 && e.sink != nullptr)
    e.sink->insert(e.sink->end(), wav, wav + count);
  return 0;
}

// Initialises under the mutex. Through the espeak_ng_* calls rather than espeak_Initialize,
// which exit()s the process when its data is missing (espeak-ng 1.51 espeak_api.c).
boost::system::error_code ensure_initialised(engine& e, const std::string& path) {
  if (!e.init_status) {
    // espeak_ng_InitializePath silently falls back to $ESPEAK_DATA_PATH, $HOME and the built-in
    // folder when the given one does not exist (espeak-ng 1.51 speech.c): a configured folder
    // that is missing would then go unnoticed.
    std::error_code fs_ec;
    if (!path.empty() && !std::filesystem::is_directory(path, fs_ec)) return errc::tts_init_failed;
    espeak_ng_InitializePath(path.empty() ? nullptr : path.c_str());
    espeak_ng_ERROR_CONTEXT context = nullptr;
    espeak_ng_STATUS st = espeak_ng_Initialize(&context);
    espeak_ng_ClearErrorContext(&context);
    if (st == ENS_OK) st = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, nullptr);
    if (st == ENS_OK) {
      espeak_SetSynthCallback(on_samples);
      e.native_rate = espeak_ng_GetSampleRate();
    }
    e.init_status = st;
    e.data_path = path;
  }
  if (*e.init_status != ENS_OK || e.data_path != path) return errc::tts_init_failed;
  return {};
}

// espeak-ng resolves a voice name to a file under its data folder: accept names only.
bool plausible_voice_name(std::string_view v) {
  if (v.empty() || v.size() > 64) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '+';
  });
}

}  // namespace

synthesizer::synthesizer(synth_options opts) : opts_(std::move(opts)) {}

boost::system::error_code synthesizer::speak(std::string_view utf8, std::string_view voice,
                                             std::vector<std::int16_t>& out) {
  if (utf8.empty() || utf8.find('\0') != std::string_view::npos) return errc::invalid_argument;
  if (opts_.words_per_minute < espeakRATE_MINIMUM || opts_.words_per_minute > espeakRATE_MAXIMUM ||
      opts_.pitch < 0 || opts_.pitch > 100 || opts_.sample_rate < min_sample_rate ||
      opts_.sample_rate > max_sample_rate)
    return errc::invalid_argument;
  if (!plausible_voice_name(voice)) return errc::unknown_voice;

  std::vector<std::int16_t> native;
  int native_rate = 0;
  {
    engine& e = the_engine();
    std::lock_guard lock(e.mutex);
    ++count_;
    if (auto ec = ensure_initialised(e, opts_.data_path)) return ec;
    const std::string voice_name(voice);
    const espeak_ng_STATUS vs = espeak_ng_SetVoiceByName(voice_name.c_str());
    if (vs == ENS_VOICE_NOT_FOUND) return errc::unknown_voice;
    if (vs != ENS_OK) return errc::tts_failed;
    // Set after the voice: selecting a voice resets rate and pitch to its own.
    if (espeak_ng_SetParameter(espeakRATE, opts_.words_per_minute, 0) != ENS_OK ||
        espeak_ng_SetParameter(espeakPITCH, opts_.pitch, 0) != ENS_OK)
      return errc::tts_failed;
    const std::string text(utf8);
    e.sink = &native;
    const espeak_ng_STATUS ss = espeak_ng_Synthesize(
        text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, nullptr);
    e.sink = nullptr;
    if (ss != ENS_OK) return errc::tts_failed;
    native_rate = e.native_rate;
  }
  if (native.empty()) return errc::tts_failed;
  out = resample(native, native_rate, opts_.sample_rate);
  if (out.empty()) return errc::tts_failed;
  return {};
}

}  // namespace otpd::prompts
