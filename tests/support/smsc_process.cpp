#include "tests/support/smsc_process.hpp"

#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <iostream>
#include <memory>
#include <stdexcept>
#include <utility>

#ifndef OTPD_SOURCE_DIR
#error "OTPD_SOURCE_DIR must name the source tree (set by tests/support/CMakeLists.txt)"
#endif

namespace otpd::test {

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string_view event_name(const boost::json::object& event) {
  auto it = event.find("event");
  if (it == event.end() || !it->value().is_string()) return {};
  auto& s = it->value().get_string();
  return {s.data(), s.size()};
}

}  // namespace

std::string smsc_process::script_path() {
  return std::string(OTPD_SOURCE_DIR) + "/tests/peers/smsc/smsc.js";
}

smsc_process::smsc_process(std::vector<std::string> flags,
                           std::chrono::milliseconds start_timeout) {
  const std::string script = script_path();
  const std::string modules = std::string(OTPD_SOURCE_DIR) + "/tests/peers/smsc/node_modules/smpp";
  if (!exists(modules)) {
    throw std::runtime_error("smsc_process: " + modules +
                             " is missing: run tools/install-deps.sh (npm ci in tests/peers/smsc)");
  }
  std::vector<std::string> argv{"node", script};
  argv.insert(argv.end(), std::make_move_iterator(flags.begin()),
              std::make_move_iterator(flags.end()));

  child_process::options opts;
  opts.on_end = [this] {
    std::lock_guard lock(mutex_);
    eof_ = true;
    changed_.notify_all();
  };
  child_ = std::make_unique<child_process>(
      std::move(argv), [this](std::string_view line) { on_line(line); }, std::move(opts));

  auto listening = wait_for(event_is("listening"), start_timeout);
  if (!listening) {
    int status = child_->stop(std::chrono::seconds(2));
    throw std::runtime_error("smsc_process: no \"listening\" event from " + script + " within " +
                             std::to_string(start_timeout.count()) + " ms (" +
                             describe_wait_status(status) + "; see its stderr above)");
  }
  port_ = static_cast<std::uint16_t>(listening->at("port").to_number<std::int64_t>());
}

smsc_process::~smsc_process() = default;  // child_process stops the SMSC

int smsc_process::stop() { return child_->stop(); }

void smsc_process::on_line(std::string_view line) {
  boost::json::object event;
  boost::system::error_code ec;
  auto value = boost::json::parse(line, ec);
  if (!ec && value.is_object()) {
    event = std::move(value.get_object());
  } else {
    // smsc.js writes only JSON on stdout; keep anything else visible rather than lose it.
    std::cerr << "smsc_process: not a JSON object on stdout: " << line << '\n';
    event["event"] = "unparsed";
    event["line"] = line;
  }
  std::lock_guard lock(mutex_);
  ++counts_[std::string(event_name(event))];
  events_.push_back(std::move(event));
  changed_.notify_all();
}

std::optional<boost::json::object> smsc_process::wait_for(const predicate& pred,
                                                          clock::time_point deadline,
                                                          std::size_t from) {
  std::unique_lock lock(mutex_);
  std::size_t next = from;
  while (true) {
    while (next < events_.size()) {
      const boost::json::object& event = events_[next++];
      lock.unlock();
      const bool match = pred(event);
      lock.lock();
      if (match) return event;
    }
    if (eof_) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && next == events_.size()) {
      return std::nullopt;
    }
  }
}

std::optional<boost::json::object> smsc_process::wait_for(const predicate& pred,
                                                          std::chrono::milliseconds timeout,
                                                          std::size_t from) {
  return wait_for(pred, clock::now() + timeout, from);
}

std::optional<boost::json::object> smsc_process::wait_for_event(std::string_view event,
                                                                std::chrono::milliseconds timeout,
                                                                std::size_t from) {
  return wait_for(event_is(std::string(event)), timeout, from);
}

std::vector<boost::json::object> smsc_process::events() const {
  std::lock_guard lock(mutex_);
  return {events_.begin(), events_.end()};
}

std::size_t smsc_process::size() const {
  std::lock_guard lock(mutex_);
  return events_.size();
}

smsc_process::predicate nth_event(std::string name, std::size_t n) {
  auto seen = std::make_shared<std::size_t>(0);
  return [name = std::move(name), n, seen](const boost::json::object& ev) {
    const auto* e = ev.if_contains("event");
    return e != nullptr && e->is_string() && e->get_string() == name && ++*seen == n;
  };
}

std::size_t smsc_process::count(std::string_view event) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(event);
  return it == counts_.end() ? 0 : it->second;
}

boost::json::object smsc_process::command(boost::json::object cmd,
                                          std::chrono::milliseconds timeout) {
  std::int64_t id;
  {
    std::lock_guard lock(mutex_);
    id = next_command_id_++;
  }
  cmd["id"] = id;
  const std::string line = boost::json::serialize(cmd) + "\n";
  const std::size_t mark = size();
  if (!child_->write_stdin(line)) {
    throw std::runtime_error("smsc_process: cannot write to the SMSC's stdin: " + line);
  }
  auto ack = wait_for(
      [id](const boost::json::object& e) {
        if (event_name(e) != "ack") return false;
        auto it = e.find("id");
        return it != e.end() && it->value().is_int64() && it->value().get_int64() == id;
      },
      timeout, mark);
  if (!ack) throw std::runtime_error("smsc_process: no ack for " + line);
  auto ok = ack->find("ok");
  if (ok == ack->end() || !ok->value().is_bool() || !ok->value().get_bool()) {
    throw std::runtime_error("smsc_process: command refused: " + boost::json::serialize(*ack));
  }
  return *ack;
}

void smsc_process::sync(std::chrono::milliseconds timeout) { command({{"cmd", "ping"}}, timeout); }

smsc_process::predicate event_is(std::string event) {
  return
      [event = std::move(event)](const boost::json::object& e) { return event_name(e) == event; };
}

smsc_process::predicate event_with(std::string event, boost::json::object fields) {
  return [event = std::move(event), fields = std::move(fields)](const boost::json::object& e) {
    if (event_name(e) != event) return false;
    for (const auto& [key, value] : fields) {
      auto it = e.find(key);
      if (it == e.end() || it->value() != value) return false;
    }
    return true;
  };
}

}  // namespace otpd::test
