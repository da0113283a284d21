#include "smpp/net/session_fsm.hpp"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "smpp/proto/codec.hpp"
#include "smpp/proto/status.hpp"
#include "smpp/proto/tlv.hpp"

namespace otpd::smpp {
namespace {

constexpr std::uint32_t max_sequence = 0x7FFFFFFF;  // SMPP 3.4 §5.1.4

// Room for a submit_sm before it is encoded: a std::string that grows frees its old buffer
// unwiped, and that buffer would keep the PDUs (and codes) already queued in it.
void reserve_output(std::string& out) {
  constexpr std::size_t room = 2048;
  if (out.capacity() - out.size() >= room) return;
  std::string bigger;
  bigger.reserve(std::max(out.capacity() * 2, out.size() + room));
  bigger.assign(out);
  wipe(out);
  out.swap(bigger);
}

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};

}  // namespace

void wipe_text(submit_sm& sm) noexcept {
  wipe(sm.short_message);
  for (tlv& t : sm.tlvs) wipe(t.value);
}

namespace {

pdu make_bind(const session_config& cfg, std::uint32_t seq) {
  bind_fields f{cfg.system_id, std::string(cfg.password.view()), cfg.system_type,
                cfg.interface_version, cfg.address_range};
  pdu p;
  p.sequence_number = seq;
  switch (cfg.type) {
    case bind_type::transmitter:
      p.body = bind_transmitter{f};
      break;
    case bind_type::receiver:
      p.body = bind_receiver{f};
      break;
    case bind_type::transceiver:
      p.body = bind_transceiver{f};
      break;
  }
  return p;
}

// An empty body for a response id, to answer requests we refuse (SMPP 3.4 §2.7).
pdu_body response_body(command_id id) {
  switch (id) {
    case command_id::submit_sm_resp:
      return submit_sm_resp{};
    case command_id::deliver_sm_resp:
      return deliver_sm_resp{};
    case command_id::data_sm_resp:
      return data_sm_resp{};
    case command_id::query_sm_resp:
      return query_sm_resp{};
    case command_id::cancel_sm_resp:
      return cancel_sm_resp{};
    case command_id::replace_sm_resp:
      return replace_sm_resp{};
    case command_id::bind_transmitter_resp:
      return bind_transmitter_resp{};
    case command_id::bind_receiver_resp:
      return bind_receiver_resp{};
    case command_id::bind_transceiver_resp:
      return bind_transceiver_resp{};
    case command_id::unbind_resp:
      return unbind_resp{};
    case command_id::enquire_link_resp:
      return enquire_link_resp{};
    default:
      return generic_nack{};
  }
}

}  // namespace

const char* to_string(bind_type t) noexcept {
  switch (t) {
    case bind_type::transmitter:
      return "transmitter";
    case bind_type::receiver:
      return "receiver";
    case bind_type::transceiver:
      return "transceiver";
  }
  return "unknown";
}

const char* to_string(session_state s) noexcept {
  switch (s) {
    case session_state::idle:
      return "idle";
    case session_state::binding:
      return "binding";
    case session_state::bound:
      return "bound";
    case session_state::draining:
      return "draining";
    case session_state::unbinding:
      return "unbinding";
    case session_state::closed:
      return "closed";
  }
  return "unknown";
}

session_fsm::session_fsm(session_config cfg)
    : cfg_(std::move(cfg)), framer_(cfg_.max_pdu_length), flow_(cfg_.flow, time_point{}) {
  if (cfg_.window == 0) cfg_.window = 1;
}

std::uint32_t session_fsm::next_sequence() noexcept {
  // 1..0x7FFFFFFF, wrapping; skip a number still awaiting its response.
  do {
    sequence_ = sequence_ >= max_sequence ? 1 : sequence_ + 1;
  } while (pending_.count(sequence_) != 0 || late_.count(sequence_) != 0);
  return sequence_;
}

void session_fsm::send(const pdu& p) {
  // Our own PDUs are built within the spec's limits; an encode error here is a bug in the
  // caller's message, reported where messages are written (pump()).
  (void)encode(p, out_);
}

void session_fsm::send_response(std::uint32_t sequence, command_id id, std::uint32_t status) {
  pdu p;
  p.command_status = status;
  p.sequence_number = sequence;
  p.body = response_body(id);
  if (id == command_id::generic_nack) ++counters_.generic_nacks_sent;
  send(p);
}

