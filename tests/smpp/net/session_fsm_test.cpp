// Scripted runs of the sans-I/O session: PDUs in, PDUs and events out, time passed by hand.
#include "smpp/net/session_fsm.hpp"

#include <gtest/gtest.h>

#include <set>

#include "smpp/proto/codec.hpp"
#include "smpp/proto/status.hpp"
#include "smpp/proto/tlv.hpp"

namespace otpd::smpp {
namespace {

using namespace std::chrono_literals;

// The events of type T; moved out of `evs` when T cannot be copied (event::deliver).
template <class T, class Events>
std::vector<T> events_of(Events&& evs) {
  std::vector<T> out;
  for (auto& e : evs) {
    if (auto* p = std::get_if<T>(&e)) {
      if constexpr (std::is_copy_constructible_v<T>) {
        out.push_back(*p);
      } else {
        out.push_back(std::move(*p));
      }
    }
  }
  return out;
}

struct harness {
  explicit harness(session_config cfg = default_config()) : fsm(std::move(cfg)) {}

  static session_config default_config() {
    session_config c;
    c.type = bind_type::transceiver;
    c.system_id = "otpd";
    c.password = secret("secret");
    c.window = 3;
    c.bind_timeout = 5s;
    c.response_timeout = 2s;
    c.enquire_link_interval = 10s;
    c.drain_timeout = 3s;
    c.unbind_timeout = 1s;
    return c;
  }

