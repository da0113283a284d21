// A small Prometheus registry: counters, gauges and histograms with labels, exposed in the
// text format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Hot path: resolve a handle once (`family.with({"viettel", "ok"})`, a lookup under a shared
// lock), keep it, then `inc()` / `observe()` are relaxed atomic operations with no lock and no
// allocation. Handles stay valid as long as the registry; a default-constructed handle is a
// no-op, so code can run without metrics.
//
// Registration happens at start-up and throws std::invalid_argument on a bad name, a bad label
// name, unsorted buckets, or the same name registered again with another type or label set
// (registering it again identically returns the existing family).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace otpd::metrics {

namespace detail {

struct histogram_cell {
  explicit histogram_cell(std::size_t buckets) : counts(buckets + 1) {}
  std::vector<std::atomic<std::uint64_t>> counts;  // per bucket (not cumulative), then +Inf
  std::atomic<double> sum{0.0};
};

// Orders label-value tuples, and compares them with a list of views without allocating.
struct labels_less {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const noexcept {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](const auto& x, const auto& y) { return std::string_view(x) < std::string_view(y); });
  }
};

}  // namespace detail

class counter {
 public:
  counter() = default;
  void inc(std::uint64_t n = 1) const noexcept {
    if (cell_) cell_->fetch_add(n, std::memory_order_relaxed);
  }
  std::uint64_t value() const noexcept {
    return cell_ ? cell_->load(std::memory_order_relaxed) : 0;
  }

 private:
  friend class counter_family;
  explicit counter(std::atomic<std::uint64_t>* cell) : cell_(cell) {}
  std::atomic<std::uint64_t>* cell_ = nullptr;
};

class gauge {
 public:
  gauge() = default;
  void set(double v) const noexcept {
    if (cell_) cell_->store(v, std::memory_order_relaxed);
  }
  void add(double v) const noexcept {
    if (cell_) cell_->fetch_add(v, std::memory_order_relaxed);
  }
  void inc() const noexcept { add(1.0); }
  void dec() const noexcept { add(-1.0); }
  double value() const noexcept { return cell_ ? cell_->load(std::memory_order_relaxed) : 0.0; }

 private:
  friend class gauge_family;
  explicit gauge(std::atomic<double>* cell) : cell_(cell) {}
  std::atomic<double>* cell_ = nullptr;
};

class histogram {
 public:
  histogram() = default;
  // Seconds for durations (Prometheus base units).
  void observe(double v) const noexcept;
  std::uint64_t count() const noexcept;
  double sum() const noexcept;

 private:
  friend class histogram_family;
  histogram(detail::histogram_cell* cell, const std::vector<double>* bounds)
      : cell_(cell), bounds_(bounds) {}
  detail::histogram_cell* cell_ = nullptr;
  const std::vector<double>* bounds_ = nullptr;
};

enum class metric_type : std::uint8_t { counter, gauge, histogram };

class family_base {
 public:
  virtual ~family_base() = default;
  const std::string& name() const noexcept { return name_; }
  const std::string& help() const noexcept { return help_; }
  metric_type type() const noexcept { return type_; }
  const std::vector<std::string>& label_names() const noexcept { return label_names_; }

  // Appends this family's HELP, TYPE and samples to `out`.
  virtual void expose(std::string& out) const = 0;

 protected:
  family_base(std::string name, std::string help, metric_type type,
              std::vector<std::string> label_names);
  // Throws std::invalid_argument when the number of values is not the number of labels.
  void check_arity(std::size_t n) const;
  void append_header(std::string& out) const;
  // name{l1="v1",...,extra_name="extra_value"}
  void append_series(std::string& out, std::string_view suffix,
                     const std::vector<std::string>& values, std::string_view extra_name = {},
                     std::string_view extra_value = {}) const;

  std::string name_;
  std::string help_;
  metric_type type_;
  std::vector<std::string> label_names_;
  mutable std::shared_mutex mutex_;  // guards the series maps of the derived classes
};

using label_list = std::initializer_list<std::string_view>;

class counter_family final : public family_base {
 public:
  counter_family(std::string name, std::string help, std::vector<std::string> label_names)
      : family_base(std::move(name), std::move(help), metric_type::counter,
                    std::move(label_names)) {}
  // Finds or creates the series for these label values (in the order of the label names).
  metrics::counter with(label_list values = {});
  metrics::counter with(std::span<const std::string_view> values);
  void expose(std::string& out) const override;

 private:
  std::map<std::vector<std::string>, std::unique_ptr<std::atomic<std::uint64_t>>,
           detail::labels_less>
      series_;
};

class gauge_family final : public family_base {
 public:
  gauge_family(std::string name, std::string help, std::vector<std::string> label_names)
      : family_base(std::move(name), std::move(help), metric_type::gauge, std::move(label_names)) {}
  metrics::gauge with(label_list values = {});
  metrics::gauge with(std::span<const std::string_view> values);
  void expose(std::string& out) const override;

 private:
  std::map<std::vector<std::string>, std::unique_ptr<std::atomic<double>>, detail::labels_less>
      series_;
};

class histogram_family final : public family_base {
 public:
  histogram_family(std::string name, std::string help, std::vector<std::string> label_names,
                   std::vector<double> bounds);
  metrics::histogram with(label_list values = {});
  metrics::histogram with(std::span<const std::string_view> values);
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  void expose(std::string& out) const override;

 private:
  std::vector<double> bounds_;  // upper bounds, strictly increasing, +Inf implicit
  std::map<std::vector<std::string>, std::unique_ptr<detail::histogram_cell>, detail::labels_less>
      series_;
};

// Bucket upper bounds (seconds) for request latencies: fine below a millisecond, where the
// gateway's budget is (docs/architecture.md §9), up to 10 s.
std::vector<double> latency_buckets();
// start, start*factor, ... (count values)
std::vector<double> exponential_buckets(double start, double factor, std::size_t count);

class registry {
 public:
  // The Content-Type of expose()'s output.
  static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

  registry() = default;
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  counter_family& add_counter(std::string name, std::string help,
                              std::vector<std::string> label_names = {});
  gauge_family& add_gauge(std::string name, std::string help,
                          std::vector<std::string> label_names = {});
  histogram_family& add_histogram(std::string name, std::string help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds = latency_buckets());

  // Called (outside the registry's lock, on the scraping thread) at the start of every
  // expose(): for gauges that are read from a snapshot (bind states, window use, open
  // connections). A hook that needs another executor must keep a copy it updates itself.
  using hook_id = std::uint64_t;
  hook_id on_collect(std::function<void()> hook);
  void remove_hook(hook_id id);

  // The whole registry in text format 0.0.4, families in the order of registration.
  std::string expose() const;

 private:
  template <class Family, class... Args>
  Family& add(metric_type type, std::string name, std::string help,
              std::vector<std::string> label_names, Args&&... args);

  mutable std::mutex mutex_;  // guards families_ and hooks_
  std::vector<std::unique_ptr<family_base>> families_;
  std::map<hook_id, std::function<void()>> hooks_;
  hook_id next_hook_ = 1;
};

// Text-format escaping (exposition format 0.0.4): label values escape '\\', '"' and newline;
// HELP text escapes '\\' and newline.
std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);
// A sample value: integers without a fraction, "+Inf", "-Inf", "NaN".
std::string format_value(double v);

}  // namespace otpd::metrics
