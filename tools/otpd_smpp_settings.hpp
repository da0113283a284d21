// otpd-smpp's command line and the settings it makes of it with the --config snippet
// (docs/smpp-tool.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "smpp/dlr/message_id.hpp"
#include "smpp/net/bind_pool.hpp"
#include "smpp/text/encoder.hpp"
#include "smpp/text/segmenter.hpp"

namespace otpd::smpp_tool {

// The password, when neither --config nor --password-file gives it.
constexpr const char* password_env = "OTPD_SMPP_PASSWORD";

struct cli_options {
  std::optional<std::string> config;
  std::optional<std::string> host;
  std::optional<std::uint16_t> port;
  bool tls = false;
  std::optional<std::string> ca_file;
  std::optional<std::string> server_name;
  bool insecure = false;
  std::optional<std::string> system_id;
  std::optional<std::string> password_file;
  std::optional<std::string> system_type;
  std::optional<smpp::bind_type> bind;
  std::optional<std::size_t> window;

  std::optional<std::string> from;
  std::optional<std::uint8_t> from_ton;
  std::optional<std::uint8_t> from_npi;
  std::optional<std::string> to;
  std::uint8_t to_ton = 1;
  std::uint8_t to_npi = 1;
  std::optional<std::string> text;
  std::optional<smpp::text::coding_policy> coding;
  bool transliterate = false;
  std::optional<smpp::text::concat_method> concat;
  bool packed = false;
  std::optional<std::size_t> max_parts;

  bool wait_receipt = true;
  smpp::duration timeout = std::chrono::seconds(30);
  smpp::dlr::id_config ids;
  std::string id_format = "auto";

  bool hex = false;
  bool help = false;
};

// A usage error: the message is printed as "otpd-smpp: MESSAGE" and the exit code is 2.
struct usage_error {
  std::string message;
};

// Parses argv; throws usage_error.
cli_options parse_command_line(int argc, char** argv);

// The settings: the config snippet with the flags applied.
struct settings {
  smpp::bind_config bind;
  std::string password_origin;
  cli_options cli;
  smpp::address source;
  smpp::address dest;
};

// Builds the settings; throws usage_error (configuration errors included).
settings make_settings(const cli_options& o);

}  // namespace otpd::smpp_tool
