#include "daemon/store/postgres_connection.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <utility>

#include "common/utf8.hpp"

namespace otpd::service::pg {

namespace {

// SQLSTATE classes and codes (PostgreSQL documentation, appendix A).
constexpr std::string_view unique_violation = "23505";
constexpr std::string_view foreign_key_violation = "23503";
constexpr std::string_view read_only_transaction = "25006";

// libpq's message on one line (it puts a hint on a line of its own), for logs and /readyz.
std::string one_line(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (auto at = s.find('\n'); at != std::string::npos; at = s.find('\n', at)) {
    const auto end = s.find_first_not_of("\n\t ", at);
    s.replace(at, (end == std::string::npos ? s.size() : end) - at, "; ");
  }
  return s;
}

// The password a conninfo (keywords or URL) holds, or "" when none or when it does not parse.
std::string password_of(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  PQfreemem(err);
  std::string out;
  for (auto* o = opts; o != nullptr && o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr) out = o->val;
  }
  PQconninfoFree(opts);
  return out;
}

}  // namespace

// ---- params and results -------------------------------------------------------------------

void params::add(text_array a) {
  // An array literal: every element quoted, with '"' and '\' escaped.
  std::string out = "{";
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    if (i != 0) out += ',';
    out += '"';
    for (char c : a.items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  push(std::move(out), 0);
}

namespace {

// The length of the valid UTF-8 sequence at s[i], 0 when there is none; NUL counts as invalid.
std::size_t valid_sequence(std::string_view s, std::size_t i) noexcept {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c == 0) return 0;
  return c < 0x80 ? 1 : utf8::multibyte_length(s, i);
}

}  // namespace