  // Decodes and clears what the fsm wrote.
  std::vector<pdu> written() {
    std::vector<pdu> out;
    const std::string& bytes = fsm.output();
    framer f(1 << 20);
    f.put({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    for (;;) {
      boost::system::error_code ec;
      auto frame = f.next(ec);
      EXPECT_FALSE(ec);
      if (ec || frame.empty()) break;
      pdu p;
      EXPECT_FALSE(decode(frame, p));
      out.push_back(std::move(p));
    }
    fsm.consume_output();
    return out;
  }

  void feed(const pdu& p) {
    std::string bytes;
    ASSERT_FALSE(encode(p, bytes));
    fsm.on_bytes({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, t);
  }
  void feed_raw(std::string_view bytes) {
    fsm.on_bytes({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, t);
  }

  void bind() {
    fsm.on_connected(t);
    auto w = written();
    ASSERT_EQ(w.size(), 1u);
    ASSERT_TRUE(std::holds_alternative<bind_transceiver>(w[0].body));
    feed(pdu{0, w[0].sequence_number, bind_transceiver_resp{{"SMSC", {}}}});
    auto evs = fsm.take_events();
    ASSERT_EQ(events_of<event::bound>(evs).size(), 1u);
    ASSERT_EQ(fsm.state(), session_state::bound);
  }

  static outbound_message message(std::uint64_t id, std::size_t parts = 1,
                                  time_point deadline = time_point::max()) {
    outbound_message m;
    m.id = id;
    m.deadline = deadline;
    for (std::size_t i = 0; i < parts; ++i) {
      submit_sm sm;
      sm.source = {5, 0, "OTPD"};
      sm.dest = {1, 1, "84912345678"};
      sm.short_message = "part " + std::to_string(i + 1);
      m.parts.push_back(sm);
    }
    return m;
  }

  bool submit(std::uint64_t id, std::size_t parts = 1, time_point deadline = time_point::max()) {
    auto m = message(id, parts, deadline);
    return fsm.submit(m, t);
  }

  session_fsm fsm;
  time_point t = time_point{} + 1000s;
};

pdu submit_resp(std::uint32_t seq, std::uint32_t status = 0, std::string id = "abc") {
  return pdu{status, seq, submit_sm_resp{std::move(id)}};
}

TEST(session_fsm, binds_with_configured_credentials_and_reports_bound) {
  harness h;
  h.fsm.on_connected(h.t);
  auto w = h.written();
  ASSERT_EQ(w.size(), 1u);
  const auto& b = std::get<bind_transceiver>(w[0].body);
  EXPECT_EQ(b.system_id, "otpd");
  EXPECT_EQ(b.password, "secret");
  EXPECT_EQ(b.interface_version, 0x34);
  EXPECT_EQ(w[0].sequence_number, 1u);
  EXPECT_EQ(h.fsm.state(), session_state::binding);
  EXPECT_FALSE(h.fsm.has_room());
  pdu resp{0, 1, bind_transceiver_resp{{"SMSC", {}}}};
  set_u8(std::get<bind_transceiver_resp>(resp.body).tlvs, tlv_tag::sc_interface_version, 0x34);
  h.feed(resp);
  auto bound = events_of<event::bound>(h.fsm.take_events());
  ASSERT_EQ(bound.size(), 1u);
  EXPECT_EQ(bound[0].smsc_system_id, "SMSC");
  EXPECT_EQ(bound[0].sc_interface_version, 0x34);
  EXPECT_TRUE(h.fsm.has_room());
}

TEST(session_fsm, each_bind_type_sends_its_pdu) {
  for (auto type : {bind_type::transmitter, bind_type::receiver, bind_type::transceiver}) {
    auto cfg = harness::default_config();
    cfg.type = type;
    harness h(cfg);
    h.fsm.on_connected(h.t);
    auto w = h.written();
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(command_id_of(w[0]), type == bind_type::transmitter ? command_id::bind_transmitter
                                   : type == bind_type::receiver  ? command_id::bind_receiver
                                                                  : command_id::bind_transceiver);
  }
}

TEST(session_fsm, refused_bind_reports_the_status_and_closes) {
  harness h;
  h.fsm.on_connected(h.t);
  auto w = h.written();
  h.feed(pdu{static_cast<std::uint32_t>(command_status::invalid_password), w[0].sequence_number,
             bind_transceiver_resp{}});
  auto evs = h.fsm.take_events();
  auto failed = events_of<event::bind_failed>(evs);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].ec, command_status::invalid_password);
  ASSERT_EQ(events_of<event::closed>(evs).size(), 1u);
  EXPECT_EQ(h.fsm.state(), session_state::closed);
}

TEST(session_fsm, bind_without_response_times_out) {
  harness h;
  h.fsm.on_connected(h.t);
  h.written();
  EXPECT_EQ(h.fsm.next_deadline(), h.t + 5s);
  h.fsm.on_timer(h.t + 4s);
  EXPECT_EQ(h.fsm.state(), session_state::binding);
  h.fsm.on_timer(h.t + 5s);
  auto failed = events_of<event::bind_failed>(h.fsm.take_events());
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].ec, errc::bind_timeout);
  EXPECT_EQ(h.fsm.state(), session_state::closed);
}

TEST(session_fsm, no_enquire_link_before_the_bind_completes) {
  auto cfg = harness::default_config();
  cfg.bind_timeout = 60s;
  harness h(cfg);
  h.fsm.on_connected(h.t);
  h.written();
  h.fsm.on_timer(h.t + 30s);  // three enquire_link intervals
  EXPECT_TRUE(h.written().empty());
}

TEST(session_fsm, enquire_link_after_a_quiet_interval_and_dead_peer_detection) {
  harness h;
  h.bind();
  EXPECT_EQ(h.fsm.next_deadline(), h.t + 10s);
  h.fsm.on_timer(h.t + 9s);
  EXPECT_TRUE(h.written().empty());
  h.t += 10s;
  h.fsm.on_timer(h.t);
  auto w = h.written();
  ASSERT_EQ(w.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<enquire_link>(w[0].body));
  h.feed(pdu{0, w[0].sequence_number, enquire_link_resp{}});
  EXPECT_EQ(h.fsm.state(), session_state::bound);
  // The next one is not answered: the peer is dead after the response timeout.
  h.t += 10s;
  h.fsm.on_timer(h.t);
  ASSERT_EQ(h.written().size(), 1u);
  h.t += 2s;
  h.fsm.on_timer(h.t);
  auto closed = events_of<event::closed>(h.fsm.take_events());
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].reason, errc::enquire_link_timeout);
  EXPECT_TRUE(requires_rebind(closed[0].reason));
}