void session_fsm::take_deliver(std::uint32_t seq, command_id resp, bool bind_type_allows,
                               std::variant<deliver_sm, data_sm> message) {
  if (!answering() || !bind_type_allows) {
    send_response(seq, resp, static_cast<std::uint32_t>(command_status::invalid_bind_status));
    return;
  }
  ++counters_.delivers_received;
  if (defer_delivers_) {
    // A sequence number the SMSC reuses before we answered: the earlier one is superseded.
    unanswered_[seq] = resp;
  } else {
    send_response(seq, resp, 0);
  }
  event::deliver ev;
  ev.message = std::move(message);
  ev.sequence_number = seq;
  events_.push_back(std::move(ev));
}

void session_fsm::answer_deliver(std::uint32_t sequence_number, std::uint32_t command_status) {
  auto it = unanswered_.find(sequence_number);
  if (it == unanswered_.end()) return;
  const command_id resp = it->second;
  unanswered_.erase(it);
  if (!answering()) return;
  send_response(sequence_number, resp, command_status);
}

void session_fsm::on_connected(time_point now) {
  now_ = now;
  if (state_ != session_state::idle) return;
  state_ = session_state::binding;
  last_received_ = now;
  const std::uint32_t seq = next_sequence();
  pdu bind = make_bind(cfg_, seq);
  send(bind);
  // The password's copy in the PDU goes now; the encoded bytes are wiped once written.
  std::visit(
      [](auto& b) {
        if constexpr (std::is_base_of_v<bind_fields, std::decay_t<decltype(b)>>) wipe(b.password);
      },
      bind.body);
  pending_[seq] = pending_request{request_kind::bind, now + cfg_.bind_timeout};
}

void session_fsm::on_bytes(std::span<const std::uint8_t> bytes, time_point now) {
  framer_.put(bytes);
  on_read(0, now);
}

void session_fsm::on_read(std::size_t n, time_point now) {
  now_ = now;
  framer_.commit(n);
  while (state_ != session_state::closed) {
    error_code ec;
    std::span<const std::uint8_t> frame = framer_.next(ec);
    if (ec) {
      // The length field is garbage: the stream cannot be resynchronised (SMPP 3.4 §2.7).
      send_response(0, command_id::generic_nack, static_cast<std::uint32_t>(status_for(ec)));
      events_.push_back(event::protocol_error{ec, 0, 0});
      close(ec);
      return;
    }
    if (frame.empty()) break;
    last_received_ = now;
    decode_info info;
    ec = decode(frame, scratch_, &info);
    if (ec) {
      handle_decode_error(ec, info.raw_command_id, scratch_, info.header_valid);
      continue;
    }
    handle_pdu(scratch_, now);
  }
  pump(now);
}

void session_fsm::handle_decode_error(error_code ec, std::uint32_t raw_id, const pdu& p,
                                      bool header_valid) {
  events_.push_back(event::protocol_error{ec, raw_id, p.sequence_number});
  if (!header_valid) return;
  const auto id = static_cast<command_id>(raw_id);
  const auto status = static_cast<std::uint32_t>(status_for(ec));
  if (ec == errc::unknown_command_id) {
    send_response(p.sequence_number, command_id::generic_nack, status);
    return;
  }
  if (!is_response(id)) {
    // A malformed request: answer it with its response and the prescribed status, so that the
    // SMSC retries or reports it rather than waiting for a response timeout.
    send_response(p.sequence_number, response_id_for(id), status);
    return;
  }
  // A malformed response: its header still tells whether the request was accepted.
  if (id == command_id::submit_sm_resp || id == command_id::generic_nack) {
    handle_submit_resp(p.sequence_number, p.command_status, {}, now_);
  }
}

