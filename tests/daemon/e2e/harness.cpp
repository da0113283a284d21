#include "tests/daemon/e2e/harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#ifndef OTPD_BINARY
#error "OTPD_BINARY must name the otpd executable"
#endif

namespace otpd::test::e2e {

closed_port::closed_port() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("cannot bind a socket on 127.0.0.1");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

closed_port::~closed_port() { ::close(fd_); }

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

int remaining_ms(steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

// Waits until fd is ready for `events` or the deadline passes.
bool wait_fd(int fd, short events, steady::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return false;
  }
}

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    ::close(fd);
    throw std::system_error(e, std::generic_category(), "connect 127.0.0.1");
  }
  return fd;
}

// Writes what it can of `data` before the deadline; stops quietly when the peer has closed
// (a server may answer 413 before the whole body is sent).
void write_all(int fd, std::string_view data, steady::time_point deadline) {
  while (!data.empty()) {
    if (!wait_fd(fd, POLLOUT, deadline)) return;
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Whether `raw` holds a whole response: headers and a body of Content-Length bytes (or the
// last chunk). Without either, only the end of the connection completes it.
bool response_complete(std::string_view raw) {
  const auto end = raw.find("\r\n\r\n");
  if (end == std::string_view::npos) return false;
  const std::string head = lower(raw.substr(0, end));
  const std::string_view body = raw.substr(end + 4);
  if (auto p = head.find("\r\ncontent-length:"); p != std::string::npos) {
    const std::size_t len = std::strtoull(head.c_str() + p + 17, nullptr, 10);
    return body.size() >= len;
  }
  if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
    return body.find("\r\n0\r\n\r\n") != std::string_view::npos || body.starts_with("0\r\n\r\n");
  }
  return false;
}

std::string read_response(int fd, steady::time_point deadline) {
  std::string raw;
  char buf[16384];
  while (!response_complete(raw)) {
    if (!wait_fd(fd, POLLIN, deadline)) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  return raw;
}

std::string dechunk(std::string_view body) {
  std::string out;
  while (!body.empty()) {
    const auto eol = body.find("\r\n");
    if (eol == std::string_view::npos) break;
    const std::size_t len = std::strtoull(std::string(body.substr(0, eol)).c_str(), nullptr, 16);
    body.remove_prefix(eol + 2);
    if (len == 0 || body.size() < len) break;
    out.append(body.substr(0, len));
    body.remove_prefix(std::min(body.size(), len + 2));
  }
  return out;
}

std::string env_entry(std::string_view name, std::string_view value) {
  return std::string(name) + "=" + std::string(value);
}

}  // namespace

std::vector<std::string> otpd_secrets_environment() {
  return {
      env_entry("OTPD_E2E_API_KEY", api_key), env_entry("OTPD_E2E_SMSC_PASSWORD", smsc_password),
      env_entry("OTPD_E2E_WEBHOOK_SECRET", webhook_secret), env_entry("OTPD_E2E_MAC_KEY", mac_key)};
}

namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

std::vector<std::string> smsc_flags(std::vector<std::string> extra) {
  std::vector<std::string> flags = {"--account", "otpd:" + std::string(smsc_password)};
  flags.insert(flags.end(), extra.begin(), extra.end());
  return flags;
}

// --- temp_dir --------------------------------------------------------------------------------

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/otpd_e2e_XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp");
  }
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

// --- HTTP ------------------------------------------------------------------------------------

std::optional<std::string> http_response::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::string http_response::problem_slug() const {
  if (!json.is_object()) return {};
  const auto* t = json.get_object().if_contains("type");
  if (!t || !t->is_string()) return {};
  std::string_view s = t->get_string();
  const auto slash = s.rfind('/');
  return std::string(slash == std::string_view::npos ? s : s.substr(slash + 1));
}

const json::object& http_response::obj() const {
  static const json::object empty;
  return json.is_object() ? json.get_object() : empty;
}

http_response parse_response(std::string_view raw) {
  http_response r;
  const auto end = raw.find("\r\n\r\n");
  if (end == std::string_view::npos || !raw.starts_with("HTTP/1.")) return r;
  std::string_view head = raw.substr(0, end);
  std::string_view body = raw.substr(end + 4);
  const auto first_eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, first_eol);
  const auto sp = status_line.find(' ');
  if (sp == std::string_view::npos) return r;
  r.status = std::atoi(std::string(status_line.substr(sp + 1, 3)).c_str());
  std::string_view rest =
      first_eol == std::string_view::npos ? std::string_view{} : head.substr(first_eol + 2);
  while (!rest.empty()) {
    const auto eol = rest.find("\r\n");
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    r.headers[lower(line.substr(0, colon))] = std::string(value);
  }
  if (auto te = r.header("transfer-encoding"); te && lower(*te) == "chunked") {
    r.body = dechunk(body);
  } else if (auto cl = r.header("content-length")) {
    r.body = std::string(body.substr(0, std::strtoull(cl->c_str(), nullptr, 10)));
  } else {
    r.body = std::string(body);
  }
  if (!r.body.empty()) {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (!ec) r.json = std::move(v);
  }
  return r;
}