TEST(session_fsm, answers_the_smscs_enquire_link_with_its_sequence_number) {
  harness h;
  h.bind();
  h.feed(pdu{0, 777, enquire_link{}});
  auto w = h.written();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<enquire_link_resp>(w[0].body));
  EXPECT_EQ(w[0].sequence_number, 777u);
}

TEST(session_fsm, window_bounds_outstanding_submits) {
  harness h;
  h.bind();
  EXPECT_TRUE(h.submit(1));
  EXPECT_TRUE(h.submit(2));
  EXPECT_TRUE(h.submit(3));
  EXPECT_FALSE(h.fsm.has_room());
  EXPECT_FALSE(h.submit(4));
  auto w = h.written();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(h.fsm.in_flight(), 3u);
  h.feed(submit_resp(w[1].sequence_number, 0, "id-2"));
  auto done = events_of<event::submit_done>(h.fsm.take_events());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].result.id, 2u);
  EXPECT_FALSE(done[0].result.ec);
  ASSERT_EQ(done[0].result.parts.size(), 1u);
  EXPECT_EQ(done[0].result.parts[0].message_id, "id-2");
  EXPECT_TRUE(h.fsm.has_room());
  EXPECT_TRUE(h.submit(4));
  EXPECT_EQ(h.written().size(), 1u);
}

TEST(session_fsm, sequence_numbers_wrap_to_one_after_0x7fffffff) {
  harness h;
  h.bind();
  h.fsm.set_last_sequence(0x7FFFFFFE);
  h.submit(1);
  h.submit(2);
  h.submit(3);
  auto w = h.written();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].sequence_number, 0x7FFFFFFFu);
  EXPECT_EQ(w[1].sequence_number, 1u);
  EXPECT_EQ(w[2].sequence_number, 2u);
}

TEST(session_fsm, a_submit_without_response_is_an_unknown_outcome) {
  harness h;
  h.bind();
  h.submit(9);
  h.written();
  h.fsm.on_timer(h.t + 1999ms);
  EXPECT_TRUE(h.fsm.take_events().empty());
  h.fsm.on_timer(h.t + 2s);
  auto done = events_of<event::submit_done>(h.fsm.take_events());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].result.ec, errc::response_timeout);
  EXPECT_TRUE(done[0].result.outcome_unknown);
  EXPECT_EQ(h.fsm.in_flight(), 0u);
  EXPECT_EQ(h.fsm.state(), session_state::bound);
}

// A response at every moment relative to the response timeout (2 s) and the late window
// (10 s): before the timeout it completes the message; after it, within the window, it is
// reported as a late response (accepted, refused or nacked) and counted; after the window it is
// a stray PDU. The bind stays up in every case.
TEST(session_fsm, a_response_after_the_timeout_is_reported_late_within_the_window) {
  using namespace std::chrono;
  const std::vector<milliseconds> arrivals = {1s,  1999ms,  2s,  2001ms, 9999ms,
                                              10s, 11999ms, 12s, 30s};
  enum class answer { accepted, refused, nacked };
  for (answer how : {answer::accepted, answer::refused, answer::nacked}) {
    for (milliseconds at : arrivals) {
      SCOPED_TRACE(testing::Message()
                   << "answer " << static_cast<int>(how) << " at " << at.count() << " ms");
      session_config cfg = harness::default_config();
      cfg.late_response_window = 10s;
      harness h(cfg);
      h.bind();
      ASSERT_TRUE(h.submit(7));
      auto w = h.written();
      ASSERT_EQ(w.size(), 1u);
      const std::uint32_t seq = w[0].sequence_number;
      const bool timed_out = at >= 2s;
      const time_point when = h.t + at;
      if (timed_out) {
        h.fsm.on_timer(h.t + 2s);  // the timeout fires on time
        auto done = events_of<event::submit_done>(h.fsm.take_events());
        ASSERT_EQ(done.size(), 1u);
        EXPECT_TRUE(done[0].result.outcome_unknown);
        EXPECT_EQ(h.fsm.late_awaited(), 1u);
      }
      const std::uint32_t status =
          how == answer::accepted ? 0u
                                  : static_cast<std::uint32_t>(command_status::invalid_dest_addr);
      pdu resp = how == answer::nacked
                     ? pdu{status, seq, generic_nack{}}
                     : submit_resp(seq, status, how == answer::accepted ? "m-1" : "");
      if (how == answer::nacked) resp.command_status = 0x3;  // ESME_RINVCMDID
      h.t = when;
      h.feed(resp);
      auto evs = h.fsm.take_events();
      auto late = events_of<event::late_response>(evs);
      auto done = events_of<event::submit_done>(evs);
      auto stray = events_of<event::protocol_error>(evs);
      if (!timed_out) {
        EXPECT_EQ(done.size(), 1u);
        EXPECT_TRUE(late.empty());
      } else if (at < 2s + 10s) {
        ASSERT_EQ(late.size(), 1u);
        EXPECT_TRUE(done.empty());
        EXPECT_TRUE(stray.empty());
        EXPECT_EQ(late[0].id, 7u);
        EXPECT_EQ(late[0].part, 0u);
        EXPECT_EQ(late[0].sequence_number, seq);
        EXPECT_EQ(late[0].command_status, resp.command_status);
        EXPECT_EQ(late[0].message_id, how == answer::accepted ? "m-1" : "");
        EXPECT_EQ(h.fsm.counters().late_responses, 1u);
      } else {
        EXPECT_TRUE(late.empty());
        EXPECT_EQ(h.fsm.counters().late_responses, 0u);
      }
      EXPECT_EQ(h.fsm.late_awaited(), 0u);
      // The same response again is a stray one.
      h.feed(resp);
      EXPECT_TRUE(events_of<event::late_response>(h.fsm.take_events()).empty());
      EXPECT_EQ(h.fsm.state(), session_state::bound);
      EXPECT_EQ(h.fsm.in_flight(), 0u);
    }
  }
}

