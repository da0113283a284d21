// Runs store calls on threads of their own, so that the database never blocks an I/O thread
// (docs/architecture.md §8), and completes the caller back on its own executor:
//
//   auto [ec, v] = co_await executor.get(id);
//   error_code ec = co_await executor.run([&](store& s) { return s.insert(v); });
//
// One thread per store (one connection each: SQLite has one, PostgreSQL store.postgres.pool_size).
// A call about one verification (insert, get, modify, find_idempotent, the correlations it
// writes) goes to the thread its id hashes to, so that calls about the same verification run in
// the order they were queued, as the service relies on (verification_service::after_this_step);
// other calls go to any thread. On each thread calls run one at a time, in the order they were
// queued. The queue of each thread is bounded: when it is full a call fails at once with
// store_errc::busy (503 for the HTTP layer) instead of queueing without end. Queued calls are
// group-committed: up to max_batch of them run in one transaction (each in its own savepoint)
// and are completed only after that commit, so an acknowledged write is a durable one. When the
// commit fails (SQLite rolls a whole transaction back on a full disk), each call of the batch
// runs again alone, in order: one call's failure does not fail the others, reads included.
//
// Health: a call that fails with io_error marks the store down (healthy() false) until a call
// completes without one; /readyz and the probe in daemon/app/store_probe.hpp read it.
//
// Lifetime: shut the executor down (or destroy it) before the io_contexts whose coroutines
// await it; shutdown() runs what is queued and posts every completion first. A call cannot be
// cancelled once queued; the awaiting coroutine resumes when it has run.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/store/store.hpp"

namespace otpd::service {

// How a call's result says "not run" (queue full, shut down) or "not committed" (the batch
// failed). Specialise it for another result type.
template <class R>
struct store_call_result;

template <>
struct store_call_result<error_code> {
  static error_code failed(error_code ec) { return ec; }
};
template <class T>
struct store_call_result<std::pair<error_code, T>> {
  static std::pair<error_code, T> failed(error_code ec) { return {ec, T{}}; }
};
template <class... T>
struct store_call_result<std::tuple<error_code, T...>> {
  static std::tuple<error_code, T...> failed(error_code ec) { return {ec, T{}...}; }
};

template <class F>
concept store_call = std::invocable<F&, store&> && requires(error_code ec) {
  {
    store_call_result<std::invoke_result_t<F&, store&>>::failed(ec)
    } -> std::same_as<std::invoke_result_t<F&, store&>>;
};

struct store_executor_options {
  // Calls waiting to run on each thread (not counting the batch running): beyond it,
  // store_errc::busy.
  std::size_t max_queue = 10'000;
  // Calls per transaction. 1: each call commits alone.
  std::size_t max_batch = 64;
};

struct store_executor_stats {
  std::uint64_t calls = 0;          // run (refused ones excluded)
  std::uint64_t batches = 0;        // transactions that held more than one call
  std::uint64_t batched_calls = 0;  // calls that ran in those
  std::uint64_t refused = 0;        // store_errc::busy
  std::uint64_t failed_batches = 0;
  std::size_t queued = 0;  // waiting now
};

namespace detail {

// The error_code a call's result carries.
inline error_code error_of(const error_code& r) { return r; }
template <class T>
error_code error_of(const std::pair<error_code, T>& r) {
  return r.first;
}
template <class... T>
error_code error_of(const std::tuple<error_code, T...>& r) {
  return std::get<0>(r);
}

// A queued call, type-erased. execute() runs on the store thread; fail() replaces the result;
// deliver() hands the result to the caller's executor (never inline).
class store_job {
 public:
  virtual ~store_job() = default;
  virtual void execute(store& s) = 0;
  // After execute(): whether the database failed (io_error), answered, or the call threw.
  virtual error_code outcome() const = 0;
  virtual bool threw() const = 0;
  virtual void fail(error_code ec) = 0;
  virtual void deliver() = 0;
};

template <class F, class Handler>
class store_job_impl final : public store_job {
  using result_type = std::invoke_result_t<F&, store&>;
  using work_type = std::decay_t<decltype(boost::asio::prefer(
      boost::asio::get_associated_executor(std::declval<Handler&>()),
      boost::asio::execution::outstanding_work.tracked))>;

 public:
  store_job_impl(F fn, Handler handler)
      : fn_(std::move(fn)),
        handler_(std::move(handler)),
        // Keeps the caller's io_context from running out of work while the call is queued.
        work_(boost::asio::prefer(boost::asio::get_associated_executor(handler_),
                                  boost::asio::execution::outstanding_work.tracked)) {}

  void execute(store& s) override {
    error_ = nullptr;  // run again alone after a failed batch
    try {
      result_ = fn_(s);
    } catch (...) {
      // A bug in the call (store errors are error_codes): rethrown in the awaiting coroutine.
      error_ = std::current_exception();
    }
  }
  error_code outcome() const override { return error_of(result_); }
  bool threw() const override { return error_ != nullptr; }
  void fail(error_code ec) override {
    result_ = store_call_result<result_type>::failed(ec);
    error_ = nullptr;
  }
  void deliver() override {
    auto work = std::move(work_);
    boost::asio::post(work, [h = std::move(handler_), e = std::move(error_),
                             r = std::move(result_)]() mutable { std::move(h)(e, std::move(r)); });
  }

