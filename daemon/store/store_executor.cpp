#include "daemon/store/store_executor.hpp"

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <iterator>
#include <mutex>
#include <thread>

namespace otpd::service {

namespace asio = boost::asio;

namespace {

// A store call that answers through an out parameter, made into one that returns the
// (error, answer) pair run() delivers.
template <class T, class F>
auto answering(F call) {
  return [call = std::move(call)](store& s) {
    std::pair<error_code, T> r;
    r.first = call(s, r.second);
    return r;
  };
}

}  // namespace

namespace detail {

// One store, its thread and its queue: the executor as it was with one connection.
class store_lane {
 public:
  store_lane(std::unique_ptr<store> s, store_executor_options options, std::string name,
             std::atomic<bool>& healthy)
      : store_(std::move(s)),
        options_(options),
        name_(std::move(name)),
        healthy_(healthy),
        thread_([this] { loop(); }) {}
  ~store_lane() { shutdown(); }
  store_lane(const store_lane&) = delete;
  store_lane& operator=(const store_lane&) = delete;

  void shutdown();
  void submit(std::unique_ptr<store_job> job);
  void add_stats(store_executor_stats& s) const;
  std::string last_error() const { return store_->last_error(); }

 private:
  void loop();
  void run_batch(std::vector<std::unique_ptr<store_job>>& jobs);
  void note_health(const std::vector<std::unique_ptr<store_job>>& jobs);

  std::unique_ptr<store> store_;
  const store_executor_options options_;
  const std::string name_;  // the thread's, as top shows it
  std::atomic<bool>& healthy_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<store_job>> queue_;  // guarded by mutex_
  bool stopping_ = false;                         // guarded by mutex_
  std::atomic<std::uint64_t> calls_{0};
  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> batched_calls_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> failed_batches_{0};
  std::mutex join_mutex_;
  std::thread thread_;  // last: starts after everything above is ready
};

void store_lane::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  std::lock_guard lock(join_mutex_);  // two threads shutting down: one joins, the other waits
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void store_lane::add_stats(store_executor_stats& s) const {
  s.calls += calls_.load(std::memory_order_relaxed);
  s.batches += batches_.load(std::memory_order_relaxed);
  s.batched_calls += batched_calls_.load(std::memory_order_relaxed);
  s.refused += refused_.load(std::memory_order_relaxed);
  s.failed_batches += failed_batches_.load(std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  s.queued += queue_.size();
}

void store_lane::submit(std::unique_ptr<store_job> job) {
  error_code refused;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      refused = store_errc::closed;
    } else if (queue_.size() >= options_.max_queue) {
      refused = store_errc::busy;
    } else {
      queue_.push_back(std::move(job));
    }
  }
  if (refused) {
    if (refused == store_errc::busy) refused_.fetch_add(1, std::memory_order_relaxed);
    // Posted, not called: a completion handler never runs inside its initiating function.
    job->fail(refused);
    job->deliver();
    return;
  }
  wake_.notify_one();
}

void store_lane::loop() {
  pthread_setname_np(pthread_self(), name_.c_str());
  std::vector<std::unique_ptr<store_job>> jobs;
  const std::size_t max_batch = std::max<std::size_t>(1, options_.max_batch);
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has run
      const auto n = std::min(queue_.size(), max_batch);
      std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n),
                std::back_inserter(jobs));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    run_batch(jobs);
    jobs.clear();
  }
}

void store_lane::run_batch(std::vector<std::unique_ptr<store_job>>& jobs) {
  calls_.fetch_add(jobs.size(), std::memory_order_relaxed);
  // One call commits by itself. Several share one transaction, unless it cannot start (a
  // read-only database, say): then each runs alone, so that reads still work.
  if (jobs.size() > 1 && !store_->begin_batch()) {
    batches_.fetch_add(1, std::memory_order_relaxed);
    batched_calls_.fetch_add(jobs.size(), std::memory_order_relaxed);
    for (auto& j : jobs) j->execute(*store_);
    if (store_->end_batch()) {
      // Nothing of the batch is durable, and one call's failure (a full disk, say) must not
      // fail the others: each runs again alone, from the state before the batch. A read gets
      // its answer, a write that fits is written, and each result is that of its own commit.
      failed_batches_.fetch_add(1, std::memory_order_relaxed);
      for (auto& j : jobs) j->execute(*store_);
    }
  } else {
    for (auto& j : jobs) j->execute(*store_);
  }
  note_health(jobs);
  for (auto& j : jobs) j->deliver();
}

// Before the completions are posted: a caller that saw its call fail finds the store down.
void store_lane::note_health(const std::vector<std::unique_ptr<store_job>>& jobs) {
  bool failed = false;
  bool answered = false;
  for (const auto& j : jobs) {
    if (j->threw()) continue;
    (j->outcome() == store_errc::io_error ? failed : answered) = true;
  }
  // The last word of the batch: a failure after a success is news, a success alone recovers.
  if (failed) {
    healthy_.store(false, std::memory_order_release);
  } else if (answered) {
    healthy_.store(true, std::memory_order_release);
  }
}

}  // namespace detail