TEST(session_fsm, a_late_response_names_the_part_that_timed_out) {
  harness h;
  h.bind();
  ASSERT_TRUE(h.submit(4, 3));
  auto w = h.written();
  ASSERT_EQ(w.size(), 1u);
  h.feed(submit_resp(w[0].sequence_number, 0, "p1"));
  w = h.written();
  ASSERT_EQ(w.size(), 1u);
  h.fsm.on_timer(h.t + 2s);
  auto done = events_of<event::submit_done>(h.fsm.take_events());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].result.outcome_unknown);
  ASSERT_EQ(done[0].result.parts.size(), 1u);
  EXPECT_TRUE(h.written().empty());  // the third part is never written
  h.t += 3s;
  h.feed(submit_resp(w[0].sequence_number, 0, "p2"));
  auto late = events_of<event::late_response>(h.fsm.take_events());
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].id, 4u);
  EXPECT_EQ(late[0].part, 1u);
  EXPECT_EQ(late[0].message_id, "p2");
}

// At most late_kept timed-out submits are remembered (the oldest forgotten first), and their
// sequence numbers are not given to new PDUs while they are.
TEST(session_fsm, late_responses_awaited_are_bounded_and_their_numbers_not_reused) {
  session_config cfg = harness::default_config();
  cfg.late_kept = 2;
  cfg.window = 1;
  harness h(cfg);
  h.bind();
  std::vector<std::uint32_t> seqs;
  for (std::uint64_t id = 1; id <= 3; ++id) {
    ASSERT_TRUE(h.submit(id));
    auto w = h.written();
    ASSERT_EQ(w.size(), 1u);
    seqs.push_back(w[0].sequence_number);
    h.t += 2s;
    h.fsm.on_timer(h.t);
    ASSERT_EQ(events_of<event::submit_done>(h.fsm.take_events()).size(), 1u);
    EXPECT_EQ(h.fsm.late_awaited(), std::min<std::size_t>(id, 2));
  }
  h.feed(submit_resp(seqs[0]));  // forgotten: stray
  auto evs = h.fsm.take_events();
  EXPECT_TRUE(events_of<event::late_response>(evs).empty());
  EXPECT_EQ(events_of<event::protocol_error>(evs).size(), 1u);
  // The next number would be seqs[2] + 1; make it wrap onto the awaited ones.
  h.fsm.set_last_sequence(seqs[1] - 1);
  ASSERT_TRUE(h.submit(9));
  auto w = h.written();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].sequence_number, seqs[1]);
  EXPECT_NE(w[0].sequence_number, seqs[2]);
  h.feed(submit_resp(seqs[1], 0, "late-2"));
  h.feed(submit_resp(seqs[2], 0, "late-3"));
  auto late = events_of<event::late_response>(h.fsm.take_events());
  ASSERT_EQ(late.size(), 2u);
  EXPECT_EQ(late[0].id, 2u);
  EXPECT_EQ(late[1].id, 3u);
}

