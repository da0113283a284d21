// The `voice` section: the SIP trunks calls go out on, and how the code is read aloud.
#include <filesystem>
#include <string>

#include "config/detail/config_loader.hpp"
#include "config/detail/media_networks.hpp"

namespace otpd::config::detail {
namespace {

using namespace std::chrono_literals;

// Where a trunk's calls go and as whom: uri, transport, domain, credentials, caller_id and
// local_address (`p` makes a key's path).
template <class Path>
void read_trunk_peer(yaml_reader& r, const field_map& m, const field& item, const Path& p,
                     voice_trunk& t) {
  if (const field* v = find(m, "uri")) {
    if (auto s = r.get_string(*v, p("uri"), {.max_length = 512, .allow_empty = false})) {
      if (!s->starts_with("sip:") || s->size() == 4 || s->find('@') != std::string::npos) {
        r.error(yaml_reader::mark_of(*v),
                p("uri") + ": expected sip:host[:port][;transport=udp|tcp], without a user part");
      } else {
        t.uri = *s;
        if (s->find(";transport=tcp") != std::string::npos) t.transport = "tcp";
      }
    }
  }
  if (const field* v = find(m, "transport")) {
    static constexpr std::string_view names[] = {"udp", "tcp"};
    if (auto i = r.get_choice(*v, p("transport"), {"udp", "tcp"}, "udp or tcp"))
      t.transport = names[*i];
  }
  if (const field* v = find(m, "domain")) {
    if (auto s = r.get_string(*v, p("domain"), {.max_length = 253})) t.domain = *s;
  }
  if (const field* v = find(m, "username")) {
    if (auto s = r.get_string(*v, p("username"), {.max_length = 128})) t.username = *s;
  }
  if (const field* v = find(m, "password")) {
    if (auto s = r.get_secret(*v, p("password"), {.max_length = 256})) t.password = std::move(*s);
  }
  if (!t.password.empty() && t.username.empty()) {
    r.error(item.value.Mark(), "missing required key '" + p("username") +
                                   "' (a password is given: digest needs both)");
  }
  if (const field* v = find(m, "caller_id")) {
    if (auto s = r.get_string(*v, p("caller_id"), {.max_length = 64})) t.caller_id = *s;
  }
  if (const field* v = find(m, "local_address")) {
    if (auto s = r.get_string(*v, p("local_address"), {.allow_empty = false})) {
      if (!is_ip_address(*s) || is_wildcard(*s)) {
        r.error(yaml_reader::mark_of(*v),
                p("local_address") +
                    ": expected the IP address of one interface (it goes into SDP and Contact)");
      } else {
        t.local_address = *s;
      }
    }
  }
}

// How a trunk's calls are made: number_format, limits, timeouts and media_networks.
template <class Path>
void read_trunk_calls(yaml_reader& r, const field_map& m, const Path& p, voice_trunk& t) {
  if (const field* v = find(m, "number_format")) {
    static constexpr std::string_view names[] = {"+e164", "e164", "national"};
    if (auto i = r.get_choice(*v, p("number_format"), {"+e164", "e164", "national"},
                              "+e164, e164 or national"))
      t.number_format = names[*i];
  }
  if (const field* v = find(m, "max_calls")) {
    if (auto n = r.get_integer(*v, p("max_calls"), 1, 10'000)) t.max_calls = static_cast<int>(*n);
  }
  if (const field* v = find(m, "calls_per_second")) {
    if (auto n = r.get_number(*v, p("calls_per_second"), 0.01, 1000)) t.calls_per_second = *n;
  }
  if (const field* v = find(m, "priority")) {
    if (auto n = r.get_integer(*v, p("priority"), 0, 100)) t.priority = static_cast<int>(*n);
  }
  if (const field* v = find(m, "ring_timeout")) {
    if (auto d = r.get_duration(*v, p("ring_timeout"), 1s, 120s))
      t.ring_timeout = std::chrono::duration_cast<milliseconds>(*d);
  }
  if (const field* v = find(m, "max_call")) {
    if (auto d = r.get_duration(*v, p("max_call"), 10s, 600s))
      t.max_call = std::chrono::duration_cast<milliseconds>(*d);
  }
  if (const field* v = find(m, "media_networks")) {
    t.media_networks = read_media_networks(r, *v, p("media_networks"));
  }
}

}  // namespace

void config_loader::load_voice(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "voice",
                     {"trunks", "prompts_folder", "words_per_minute", "repeats", "digit_pause",
                      "replay_key", "rate_wait"});
  if (!m) return;
  voice& vc = c_.calls;
  if (const field* v = find(*m, "trunks")) {
    if (auto list = r_.items(*v, "voice.trunks",
                             "a list of SIP trunks, each {name, uri, caller_id, ...}")) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        load_trunk((*list)[i], item_path("voice.trunks", i));
      }
    }
  }
  if (const field* v = find(*m, "prompts_folder")) {
    if (auto s = r_.get_string(*v, "voice.prompts_folder", {.allow_empty = false})) {
      std::filesystem::path p = r_.resolve(*s);
      std::error_code ec;
      if (!std::filesystem::is_directory(p, ec)) {
        r_.error(yaml_reader::mark_of(*v),
                 "voice.prompts_folder: " + p.string() + " is not a readable folder");
      } else {
        vc.prompts_folder = p;
      }
    }
  }
  if (const field* v = find(*m, "words_per_minute")) {
    if (auto n = r_.get_integer(*v, "voice.words_per_minute", 80, 450))
      vc.words_per_minute = static_cast<int>(*n);
  }
  if (const field* v = find(*m, "repeats")) {
    if (auto n = r_.get_integer(*v, "voice.repeats", 1, 5)) vc.repeats = static_cast<int>(*n);
  }
  if (const field* v = find(*m, "digit_pause")) {
    if (auto d = r_.get_duration(*v, "voice.digit_pause", 0ms, 5s))
      vc.digit_pause = std::chrono::duration_cast<milliseconds>(*d);
  }
  if (const field* v = find(*m, "rate_wait")) {
    // Shorter than any code's lifetime (policy.ttl is at least 30 s).
    if (auto d = r_.get_duration(*v, "voice.rate_wait", 0ms, 20s))
      vc.rate_wait = std::chrono::duration_cast<milliseconds>(*d);
  }
  if (const field* v = find(*m, "replay_key")) {
    if (auto s = r_.get_string(*v, "voice.replay_key")) {
      static constexpr std::string_view keys = "0123456789*#";
      if (s->empty()) {
        vc.replay_key = '\0';
      } else if (s->size() == 1 && keys.find((*s)[0]) != std::string_view::npos) {
        vc.replay_key = (*s)[0];
      } else {
        r_.error(yaml_reader::mark_of(*v),
                 "voice.replay_key: expected one of 0-9, * or #, or \"\" for none");
      }
    }
  }
}

