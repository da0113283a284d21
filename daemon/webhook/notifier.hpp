// Where the verification service sends its events (verification.updated): the webhook sender
// in the daemon, a recording fake in tests.
#pragma once

#include <string>

#include <boost/asio/awaitable.hpp>

namespace otpd::service {

class notifier {
 public:
  virtual ~notifier() = default;
  virtual void start() = 0;
  // Queues one event (a JSON text).
  virtual void post(std::string json) = 0;
  // Takes no more events; join() resumes once the work under way has ended.
  virtual void stop() = 0;
  virtual boost::asio::awaitable<void> join() = 0;
};

}  // namespace otpd::service