http_response raw_exchange(std::uint16_t port, std::string_view bytes,
                           std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  const int fd = connect_loopback(port);
  write_all(fd, bytes, deadline);
  std::string raw = read_response(fd, deadline);
  ::close(fd);
  return parse_response(raw);
}

http_response http_call(std::uint16_t port, std::string_view method, std::string_view target,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        std::optional<std::string> body, std::chrono::milliseconds timeout) {
  std::string req;
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  req.append("Host: 127.0.0.1:").append(std::to_string(port)).append("\r\n");
  for (const auto& [name, value] : headers)
    req.append(name).append(": ").append(value).append("\r\n");
  if (body || method == "POST") {
    req.append("Content-Length: ").append(std::to_string(body ? body->size() : 0)).append("\r\n");
  }
  req.append("Connection: close\r\n\r\n");
  if (body) req.append(*body);
  return raw_exchange(port, req, timeout);
}

// --- configuration ---------------------------------------------------------------------------

carrier_spec vietnam_carrier(std::uint16_t smsc_port) {
  return carrier_spec{"vn", {"84"}, {bind_spec{"vn-trx", smsc_port, "transceiver"}}, {}};
}

std::string config_yaml(const otpd_options& opts, const fs::path& state_dir) {
  std::ostringstream y;
  y << "# written by the otpd end-to-end tests\n";
  y << "listeners:\n  - address: 127.0.0.1\n    port: 0\n";
  if (!opts.http.empty()) {
    y << "http:\n";
    for (const auto& [k, v] : opts.http) y << "  " << k << ": " << v << "\n";
  }
  y << "api_keys:\n  - name: e2e\n    secret: ${env:OTPD_E2E_API_KEY}\n";

  std::map<std::string, std::string> policy = {{"default_locale", "en"}};
  for (const auto& [k, v] : opts.policy) policy[k] = v;
  y << "policy:\n";
  for (const auto& [k, v] : policy) y << "  " << k << ": " << v << "\n";

  std::map<std::string, std::string> limits = {
      {"per_number", "[]"}, {"per_api_key", "[]"}, {"per_client_ip", "[]"}, {"per_prefix", "[]"}};
  for (const auto& [k, v] : opts.rate_limits) limits[k] = v;
  y << "rate_limits:\n";
  for (const auto& [k, v] : limits) y << "  " << k << ": " << v << "\n";

  y << "templates:\n  sms:\n    en: \"Your otpd code is {code}. It expires in {minutes} "
       "minutes.\"\n";

  y << "routing:\n";
  if (!opts.ported_numbers.empty()) {
    y << "  ported_numbers_file: " << quoted((state_dir / "ported.csv").string()) << "\n";
  }
  y << "  carriers:\n";
  for (const carrier_spec& c : opts.carriers) {
    y << "    - name: " << c.name << "\n";
    y << "      prefixes: [";
    for (std::size_t i = 0; i < c.prefixes.size(); ++i) {
      y << (i ? ", " : "") << quoted(c.prefixes[i]);
    }
    y << "]\n";
    y << "      sender: {addr: OTPD, ton: 5, npi: 0}\n";
    if (!c.failover.empty()) {
      y << "      failover: [";
      for (std::size_t i = 0; i < c.failover.size(); ++i) y << (i ? ", " : "") << c.failover[i];
      y << "]\n";
    }
    std::istringstream carrier_extra(c.extra_yaml);
    for (std::string line; std::getline(carrier_extra, line);) y << "      " << line << "\n";
    y << "      binds:\n";
    for (const bind_spec& b : c.binds) {
      y << "        - name: " << b.name << "\n";
      y << "          host: 127.0.0.1\n";
      y << "          port: " << b.port << "\n";
      y << "          bind: " << b.kind << "\n";
      y << "          system_id: otpd\n";
      y << "          password: ${env:OTPD_E2E_SMSC_PASSWORD}\n";
      y << "          timeouts: " << b.timeouts << "\n";
      y << "          reconnect: {initial: 1s, max: 2s}\n";
      std::istringstream extra(b.extra_yaml);
      for (std::string line; std::getline(extra, line);) y << "          " << line << "\n";
    }
  }
  if (!opts.webhook_url.empty()) {
    y << "webhooks:\n";
    y << "  url: " << quoted(opts.webhook_url) << "\n";
    y << "  secret: ${env:OTPD_E2E_WEBHOOK_SECRET}\n";
    y << "  timeout: 5s\n  max_attempts: 3\n  initial_backoff: 1s\n";
  }
  const std::filesystem::path db = opts.database.empty() ? state_dir / "otpd.db" : opts.database;
  y << "store:\n  kind: " << opts.store_kind << "\n  sqlite_path: " << quoted(db.string()) << "\n";
  std::istringstream store_extra(opts.store_yaml);
  for (std::string line; std::getline(store_extra, line);) y << "  " << line << "\n";
  y << "secrets:\n  code_mac_key: ${env:OTPD_E2E_MAC_KEY}\n";
  if (!opts.code_seal_key.empty()) y << "  code_seal_key: " << quoted(opts.code_seal_key) << "\n";
  y << "logging:\n  format: journal\n  level: " << opts.log_level << "\n";
  y << "testing:\n  controllable_clock: " << (opts.controllable_clock ? "true" : "false") << "\n";
  y << opts.ops_yaml;
  y << opts.extra_yaml;
  return y.str();
}