std::string valid_text(std::string s) {
  std::size_t i = 0;
  for (std::size_t n = 0; i < s.size() && (n = valid_sequence(s, i)) > 0; i += n) {
  }
  if (i == s.size()) return s;  // the common case: no copy
  std::string out(s, 0, i);
  while (i < s.size()) {
    const std::size_t n = valid_sequence(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

void params::finish() {
  pointers_.clear();
  lengths_.clear();
  for (const auto& v : values_) {
    pointers_.push_back(v ? v->data() : nullptr);
    lengths_.push_back(v ? static_cast<int>(v->size()) : 0);
  }
}

std::string result::text(int row, int col) const {
  return std::string(PQgetvalue(r_.get(), row, col),
                     static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
}

std::string result::bytes(int row, int col) const {
  std::size_t n = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col)), &n);
  if (raw == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}

std::int64_t result::int64(int row, int col) const {
  const char* p = PQgetvalue(r_.get(), row, col);
  std::int64_t v = 0;
  std::from_chars(p, p + std::strlen(p), v);
  return v;
}

bool result::boolean(int row, int col) const { return *PQgetvalue(r_.get(), row, col) == 't'; }

std::optional<sys_time> result::optional_time(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return time(row, col);
}

std::size_t result::affected() const {
  const char* n = r_ ? PQcmdTuples(r_.get()) : "";
  std::size_t v = 0;
  std::from_chars(n, n + std::strlen(n), v);
  return v;
}

// ---- the connection -----------------------------------------------------------------------

connection::connection(postgres_options options)
    : options_(std::move(options)), password_(password_of(options_.conninfo)) {}

connection::~connection() { PQfinish(conn_); }

bool connection::broken() const noexcept {
  return conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK;
}

bool connection::in_failed_transaction() const noexcept {
  return broken() || PQtransactionStatus(conn_) == PQTRANS_INERROR;
}

error_code connection::connect(bool prepare) {
  drop();
  // libpq's complaint about a conninfo it cannot parse quotes the conninfo, password included.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options_.conninfo.c_str(), &parse_error);
  PQfreemem(parse_error);
  if (parsed == nullptr)
    return fail("the connection string is not valid (a libpq conninfo or URL)");
  PQconninfoFree(parsed);
  // The options override what the conninfo says: they come after it (expand_dbname = 1 reads
  // "dbname" as a whole conninfo or URL, and later keywords win over what it set).
  const auto seconds = (options_.connect_timeout.count() + 999) / 1000;
  const std::string timeout = std::to_string(std::max<std::int64_t>(seconds, 1));
  std::vector<const char*> keys{"dbname", "connect_timeout", "application_name"};
  std::vector<const char*> values{options_.conninfo.c_str(), timeout.c_str(),
                                  options_.application_name.c_str()};
  if (!options_.sslmode.empty()) {
    keys.push_back("sslmode");
    values.push_back(options_.sslmode.c_str());
  }
  if (!options_.sslrootcert.empty()) {
    keys.push_back("sslrootcert");
    values.push_back(options_.sslrootcert.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
  if (conn_ == nullptr) return fail("cannot connect: out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) return connection_failed("cannot connect");
  // Notices ("relation ... already exists, skipping") are not failures; libpq would print them
  // to stderr.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  // Per session, so that it holds whatever the server's default: a statement that waits past it
  // (a lock, an overloaded server) is cancelled and the call fails with io_error (503).
  const std::string timeout_sql =
      "SET statement_timeout = " +
      std::to_string(std::max<std::int64_t>(options_.statement_timeout.count(), 0));
  if (auto ec = exec(timeout_sql.c_str(), "set statement_timeout")) return ec;
  return prepare ? prepare_all() : error_code{};
}

error_code connection::ensure() {
  if (!broken()) return prepared_ ? error_code{} : prepare_all();
  return connect(true);
}

namespace {

// The name each statement is prepared under: "s0", "s1", ...
const char* statement_name(sql which) {
  static const auto names = [] {
    std::array<std::string, static_cast<std::size_t>(sql::count_)> n;
    for (std::size_t i = 0; i < n.size(); ++i) n[i] = "s" + std::to_string(i);
    return n;
  }();
  return names[static_cast<std::size_t>(which)].c_str();
}

}  // namespace

error_code connection::prepare_all() {
  for (std::size_t i = 0; i < static_cast<std::size_t>(sql::count_); ++i) {
    const auto which = static_cast<sql>(i);
    PGresult* r = PQprepare(conn_, statement_name(which), statement_text(which), 0, nullptr);
    error_code ec = check(r, "prepare", {}, {}, nullptr);
    if (drop_) drop();
    if (ec) return ec;
    PQclear(r);
  }
  prepared_ = true;
  return {};
}

error_code connection::run(sql which, std::string_view what, params&& p, result& out,
                           error_code unique, error_code foreign, std::string* constraint) {
  step one{which, what, std::move(p), &out, unique, foreign, constraint};
  return run_all(std::span<step>(&one, 1));
}

bool connection::undefer(const char* text) noexcept {
  if (head_.empty() || std::strcmp(head_.back(), text) != 0) return false;
  head_.pop_back();
  return true;
}

error_code connection::run_all(std::span<step> steps, const char* tail) {
  const std::vector<const char*> head = std::exchange(head_, {});
  const std::string_view what = steps.empty() ? std::string_view("statement") : steps[0].what;
  if (conn_ == nullptr) return fail(std::string(what) + ": not connected");
  if (PQenterPipelineMode(conn_) != 1 || !send_pipeline(head, steps, tail)) {
    const error_code ec = connection_failed(what);
    drop();
    return ec;
  }
  // The results come in the order sent; after a failure the server skips the rest.
  error_code first;
  const auto note = [&first](error_code ec) {
    if (ec && !first) first = ec;
  };
  for (const char* h : head) note(read_one(h, {}, {}, nullptr, nullptr, false));
  for (auto& s : steps) note(read_one(s.what, s.unique, s.foreign, s.constraint, s.out, false));
  if (tail != nullptr) note(read_one(tail, {}, {}, nullptr, nullptr, true));
  PGresult* sync = conn_ != nullptr ? PQgetResult(conn_) : nullptr;
  const bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  PQclear(sync);
  if (!synced || PQexitPipelineMode(conn_) != 1) {
    // Results out of step with what was sent (a lost connection): start afresh.
    if (!first) first = connection_failed(what);
    drop();
  }
  if (drop_) drop();
  return first;
}

bool connection::send_pipeline(const std::vector<const char*>& head, std::span<step> steps,
                               const char* tail) {
  const auto text = [this](const char* t) {
    return PQsendQueryParams(conn_, t, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
  };
  for (const char* h : head) {
    if (!text(h)) return false;
  }
  for (auto& s : steps) {
    s.p.finish();
    if (PQsendQueryPrepared(conn_, statement_name(s.which), s.p.size(), s.p.values(), s.p.lengths(),
                            s.p.formats(), 0) != 1) {
      return false;
    }
  }
  if (tail != nullptr && !text(tail)) return false;
  return PQpipelineSync(conn_) == 1;
}

// One statement's result in a pipeline, and the null that ends it.
error_code connection::read_one(std::string_view what, error_code unique, error_code foreign,
                                std::string* constraint, result* out, bool keep_status) {
  PGresult* r = PQgetResult(conn_);
  if (r != nullptr) {
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  }
  if (r != nullptr && PQresultStatus(r) == PGRES_PIPELINE_ABORTED) {
    // Skipped after an earlier failure, which is the one recorded.
    PQclear(r);
    return store_errc::io_error;
  }
  if (keep_status) last_status_ = r != nullptr ? PQcmdStatus(r) : "";
  if (auto ec = check(r, what, unique, foreign, constraint)) return ec;
  if (out != nullptr) {
    *out = result(r);
  } else {
    PQclear(r);
  }
  return {};
}

void connection::drop() noexcept {
  PQfinish(conn_);
  conn_ = nullptr;
  prepared_ = false;
  drop_ = false;
  head_.clear();
}

error_code connection::exec(const char* text, std::string_view what) {
  result ignored;
  return exec(text, what, ignored);
}

error_code connection::exec(const char* text, std::string_view what, result& out) {
  if (!head_.empty()) {
    if (auto ec = run_all({})) return ec;
  }
  if (conn_ == nullptr) return fail(std::string(what) + ": not connected");
  PGresult* r = PQexec(conn_, text);
  last_status_ = r ? PQcmdStatus(r) : "";
  const error_code ec = check(r, what, {}, {}, nullptr);
  if (drop_) drop();
  if (ec) return ec;
  out = result(r);
  return {};
}

void connection::quiet(const char* text) noexcept {
  head_.clear();  // deferred and never sent: nothing of it to undo
  if (!broken()) PQclear(PQexec(conn_, text));
}

// Takes `r`: cleared here unless it succeeded (the caller keeps it then).
error_code connection::check(PGresult* r, std::string_view what, error_code unique,
                             error_code foreign, std::string* constraint) {
  const ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return {};
  if (r == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    PQclear(r);
    return connection_failed(what);
  }
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const std::string_view code = state ? state : "";
  if (constraint != nullptr) {
    const char* name = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    *constraint = name ? name : "";
  }
  if (unique && code == unique_violation) {
    PQclear(r);
    return unique;
  }
  if (foreign && code == foreign_key_violation) {
    PQclear(r);
    return foreign;
  }
  // A server that has become a standby (a failover behind our back) answers every write
  // with this: the connection is dropped, so that the next call reconnects and libpq finds the
  // read-write host (target_session_attrs=read-write).
  if (code == read_only_transaction) drop_ = true;
  // "canceling statement due to statement timeout" (57014) among them: io_error, as a server
  // that cannot answer in time.
  std::string message = std::string(what) + ": " + one_line(PQresultErrorMessage(r));
  if (!code.empty()) message += " [sqlstate " + std::string(code) + "]";
  PQclear(r);
  return fail(std::move(message));
}

error_code connection::connection_failed(std::string_view what) {
  // libpq's message names the host and port, never the password; scrub() makes sure.
  std::string message = std::string(what) + ": " + one_line(PQerrorMessage(conn_));
  prepared_ = false;
  return fail(std::move(message));
}

std::string connection::scrub(std::string message) const {
  if (password_.empty()) return message;
  for (auto at = message.find(password_); at != std::string::npos;
       at = message.find(password_, at)) {
    message.replace(at, password_.size(), "***");
    at += 3;
  }
  return message;
}

error_code connection::fail(std::string message) {
  std::lock_guard lock(error_mutex_);
  last_error_ = scrub(std::move(message));
  return store_errc::io_error;
}

std::string connection::last_error() const {
  std::lock_guard lock(error_mutex_);
  return last_error_;
}

}  // namespace otpd::service::pg
