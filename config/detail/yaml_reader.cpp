#include "config/detail/yaml_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <istream>
#include <sstream>
#include <streambuf>
#include <tuple>

namespace otpd::config::detail {
namespace {

// How far apart two short words are (insertions, deletions, substitutions): for "did you
// mean" on unknown keys, where a typo is the usual cause.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// A value as a message shows it: quoted, unless it is a secret.
std::string described(const scalar_text& s, bool secret) {
  if (!secret) return shown(s);
  return s.reference.empty() ? std::string("the value") : "the value of " + s.reference;
}

}  // namespace

std::string sub_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string item_path(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::string_view w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

std::string one_of(std::initializer_list<std::string_view> words) {
  std::string out;
  std::size_t i = 0;
  for (std::string_view w : words) {
    if (i != 0) out += i + 1 == words.size() ? " or " : ", ";
    out += w;
    ++i;
  }
  return out;
}

bool is_reference(std::string_view raw) noexcept {
  return raw.size() >= 3 && raw.starts_with("${") && raw.back() == '}';
}

std::string shown(const scalar_text& s) {
  std::string out = "'" + s.text + "'";
  if (!s.reference.empty()) out += " (from " + s.reference + ")";
  return out;
}

std::string describe_node(const YAML::Node& n, bool secret) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return secret ? std::string("a single value (not shown)") : "'" + n.Scalar() + "'";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

yaml_reader::yaml_reader(std::string file, const load_options& opts, std::string root_name)
    : file_(std::move(file)), opts_(opts), root_name_(std::move(root_name)) {
  base_ = opts.base_directory.value_or(std::filesystem::path());
  if (base_.empty()) base_ = ".";
}

std::optional<YAML::Node> yaml_reader::parse(std::string_view yaml, const std::string& expected) {
  YAML::Node root;
  try {
    root = load_in_place(yaml);
  } catch (const YAML::ParserException& e) {
    error(e.mark, "YAML syntax error: " + e.msg);
    return std::nullopt;
  }
  if (root.IsNull() || !root.IsDefined()) {
    error(YAML::Mark::null_mark(), root_name_ + " is empty; expected " + expected);
    return std::nullopt;
  }
  return root;
}

void yaml_reader::error(const YAML::Mark& m, std::string message) {
  config_error e;
  e.file = file_;
  if (!m.is_null()) {
    e.line = static_cast<std::size_t>(m.line) + 1;
    e.column = static_cast<std::size_t>(m.column) + 1;
  }
  e.message = std::move(message);
  errors_.push_back(std::move(e));
}

void yaml_reader::warning(const YAML::Mark& m, std::string message) {
  config_error w;
  w.file = file_;
  if (!m.is_null()) {
    w.line = static_cast<std::size_t>(m.line) + 1;
    w.column = static_cast<std::size_t>(m.column) + 1;
  }
  w.message = std::move(message);
  warnings_.push_back(std::move(w));
}

YAML::Mark yaml_reader::mark_of(const field& f) {
  // An empty value has no position of its own (or the next line's): point at its key.
  const YAML::Mark m = f.value.Mark();
  return m.is_null() || f.value.IsNull() ? f.key.Mark() : m;
}

void yaml_reader::error_at(const field& f, const std::string& path, const std::string& expected,
                           bool secret) {
  error(mark_of(f), path + ": expected " + expected + ", got " + describe_node(f.value, secret));
}

std::vector<config_error> yaml_reader::take_errors() {
  std::stable_sort(errors_.begin(), errors_.end(),
                   [](const config_error& a, const config_error& c) {
                     return std::tie(a.line, a.column) < std::tie(c.line, c.column);
                   });
  return std::move(errors_);
}

std::optional<field_map> yaml_reader::fields(const YAML::Node& node, const YAML::Mark& where,
                                             const std::string& path,
                                             const std::vector<std::string_view>& known,
                                             bool secret) {
  if (!node.IsMap()) {
    error(node.Mark().is_null() ? where : node.Mark(),
          (path.empty() ? root_name_ : path) + ": expected a mapping of 'key: value' lines (" +
              join(known) + "), got " + describe_node(node, secret));
    return std::nullopt;
  }
  field_map out;
  const std::string prefix = path.empty() ? "" : path + ".";
  // By value: a yaml-cpp iterator's `->` hands out a temporary pair, so a reference to its
  // members would dangle.
  for (const auto kv : node) {
    const YAML::Node k = kv.first;
    if (!k.IsScalar()) {
      error(k.Mark(), prefix + "<key>: expected a plain key name, got " + describe_node(k));
      continue;
    }
    const std::string name = k.Scalar();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string msg = "unknown key '" + prefix + name + "'";
      std::string_view best;
      std::size_t best_d = 3;  // farther than two edits is not a typo
      for (std::string_view cand : known) {
        const std::size_t d = edit_distance(name, cand);
        if (d < best_d) best_d = d, best = cand;
      }
      if (!best.empty()) msg += " (did you mean '" + prefix + std::string(best) + "'?)";
      msg += "; expected one of: " + join(known);
      error(k.Mark(), std::move(msg));
      continue;
    }
    auto [pos, inserted] = out.emplace(name, field{k, kv.second});
    if (!inserted) {
      error(k.Mark(), "duplicate key '" + prefix + name + "' (first given at line " +
                          std::to_string(pos->second.key.Mark().line + 1) + ")");
    }
  }
  return out;
}

void yaml_reader::require(const field_map& f, const YAML::Node& map, const std::string& path,
                          std::string_view key, const std::string& what) {
  if (f.find(key) != f.end()) return;
  error(map.Mark(), "missing required key '" + sub_path(path, key) + "' (" + what + ")");
}

std::optional<std::vector<field>> yaml_reader::items(const field& f, const std::string& path,
                                                     const std::string& expected, bool secret) {
  if (!f.value.IsSequence()) {
    error_at(f, path, expected, secret);
    return std::nullopt;
  }
  std::vector<field> out;
  out.reserve(f.value.size());
  for (const auto item : f.value) out.push_back(field{f.key, item});
  return out;
}

std::optional<std::string> yaml_reader::resolve_reference(const field& f, const std::string& path,
                                                          const std::string& raw) {
  const std::string ref = raw.substr(2, raw.size() - 3);
  if (ref.starts_with("env:")) {
    const std::string name = ref.substr(4);
    if (name.empty()) {
      error(mark_of(f), path + ": ${env:} needs a variable name, as in ${env:SMPP_PASSWORD}");
      return std::nullopt;
    }
    std::optional<std::string> v;
    if (opts_.getenv) {
      v = opts_.getenv(name);
    } else if (const char* e = std::getenv(name.c_str())) {
      v = std::string(e);
    }
    if (!v) {
      error(mark_of(f), path + ": environment variable " + name + " (from " + raw + ") is not set");
      return std::nullopt;
    }
    return v;
  }
  if (ref.starts_with("file:")) {
    const std::string name = ref.substr(5);
    if (name.empty()) {
      error(mark_of(f), path + ": ${file:} needs a path, as in ${file:/etc/otpd/smpp.pw}");
      return std::nullopt;
    }
    const std::filesystem::path p = resolve(name);
    std::string why;
    // A secret or a setting is small; the bound keeps ${file:/dev/zero} from hanging the load.
    constexpr std::size_t max_reference_file = 64 * 1024;
    std::optional<std::string> content = read_file(p, max_reference_file, why);
    if (!content) {
      error(mark_of(f), path + ": cannot read " + p.string() + " (from " + raw + "): " + why);
      return std::nullopt;
    }
    // A file written by an editor or `echo` (or a systemd credential) ends with a newline
    // that is not part of the value.
    while (!content->empty() && (content->back() == '\n' || content->back() == '\r')) {
      content->pop_back();
    }
    return content;
  }
  error(mark_of(f),
        path + ": unknown reference " + raw + "; expected ${env:NAME} or ${file:/path}");
  return std::nullopt;
}

std::optional<scalar_text> yaml_reader::scalar(const field& f, const std::string& path,
                                               const std::string& expected) {
  if (!f.value.IsScalar()) {
    // Only the node's kind is shown ("a list", "nothing"), never a secret's content.
    error_at(f, path, expected);
    return std::nullopt;
  }
  const std::string& raw = f.value.Scalar();
  if (!is_reference(raw)) return scalar_text{raw, {}};
  std::optional<std::string> v = resolve_reference(f, path, raw);
  if (!v) return std::nullopt;
  return scalar_text{std::move(*v), raw};
}

std::optional<std::string> yaml_reader::get_string(const field& f, const std::string& path,
                                                   const string_rules& rules) {
  if (f.value.IsNull()) {
    std::string expected = rules.secret ? "a string, ${env:NAME} or ${file:/path}" : "a string";
    if (rules.allow_empty) {
      expected += " (write \"\" for an empty one)";
    } else if (!rules.secret) {
      expected = "a non-empty string";
    }
    error(mark_of(f), path + ": expected " + expected + ", got nothing");
    return std::nullopt;
  }
  std::optional<scalar_text> s =
      scalar(f, path, rules.secret ? "a string, ${env:NAME} or ${file:/path}" : "a string");
  if (!s) return std::nullopt;
  if (!rules.allow_empty && s->text.empty()) {
    error(mark_of(f), path + ": " +
                          (s->reference.empty() ? std::string("expected a non-empty string")
                                                : "the value of " + s->reference +
                                                      " is empty; expected a non-empty string"));
    return std::nullopt;
  }
  if (s->text.size() > rules.max_length) {
    std::string msg = path + ": " + described(*s, rules.secret) + " is " +
                      std::to_string(s->text.size()) + " bytes long; at most " +
                      std::to_string(rules.max_length) + " are allowed";
    if (!rules.limit_note.empty()) msg += " " + std::string(rules.limit_note);
    error(mark_of(f), std::move(msg));
    return std::nullopt;
  }
  return std::move(s->text);
}

std::optional<secret> yaml_reader::get_secret(const field& f, const std::string& path,
                                              string_rules rules) {
  rules.secret = true;
  std::optional<std::string> s = get_string(f, path, rules);
  if (!s) return std::nullopt;
  return secret::take(*s);
}

namespace {

// The text, then one comment line of padding, read in place.
class in_place_buf : public std::streambuf {
 public:
  explicit in_place_buf(std::string_view text) {
    char* p = const_cast<char*>(text.data());  // only read: the get area is never written
    setg(p, p, p + text.size());
    padding_.assign(4 * 2048, ' ');  // twice yaml-cpp's read-ahead of 2048
    padding_.front() = '#';
    padding_.back() = '\n';
    if (!text.empty() && text.back() != '\n') padding_.insert(padding_.begin(), '\n');
  }