// --- otpd_process ----------------------------------------------------------------------------

otpd_process::otpd_process(const otpd_options& opts, const fs::path& state_dir,
                           std::chrono::milliseconds start_timeout) {
  const fs::path config_file = state_dir / "otpd.yaml";
  std::ofstream(config_file, std::ios::binary | std::ios::trunc) << config_yaml(opts, state_dir);
  if (!opts.ported_numbers.empty()) {
    std::ofstream(state_dir / "ported.csv", std::ios::binary | std::ios::trunc)
        << opts.ported_numbers;
  }

  child_process::options co;
  co.working_directory = state_dir.string();
  co.merge_stderr = true;
  co.on_end = [this] {
    std::lock_guard lk(mutex_);
    ended_ = true;
    changed_.notify_all();
  };
  co.environment = otpd_secrets_environment();
  co.environment.insert(co.environment.end(), opts.environment.begin(), opts.environment.end());
  child_ = std::make_unique<child_process>(
      std::vector<std::string>{OTPD_BINARY, "--config", config_file.string()},
      [this](std::string_view line) { on_line(line); }, co);

  auto line = wait_for_line(
      [](std::string_view l) {
        return l.find("listening ") != std::string_view::npos &&
               l.find("ops_listening ") == std::string_view::npos &&
               l.find(" port=") != std::string_view::npos;
      },
      start_timeout);
  if (!line) {
    child_->stop();
    stopped_ = true;
    throw std::runtime_error("otpd did not log \"listening\"; its output:\n" + output());
  }
  const auto p = line->find(" port=");
  port_ = static_cast<std::uint16_t>(std::strtoul(line->c_str() + p + 6, nullptr, 10));
  if (port_ == 0) throw std::runtime_error("no port in: " + *line);
  // The ops listener starts right after the API's, unless ops_yaml turns it off.
  const bool ops_wanted = opts.ops_yaml.find("enabled: false") == std::string::npos;
  if (ops_wanted) {
    auto ops = wait_for_line(
        [](std::string_view l) { return l.find("ops_listening ") != std::string_view::npos; },
        start_timeout);
    if (!ops) {
      child_->stop();
      stopped_ = true;
      throw std::runtime_error("otpd did not log \"ops_listening\"; its output:\n" + output());
    }
    const auto q = ops->find(" port=");
    ops_port_ = static_cast<std::uint16_t>(std::strtoul(ops->c_str() + q + 6, nullptr, 10));
  }
}

otpd_process::~otpd_process() {
  if (!stopped_) stop();
}

void otpd_process::on_line(std::string_view line) {
  std::lock_guard lk(mutex_);
  lines_.emplace_back(line);
  changed_.notify_all();
}

std::vector<std::string> otpd_process::lines() const {
  std::lock_guard lk(mutex_);
  return lines_;
}

std::string otpd_process::output() const {
  std::string out;
  for (const auto& l : lines()) out.append(l).push_back('\n');
  return out;
}

