// otpctl: the operator's command line for a running otpd, over its control socket (admin.socket
// in otpd.yaml; daemon/admin/admin_server.hpp describes the protocol).
//
//   otpctl [--socket PATH] [--json] status
//   otpctl [--socket PATH] [--json] reload
//   otpctl [--socket PATH] [--json] verification ID
//   otpctl [--socket PATH] [--json] send-test NUMBER --carrier NAME
//   otpctl [--socket PATH] [--json] drain BIND
//   otpctl [--socket PATH] [--json] enable BIND
//
// Exit codes: 0 done, 1 otpd answered with an error, 2 usage, 3 otpd could not be reached.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace json = boost::json;

namespace {

constexpr const char* usage_text =
    "usage: otpctl [--socket PATH] [--json] status\n"
    "       otpctl [--socket PATH] [--json] reload\n"
    "       otpctl [--socket PATH] [--json] verification ID\n"
    "       otpctl [--socket PATH] [--json] send-test NUMBER --carrier NAME\n"
    "       otpctl [--socket PATH] [--json] drain BIND\n"
    "       otpctl [--socket PATH] [--json] enable BIND\n"
    "\n"
    "  send-test      \"otpd test message\" through NAME, which must be the carrier of the\n"
    "                 number's route or one of its failovers; counts against the number's\n"
    "                 rate limits, and at most 5 go out a minute\n"
    "  drain BIND     no new SMS on the bind; it unbinds once its in-flight ones are answered\n"
    "                 and stays down (until enable or a restart)\n"
    "\n"
    "  --socket PATH  otpd's control socket (admin.socket; default /run/otpd/otpd.sock)\n"
    "  --json         print otpd's answer as JSON, for scripts\n"
    "\n"
    "exit codes: 0 done, 1 otpd answered with an error, 2 usage error, 3 otpd unreachable\n";

// One request, one answer line. nullopt (and `why`) when otpd cannot be reached.
std::optional<std::string> exchange(const std::string& path, const std::string& request,
                                    std::string& why) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    ::close(fd);
    why = "socket path too long";
    return std::nullopt;
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    why = std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  const std::string line = request + "\n";
  for (std::size_t off = 0; off < line.size();) {
    const ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n <= 0) {
      why = std::string("write: ") + std::strerror(errno);
      ::close(fd);
      return std::nullopt;
    }
    off += static_cast<std::size_t>(n);
  }
  std::string answer;
  char buf[65536];
  while (answer.find('\n') == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 60'000) <= 0) {  // a send-test waits for the SMSC: up to 30 s
      why = "no answer within 60 s";
      ::close(fd);
      return std::nullopt;
    }
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (answer.empty()) {
    why = "otpd closed the connection without an answer";
    return std::nullopt;
  }
  return answer.substr(0, answer.find('\n'));
}

std::string str(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  if (!v) return "";
  if (v->is_string()) return std::string(v->get_string());
  return json::serialize(*v);
}

void print_status(const json::object& o) {
  std::cout << "otpd " << (o.at("ready").as_bool() ? "ready" : "NOT READY") << "\n";
  for (const auto& cv : o.at("carriers").as_array()) {
    const auto& c = cv.as_object();
    std::cout << "carrier " << str(c, "name") << ": " << str(c, "bound_transmitters")
              << " transmitting bind(s) up, " << str(c, "queued") << " queued, "
              << str(c, "in_flight") << " in flight\n";
    for (const auto& bv : c.at("binds").as_array()) {
      const auto& b = bv.as_object();
      const double limit = b.at("tps_limit").to_number<double>();
      const std::string tps = limit <= 0 ? "unlimited" : std::to_string(limit);
      const json::value* drained = b.if_contains("drained");
      // Several nodes: a bind whose lease this node does not hold is down here on purpose.
      const std::string lease = str(b, "lease");
      std::cout << "  bind " << str(b, "name") << "  " << str(b, "type") << "  " << str(b, "state")
                << (drained && drained->is_bool() && drained->as_bool() ? " (drained)" : "")
                << (lease == "elsewhere" ? " (leased elsewhere)"
                    : lease == "free"    ? " (not leased)"
                                         : "")
                << (b.at("throttled").as_bool() ? " (throttled)" : "") << "  window "
                << str(b, "in_flight") << "/" << str(b, "window") << "  tps " << tps
                << "  connects " << str(b, "connects") << "  last error "
                << (str(b, "last_error").empty() ? "-" : str(b, "last_error")) << "\n";
    }
  }
  for (const auto& tv : o.at("trunks").as_array()) {
    const auto& t = tv.as_object();
    std::cout << "trunk " << str(t, "name") << ": " << str(t, "active") << "/"
              << str(t, "max_calls") << " calls in progress\n";
  }
}

