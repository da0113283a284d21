// The `api_keys` section: each backend's bearer key, kept only as its SHA-256.
#include <map>
#include <string>

#include "config/detail/config_loader.hpp"
#include "config/loader.hpp"

namespace otpd::config::detail {
namespace {

// The names and hashes already given, for the messages about a repeated one.
struct keys_seen {
  std::map<std::string, YAML::Mark, std::less<>> names;
  std::map<std::string, std::string, std::less<>> hashes;  // sha256 -> name
};

std::string lowercase(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

void read_key_name(yaml_reader& r, const field& v, const std::string& path, keys_seen& seen,
                   api_key& k) {
  const std::string p = sub_path(path, "name");
  auto s = r.get_string(v, p, {.max_length = 64, .allow_empty = false});
  if (!s) return;
  if (!is_label(*s)) {
    r.error(yaml_reader::mark_of(v),
            p + ": expected letters, digits, '.', '_' or '-', got '" + *s + "'");
  } else if (auto [pos, inserted] = seen.names.emplace(*s, v.value.Mark()); !inserted) {
    r.error(yaml_reader::mark_of(v),
            p + ": the name '" + *s + "' is already used by the key at " + line_of(pos->second));
  } else {
    k.name = *s;
  }
}

void read_key_hash(yaml_reader& r, const field& hash, const std::string& path, api_key& k) {
  const std::string p = sub_path(path, "sha256");
  // Treated as a secret: a key pasted here by mistake must not be repeated.
  auto s = r.get_string(hash, p, {.secret = true});
  if (!s) return;
  if (s->size() != 64 || !is_hex(*s)) {
    r.error(yaml_reader::mark_of(hash),
            p +
                ": expected 64 hexadecimal digits (the SHA-256 of the key, as printed by "
                "`printf %s KEY | sha256sum`), got " +
                std::to_string(s->size()) + " characters (not shown)");
  } else {
    k.sha256 = lowercase(*s);
  }
}

// false: the key is written in the file itself, and the entry is dropped.
bool read_key_secret(yaml_reader& r, const field& secret, const std::string& path, api_key& k) {
  const std::string p = sub_path(path, "secret");
  if (secret.value.IsScalar() && !is_reference(secret.value.Scalar())) {
    r.error(yaml_reader::mark_of(secret),
            p + ": a key written in the file itself is refused (it is not shown here); give "
                "${file:/path} or ${env:NAME}, or sha256: HEX instead");
    return false;
  }
  if (auto s = r.get_secret(secret, p, {.allow_empty = false})) {
    if (s->size() < min_shared_secret) {
      r.error(yaml_reader::mark_of(secret),
              p + ": the value of " + secret.value.Scalar() + " is " + std::to_string(s->size()) +
                  " bytes long; at least " + std::to_string(min_shared_secret) + " are expected");
    } else {
      k.sha256 = api_key_sha256(s->view());
    }
  }
  return true;
}

// One entry of the list; nullopt when it is dropped (after its error).
std::optional<api_key> read_key(yaml_reader& r, const field& item, const std::string& path,
                                keys_seen& seen) {
  if (item.value.IsScalar()) {
    // Most likely the key itself: refused, and not repeated in the message.
    r.error(yaml_reader::mark_of(item),
            path +
                ": a key written in plain text is refused (it is not shown here); write "
                "{name: NAME, sha256: HEX} with the SHA-256 of the key, or {name: NAME, "
                "secret: ${file:/path}} to have otpd hash it at load time");
    return std::nullopt;
  }
  auto m = r.fields(item.value, yaml_reader::mark_of(item), path, {"name", "sha256", "secret"});
  if (!m) return std::nullopt;
  r.require(*m, item.value, path, "name", "shown in logs and metrics, never the key");
  api_key k;
  if (const field* v = find(*m, "name")) read_key_name(r, *v, path, seen, k);
  const field* hash = find(*m, "sha256");
  const field* secret = find(*m, "secret");
  if (hash && secret) {
    r.error(secret->key.Mark(), path + ": give either sha256 or secret, not both");
    return std::nullopt;
  }
  if (!hash && !secret) {
    r.error(item.value.Mark(), "missing required key '" + sub_path(path, "sha256") +
                                   "' (the SHA-256 of the key in hex) or '" +
                                   sub_path(path, "secret") + "' (${file:/path} or ${env:NAME})");
    return std::nullopt;
  }
  if (hash) {
    read_key_hash(r, *hash, path, k);
  } else if (!read_key_secret(r, *secret, path, k)) {
    return std::nullopt;
  }
  if (!k.sha256.empty()) {
    if (auto [pos, inserted] = seen.hashes.emplace(k.sha256, k.name); !inserted) {
      r.error(item.value.Mark(), path + ": the same key as '" + pos->second +
                                     "'; each backend needs a key of its own");
    }
  }
  return k;
}

}  // namespace

void config_loader::load_api_keys(const field& f) {
  // A key where the list belongs is not shown.
  auto list =
      r_.items(f, "api_keys", "a list of keys, each {name, sha256} or {name, secret}", true);
  if (!list) return;
  if (list->empty()) {
    r_.error(yaml_reader::mark_of(f),
             "api_keys: expected at least one key; without one no backend can call the API");
    return;
  }
  keys_seen seen;
  for (std::size_t i = 0; i < list->size(); ++i) {
    if (auto k = read_key(r_, (*list)[i], item_path("api_keys", i), seen)) {
      c_.api_keys.push_back(std::move(*k));
    }
  }
}

}  // namespace otpd::config::detail