void session_fsm::handle_pdu(pdu& p, time_point now) {
  const std::uint32_t seq = p.sequence_number;
  const std::uint32_t status = p.command_status;
  std::visit(
      overloaded{
          [&](bind_transmitter_resp& b) { handle_bind_resp(p, b); },
          [&](bind_receiver_resp& b) { handle_bind_resp(p, b); },
          [&](bind_transceiver_resp& b) { handle_bind_resp(p, b); },
          [&](submit_sm_resp& r) { handle_submit_resp(seq, status, std::move(r.message_id), now); },
          [&](generic_nack&) {
            ++counters_.generic_nacks_received;
            auto it = pending_.find(seq);
            if (it == pending_.end()) {
              std::string none;
              (void)take_late_response(seq, status, none);
              return;
            }
            switch (it->second.kind) {
              case request_kind::submit:
                handle_submit_resp(seq, status, {}, now);
                break;
              case request_kind::bind:
                pending_.erase(it);
                events_.push_back(
                    event::bind_failed{make_error_code(static_cast<command_status>(status))});
                close(make_error_code(static_cast<command_status>(status)));
                break;
              case request_kind::enquire_link:
                pending_.erase(it);  // the peer is alive, whatever it thinks of the PDU
                break;
              case request_kind::unbind:
                close(errc::unbound);
                break;
            }
          },
          [&](enquire_link&) {
            ++counters_.enquire_links_received;
            send_response(seq, command_id::enquire_link_resp, 0);
          },
          [&](enquire_link_resp&) {
            auto it = pending_.find(seq);
            if (it != pending_.end() && it->second.kind == request_kind::enquire_link) {
              pending_.erase(it);
            }
          },
          [&](smpp::unbind&) {
            send_response(seq, command_id::unbind_resp, 0);
            close(errc::unbound);
          },
          [&](unbind_resp&) {
            if (state_ == session_state::unbinding) close(errc::unbound);
          },
          [&](deliver_sm& d) {
            take_deliver(seq, command_id::deliver_sm_resp, can_receive(cfg_.type), std::move(d));
          },
          [&](data_sm& d) { take_deliver(seq, command_id::data_sm_resp, true, std::move(d)); },
          [&](alert_notification& a) { events_.push_back(event::alert{std::move(a)}); },
          [&](outbind&) {
            // Only meaningful on a connection the SMSC opened (SMPP 3.4 §2.2.1); no response.
            events_.push_back(event::protocol_error{make_error_code(errc::unexpected_pdu),
                                                    static_cast<std::uint32_t>(command_id::outbind),
                                                    seq});
          },
          [&](auto& other) {
            const command_id id = command_id_of(pdu_body{other});
            events_.push_back(event::protocol_error{make_error_code(errc::unexpected_pdu),
                                                    static_cast<std::uint32_t>(id), seq});
            // A request an ESME does not serve (submit_sm, query_sm, bind, ...): refuse it.
            if (!is_response(id)) {
              send_response(seq, response_id_for(id),
                            static_cast<std::uint32_t>(command_status::invalid_cmd_id));
            }
          },
      },
      p.body);
}

void session_fsm::handle_bind_resp(const pdu& p, const bind_resp_fields& body) {
  auto it = pending_.find(p.sequence_number);
  if (it == pending_.end() || it->second.kind != request_kind::bind ||
      state_ != session_state::binding) {
    events_.push_back(event::protocol_error{make_error_code(errc::unexpected_pdu),
                                            static_cast<std::uint32_t>(command_id_of(p)),
                                            p.sequence_number});
    return;
  }
  pending_.erase(it);
  if (p.command_status != 0) {
    const error_code ec = make_error_code(static_cast<command_status>(p.command_status));
    events_.push_back(event::bind_failed{ec});
    close(ec);
    return;
  }
  state_ = session_state::bound;
  events_.push_back(event::bound{body.system_id, get_u8(body.tlvs, tlv_tag::sc_interface_version)});
}

session_fsm::slot_iterator session_fsm::find_slot(std::uint64_t id) noexcept {
  return std::find_if(messages_.begin(), messages_.end(),
                      [id](const message_slot& s) { return s.msg.id == id; });
}

void session_fsm::handle_submit_resp(std::uint32_t sequence, std::uint32_t status,
                                     std::string message_id, time_point now) {
  auto it = pending_.find(sequence);
  if (it == pending_.end() || it->second.kind != request_kind::submit) {
    // A late response to a part already timed out (reported as unknown): the owner learns
    // what the SMSC did with it.
    if (take_late_response(sequence, status, message_id)) return;
    // A stray one: keep the bind.
    events_.push_back(event::protocol_error{make_error_code(errc::unexpected_pdu),
                                            static_cast<std::uint32_t>(command_id::submit_sm_resp),
                                            sequence});
    return;
  }
  const std::uint64_t id = it->second.message_id;
  pending_.erase(it);
  --submits_in_flight_;
  auto slot = find_slot(id);
  if (slot == messages_.end()) return;
  slot->part_in_flight = false;

  if (status == 0) {
    ++counters_.accepted_parts;
    flow_.on_accepted(now);
    slot->outcomes.push_back(part_outcome{0, std::move(message_id)});
    if (++slot->next_part == slot->msg.parts.size()) finish(slot, {});
    return;
  }
  const error_code ec = make_error_code(static_cast<command_status>(status));
  if (is_throttling(ec)) {
    ++counters_.throttled_parts;
    flow_.on_throttled(now);
    if (slot->next_part == 0) {
      // Nothing of this message was accepted: hand it back so that another bind can take it
      // at once; this bind pauses.
      events_.push_back(event::returned{std::move(slot->msg), ec});
      messages_.erase(slot);
    }
    // Otherwise the same part is written again after the pause, before any later part.
    return;
  }
  ++counters_.rejected_parts;
  slot->outcomes.push_back(part_outcome{status, std::move(message_id)});
  finish(slot, ec);
}