struct options {
  std::string socket_path = "/run/otpd/otpd.sock";
  bool as_json = false;
  std::vector<std::string> args;
  std::string carrier;
};

// The options and the command's words; nullopt to go on, or the exit status once --help or a
// usage error has been answered.
std::optional<int> parse_options(int argc, char** argv, options& out) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage_text;
      return 0;
    }
    if (a == "--json") {
      out.as_json = true;
    } else if (a == "--socket" && i + 1 < argc) {
      out.socket_path = argv[++i];
    } else if (a == "--carrier" && i + 1 < argc) {
      out.carrier = argv[++i];
    } else if (a.starts_with("--")) {
      std::cerr << "otpctl: unknown or incomplete option " << a << "\n\n" << usage_text;
      return 2;
    } else {
      out.args.emplace_back(a);
    }
  }
  return std::nullopt;
}

// The request for the command; nullopt when the words name none.
std::optional<json::object> make_request(const options& opts) {
  const std::vector<std::string>& args = opts.args;
  json::object req;
  if (args.size() == 1 && (args[0] == "status" || args[0] == "reload")) {
    req["cmd"] = args[0];
  } else if (args.size() == 2 && args[0] == "verification") {
    req["cmd"] = "verification";
    req["id"] = args[1];
  } else if (args.size() == 2 && (args[0] == "drain" || args[0] == "enable")) {
    req["cmd"] = args[0];
    req["bind"] = args[1];
  } else if (args.size() == 2 && args[0] == "send-test" && !opts.carrier.empty()) {
    req["cmd"] = "send-test";
    req["to"] = args[1];
    req["carrier"] = opts.carrier;
  } else {
    return std::nullopt;
  }
  return req;
}

// A refusal on stderr: otpd's error (or the outcome) and the errors it lists.
void print_refusal(const json::object& o) {
  std::cerr << "otpctl: " << (str(o, "error").empty() ? str(o, "outcome") : str(o, "error"))
            << "\n";
  if (const json::value* errs = o.if_contains("errors"); errs && errs->is_array()) {
    for (const auto& e : errs->as_array())
      std::cerr << "  " << str(json::object{{"e", e}}, "e") << "\n";
  }
}

// A successful answer to `cmd`, for a reader.
void print_answer(const std::string& cmd, const json::object& o) {
  if (cmd == "status") {
    print_status(o);
  } else if (cmd == "reload") {
    std::cout << "reloaded";
    const auto& later = o.at("restart_needed_for").as_array();
    if (!later.empty()) {
      std::cout << "; these sections changed and take effect at the next restart:";
      for (const auto& k : later) std::cout << " " << k.as_string();
    }
    std::cout << "\n";
  } else if (cmd == "verification") {
    std::cout << json::serialize(o.at("verification")) << "\n";
  } else if (cmd == "drain") {
    std::cout << "draining " << str(o, "carrier") << " / " << str(o, "bind")
              << ": no new SMS; it unbinds once the ones in flight are answered\n";
  } else if (cmd == "enable") {
    std::cout << "enabled " << str(o, "carrier") << " / " << str(o, "bind") << "\n";
  } else {
    std::cout << "sent through " << str(o, "carrier") << " / " << str(o, "bind")
              << ", message id(s) " << json::serialize(o.at("message_ids")) << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  options opts;
  if (auto status = parse_options(argc, argv, opts)) return *status;
  const std::optional<json::object> req = make_request(opts);
  if (!req) {
    std::cerr << usage_text;
    return 2;
  }

  std::string why;
  auto line = exchange(opts.socket_path, json::serialize(*req), why);
  if (!line) {
    std::cerr << "otpctl: cannot talk to otpd at " << opts.socket_path << ": " << why << "\n";
    return 3;
  }
  boost::system::error_code ec;
  json::value answer = json::parse(*line, ec);
  if (ec || !answer.is_object()) {
    std::cerr << "otpctl: otpd's answer is not JSON: " << *line << "\n";
    return 3;
  }
  const json::object& o = answer.as_object();
  const bool ok = o.if_contains("ok") && o.at("ok").is_bool() && o.at("ok").as_bool();
  if (opts.as_json) {
    std::cout << *line << "\n";
    return ok ? 0 : 1;
  }
  if (!ok) {
    print_refusal(o);
    return 1;
  }
  print_answer(str(*req, "cmd"), o);
  return 0;
}
