#include "daemon/metrics/registry.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace otpd::metrics {

namespace {

// Data model: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*, names
// beginning with "__" are reserved.
bool valid_name(std::string_view s, bool allow_colon) noexcept {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

void check_names(const std::string& name, const std::vector<std::string>& labels,
                 metric_type type) {
  if (!valid_name(name, true)) throw std::invalid_argument("invalid metric name: " + name);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto& l = labels[i];
    if (!valid_name(l, false) || l.starts_with("__")) {
      throw std::invalid_argument("invalid label name '" + l + "' for " + name);
    }
    if (type == metric_type::histogram && l == "le") {
      throw std::invalid_argument("label 'le' is reserved for histogram buckets: " + name);
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (labels[j] == l) throw std::invalid_argument("duplicate label '" + l + "' in " + name);
    }
  }
}

std::string_view type_name(metric_type t) noexcept {
  switch (t) {
    case metric_type::counter:
      return "counter";
    case metric_type::gauge:
      return "gauge";
    case metric_type::histogram:
      return "histogram";
  }
  return "untyped";
}

template <class Map, class Make>
auto* find_or_create(std::shared_mutex& mutex, Map& series,
                     std::span<const std::string_view> values, Make make) {
  {
    std::shared_lock lock(mutex);
    if (auto it = series.find(values); it != series.end()) return it->second.get();
  }
  std::unique_lock lock(mutex);
  if (auto it = series.find(values); it != series.end()) return it->second.get();
  std::vector<std::string> key(values.begin(), values.end());
  auto [it, inserted] = series.emplace(std::move(key), make());
  return it->second.get();
}

std::span<const std::string_view> as_span(label_list values) noexcept {
  return {values.begin(), values.size()};
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::array<char, 64> buf{};
  // Integral values (counts, most gauges) without an exponent: 1e+06 would parse, but reads
  // badly in a scrape.
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), static_cast<long long>(v));
    return ec == std::errc{} ? std::string(buf.data(), end) : std::string("NaN");
  }
  // Shortest round-trip digits, %g style ("0.0005", "1e-05"), as the Go client writes them.
  auto [end, ec] =
      std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::general);
  return ec == std::errc{} ? std::string(buf.data(), end) : std::string("NaN");
}

void histogram::observe(double v) const noexcept {
  if (!cell_) return;
  const auto& b = *bounds_;
  // Buckets are few (a dozen): a linear scan beats a binary search here. "le" is inclusive.
  std::size_t i = 0;
  while (i < b.size() && v > b[i]) ++i;
  cell_->counts[i].fetch_add(1, std::memory_order_relaxed);
  cell_->sum.fetch_add(v, std::memory_order_relaxed);
}

std::uint64_t histogram::count() const noexcept {
  if (!cell_) return 0;
  std::uint64_t n = 0;
  for (const auto& c : cell_->counts) n += c.load(std::memory_order_relaxed);
  return n;
}

double histogram::sum() const noexcept {
  return cell_ ? cell_->sum.load(std::memory_order_relaxed) : 0.0;
}