 protected:
  int_type underflow() override {
    if (padded_) return traits_type::eof();
    padded_ = true;
    setg(padding_.data(), padding_.data(), padding_.data() + padding_.size());
    return traits_type::to_int_type(padding_.front());
  }

 private:
  std::string padding_;
  bool padded_ = false;
};

}  // namespace

YAML::Node load_in_place(std::string_view text) {
  in_place_buf buf(text);
  std::istream in(&buf);
  return YAML::Load(in);
}

void wipe_scalars(const YAML::Node& root) noexcept {
  try {
    if (root.IsScalar()) {
      // The tree is about to be dropped; its text is ours to overwrite.
      wipe(const_cast<std::string&>(root.Scalar()));
    } else if (root.IsSequence()) {
      for (const auto item : root) wipe_scalars(item);
    } else if (root.IsMap()) {
      for (const auto kv : root) {
        wipe_scalars(kv.first);
        wipe_scalars(kv.second);
      }
    }
  } catch (const YAML::Exception&) {
    // A malformed node the loader reported already: nothing more to wipe there.
  }
}

std::optional<bool> yaml_reader::get_bool(const field& f, const std::string& path) {
  std::optional<scalar_text> s = scalar(f, path, "true or false");
  if (!s) return std::nullopt;
  bool b = false;
  if (YAML::convert<bool>::decode(YAML::Node(s->text), b)) return b;
  error(mark_of(f), path + ": expected true or false, got " + shown(*s));
  return std::nullopt;
}

std::optional<long long> yaml_reader::get_integer(const field& f, const std::string& path,
                                                  long long lo, long long hi) {
  const std::string expected =
      "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  std::optional<scalar_text> s = scalar(f, path, expected);
  if (!s) return std::nullopt;
  const std::string& t = s->text;
  long long v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  const bool whole = end == t.data() + t.size();
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && whole && (v < lo || v > hi))) {
    const std::string what = s->reference.empty() ? t : shown(*s);
    error(mark_of(f), path + ": " + what + " is out of range; expected " + expected);
    return std::nullopt;
  }
  if (ec != std::errc() || !whole || t.empty()) {
    error(mark_of(f), path + ": expected " + expected + ", got " + shown(*s));
    return std::nullopt;
  }
  return v;
}

