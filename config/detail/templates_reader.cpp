// The `templates` section: the SMS text per locale, with its placeholders checked and its
// Unicode normalised.
#include <map>
#include <string>

#include "config/detail/config_loader.hpp"
#include "config/detail/nfc.hpp"

namespace otpd::config::detail {
namespace {

constexpr std::size_t max_template = 1600;  // ten concatenated parts of GSM-7 and then some

// The text `s` of templates.sms.<locale> (at `p`), in NFC; nullopt after its errors.
std::optional<std::string> check_template(yaml_reader& r, const field& v, const std::string& p,
                                          const std::string& s) {
  // "{code}" and "{minutes}" are the only placeholders; anything else in braces is a typo
  // that would reach the user's phone as written.
  bool has_code = false, bad = false;
  for (std::size_t open = s.find('{'); open != std::string::npos; open = s.find('{', open + 1)) {
    const std::size_t close = s.find('}', open);
    if (close == std::string::npos) break;
    const std::string name = s.substr(open + 1, close - open - 1);
    if (name == "code") {
      has_code = true;
    } else if (name != "minutes") {
      r.error(yaml_reader::mark_of(v),
              p + ": unknown placeholder {" + name + "}; expected {code} and optionally {minutes}");
      bad = true;
    }
  }
  if (!has_code) {
    r.error(yaml_reader::mark_of(v), p + ": the text has no {code} placeholder, where the "
                                         "code goes");
    bad = true;
  }
  // Decomposed text (e + U+0302 + U+0323 for ệ, as some editors save it) would go out as
  // written, three UCS2 units where one does.
  std::optional<std::string> nfc = to_nfc(s);
  if (!nfc) {
    r.error(yaml_reader::mark_of(v), p + ": the text is not valid UTF-8");
    bad = true;
  }
  if (bad) return std::nullopt;
  return nfc;
}

}  // namespace

void config_loader::load_templates(const field& f) {
  templates_field_ = f;
  templates_failed_ = true;  // until the texts are read
  bool failed = false;
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "templates", {"sms"});
  if (!m) return;
  const field* sms = find(*m, "sms");
  if (!sms) {
    templates_failed_ = false;
    return;
  }
  if (!sms->value.IsMap() || sms->value.size() == 0) {
    r_.error_at(*sms, "templates.sms",
                "a mapping of locale to text, such as vi: \"Ma xac thuc: {code}\"");
    return;
  }
  std::map<std::string, std::string> out;
  std::map<std::string, source_position> at;
  std::map<std::string, YAML::Mark> seen;
  for (const auto kv : sms->value) {
    const YAML::Node k = kv.first;
    if (!k.IsScalar() || !is_locale(k.Scalar())) {
      failed = true;
      r_.error(k.Mark(),
               "templates.sms: expected a language tag such as vi, en or en-GB as the "
               "key, got " +
                   describe_node(k));
      continue;
    }
    const std::string locale = k.Scalar();
    const std::string p = "templates.sms." + locale;
    if (auto [pos, inserted] = seen.emplace(locale, k.Mark()); !inserted) {
      r_.error(k.Mark(), "duplicate key '" + p + "' (first given at " + line_of(pos->second) + ")");
      failed = true;
      continue;
    }
    const field v{k, kv.second};
    auto s = r_.get_string(v, p, {.max_length = max_template, .allow_empty = false});
    std::optional<std::string> text = s ? check_template(r_, v, p, *s) : std::nullopt;
    if (!text) {
      failed = true;
      continue;
    }
    out.emplace(locale, std::move(*text));
    at.emplace(locale, position_of(yaml_reader::mark_of(v)));
  }
  c_.text.sms = std::move(out);
  c_.text.sms_at = std::move(at);
  templates_failed_ = failed;
}

}  // namespace otpd::config::detail
