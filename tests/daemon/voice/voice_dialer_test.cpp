// voice_dialer over real callers, against a raw SIP peer on 127.0.0.1: what an attempt reports
// when the call's code fails.
#include "daemon/voice/voice_dialer.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "tests/support/raw_sip_peer.hpp"

namespace otpd::service {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::raw_sip_peer;

config::voice_trunk trunk_to(std::string name, std::uint16_t port) {
  config::voice_trunk t;
  t.name = std::move(name);
  t.uri = "sip:127.0.0.1:" + std::to_string(port);
  t.ring_timeout = 5s;
  t.max_call = 10s;
  return t;
}

TEST(voice_dialer, an_exception_in_the_call_ends_the_attempt_as_an_internal_error) {
  // Two trunks that answer 180 to every INVITE. The progress callback throws once the INVITE
  // has left: the dialer reports the attempt placed and failed with internal_error, and does
  // not take the bug for the first trunk's failure (the second is never tried).
  const auto ringing = [](const std::string& m) {
    if (!m.starts_with("INVITE ")) return std::vector<std::string>{};
    return std::vector<std::string>{test::sip_response_to(m, 180, "Ringing")};
  };
  raw_sip_peer first(raw_sip_peer::transport::udp, ringing);
  raw_sip_peer second(raw_sip_peer::transport::udp, ringing);
  config::voice cfg;
  cfg.trunks = {trunk_to("first", first.port()), trunk_to("second", second.port())};
  cfg.trunks[1].priority = 1;
  asio::io_context io;
  std::unique_ptr<voice_dialer> dialer;
  std::string why;
  ASSERT_FALSE(voice_dialer::create(io.get_executor(), cfg, {}, {"en"}, "en", dialer, why)) << why;

  call_order order;
  order.to = "+84912345678";
  order.code = "4821";
  order.on_event = [](const voice::call_event& e, const std::string&) {
    if (e.state == voice::call_state::trying) throw std::runtime_error("progress failed");
  };
  std::optional<dialed> out;
  asio::co_spawn(io, dialer->call(std::move(order)), [&](std::exception_ptr e, dialed d) {
    if (e) std::rethrow_exception(e);
    out = std::move(d);
  });
  io.run_for(20s);
  ASSERT_TRUE(out) << "the attempt never ended";
  EXPECT_EQ(out->error, "internal_error");
  EXPECT_TRUE(out->placed);
  EXPECT_EQ(out->trunk, "first");
  EXPECT_TRUE(out->failed_over.empty());
  EXPECT_EQ(out->result.final.state, voice::call_state::failed);
  EXPECT_EQ(out->result.final.sip_reason, "internal error: progress failed");
  EXPECT_EQ(dialer->active_calls(), 0u);
  EXPECT_TRUE(first.wait_for("INVITE ", 1s));
  EXPECT_TRUE(second.received().empty());
  const call_record rec = record_of(*out);
  EXPECT_EQ(rec.status, attempt_status::failed);
  EXPECT_EQ(rec.error, "internal_error");
}

}  // namespace
}  // namespace otpd::service