bool session_fsm::take_late_response(std::uint32_t sequence, std::uint32_t status,
                                     std::string& message_id) {
  auto it = late_.find(sequence);
  if (it == late_.end()) return false;
  const late_submit late = it->second;
  late_.erase(it);
  std::erase(late_order_, sequence);
  if (now_ >= late.until) return false;
  ++counters_.late_responses;
  events_.push_back(
      event::late_response{late.message_id, late.part, sequence, status, std::move(message_id)});
  return true;
}

void session_fsm::remember_late(std::uint32_t sequence, const pending_request& req,
                                time_point now) {
  if (cfg_.late_kept == 0 || cfg_.late_response_window.count() <= 0) return;
  // Those past their window first, then the oldest while over the bound.
  while (!late_order_.empty()) {
    auto oldest = late_.find(late_order_.front());
    const bool stale = oldest == late_.end() || oldest->second.until <= now;
    if (!stale && late_.size() < cfg_.late_kept) break;
    if (oldest != late_.end()) late_.erase(oldest);
    late_order_.pop_front();
  }
  late_[sequence] = late_submit{req.message_id, req.part, now + cfg_.late_response_window};
  late_order_.push_back(sequence);
}

void session_fsm::finish(slot_iterator it, error_code ec, bool outcome_unknown) {
  submit_result r;
  r.id = it->msg.id;
  r.ec = ec;
  r.parts = std::move(it->outcomes);
  r.outcome_unknown = outcome_unknown;
  if (it->part_in_flight) --submits_in_flight_;
  // The text holds the code: wiped before its memory is freed.
  wipe_text(it->msg);
  messages_.erase(it);
  events_.push_back(event::submit_done{std::move(r)});
}

bool session_fsm::has_room() const noexcept {
  return state_ == session_state::bound && can_submit(cfg_.type) && messages_.size() < cfg_.window;
}

bool session_fsm::submit(outbound_message& msg, time_point now) {
  now_ = now;
  if (!has_room() || msg.parts.empty()) return false;
  messages_.push_back(message_slot{std::move(msg)});
  pump(now);
  return true;
}

void session_fsm::pump(time_point now) {
  if (state_ != session_state::bound && state_ != session_state::draining) return;
  for (std::size_t i = 0; i < messages_.size();) {
    message_slot& s = messages_[i];
    if (s.part_in_flight) {
      ++i;
      continue;
    }
    // While draining, only messages already started are completed.
    if (state_ == session_state::draining && !s.written) {
      ++i;
      continue;
    }
    if (now >= s.msg.deadline) {
      finish(messages_.begin() + static_cast<std::ptrdiff_t>(i), errc::deadline_passed);
      continue;
    }
    if (submits_in_flight_ >= cfg_.window) break;
    if (flow_.next_send_time(now) > now) break;
    const std::uint32_t seq = next_sequence();
    pdu p;
    p.sequence_number = seq;
    p.body = static_cast<const submit_sm&>(s.msg.parts[s.next_part]);
    const std::size_t before = out_.size();
    reserve_output(out_);
    const error_code ec = encode(p, out_);
    wipe_text(std::get<submit_sm>(p.body));
    if (ec) {
      out_.resize(before);
      finish(messages_.begin() + static_cast<std::ptrdiff_t>(i), ec);
      continue;
    }
    pending_[seq] =
        pending_request{request_kind::submit, now + cfg_.response_timeout, s.msg.id, s.next_part};
    s.part_in_flight = true;
    s.written = true;
    ++submits_in_flight_;
    ++counters_.submitted_parts;
    flow_.on_sent(now);
    ++i;
  }
  maybe_send_unbind(now);
}

void session_fsm::on_timer(time_point now) {
  now_ = now;
  if (state_ == session_state::closed || state_ == session_state::idle) return;
  expire(now);
  if (state_ == session_state::closed) return;
  // SMPP 3.4 §4.11: enquire_link only once bound, after a quiet interval.
  if ((state_ == session_state::bound || state_ == session_state::draining) &&
      cfg_.enquire_link_interval.count() > 0 &&
      now - last_received_ >= cfg_.enquire_link_interval &&
      std::none_of(pending_.begin(), pending_.end(),
                   [](const auto& kv) { return kv.second.kind == request_kind::enquire_link; })) {
    const std::uint32_t seq = next_sequence();
    pdu p;
    p.sequence_number = seq;
    p.body = enquire_link{};
    send(p);
    ++counters_.enquire_links_sent;
    pending_[seq] = pending_request{request_kind::enquire_link, now + cfg_.response_timeout};
  }
  pump(now);
}

