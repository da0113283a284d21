// The `listeners` and `http` sections: where the API listens, and its limits per connection.
#include <string>
#include <utility>
#include <vector>

#include "config/detail/config_loader.hpp"

namespace otpd::config::detail {

using namespace std::chrono_literals;

void config_loader::load_listeners(const field& f) {
  auto list = r_.items(f, "listeners", "a list of listeners, each {address, port, tls}");
  if (!list) return;
  if (list->empty()) {
    r_.error(yaml_reader::mark_of(f), "listeners: expected at least one listener");
    return;
  }
  c_.listeners.clear();
  std::vector<std::pair<std::string, YAML::Mark>> used;  // "address:port", where
  for (std::size_t i = 0; i < list->size(); ++i) {
    const field& item = (*list)[i];
    const std::string path = item_path("listeners", i);
    auto m = r_.fields(item.value, yaml_reader::mark_of(item), path, {"address", "port", "tls"});
    if (!m) continue;
    http_listener l;
    if (const field* v = find(*m, "address")) {
      const std::string p = sub_path(path, "address");
      if (auto s = r_.get_string(*v, p, {.allow_empty = false})) {
        if (is_ip_address(*s)) {
          l.address = *s;
        } else {
          r_.error(yaml_reader::mark_of(*v), p +
                                                 ": expected an IPv4 or IPv6 address such as "
                                                 "127.0.0.1, 0.0.0.0 or ::1, got '" +
                                                 *s + "'");
        }
      }
    }
    if (const field* v = find(*m, "port")) {
      if (auto n = r_.get_integer(*v, sub_path(path, "port"), 0, 65535)) {
        l.port = static_cast<std::uint16_t>(*n);
      }
    }
    if (const field* v = find(*m, "tls")) load_tls_server(*v, sub_path(path, "tls"), l);
    // Port 0 asks the OS for a free port, which never collides.
    if (l.port != 0) {
      for (const auto& [other, where] : used) {
        const auto colon = other.rfind(':');
        const std::string other_address = other.substr(0, colon);
        if (other.substr(colon + 1) == std::to_string(l.port) &&
            (other_address == l.address || is_wildcard(other_address) || is_wildcard(l.address))) {
          r_.error(item.value.Mark(), path + ": " + l.address + " port " + std::to_string(l.port) +
                                          " overlaps the listener at " + line_of(where) +
                                          "; two listeners cannot share a port");
          break;
        }
      }
      used.emplace_back(l.address + ":" + std::to_string(l.port), item.value.Mark());
    }
    c_.listeners.push_back(std::move(l));
  }
}

void config_loader::load_tls_server(const field& f, const std::string& path, http_listener& l) {
  auto m =
      r_.fields(f.value, yaml_reader::mark_of(f), path, {"certificate_file", "private_key_file"});
  if (!m) return;
  r_.require(*m, f.value, path, "certificate_file", "the PEM certificate chain");
  r_.require(*m, f.value, path, "private_key_file", "the PEM private key");
  tls_server t;
  if (const field* v = find(*m, "certificate_file")) {
    if (auto p = input_file(*v, sub_path(path, "certificate_file"))) t.certificate_file = *p;
  }
  if (const field* v = find(*m, "private_key_file")) {
    if (auto p = input_file(*v, sub_path(path, "private_key_file"))) t.private_key_file = *p;
  }
  l.tls = std::move(t);
}

void config_loader::load_http(const field& f) {
  auto m = r_.fields(
      f.value, yaml_reader::mark_of(f), "http",
      {"max_body_bytes", "max_header_bytes", "read_timeout", "idle_timeout", "max_connections"});
  if (!m) return;
  http_limits& h = c_.http;
  if (const field* v = find(*m, "max_body_bytes")) {
    if (auto n = r_.get_integer(*v, "http.max_body_bytes", 64, 64LL << 20)) {
      h.max_body_bytes = static_cast<std::size_t>(*n);
    }
  }
  if (const field* v = find(*m, "max_header_bytes")) {
    if (auto n = r_.get_integer(*v, "http.max_header_bytes", 1024, 1LL << 20)) {
      h.max_header_bytes = static_cast<std::size_t>(*n);
    }
  }
  if (const field* v = find(*m, "read_timeout")) {
    if (auto d = r_.get_duration(*v, "http.read_timeout", 1ms, 10min)) {
      h.read_timeout = std::chrono::duration_cast<milliseconds>(*d);
    }
  }
  if (const field* v = find(*m, "idle_timeout")) {
    if (auto d = r_.get_duration(*v, "http.idle_timeout", 1ms, 1h)) {
      h.idle_timeout = std::chrono::duration_cast<milliseconds>(*d);
    }
  }
  if (const field* v = find(*m, "max_connections")) {
    if (auto n = r_.get_integer(*v, "http.max_connections", 1, 1'000'000)) {
      h.max_connections = static_cast<std::size_t>(*n);
    }
  }
}

}  // namespace otpd::config::detail