family_base::family_base(std::string name, std::string help, metric_type type,
                         std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {
  check_names(name_, label_names_, type_);
}

void family_base::check_arity(std::size_t n) const {
  if (n != label_names_.size()) {
    throw std::invalid_argument(name_ + ": expected " + std::to_string(label_names_.size()) +
                                " label values, got " + std::to_string(n));
  }
}

void family_base::append_header(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  out += escape_help(help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type_name(type_);
  out += '\n';
}

void family_base::append_series(std::string& out, std::string_view suffix,
                                const std::vector<std::string>& values, std::string_view extra_name,
                                std::string_view extra_value) const {
  out += name_;
  out += suffix;
  if (values.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += label_names_[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

counter counter_family::with(label_list values) { return with(as_span(values)); }
counter counter_family::with(std::span<const std::string_view> values) {
  check_arity(values.size());
  return counter(find_or_create(mutex_, series_, values,
                                [] { return std::make_unique<std::atomic<std::uint64_t>>(0); }));
}

void counter_family::expose(std::string& out) const {
  append_header(out);
  std::shared_lock lock(mutex_);
  for (const auto& [values, cell] : series_) {
    append_series(out, {}, values);
    out += ' ';
    out += std::to_string(cell->load(std::memory_order_relaxed));
    out += '\n';
  }
}

gauge gauge_family::with(label_list values) { return with(as_span(values)); }
gauge gauge_family::with(std::span<const std::string_view> values) {
  check_arity(values.size());
  return gauge(find_or_create(mutex_, series_, values,
                              [] { return std::make_unique<std::atomic<double>>(0.0); }));
}

void gauge_family::expose(std::string& out) const {
  append_header(out);
  std::shared_lock lock(mutex_);
  for (const auto& [values, cell] : series_) {
    append_series(out, {}, values);
    out += ' ';
    out += format_value(cell->load(std::memory_order_relaxed));
    out += '\n';
  }
}

histogram_family::histogram_family(std::string name, std::string help,
                                   std::vector<std::string> label_names, std::vector<double> bounds)
    : family_base(std::move(name), std::move(help), metric_type::histogram, std::move(label_names)),
      bounds_(std::move(bounds)) {
  if (!bounds_.empty() && std::isinf(bounds_.back()) && bounds_.back() > 0) bounds_.pop_back();
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && !(bounds_[i] > bounds_[i - 1]))) {
      throw std::invalid_argument(name_ + ": bucket bounds must be finite and increasing");
    }
  }
}

histogram histogram_family::with(label_list values) { return with(as_span(values)); }
histogram histogram_family::with(std::span<const std::string_view> values) {
  check_arity(values.size());
  const std::size_t n = bounds_.size();
  return histogram(find_or_create(mutex_, series_, values,
                                  [n] { return std::make_unique<detail::histogram_cell>(n); }),
                   &bounds_);
}

void histogram_family::expose(std::string& out) const {
  append_header(out);
  std::vector<std::string> les;
  les.reserve(bounds_.size() + 1);
  for (double b : bounds_) les.push_back(format_value(b));
  les.emplace_back("+Inf");

  std::shared_lock lock(mutex_);
  for (const auto& [values, cell] : series_) {
    // Cumulative counts; _count is the +Inf bucket so that the two always agree even while
    // observations land during the scrape.
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < les.size(); ++i) {
      cumulative += cell->counts[i].load(std::memory_order_relaxed);
      append_series(out, "_bucket", values, "le", les[i]);
      out += ' ';
      out += std::to_string(cumulative);
      out += '\n';
    }
    append_series(out, "_sum", values);
    out += ' ';
    out += format_value(cell->sum.load(std::memory_order_relaxed));
    out += '\n';
    append_series(out, "_count", values);
    out += ' ';
    out += std::to_string(cumulative);
    out += '\n';
  }
}

std::vector<double> latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};
}

std::vector<double> exponential_buckets(double start, double factor, std::size_t count) {
  if (!(start > 0) || !(factor > 1)) {
    throw std::invalid_argument("exponential_buckets: start > 0 and factor > 1 required");
  }
  std::vector<double> out;
  out.reserve(count);
  for (double b = start; out.size() < count; b *= factor) out.push_back(b);
  return out;
}

template <class Family, class... Args>
Family& registry::add(metric_type type, std::string name, std::string help,
                      std::vector<std::string> label_names, Args&&... args) {
  std::lock_guard lock(mutex_);
  for (const auto& f : families_) {
    if (f->name() != name) continue;
    auto* same = dynamic_cast<Family*>(f.get());
    if (same == nullptr || f->type() != type || f->label_names() != label_names) {
      throw std::invalid_argument("metric registered twice with another type or labels: " + name);
    }
    return *same;
  }
  auto family = std::make_unique<Family>(std::move(name), std::move(help), std::move(label_names),
                                         std::forward<Args>(args)...);
  auto& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

counter_family& registry::add_counter(std::string name, std::string help,
                                      std::vector<std::string> label_names) {
  return add<counter_family>(metric_type::counter, std::move(name), std::move(help),
                             std::move(label_names));
}

gauge_family& registry::add_gauge(std::string name, std::string help,
                                  std::vector<std::string> label_names) {
  return add<gauge_family>(metric_type::gauge, std::move(name), std::move(help),
                           std::move(label_names));
}

histogram_family& registry::add_histogram(std::string name, std::string help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> bounds) {
  auto& f = add<histogram_family>(metric_type::histogram, std::move(name), std::move(help),
                                  std::move(label_names), bounds);
  if (!bounds.empty() && std::isinf(bounds.back())) bounds.pop_back();
  if (f.bounds() != bounds) {
    throw std::invalid_argument("histogram registered twice with other buckets: " + f.name());
  }
  return f;
}

registry::hook_id registry::on_collect(std::function<void()> hook) {
  std::lock_guard lock(mutex_);
  const hook_id id = next_hook_++;
  hooks_.emplace(id, std::move(hook));
  return id;
}

void registry::remove_hook(hook_id id) {
  std::lock_guard lock(mutex_);
  hooks_.erase(id);
}

std::string registry::expose() const {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, h] : hooks_) hooks.push_back(h);
  }
  for (const auto& h : hooks) h();

  std::string out;
  out.reserve(4096);
  std::lock_guard lock(mutex_);
  for (const auto& f : families_) f->expose(out);
  return out;
}

}  // namespace otpd::metrics