namespace {

std::vector<std::unique_ptr<store>> one(std::unique_ptr<store> s) {
  std::vector<std::unique_ptr<store>> v;
  v.push_back(std::move(s));
  return v;
}

}  // namespace

store_executor::store_executor(std::unique_ptr<store> s, store_executor_options options)
    : store_executor(one(std::move(s)), options) {}

store_executor::store_executor(std::vector<std::unique_ptr<store>> stores,
                               store_executor_options options) {
  lanes_.reserve(stores.size());
  for (std::size_t i = 0; i < stores.size(); ++i) {
    // pthread names hold 15 characters: "otpd-store", then "otpd-store-1" ...
    std::string name = i == 0 ? "otpd-store" : "otpd-store-" + std::to_string(i);
    lanes_.push_back(std::make_unique<detail::store_lane>(std::move(stores[i]), options,
                                                          std::move(name), healthy_));
  }
}

store_executor::~store_executor() {
  // Joins, also after a shutdown() from inside a call (which could not join its own thread).
  shutdown();
}

void store_executor::shutdown() {
  for (auto& l : lanes_) l->shutdown();
}

std::string store_executor::last_error() const {
  for (const auto& l : lanes_) {
    if (std::string e = l->last_error(); !e.empty()) return e;
  }
  return {};
}

store_executor_stats store_executor::stats() const {
  store_executor_stats s;
  for (const auto& l : lanes_) l->add_stats(s);
  return s;
}

std::size_t store_executor::lane_for(std::string_view order_key) {
  if (lanes_.size() == 1) return 0;
  if (order_key.empty()) return next_.fetch_add(1, std::memory_order_relaxed) % lanes_.size();
  return std::hash<std::string_view>{}(order_key) % lanes_.size();
}

void store_executor::submit(std::size_t lane, std::unique_ptr<detail::store_job> job) {
  lanes_[lane]->submit(std::move(job));
}

// ---- the store interface ------------------------------------------------------------------
// Plain functions returning run()'s awaitable: the lambdas own copies of the arguments, so the
// caller's may go away as soon as the call is queued.

asio::awaitable<error_code> store_executor::insert(verification v) {
  const std::string key = v.id;
  return run_for(key, [v = std::move(v)](store& s) { return s.insert(v); });
}

asio::awaitable<std::pair<error_code, verification>> store_executor::get(std::string id) {
  const std::string key = id;
  return run_for(key, answering<verification>([id = std::move(id)](store& s, verification& out) {
                   return s.get(id, out);
                 }));
}

asio::awaitable<std::pair<error_code, verification>> store_executor::find_idempotent(
    std::string api_key, std::string key) {
  const std::string order = api_key + '\n' + key;
  return run_for(
      order, answering<verification>(
                 [api_key = std::move(api_key), key = std::move(key)](store& s, verification& out) {
                   return s.find_idempotent(api_key, key, out);
                 }));
}

asio::awaitable<std::pair<error_code, verification>> store_executor::modify(std::string id,
                                                                            store::modify_fn fn) {
  return modify(std::move(id), {}, std::move(fn));
}

asio::awaitable<std::pair<error_code, verification>> store_executor::modify(
    std::string id, std::vector<correlation> add, store::modify_fn fn, store::event_fn event) {
  const std::string key = id;
  return run_for(
      key, answering<verification>([id = std::move(id), add = std::move(add), fn = std::move(fn),
                                    event = std::move(event)](store& s, verification& out) {
        return s.modify(id, add, fn, out, event);
      }));
}

asio::awaitable<error_code> store_executor::add_correlations(std::vector<correlation> c) {
  // After the modify that sent them, about the same verification.
  const std::string key = c.empty() ? std::string() : c.front().verification_id;
  return run_for(key, [c = std::move(c)](store& s) { return s.add_correlations(c); });
}

asio::awaitable<std::pair<error_code, correlation>> store_executor::find_correlation(
    std::string carrier, std::string key) {
  return run(answering<correlation>(
      [carrier = std::move(carrier), key = std::move(key)](store& s, correlation& out) {
        return s.find_correlation(carrier, key, out);
      }));
}

asio::awaitable<std::pair<error_code, limit_result>> store_executor::check_and_count(
    std::vector<limit_check> checks, sys_time now) {
  return run(
      answering<limit_result>([checks = std::move(checks), now](store& s, limit_result& out) {
        return s.check_and_count(checks, now, out);
      }));
}

asio::awaitable<std::pair<error_code, std::vector<verification>>> store_executor::list_queued() {
  return run(answering<std::vector<verification>>(
      [](store& s, std::vector<verification>& out) { return s.list_queued(out); }));
}

asio::awaitable<std::pair<error_code, std::size_t>> store_executor::purge(
    sys_time now, std::chrono::seconds retention) {
  return run(answering<std::size_t>(
      [now, retention](store& s, std::size_t& out) { return s.purge(now, retention, out); }));
}

asio::awaitable<error_code> store_executor::probe() {
  verification none;
  return run([none](store& s) mutable {
    const error_code ec = s.get("probe", none);
    return ec == store_errc::not_found ? error_code{} : ec;
  });
}

}  // namespace otpd::service