TEST(session_fsm, a_refused_submit_reports_the_smsc_status) {
  harness h;
  h.bind();
  h.submit(1);
  auto w = h.written();
  h.feed(submit_resp(w[0].sequence_number,
                     static_cast<std::uint32_t>(command_status::invalid_dest_addr), ""));
  auto done = events_of<event::submit_done>(h.fsm.take_events());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].result.ec, command_status::invalid_dest_addr);
  EXPECT_TRUE(is_permanent_rejection(done[0].result.ec));
  EXPECT_FALSE(done[0].result.outcome_unknown);
}

TEST(session_fsm, throttled_first_part_returns_the_message_and_slows_down) {
  harness h;
  h.bind();
  h.submit(1);
  auto w = h.written();
  h.feed(
      submit_resp(w[0].sequence_number, static_cast<std::uint32_t>(command_status::throttled), ""));
  auto evs = h.fsm.take_events();
  auto returned = events_of<event::returned>(evs);
  ASSERT_EQ(returned.size(), 1u);
  EXPECT_EQ(returned[0].message.id, 1u);
  EXPECT_EQ(returned[0].reason, command_status::throttled);
  EXPECT_TRUE(events_of<event::submit_done>(evs).empty());
  EXPECT_TRUE(h.fsm.flow().throttled());
  // A new message waits for the pause, then goes out: no fixed long parking.
  h.submit(2);
  EXPECT_TRUE(h.written().empty());
  const time_point resume = h.fsm.next_deadline();
  EXPECT_GT(resume, h.t);
  EXPECT_LE(resume, h.t + 1s);
  h.fsm.on_timer(resume);
  EXPECT_EQ(h.written().size(), 1u);
}

TEST(session_fsm, parts_go_in_order_one_at_a_time_and_a_throttled_part_is_resent_first) {
  harness h;
  h.bind();
  ASSERT_TRUE(h.submit(1, 3));
  auto w = h.written();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(std::get<submit_sm>(w[0].body).short_message, "part 1");
  h.feed(submit_resp(w[0].sequence_number, 0, "m1"));
  w = h.written();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(std::get<submit_sm>(w[0].body).short_message, "part 2");
  h.feed(
      submit_resp(w[0].sequence_number, static_cast<std::uint32_t>(command_status::throttled), ""));
  EXPECT_TRUE(events_of<event::returned>(h.fsm.take_events()).empty());
  EXPECT_TRUE(h.written().empty());
  h.t = h.fsm.next_deadline();
  h.fsm.on_timer(h.t);
  w = h.written();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(std::get<submit_sm>(w[0].body).short_message, "part 2");
  h.feed(submit_resp(w[0].sequence_number, 0, "m2"));
  // The rate was halved by the throttle: part 3 waits for its token, then follows.
  h.t = h.fsm.next_deadline();
  h.fsm.on_timer(h.t);
  w = h.written();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(std::get<submit_sm>(w[0].body).short_message, "part 3");
  h.feed(submit_resp(w[0].sequence_number, 0, "m3"));
  auto done = events_of<event::submit_done>(h.fsm.take_events());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].result.ec);
  ASSERT_EQ(done[0].result.parts.size(), 3u);
  EXPECT_EQ(done[0].result.parts[2].message_id, "m3");
}