 private:
  F fn_;
  Handler handler_;
  work_type work_;
  result_type result_{};
  std::exception_ptr error_;
};

class store_lane;  // one store, its thread and its queue (store_executor.cpp)

}  // namespace detail

class store_executor {
 public:
  explicit store_executor(std::unique_ptr<store> s, store_executor_options options = {});
  // One thread per store; `stores` must not be empty.
  explicit store_executor(std::vector<std::unique_ptr<store>> stores,
                          store_executor_options options = {});
  // shutdown(), then closes the stores.
  ~store_executor();
  store_executor(const store_executor&) = delete;
  store_executor& operator=(const store_executor&) = delete;

  // Refuses new calls (store_errc::closed), runs the queued ones, posts their completions and
  // joins the threads. Idempotent. Called from inside a call, it only stops accepting.
  void shutdown();

  // Runs f(store&) on a store thread; completes with (exception_ptr, R) on the handler's
  // associated executor. R is error_code, pair<error_code, T> or tuple<error_code, T...>, so
  // that a refused call can say why. f must not touch state owned by an I/O thread; capture by
  // value, or by reference to the awaiting coroutine's locals (it stays suspended until f ran).
  // Calls with the same `order_key` (a verification id) run in the order they were queued; an
  // empty key: any thread, in no order with other calls.
  template <store_call F, class Token>
  auto async_run(std::string_view order_key, F f, Token&& token) {
    using result_type = std::invoke_result_t<F&, store&>;
    return boost::asio::async_initiate<Token, void(std::exception_ptr, result_type)>(
        [this, lane = lane_for(order_key)](auto handler, F fn) {
          using job = detail::store_job_impl<F, std::decay_t<decltype(handler)>>;
          submit(lane, std::make_unique<job>(std::move(fn), std::move(handler)));
        },
        token, std::move(f));
  }
  template <store_call F, class Token>
  auto async_run(F f, Token&& token) {
    return async_run({}, std::move(f), std::forward<Token>(token));
  }

  template <store_call F>
  boost::asio::awaitable<std::invoke_result_t<F&, store&>> run(F f) {
    return async_run({}, std::move(f), boost::asio::use_awaitable);
  }
  template <store_call F>
  boost::asio::awaitable<std::invoke_result_t<F&, store&>> run_for(std::string_view order_key,
                                                                   F f) {
    return async_run(order_key, std::move(f), boost::asio::use_awaitable);
  }

  // The store interface, one call each; arguments are copied to the store thread.
  boost::asio::awaitable<error_code> insert(verification v);
  boost::asio::awaitable<std::pair<error_code, verification>> get(std::string id);
  boost::asio::awaitable<std::pair<error_code, verification>> find_idempotent(std::string api_key,
                                                                              std::string key);
  // `fn` runs on the store thread.
  boost::asio::awaitable<std::pair<error_code, verification>> modify(std::string id,
                                                                     store::modify_fn fn);
  // With receipt correlations and the change's webhook event (`event`, may be empty; it runs
  // on the store thread too) written in the same transaction.
  boost::asio::awaitable<std::pair<error_code, verification>> modify(std::string id,
                                                                     std::vector<correlation> add,
                                                                     store::modify_fn fn,
                                                                     store::event_fn event = {});
  boost::asio::awaitable<error_code> add_correlations(std::vector<correlation> c);
  boost::asio::awaitable<std::pair<error_code, correlation>> find_correlation(std::string carrier,
                                                                              std::string key);
  boost::asio::awaitable<std::pair<error_code, limit_result>> check_and_count(
      std::vector<limit_check> checks, sys_time now);
  boost::asio::awaitable<std::pair<error_code, std::vector<verification>>> list_queued();
  boost::asio::awaitable<std::pair<error_code, std::size_t>> purge(sys_time now,
                                                                   std::chrono::seconds retention);
  // A cheap read that reaches the database (a verification that does not exist): what the
  // probe calls while the store is down, so that healthy() comes back without traffic.
  boost::asio::awaitable<error_code> probe();

  // False from a call that failed with io_error until a call completes without one.
  bool healthy() const noexcept { return healthy_.load(std::memory_order_acquire); }
  // The stores' last io_error message (store::last_error), the first found; from any thread.
  std::string last_error() const;
  // Summed over the threads.
  store_executor_stats stats() const;
  std::size_t threads() const noexcept { return lanes_.size(); }

 private:
  std::size_t lane_for(std::string_view order_key);
  void submit(std::size_t lane, std::unique_ptr<detail::store_job> job);

  std::vector<std::unique_ptr<detail::store_lane>> lanes_;
  std::atomic<bool> healthy_{true};
  std::atomic<std::size_t> next_{0};  // the thread of the next call without an order key
};

}  // namespace otpd::service
