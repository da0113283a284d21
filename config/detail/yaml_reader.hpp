// The YAML plumbing shared by config/'s loaders (a bind snippet, the whole otpd.yaml):
// positions, "expected X, got Y" messages, unknown and duplicate keys, typed scalars, and
// ${env:NAME} / ${file:path} references. Internal: this is the one header that names yaml-cpp
// types, and only config/*.cpp include it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/secret.hpp"
#include "config/detail/private_file.hpp"
#include "config/load_options.hpp"

namespace otpd::config::detail {

// A value and the key it sits under; the key's position stands in for an empty value's. For a
// list item, `key` is the list's key.
struct field {
  YAML::Node key;
  YAML::Node value;
};
using field_map = std::map<std::string, field, std::less<>>;

// A scalar after ${env:} / ${file:} resolution.
struct scalar_text {
  std::string text;
  std::string reference;  // the ${...} as written; empty for a literal
};

struct string_rules {
  std::size_t max_length = std::string::npos;  // in bytes
  bool allow_empty = true;
  // Never quoted in a message, not even as a literal: passwords, keys, URLs with credentials.
  bool secret = false;
  std::string_view limit_note;  // appended to a length error, e.g. "(SMPP 3.4 §5.2.1)"
};

// "a.b" (or "b" at the top).
std::string sub_path(const std::string& path, std::string_view key);
// "a[3]".
std::string item_path(const std::string& path, std::size_t index);
// "a, b, c".
std::string join(const std::vector<std::string_view>& words);
// "a, b or c".
std::string one_of(std::initializer_list<std::string_view> words);
bool is_reference(std::string_view raw) noexcept;

class yaml_reader {
 public:
  // `root_name` names the document in messages about its top level ("the snippet").
  yaml_reader(std::string file, const load_options& opts, std::string root_name);

  // The document; nullopt (and an error) on a syntax error or an empty document, whose
  // message says what the document must hold (`expected`).
  std::optional<YAML::Node> parse(std::string_view yaml, const std::string& expected);

  void error(const YAML::Mark& m, std::string message);
  static YAML::Mark mark_of(const field& f);
  // `secret`: a scalar found where something else was expected may be a secret put in the
  // wrong place, so it is not shown.
  void error_at(const field& f, const std::string& path, const std::string& expected,
                bool secret = false);
  // The errors so far, in file order (those without a position first).
  std::vector<config_error> take_errors();
  bool failed() const noexcept { return !errors_.empty(); }
  // Something allowed but weakened on purpose (policy.allow_short_codes): reported by
  // --check-config and logged at start and reload, never a reason to refuse the file.
  void warning(const YAML::Mark& m, std::string message);
  std::vector<config_error> take_warnings() { return std::move(warnings_); }
  std::size_t error_count() const noexcept { return errors_.size(); }

  // The fields of a mapping, reporting unknown keys (with a "did you mean") and duplicates.
  // nullopt (and an error) when `node` is not a mapping.
  std::optional<field_map> fields(const YAML::Node& node, const YAML::Mark& where,
                                  const std::string& path,
                                  const std::vector<std::string_view>& known, bool secret = false);
  void require(const field_map& f, const YAML::Node& map, const std::string& path,
               std::string_view key, const std::string& what);
  // The items of a list, each as a field; nullopt (and an error) when it is not a list.
  std::optional<std::vector<field>> items(const field& f, const std::string& path,
                                          const std::string& expected, bool secret = false);

  // The scalar, resolved; nullopt (and an error) for anything else or a failed reference.
  // A reference is shown as written in messages, which never holds the secret itself.
  std::optional<scalar_text> scalar(const field& f, const std::string& path,
                                    const std::string& expected);
  std::optional<std::string> get_string(const field& f, const std::string& path,
                                        const string_rules& rules = {});
  // A string as get_string reads it with `secret` set, kept in protected memory; the
  // temporary copies on the way are wiped.
  std::optional<secret> get_secret(const field& f, const std::string& path,
                                   string_rules rules = {});
  std::optional<bool> get_bool(const field& f, const std::string& path);
  std::optional<long long> get_integer(const field& f, const std::string& path, long long lo,
                                       long long hi);
  std::optional<double> get_number(const field& f, const std::string& path, double lo, double hi);
  std::optional<smpp::duration> get_duration(const field& f, const std::string& path,
                                             smpp::duration lo, smpp::duration hi);
  // A duration that is a whole number of seconds.
  std::optional<std::chrono::seconds> get_seconds(const field& f, const std::string& path,
                                                  std::chrono::seconds lo, std::chrono::seconds hi);
  // The index of the value among `names`; `expected` lists them for the message.
  std::optional<std::size_t> get_choice(const field& f, const std::string& path,
                                        std::initializer_list<std::string_view> names,
                                        const std::string& expected);

  // A path relative to the base directory, or as written when absolute.
  std::filesystem::path resolve(const std::string& p) const;
  // Reads a file (through load_options::read_file when set) of at most `limit` bytes; on
  // failure nullopt and `why` says why.
  std::optional<std::string> read_file(const std::filesystem::path& p, std::size_t limit,
                                       std::string& why) const;
  // Whether a file can be opened for reading; `why` says why not.
  bool readable(const std::filesystem::path& p, std::string& why) const;

  const load_options& options() const noexcept { return opts_; }
  const std::string& file() const noexcept { return file_; }

 private:
  std::optional<std::string> resolve_reference(const field& f, const std::string& path,
                                               const std::string& raw);

  std::string file_;
  const load_options& opts_;
  std::filesystem::path base_;
  std::string root_name_;
  std::vector<config_error> errors_;
  std::vector<config_error> warnings_;
};

// How a resolved scalar is shown in a message: 'value' or 'value' (from ${env:X}).
std::string shown(const scalar_text& s);
// What a node is, for "got ..." in messages; a scalar is quoted as written unless `secret`.
std::string describe_node(const YAML::Node& n, bool secret = false);

// Reads `path` and hands its text to `load(text, name, opts)` with the file's directory as the
// base for relative ${file:} references; an unreadable file is one error with line 0.
template <class Result, class Load>
Result load_file(const std::filesystem::path& path, const load_options& opts, Load load) {
  // Far above any real configuration; keeps a mistaken path (a log, a disk image) from
  // filling memory.
  constexpr std::size_t max_config_file = 16 * 1024 * 1024;
  std::string why;
  std::optional<std::string> text = read_private_file(path, max_config_file, why);
  if (!text) {
    Result r;
    r.errors.push_back({path.string(), 0, 0, "cannot read: " + why});
    return r;
  }
  load_options o = opts;
  if (!o.base_directory) o.base_directory = path.parent_path();
  Result r = load(*text, path.string(), o);
  // The text may hold literal secrets.
  wipe(*text);
  return r;
}

// Parses `text` where it lies: YAML::Load(std::string) copies it into a stringstream that is
// freed unwiped. yaml-cpp also reads ahead into a buffer of its own, freed unwiped: a comment
// line of padding after the text makes that buffer end up holding padding, not the end of
// the file (where the secrets section usually is). Throws what YAML::Load throws.
YAML::Node load_in_place(std::string_view text);

// Overwrites every scalar of a parsed document once it has been read, so that literal
// secrets written in the file do not stay in freed memory (yaml-cpp's own scanner buffers
// are out of reach: prefer ${file:} or ${env:} for secrets).
void wipe_scalars(const YAML::Node& root) noexcept;

}  // namespace otpd::config::detail