TEST(session_fsm, never_writes_a_message_after_its_deadline) {
  // A throttle pause delays message 4 past its deadline.
  harness h3;
  h3.bind();
  h3.submit(1);
  auto w3 = h3.written();
  h3.feed(submit_resp(w3[0].sequence_number, static_cast<std::uint32_t>(command_status::throttled),
                      ""));
  h3.fsm.take_events();
  ASSERT_TRUE(h3.submit(4, 1, h3.t + 10ms));
  EXPECT_TRUE(h3.written().empty());
  h3.t += 50ms;
  h3.fsm.on_timer(h3.t);
  auto done = events_of<event::submit_done>(h3.fsm.take_events());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].result.id, 4u);
  EXPECT_EQ(done[0].result.ec, errc::deadline_passed);
  EXPECT_FALSE(done[0].result.outcome_unknown);
  h3.t += 10s;
  h3.fsm.on_timer(h3.t);
  for (const pdu& p : h3.written()) EXPECT_FALSE(std::holds_alternative<submit_sm>(p.body));
}

TEST(session_fsm, connection_lost_mid_window_separates_unknown_from_unwritten) {
  harness h;
  h.bind();
  h.submit(1);
  h.submit(2);
  auto w = h.written();
  h.feed(submit_resp(w[0].sequence_number, 0, "x"));
  h.fsm.take_events();
  // Message 1 was answered, message 2 is in flight.
  h.fsm.on_transport_closed(make_error_code(errc::connection_closed), h.t);
  auto evs = h.fsm.take_events();
  auto done = events_of<event::submit_done>(evs);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].result.id, 2u);
  EXPECT_EQ(done[0].result.ec, errc::unknown_outcome);
  EXPECT_TRUE(done[0].result.outcome_unknown);
  ASSERT_EQ(events_of<event::closed>(evs).size(), 1u);
  EXPECT_EQ(h.fsm.state(), session_state::closed);
}

TEST(session_fsm, unwritten_messages_come_back_when_the_bind_drops) {
  harness h;
  h.bind();
  h.submit(1);
  auto w = h.written();
  h.feed(
      submit_resp(w[0].sequence_number, static_cast<std::uint32_t>(command_status::throttled), ""));
  h.fsm.take_events();
  ASSERT_TRUE(h.submit(2));  // waits for the pause
  h.fsm.on_transport_closed({}, h.t);
  auto evs = h.fsm.take_events();
  auto back = events_of<event::returned>(evs);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].message.id, 2u);
  EXPECT_EQ(back[0].reason, errc::connection_closed);
  EXPECT_TRUE(events_of<event::submit_done>(evs).empty());
}

TEST(session_fsm, smsc_unbind_is_answered_and_closes) {
  harness h;
  h.bind();
  h.feed(pdu{0, 55, unbind{}});
  auto w = h.written();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<unbind_resp>(w[0].body));
  EXPECT_EQ(w[0].sequence_number, 55u);
  EXPECT_EQ(h.fsm.state(), session_state::closed);
}

TEST(session_fsm, graceful_unbind_waits_for_in_flight_responses) {
  harness h;
  h.bind();
  h.submit(1);
  auto w = h.written();
  h.fsm.unbind(h.t);
  EXPECT_EQ(h.fsm.state(), session_state::draining);
  EXPECT_FALSE(h.fsm.has_room());
  EXPECT_TRUE(h.written().empty());  // no unbind while a response is due
  h.feed(submit_resp(w[0].sequence_number, 0, "late"));
  auto done = events_of<event::submit_done>(h.fsm.take_events());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].result.ec);
  w = h.written();
  ASSERT_EQ(w.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<unbind>(w[0].body));
  h.feed(pdu{0, w[0].sequence_number, unbind_resp{}});
  EXPECT_EQ(h.fsm.state(), session_state::closed);
}

TEST(session_fsm, drain_is_bounded_in_time) {
  auto cfg = harness::default_config();
  cfg.response_timeout = 10s;  // longer than the drain: the drain deadline must end it
  harness h(cfg);
  h.bind();
  h.submit(1);
  h.written();
  h.fsm.unbind(h.t);
  h.fsm.on_timer(h.t + 2s);
  EXPECT_TRUE(h.written().empty());
  h.fsm.on_timer(h.t + 3s);
  auto w = h.written();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<unbind>(w[0].body));
  // No unbind_resp either: closed after unbind_timeout; the submit is an unknown outcome.
  h.fsm.on_timer(h.t + 4s);
  auto evs = h.fsm.take_events();
  auto done = events_of<event::submit_done>(evs);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].result.outcome_unknown);
  EXPECT_EQ(h.fsm.state(), session_state::closed);
}

