#include "daemon/http/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace otpd::http {

struct router::node {
  std::map<std::string, std::unique_ptr<node>, std::less<>> literals;
  std::unique_ptr<node> param;
  std::string param_name;  // of `param`
  std::map<method, const http::route*> routes;
  std::string pattern;  // the template ending here
};

namespace {

// "/a/b" -> {"a", "b"}; "/" -> {""}; "/a/" -> {"a", ""}. The caller checks the leading '/'.
std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);
  for (;;) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool valid_param_name(std::string_view s) noexcept {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

router::router() : root_(std::make_unique<node>()) {}
router::~router() = default;
router::router(router&&) noexcept = default;
router& router::operator=(router&&) noexcept = default;

void router::add(method m, std::string_view pattern, handler h, route_options opts) {
  const auto fail = [&](std::string_view why) {
    throw std::invalid_argument("route " + std::string(to_string(m)) + " " + std::string(pattern) +
                                ": " + std::string(why));
  };
  if (pattern.empty() || pattern.front() != '/') fail("must start with '/'");
  if (m == method::unknown) fail("unknown method");
  if (!h) fail("no handler");

  node* n = root_.get();
  for (std::string_view seg : split(pattern)) {
    if (seg.starts_with('{')) {
      if (!seg.ends_with('}')) fail("unclosed parameter");
      const std::string_view name = seg.substr(1, seg.size() - 2);
      if (!valid_param_name(name)) fail("parameter names are [A-Za-z0-9_]+");
      if (!n->param) {
        n->param = std::make_unique<node>();
        n->param_name = std::string(name);
      } else if (n->param_name != name) {
        fail("another parameter name at the same place: {" + n->param_name + "}");
      }
      n = n->param.get();
    } else {
      if (seg.find_first_of("{}") != std::string_view::npos) fail("braces inside a segment");
      auto it = n->literals.find(seg);
      if (it == n->literals.end()) {
        it = n->literals.emplace(std::string(seg), std::make_unique<node>()).first;
      }
      n = it->second.get();
    }
  }
  if (n->routes.contains(m)) fail("registered twice");
  routes_.push_back(
      std::make_unique<http::route>(http::route{m, std::string(pattern), std::move(h), opts}));
  n->routes.emplace(m, routes_.back().get());
  n->pattern = std::string(pattern);
}

router::match_result router::match(method m, std::string_view path) const {
  match_result r{match_result::kind::not_found, nullptr, {}, {}, {}};
  if (path.empty() || path.front() != '/') return r;
  const auto segs = split(path);

  // Depth-first, literals before the parameter; the templates are few and shallow.
  std::vector<std::pair<std::string_view, std::string_view>> captured;  // name, raw value
  const node* found = nullptr;
  auto walk = [&](auto& self, const node* n, std::size_t i) -> bool {
    if (i == segs.size()) {
      if (n->routes.empty()) return false;
      found = n;
      return true;
    }
    if (auto it = n->literals.find(segs[i]); it != n->literals.end()) {
      if (self(self, it->second.get(), i + 1)) return true;
    }
    if (n->param && !segs[i].empty()) {
      captured.emplace_back(n->param_name, segs[i]);
      if (self(self, n->param.get(), i + 1)) return true;
      captured.pop_back();
    }
    return false;
  };
  if (!walk(walk, root_.get(), 0)) return r;

  r.pattern = found->pattern;
  for (const auto& [name, raw] : captured) {
    auto decoded = percent_decode(raw);
    if (!decoded) {
      r.result = match_result::kind::bad_path;
      r.params.clear();
      return r;
    }
    r.params.emplace(std::string(name), std::move(*decoded));
  }

  auto it = found->routes.find(m);
  if (it == found->routes.end() && m == method::head) it = found->routes.find(method::get);
  if (it != found->routes.end()) {
    r.result = match_result::kind::found;
    r.route = it->second;
    return r;
  }
  r.result = match_result::kind::method_not_allowed;
  for (const auto& [rm, route] : found->routes) r.allowed.push_back(rm);
  return r;
}

std::string router::allow_header(const std::vector<method>& allowed) {
  std::vector<method> all = allowed;
  if (std::find(all.begin(), all.end(), method::get) != all.end()) all.push_back(method::head);
  all.push_back(method::options);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::string out;
  for (method m : all) {
    if (!out.empty()) out += ", ";
    out += to_string(m);
  }
  return out;
}

}  // namespace otpd::http