void session_fsm::expire(time_point now) {
  for (auto it = pending_.begin(); it != pending_.end() && state_ != session_state::closed;) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    const std::uint32_t seq = it->first;
    const pending_request req = it->second;
    it = pending_.erase(it);
    switch (req.kind) {
      case request_kind::bind:
        events_.push_back(event::bind_failed{make_error_code(errc::bind_timeout)});
        close(errc::bind_timeout);
        return;
      case request_kind::enquire_link:
        // A dead peer: nothing answered within the response timeout.
        close(errc::enquire_link_timeout);
        return;
      case request_kind::unbind:
        close(errc::unbound);
        return;
      case request_kind::submit: {
        ++counters_.timed_out_parts;
        remember_late(seq, req, now);
        auto slot = find_slot(req.message_id);
        if (slot != messages_.end()) {
          // Written but unanswered: the SMSC may have taken it. Never resubmit blindly.
          finish(slot, errc::response_timeout, /*outcome_unknown=*/true);
        } else {
          --submits_in_flight_;
        }
        break;
      }
    }
  }
}

void session_fsm::unbind(time_point now) {
  now_ = now;
  switch (state_) {
    case session_state::bound: {
      state_ = session_state::draining;
      drain_deadline_ = now + cfg_.drain_timeout;
      // Messages not started go back to the owner at once.
      for (auto it = messages_.begin(); it != messages_.end();) {
        if (!it->written) {
          events_.push_back(
              event::returned{std::move(it->msg), make_error_code(errc::shutting_down)});
          it = messages_.erase(it);
        } else {
          ++it;
        }
      }
      maybe_send_unbind(now);
      break;
    }
    case session_state::idle:
    case session_state::binding:
      close(errc::shutting_down);
      break;
    default:
      break;
  }
}

void session_fsm::maybe_send_unbind(time_point now) {
  if (state_ != session_state::draining) return;
  if (!messages_.empty() && now < drain_deadline_) return;
  state_ = session_state::unbinding;
  const std::uint32_t seq = next_sequence();
  pdu p;
  p.sequence_number = seq;
  p.body = smpp::unbind{};
  send(p);
  pending_[seq] = pending_request{request_kind::unbind, now + cfg_.unbind_timeout};
}

void session_fsm::on_transport_closed(error_code ec, time_point now) {
  now_ = now;
  close(ec ? ec : make_error_code(errc::connection_closed));
}

void session_fsm::close(error_code reason) {
  if (state_ == session_state::closed) return;
  state_ = session_state::closed;
  for (auto& s : messages_) {
    if (!s.written) {
      events_.push_back(event::returned{std::move(s.msg), reason});
      continue;
    }
    submit_result r;
    r.id = s.msg.id;
    r.parts = std::move(s.outcomes);
    if (s.part_in_flight) {
      // Written without a response: the SMSC may have it (docs/architecture.md §5).
      r.ec = errc::unknown_outcome;
      r.outcome_unknown = true;
    } else {
      r.ec = reason;  // some parts accepted, the rest never written
    }
    events_.push_back(event::submit_done{std::move(r)});
  }
  messages_.clear();
  pending_.clear();
  submits_in_flight_ = 0;
  events_.push_back(event::closed{reason});
}

time_point session_fsm::next_deadline() const noexcept {
  if (state_ == session_state::closed || state_ == session_state::idle) return time_point::max();
  time_point t = time_point::max();
  bool enquire_pending = false;
  for (const auto& [seq, req] : pending_) {
    t = std::min(t, req.deadline);
    enquire_pending |= req.kind == request_kind::enquire_link;
  }
  if ((state_ == session_state::bound || state_ == session_state::draining)) {
    if (!enquire_pending && cfg_.enquire_link_interval.count() > 0) {
      t = std::min(t, last_received_ + cfg_.enquire_link_interval);
    }
    bool writable = false;
    for (const auto& s : messages_) {
      if (!s.part_in_flight) {
        t = std::min(t, s.msg.deadline);
        writable = true;
      }
    }
    if (writable && submits_in_flight_ < cfg_.window) {
      t = std::min(t, flow_.next_send_time(now_));
    }
  }
  if (state_ == session_state::draining) t = std::min(t, drain_deadline_);
  return t;
}

}  // namespace otpd::smpp
