// The reader of a whole otpd.yaml (load_config in config/loader.cpp): one class, its sections
// read by the files named after them (config/detail/*_reader.cpp), sharing the reader, the
// configuration being filled and what the checks across sections need once everything is
// read. Internal to config/ (names yaml-cpp types through yaml_reader.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "config/detail/yaml_reader.hpp"

namespace otpd::config::detail {

// NIST SP 800-63B: a code lives at most 10 minutes.
inline constexpr seconds hard_max_ttl{600};
// A bearer key or a webhook secret shorter than this can be guessed.
inline constexpr std::size_t min_shared_secret = 16;
inline constexpr std::size_t max_e164_digits = 15;  // ITU-T E.164 §6.1

// Value checks the sections share (config/detail/value_checks.cpp).
const field* find(const field_map& m, std::string_view key);
bool all_digits(std::string_view s);
bool is_hex(std::string_view s);
// A name that appears in logs and metric labels: letters, digits, '.', '_' and '-'.
bool is_label(std::string_view s);
// BCP 47, as far as templates need it: "vi", "en", "en-GB", "zh-Hant".
bool is_locale(std::string_view s);
bool is_ip_address(const std::string& s);
bool is_wildcard(const std::string& address);
source_position position_of(const YAML::Mark& m);
std::string line_of(const YAML::Mark& m);

class config_loader {
 public:
  config_loader(yaml_reader& r, config& c) : r_(r), c_(c) {}
  void load(const YAML::Node& root);

 private:
  // listeners_reader.cpp
  void load_listeners(const field& f);
  void load_tls_server(const field& f, const std::string& path, http_listener& l);
  void load_http(const field& f);
  // config/loader.cpp
  void load_webhooks(const field& f);
  void load_secrets(const field& f);
  void load_logging(const field& f);
  void load_admin(const field& f);
  void load_process(const field& f);
  void load_testing(const field& f);
  void check_across();
  // A file otpd will read at start-up: checked now, so that --check-config catches it.
  std::optional<std::filesystem::path> input_file(const field& f, const std::string& path);

  // store_reader.cpp
  void load_store(const field& f);
  void load_postgres(const field& f);
  void load_cluster(const field& f);
  void check_store_across();

  // api_keys_reader.cpp
  void load_api_keys(const field& f);
  // policy_reader.cpp
  void load_policy(const field& f);
  void load_rate_limits(const field& f);
  void load_limit_list(const field& f, const std::string& path, std::vector<rate_limit>& out);
  void load_number_plan(const field& f);
  // templates_reader.cpp
  void load_templates(const field& f);
  // carriers_reader.cpp
  void load_routing(const field& f);
  void load_carrier(const field& item, const std::string& path);
  void load_carrier_name(const field& f, const std::string& path, carrier& c);
  void load_prefixes(const field& f, const std::string& path, carrier& c);
  void load_binds(const field& f, const std::string& path, carrier& c);
  void load_failover(const field& f, const std::string& path, carrier& c);
  void load_reconnect_queue(const field& f, const std::string& path, carrier::reconnect_queue& q);
  // trunks_reader.cpp
  void load_voice(const field& f);
  void load_trunk(const field& item, const std::string& path);

  yaml_reader& r_;
  config& c_;

  // What the checks across sections need, once everything is read.
  struct failover_ref {
    std::string carrier;
    std::string target;
    YAML::Mark mark;
    std::string path;
  };
  std::vector<failover_ref> failovers_;
  struct queue_wait_ref {
    milliseconds wait;
    YAML::Mark mark;
    std::string path;
  };
  std::vector<queue_wait_ref> queue_waits_;  // each carrier's reconnect_queue.max_wait
  std::map<std::string, YAML::Mark, std::less<>> carrier_names_;
  std::map<std::string, std::pair<std::string, YAML::Mark>, std::less<>> prefixes_;
  std::map<std::string, YAML::Mark, std::less<>> bind_names_;
  std::map<std::string, YAML::Mark, std::less<>> trunk_names_;
  std::optional<field> locale_field_;
  std::optional<field> new_code_field_;
  std::optional<field> templates_field_;
  bool templates_failed_ = false;  // then a missing locale is a consequence, not news
  bool seal_key_given_ = false;
  std::optional<field> postgres_kind_field_;  // store.kind: postgres, where it was written
};

}  // namespace otpd::config::detail
