#include "config/detail/ops_reader.hpp"

#include <arpa/inet.h>

#include <string>

namespace otpd::config::detail {
namespace {

bool is_ip_address(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool is_wildcard(const std::string& address) { return address == "0.0.0.0" || address == "::"; }

// The rule of `listeners`: the same port on the same address, or on a wildcard address, cannot
// be bound twice. Port 0 asks the OS for a free port, which never collides.
bool overlaps(const http_listener& api, const ops_listener& ops) {
  return ops.port != 0 && api.port == ops.port &&
         (api.address == ops.address || is_wildcard(api.address) || is_wildcard(ops.address));
}

// Returns where the port was written (the section itself when it was not).
YAML::Mark read_fields(yaml_reader& r, const field& f, ops_listener& out) {
  YAML::Mark port_mark = yaml_reader::mark_of(f);
  auto m = r.fields(f.value, yaml_reader::mark_of(f), "ops",
                    {"enabled", "address", "port", "on_api_listeners"});
  if (!m) return port_mark;
  if (auto it = m->find("enabled"); it != m->end()) {
    if (auto b = r.get_bool(it->second, "ops.enabled")) out.enabled = *b;
  }
  if (auto it = m->find("address"); it != m->end()) {
    if (auto s = r.get_string(it->second, "ops.address", {.allow_empty = false})) {
      if (is_ip_address(*s)) {
        out.address = *s;
      } else {
        r.error(yaml_reader::mark_of(it->second),
                "ops.address: expected an IPv4 or IPv6 address such as 127.0.0.1 or ::1, got '" +
                    *s + "'");
      }
    }
  }
  if (auto it = m->find("port"); it != m->end()) {
    port_mark = yaml_reader::mark_of(it->second);
    if (auto n = r.get_integer(it->second, "ops.port", 0, 65535)) {
      out.port = static_cast<std::uint16_t>(*n);
    }
  }
  if (auto it = m->find("on_api_listeners"); it != m->end()) {
    if (auto b = r.get_bool(it->second, "ops.on_api_listeners")) out.on_api_listeners = *b;
  }
  return port_mark;
}

}  // namespace

void read_ops(yaml_reader& r, const field* f, const std::vector<http_listener>& api,
              ops_listener& out) {
  const YAML::Mark port_mark = f != nullptr ? read_fields(r, *f, out) : YAML::Mark();
  if (!out.enabled) return;
  for (const http_listener& l : api) {
    if (!overlaps(l, out)) continue;
    const std::string where = out.address + " port " + std::to_string(out.port);
    if (f == nullptr) {
      r.error(YAML::Mark(), "ops: the ops listener's default port (" + where +
                                ") is an API listener's port; set ops.port to another port, or "
                                "ops.enabled: false");
    } else {
      r.error(port_mark, "ops.port: " + where +
                             " is an API listener's port too; the ops listener "
                             "needs a port of its own (or ops.on_api_listeners: "
                             "true with ops.enabled: false for a single port)");
    }
    return;
  }
}

}  // namespace otpd::config::detail