TEST(session_fsm, deliver_sm_is_answered_and_reported) {
  harness h;
  h.bind();
  deliver_sm d;
  d.esm_class = 0x04;
  d.short_message = "id:1 stat:DELIVRD";
  h.feed(pdu{0, 4242, d});
  auto w = h.written();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<deliver_sm_resp>(w[0].body));
  EXPECT_EQ(w[0].sequence_number, 4242u);
  EXPECT_EQ(w[0].command_status, 0u);
  auto delivered = events_of<event::deliver>(h.fsm.take_events());
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(std::get<deliver_sm>(delivered[0].message).short_message, d.short_message);
}

TEST(session_fsm, a_deferred_deliver_sm_is_answered_when_the_owner_says_so) {
  harness h;
  h.fsm.defer_deliver_answers();
  h.bind();
  deliver_sm d;
  d.esm_class = 0x04;
  d.short_message = "id:1 stat:DELIVRD";
  h.feed(pdu{0, 4242, d});
  h.feed(pdu{0, 4243, d});
  h.feed(pdu{0, 4244, data_sm{}});
  EXPECT_TRUE(h.written().empty());  // nothing until the owner answers
  EXPECT_EQ(h.fsm.unanswered_delivers(), 3u);
  auto delivered = events_of<event::deliver>(h.fsm.take_events());
  ASSERT_EQ(delivered.size(), 3u);
  EXPECT_EQ(delivered[0].sequence_number, 4242u);
  EXPECT_EQ(delivered[2].sequence_number, 4244u);

  // Out of order, one with a temporary error for the SMSC to send it again.
  const auto appn = static_cast<std::uint32_t>(command_status::rx_temp_app_error);
  h.fsm.answer_deliver(4243, appn);
  h.fsm.answer_deliver(4244, 0);
  h.fsm.answer_deliver(4242, 0);
  h.fsm.answer_deliver(4242, appn);  // answered already: nothing more
  h.fsm.answer_deliver(7, 0);        // never received: nothing
  auto w = h.written();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].sequence_number, 4243u);
  EXPECT_TRUE(std::holds_alternative<deliver_sm_resp>(w[0].body));
  EXPECT_EQ(w[0].command_status, appn);
  EXPECT_EQ(w[1].sequence_number, 4244u);
  EXPECT_TRUE(std::holds_alternative<data_sm_resp>(w[1].body));
  EXPECT_EQ(w[1].command_status, 0u);
  EXPECT_EQ(w[2].sequence_number, 4242u);
  EXPECT_EQ(w[2].command_status, 0u);
  EXPECT_EQ(h.fsm.unanswered_delivers(), 0u);
  EXPECT_EQ(h.fsm.counters().delivers_received, 3u);
}

TEST(session_fsm, a_deferred_answer_after_the_connection_closed_is_not_written) {
  harness h;
  h.fsm.defer_deliver_answers();
  h.bind();
  h.feed(pdu{0, 9, deliver_sm{}});
  h.fsm.on_transport_closed(make_error_code(errc::connection_closed), h.t);
  h.fsm.answer_deliver(9, 0);
  EXPECT_TRUE(h.written().empty());
}

TEST(session_fsm, a_deliver_answer_dropped_unanswered_answers_ok_once) {
  std::vector<std::uint32_t> sent;
  {
    deliver_answer a([&](std::uint32_t st) { sent.push_back(st); });
    EXPECT_TRUE(a.pending());
    deliver_answer b = std::move(a);
    EXPECT_FALSE(a.pending());
    EXPECT_TRUE(b.pending());
  }
  deliver_answer c([&](std::uint32_t st) { sent.push_back(st); });
  c.answer(0x64);
  c.answer(0);  // once only
  EXPECT_FALSE(c.pending());
  EXPECT_EQ(sent, (std::vector<std::uint32_t>{0u, 0x64u}));
}