std::optional<std::string> otpd_process::wait_for_line(
    const std::function<bool(std::string_view)>& pred, std::chrono::milliseconds timeout,
    std::size_t from) {
  const auto deadline = steady::now() + timeout;
  std::unique_lock lk(mutex_);
  std::size_t next = from;
  for (;;) {
    for (; next < lines_.size(); ++next) {
      if (pred(lines_[next])) return lines_[next];
    }
    if (ended_) return std::nullopt;
    if (changed_.wait_until(lk, deadline) == std::cv_status::timeout && next >= lines_.size()) {
      return std::nullopt;
    }
  }
}

void otpd_process::check_sanitizers() {
  for (const auto& l : lines()) {
    if (l.find("Sanitizer") != std::string::npos || l.find("runtime error:") != std::string::npos) {
      ADD_FAILURE() << "otpd reported a sanitizer error:\n" << output();
      return;
    }
  }
}

int otpd_process::stop() {
  const int status = child_->stop(std::chrono::seconds(15));
  stopped_ = true;
  check_sanitizers();
  return status;
}

std::optional<int> otpd_process::wait_exit(std::chrono::milliseconds timeout) {
  std::optional<int> status = child_->wait_exit(std::chrono::steady_clock::now() + timeout);
  if (!status) return std::nullopt;
  // Every line is in once the reader has seen the end: stop() joins it (the child is reaped).
  child_->stop();
  stopped_ = true;
  check_sanitizers();
  return status;
}

void otpd_process::kill9() {
  ::kill(child_->pid(), SIGKILL);
  child_->stop();
  stopped_ = true;
  check_sanitizers();
}

http_response otpd_process::call(std::string_view method, std::string_view target,
                                 std::vector<std::pair<std::string, std::string>> headers,
                                 std::optional<std::string> body, bool auth) {
  if (auth) headers.emplace_back("Authorization", "Bearer " + std::string(api_key));
  return http_call(port_, method, target, headers, std::move(body));
}

http_response otpd_process::post(std::string_view target, const json::value& body,
                                 std::vector<std::pair<std::string, std::string>> headers,
                                 bool auth) {
  headers.emplace_back("Content-Type", "application/json");
  return call("POST", target, std::move(headers), json::serialize(body), auth);
}

http_response otpd_process::get(std::string_view target, bool auth) {
  return call("GET", target, {}, std::nullopt, auth);
}

http_response otpd_process::ops_get(std::string_view target) {
  // Without an ops listener (ops.on_api_listeners instead), on the API's.
  return http_call(ops_port_ != 0 ? ops_port_ : port_, "GET", target);
}

void otpd_process::advance_clock(std::chrono::seconds s) {
  http_response r = post("/v1/testing/clock", json::object{{"advance_seconds", s.count()}});
  ASSERT_EQ(r.status, 200) << r.body;
}

bool otpd_process::wait_ready(std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (steady::now() < deadline) {
    if (ops_get("/readyz").status == 200) return true;
    std::this_thread::sleep_for(20ms);  // polling interval
  }
  return false;
}

bool otpd_process::wait_bound(std::string_view carrier, std::string_view bind,
                              std::chrono::milliseconds timeout) {
  const std::string needle = "otpd_smpp_bind_up{carrier=\"" + std::string(carrier) + "\",bind=\"" +
                             std::string(bind) + "\"} 1";
  const auto deadline = steady::now() + timeout;
  while (steady::now() < deadline) {
    http_response r = ops_get("/metrics");
    if (r.status == 200) {
      // The value must be exactly 1 (not 10, ...): the needle ends the line.
      for (auto pos = r.body.find(needle); pos != std::string::npos;
           pos = r.body.find(needle, pos + 1)) {
        const std::size_t after = pos + needle.size();
        if (after == r.body.size() || r.body[after] == '\n') return true;
      }
    }
    std::this_thread::sleep_for(20ms);  // polling interval
  }
  return false;
}

json::object otpd_process::poll_verification(const std::string& id,
                                             const std::function<bool(const json::object&)>& pred,
                                             std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  json::object last;
  for (;;) {
    http_response r = get("/v1/verifications/" + id);
    if (r.status == 200 && r.json.is_object()) {
      last = r.json.get_object();
      if (pred(last)) return last;
    }
    if (steady::now() >= deadline) return last;
    std::this_thread::sleep_for(20ms);  // polling interval
  }
}

// --- SMS -------------------------------------------------------------------------------------