std::optional<double> yaml_reader::get_number(const field& f, const std::string& path, double lo,
                                              double hi) {
  std::ostringstream expected;
  expected << "a number from " << lo << " to " << hi;
  std::optional<scalar_text> s = scalar(f, path, expected.str());
  if (!s) return std::nullopt;
  const std::string& t = s->text;
  double v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size() || v != v /* NaN */) {
    error(mark_of(f), path + ": expected " + expected.str() + ", got " + shown(*s));
    return std::nullopt;
  }
  if (v < lo || v > hi) {
    const std::string what = s->reference.empty() ? t : shown(*s);
    error(mark_of(f), path + ": " + what + " is out of range; expected " + expected.str());
    return std::nullopt;
  }
  return v;
}

std::optional<smpp::duration> yaml_reader::get_duration(const field& f, const std::string& path,
                                                        smpp::duration lo, smpp::duration hi) {
  const std::string range = "from " + format_duration(lo) + " to " + format_duration(hi);
  const std::string expected = "a duration such as 500ms, 10s or 2m, " + range;
  std::optional<scalar_text> s = scalar(f, path, expected);
  if (!s) return std::nullopt;
  std::optional<smpp::duration> d = parse_duration(s->text);
  if (!d) {
    error(mark_of(f), path + ": expected " + expected + ", got " + shown(*s));
    return std::nullopt;
  }
  if (*d < lo || *d > hi) {
    const std::string what = s->reference.empty() ? s->text : shown(*s);
    error(mark_of(f), path + ": " + what + " is out of range; expected " + range);
    return std::nullopt;
  }
  return d;
}

