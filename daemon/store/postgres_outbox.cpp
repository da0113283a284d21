// The PostgreSQL store's webhook outbox (store.hpp, "the webhook outbox"): events written in
// modify()'s transaction, claimed by one node at a time (postgres_schema.cpp, claim_webhooks).
#include <algorithm>
#include <chrono>
#include <utility>

#include "daemon/store/postgres_store_impl.hpp"

namespace otpd::service {

using pg::params;
using pg::sql;

void postgres_store::write_event(const verification& written, const event_fn& event,
                                 std::vector<pg::step>& steps) {
  if (!event) return;
  std::string body = event(written);
  if (body.empty()) return;
  // The verification is locked (modify's FOR UPDATE): its foreign key cannot fail.
  steps.push_back(pg::step{sql::insert_webhook, "write webhook event",
                           params(written.id, body, sys_time(std::chrono::system_clock::now()))});
}

error_code postgres_store::claim_webhooks(std::string_view holder, sys_time now,
                                          std::chrono::milliseconds ttl, std::size_t limit,
                                          std::vector<webhook_event>& out) {
  out.clear();
  if (limit == 0) return {};
  pg::result q;
  if (auto ec = statement(sql::claim_webhooks, "claim webhook events",
                          params(holder, now, now + ttl, limit), q)) {
    return ec;
  }
  std::vector<webhook_event> claimed;
  for (int r = 0; r < q.rows(); ++r) {
    webhook_event e;
    e.seq = q.int64(r, 0);
    e.verification_id = q.text(r, 1);
    e.body = q.text(r, 2);
    e.created_at = q.time(r, 3);
    e.attempts = q.integer(r, 4);
    e.next_at = q.time(r, 5);
    claimed.push_back(std::move(e));
  }
  // RETURNING keeps no order: by seq, as they were picked.
  std::sort(claimed.begin(), claimed.end(),
            [](const webhook_event& a, const webhook_event& b) { return a.seq < b.seq; });
  out = std::move(claimed);
  return {};
}

error_code postgres_store::finish_webhook(std::string_view holder, std::int64_t seq) {
  pg::result r;
  if (auto ec = statement(sql::delete_webhook, "finish webhook event", params(holder, seq), r)) {
    return ec;
  }
  return r.affected() == 0 ? error_code(store_errc::not_found) : error_code{};
}

error_code postgres_store::retry_webhook(std::string_view holder, std::int64_t seq,
                                         sys_time next_at) {
  pg::result r;
  if (auto ec =
          statement(sql::retry_webhook, "retry webhook event", params(holder, seq, next_at), r)) {
    return ec;
  }
  return r.affected() == 0 ? error_code(store_errc::not_found) : error_code{};
}

error_code postgres_store::release_webhooks(std::string_view holder) {
  pg::result ignored;
  return statement(sql::release_webhooks, "release webhook events", params(holder), ignored);
}

error_code postgres_store::webhook_backlog(std::size_t& count, sys_time& oldest) {
  pg::result q;
  if (auto ec = statement(sql::webhook_backlog, "count webhook events", params(), q)) return ec;
  count = static_cast<std::size_t>(q.int64(0, 0));
  oldest = q.time(0, 1);
  return {};
}

}  // namespace otpd::service
