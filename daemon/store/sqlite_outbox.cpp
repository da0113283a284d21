// The SQLite store's webhook outbox (store.hpp, "the webhook outbox"). Every write runs in a
// BEGIN IMMEDIATE transaction (sqlite_store.cpp): a claim reads and marks its events holding
// the write lock, so two nodes never claim the same event.
#include <chrono>
#include <utility>

#include "daemon/store/sqlite_statement.hpp"

namespace otpd::service {

error_code sqlite_store::write_event(const verification& written, const store::event_fn& event) {
  if (!event) return {};
  const std::string body = event(written);
  if (body.empty()) return {};
  const sys_time now = std::chrono::system_clock::now();
  return statement(*this, sql::insert_webhook, "write webhook event", written.id, body, now).done();
}

error_code sqlite_store::claim_webhooks(std::string_view holder, sys_time now,
                                        std::chrono::milliseconds ttl, std::size_t limit,
                                        std::vector<webhook_event>& out) {
  out.clear();
  if (limit == 0) return {};
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  std::vector<webhook_event> claimed;
  {
    statement rows(*this, sql::select_due_webhooks, "read webhook events", now, limit);
    auto ec = rows.each([&](statement& q) {
      webhook_event e;
      e.seq = q.int64(0);
      e.verification_id = q.text(1);
      e.body = q.text(2);
      e.created_at = q.time(3);
      e.attempts = q.integer(4);
      e.next_at = q.time(5);
      claimed.push_back(std::move(e));
    });
    if (ec) return ec;
  }
  const sys_time until = now + ttl;
  for (const auto& e : claimed) {
    if (auto ec = statement(*this, sql::claim_webhook, "claim webhook event", e.seq, holder, until)
                      .done()) {
      return ec;
    }
  }
  if (auto ec = tx.commit()) return ec;
  out = std::move(claimed);
  return {};
}

error_code sqlite_store::finish_webhook(std::string_view holder, std::int64_t seq) {
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  {
    statement q(*this, sql::delete_webhook, "finish webhook event", seq, holder);
    if (auto ec = q.done()) return ec;
    if (q.changes() == 0) return store_errc::not_found;
  }
  return tx.commit();
}

error_code sqlite_store::retry_webhook(std::string_view holder, std::int64_t seq,
                                       sys_time next_at) {
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  {
    statement q(*this, sql::retry_webhook, "retry webhook event", seq, holder, next_at);
    if (auto ec = q.done()) return ec;
    if (q.changes() == 0) return store_errc::not_found;
  }
  return tx.commit();
}

error_code sqlite_store::release_webhooks(std::string_view holder) {
  transaction tx(*this, transaction::kind::write);
  if (auto ec = tx.begin()) return ec;
  if (auto ec = statement(*this, sql::release_webhooks, "release webhook events", holder).done()) {
    return ec;
  }
  return tx.commit();
}

error_code sqlite_store::webhook_backlog(std::size_t& count, sys_time& oldest) {
  statement q(*this, sql::webhook_backlog, "count webhook events");
  if (auto ec = q.row()) return ec;
  count = static_cast<std::size_t>(q.int64(0));
  oldest = q.time(1);
  return {};
}

}  // namespace otpd::service
