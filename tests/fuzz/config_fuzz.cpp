// The otpd.yaml loader (config/loader, yaml-cpp inside): any text loads or yields errors, and
// never throws or crashes (yaml-cpp's exceptions are caught inside the loader). ${env:} and
// ${file:} references resolve to fixed values: the fuzzer never reads the file system or the
// environment.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "config/loader.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace config = otpd::config;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  static const config::load_options opts = [] {
    config::load_options o;
    o.getenv = [](const std::string& name) -> std::optional<std::string> {
      if (name.empty() || name[0] == 'X') return std::nullopt;  // "not set"
      return "0123456789abcdef0123456789abcdef";
    };
    o.read_file = [](const std::filesystem::path& p) -> std::optional<std::string> {
      if (p.filename().string().starts_with("missing")) return std::nullopt;
      return "0123456789abcdef0123456789abcdef\n";
    };
    o.base_directory = "/nonexistent/otpd-fuzz";
    return o;
  }();
  const config::load_result r = config::load_config(yaml, "otpd.yaml", opts);
  FUZZ_CHECK(r.ok() == (r.errors.empty() && r.config.has_value()));
  FUZZ_CHECK(r.ok() || !r.errors.empty());  // a refusal always says why
  (void)config::check_config_report(r);
  return 0;
}