std::optional<std::chrono::seconds> yaml_reader::get_seconds(const field& f,
                                                             const std::string& path,
                                                             std::chrono::seconds lo,
                                                             std::chrono::seconds hi) {
  std::optional<smpp::duration> d = get_duration(f, path, lo, hi);
  if (!d) return std::nullopt;
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(*d);
  if (s != *d) {
    error(mark_of(f), path + ": " + format_duration(*d) +
                          " is not a whole number of seconds; expected a duration such as "
                          "30s or 5m");
    return std::nullopt;
  }
  return s;
}

std::optional<std::size_t> yaml_reader::get_choice(const field& f, const std::string& path,
                                                   std::initializer_list<std::string_view> names,
                                                   const std::string& expected) {
  std::optional<scalar_text> s = scalar(f, path, expected);
  if (!s) return std::nullopt;
  std::size_t i = 0;
  for (std::string_view n : names) {
    if (n == s->text) return i;
    ++i;
  }
  error(mark_of(f), path + ": expected " + expected + ", got " + shown(*s));
  return std::nullopt;
}

std::filesystem::path yaml_reader::resolve(const std::string& p) const {
  std::filesystem::path path(p);
  return path.is_absolute() ? path : base_ / path;
}

std::optional<std::string> yaml_reader::read_file(const std::filesystem::path& p, std::size_t limit,
                                                  std::string& why) const {
  std::optional<std::string> content;
  if (opts_.read_file) {
    content = opts_.read_file(p);
    if (!content) why = "not readable";
  } else {
    return read_private_file(p, limit, why);
  }
  if (content && content->size() > limit) {
    why = "larger than " + std::to_string(limit) + " bytes";
    return std::nullopt;
  }
  return content;
}

bool yaml_reader::readable(const std::filesystem::path& p, std::string& why) const {
  if (opts_.read_file) {
    if (opts_.read_file(p)) return true;
    why = "not readable";
    return false;
  }
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) {
    why = "it is a directory";
    return false;
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    why = std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace otpd::config::detail