TEST(session_fsm, a_transmitter_refuses_deliver_sm_and_a_receiver_refuses_submits) {
  auto cfg = harness::default_config();
  cfg.type = bind_type::transmitter;
  harness tx(cfg);
  tx.fsm.on_connected(tx.t);
  auto w = tx.written();
  tx.feed(pdu{0, w[0].sequence_number, bind_transmitter_resp{}});
  tx.feed(pdu{0, 5, deliver_sm{}});
  w = tx.written();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].command_status, static_cast<std::uint32_t>(command_status::invalid_bind_status));

  cfg.type = bind_type::receiver;
  harness rx(cfg);
  rx.fsm.on_connected(rx.t);
  w = rx.written();
  rx.feed(pdu{0, w[0].sequence_number, bind_receiver_resp{}});
  EXPECT_EQ(rx.fsm.state(), session_state::bound);
  EXPECT_FALSE(rx.submit(1));
}

TEST(session_fsm, a_garbage_length_nacks_and_closes) {
  harness h;
  h.bind();
  h.feed_raw(std::string("\x00\x00\x00\x05\x00\x00\x00\x15", 8));
  auto w = h.written();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<generic_nack>(w[0].body));
  EXPECT_EQ(w[0].command_status, static_cast<std::uint32_t>(command_status::invalid_cmd_length));
  auto closed = events_of<event::closed>(h.fsm.take_events());
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_TRUE(requires_rebind(closed[0].reason));
}

TEST(session_fsm, an_unknown_command_is_nacked_and_the_bind_stays_up) {
  harness h;
  h.bind();
  // command_length 16, command_id 0x00000099, status 0, sequence 31
  h.feed_raw(std::string("\x00\x00\x00\x10\x00\x00\x00\x99\x00\x00\x00\x00\x00\x00\x00\x1f", 16));
  auto w = h.written();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<generic_nack>(w[0].body));
  EXPECT_EQ(w[0].sequence_number, 31u);
  EXPECT_EQ(w[0].command_status, static_cast<std::uint32_t>(command_status::invalid_cmd_id));
  EXPECT_EQ(h.fsm.state(), session_state::bound);
}

// Error injection: a transport failure after every step of a scripted exchange. Whatever the
// step, each message submitted is accounted for exactly once (done or returned), and the
// written-but-unanswered ones are flagged unknown.
TEST(session_fsm, transport_failure_at_every_step_loses_no_message) {
  for (int fail_at = 0; fail_at < 8; ++fail_at) {
    SCOPED_TRACE(fail_at);
    harness h;
    std::set<std::uint64_t> accounted;
    std::set<std::uint64_t> submitted;
    std::size_t unknown = 0;
    auto collect = [&] {
      for (auto& e : h.fsm.take_events()) {
        if (auto* d = std::get_if<event::submit_done>(&e)) {
          EXPECT_TRUE(accounted.insert(d->result.id).second);
          unknown += d->result.outcome_unknown;
        } else if (auto* r = std::get_if<event::returned>(&e)) {
          EXPECT_TRUE(accounted.insert(r->message.id).second);
        }
      }
    };
    int step = 0;
    auto maybe_fail = [&] {
      if (step++ == fail_at) {
        h.fsm.on_transport_closed({}, h.t);
        collect();
        return true;
      }
      return false;
    };
    h.bind();
    for (std::uint64_t id = 1; id <= 3; ++id) {
      if (h.submit(id)) submitted.insert(id);
    }
    std::vector<pdu> w = h.written();
    bool failed = maybe_fail();
    for (std::size_t i = 0; i < w.size() && !failed; ++i) {
      h.feed(submit_resp(w[i].sequence_number, 0, "id"));
      collect();
      failed = maybe_fail();
      if (!failed && h.submit(10 + i)) submitted.insert(10 + i);
      h.written();
      failed = failed || maybe_fail();
    }
    if (!failed) {
      h.fsm.on_transport_closed({}, h.t);
    }
    collect();
    EXPECT_EQ(accounted, submitted);
    EXPECT_EQ(h.fsm.state(), session_state::closed);
    EXPECT_EQ(h.fsm.in_flight(), 0u);
  }
}

}  // namespace
}  // namespace otpd::smpp
