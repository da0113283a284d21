// Where the verification service sends its events (verification.updated): the webhook sender
// in the daemon, a recording fake in tests. The service writes each event to the store's
// webhook outbox in the transaction of the change it reports (store.hpp), then posts it here.
#pragma once

#include <string>

#include <boost/asio/awaitable.hpp>

namespace otpd::service {

class notifier {
 public:
  virtual ~notifier() = default;
  virtual void start() = 0;
  // Whether events are wanted at all (a webhook URL is configured): when not, the service
  // writes none to the outbox.
  virtual bool enabled() const = 0;
  // One event (a JSON text) was committed to the outbox: deliver it (the sender delivers what
  // the outbox holds, this one included).
  virtual void post(std::string json) = 0;
  // Takes no more events; join() resumes once the work under way has ended.
  virtual void stop() = 0;
  virtual boost::asio::awaitable<void> join() = 0;
};

}  // namespace otpd::service