void config_loader::load_trunk(const field& item, const std::string& path) {
  auto m = r_.fields(item.value, yaml_reader::mark_of(item), path,
                     {"name", "uri", "transport", "domain", "username", "password", "caller_id",
                      "local_address", "number_format", "max_calls", "calls_per_second", "priority",
                      "ring_timeout", "max_call", "media_networks"},
                     true);
  if (!m) return;
  r_.require(*m, item.value, path, "name", "a name for logs and metrics");
  r_.require(*m, item.value, path, "uri", "the next hop, e.g. sip:10.0.0.1:5060");
  voice_trunk t;
  const auto p = [&](std::string_view key) { return sub_path(path, key); };
  if (const field* v = find(*m, "name")) {
    if (auto s = r_.get_string(*v, p("name"), {.max_length = 64, .allow_empty = false})) {
      if (!is_label(*s)) {
        r_.error(yaml_reader::mark_of(*v),
                 p("name") + ": expected letters, digits, '-' or '_' (it labels metrics)");
      } else if (auto [pos, inserted] = trunk_names_.emplace(*s, v->value.Mark()); !inserted) {
        r_.error(yaml_reader::mark_of(*v),
                 p("name") + ": trunk '" + *s + "' is already defined at " + line_of(pos->second));
      } else {
        t.name = *s;
      }
    }
  }
  read_trunk_peer(r_, *m, item, p, t);
  read_trunk_calls(r_, *m, p, t);
  c_.calls.trunks.push_back(std::move(t));
}

}  // namespace otpd::config::detail