std::string sms_text(const json::object& ev) {
  std::string bytes;
  if (const auto* sm = ev.if_contains("short_message"); sm && sm->is_string()) {
    std::string_view hex = sm->get_string();
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
      bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
  }
  std::int64_t esm = 0, dcs = 0;
  if (const auto* e = ev.if_contains("esm_class"); e && e->is_int64()) esm = e->get_int64();
  if (const auto* d = ev.if_contains("data_coding"); d && d->is_int64()) dcs = d->get_int64();
  if ((esm & 0x40) != 0 && !bytes.empty()) {
    const std::size_t udh = static_cast<unsigned char>(bytes[0]) + 1u;
    bytes.erase(0, std::min(udh, bytes.size()));
  }
  if (dcs == 8) {
    std::string ascii;
    for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
      if (bytes[i] == 0) ascii.push_back(bytes[i + 1]);
    }
    return ascii;
  }
  return bytes;
}

std::string code_in(std::string_view text, std::size_t digits) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j - i == digits) return std::string(text.substr(i, j - i));
    i = j;
  }
  return {};
}

std::string dest_of(const json::object& ev) {
  if (const auto* d = ev.if_contains("dest"); d && d->is_object()) {
    if (const auto* a = d->get_object().if_contains("addr"); a && a->is_string()) {
      return std::string(a->get_string());
    }
  }
  return {};
}

// --- metrics ---------------------------------------------------------------------------------

double metric(const std::string& body, std::string_view series) {
  const std::string needle = std::string(series) + " ";
  for (auto pos = body.find(needle); pos != std::string::npos; pos = body.find(needle, pos + 1)) {
    if (pos == 0 || body[pos - 1] == '\n') return std::stod(body.substr(pos + needle.size()));
  }
  return -1;
}

// --- webhooks --------------------------------------------------------------------------------

webhook_receiver::webhook_receiver() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    throw std::system_error(errno, std::generic_category(), "bind/listen 127.0.0.1:0");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  thread_ = std::thread([this] { run(); });
}

webhook_receiver::~webhook_receiver() {
  const char c = 'x';
  (void)!::write(stop_pipe_[1], &c, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

void webhook_receiver::run() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    const int rc = ::poll(fds, 2, -1);  // woken by a connection or by the destructor
    if (rc < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) != 0) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        serve(fd);
        ::close(fd);
      }
    }
  }
}

void webhook_receiver::serve(int fd) {
  const auto deadline = steady::now() + 5s;
  std::string raw;
  char buf[8192];
  std::size_t header_end = std::string::npos;
  std::size_t need = 0;
  for (;;) {
    if (header_end == std::string::npos) {
      header_end = raw.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        const std::string head = lower(std::string_view(raw).substr(0, header_end));
        if (auto p = head.find("\r\ncontent-length:"); p != std::string::npos) {
          need = std::strtoull(head.c_str() + p + 17, nullptr, 10);
        }
      }
    }
    if (header_end != std::string::npos && raw.size() >= header_end + 4 + need) break;
    if (!wait_fd(fd, POLLIN, deadline)) return;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  received_request req;
  std::string_view head = std::string_view(raw).substr(0, header_end);
  const auto eol = head.find("\r\n");
  std::string_view request_line = head.substr(0, eol);
  const auto sp1 = request_line.find(' ');
  const auto sp2 = request_line.find(' ', sp1 + 1);
  req.method = std::string(request_line.substr(0, sp1));
  req.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
  std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
  while (!rest.empty()) {
    const auto e = rest.find("\r\n");
    std::string_view line = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    req.headers[lower(line.substr(0, colon))] = std::string(value);
  }
  req.body = raw.substr(header_end + 4, need);
  write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", deadline);
  std::lock_guard lk(mutex_);
  requests_.push_back(std::move(req));
  changed_.notify_all();
}

std::optional<received_request> webhook_receiver::wait_for(
    const std::function<bool(const received_request&)>& pred, std::chrono::milliseconds timeout,
    std::size_t from) {
  const auto deadline = steady::now() + timeout;
  std::unique_lock lk(mutex_);
  std::size_t next = from;
  for (;;) {
    for (; next < requests_.size(); ++next) {
      if (pred(requests_[next])) return requests_[next];
    }
    if (changed_.wait_until(lk, deadline) == std::cv_status::timeout && next >= requests_.size()) {
      return std::nullopt;
    }
  }
}

std::vector<received_request> webhook_receiver::requests() const {
  std::lock_guard lk(mutex_);
  return {requests_.begin(), requests_.end()};
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += digits[mac[i] >> 4];
    out += digits[mac[i] & 15];
  }
  return out;
}

}  // namespace otpd::test::e2e
