#include "smpp/proto/pdu.hpp"

#include <array>

namespace otpd::smpp {
namespace {

// The command_id each body type stands for (SMPP 3.4 §5.1.2.1).
template <class T>
constexpr command_id id_of = command_id::generic_nack;  // only generic_nack falls through
template <>
constexpr command_id id_of<bind_receiver> = command_id::bind_receiver;
template <>
constexpr command_id id_of<bind_receiver_resp> = command_id::bind_receiver_resp;
template <>
constexpr command_id id_of<bind_transmitter> = command_id::bind_transmitter;
template <>
constexpr command_id id_of<bind_transmitter_resp> = command_id::bind_transmitter_resp;
template <>
constexpr command_id id_of<bind_transceiver> = command_id::bind_transceiver;
template <>
constexpr command_id id_of<bind_transceiver_resp> = command_id::bind_transceiver_resp;
template <>
constexpr command_id id_of<outbind> = command_id::outbind;
template <>
constexpr command_id id_of<unbind> = command_id::unbind;
template <>
constexpr command_id id_of<unbind_resp> = command_id::unbind_resp;
template <>
constexpr command_id id_of<enquire_link> = command_id::enquire_link;
template <>
constexpr command_id id_of<enquire_link_resp> = command_id::enquire_link_resp;
template <>
constexpr command_id id_of<submit_sm> = command_id::submit_sm;
template <>
constexpr command_id id_of<submit_sm_resp> = command_id::submit_sm_resp;
template <>
constexpr command_id id_of<deliver_sm> = command_id::deliver_sm;
template <>
constexpr command_id id_of<deliver_sm_resp> = command_id::deliver_sm_resp;
template <>
constexpr command_id id_of<data_sm> = command_id::data_sm;
template <>
constexpr command_id id_of<data_sm_resp> = command_id::data_sm_resp;
template <>
constexpr command_id id_of<query_sm> = command_id::query_sm;
template <>
constexpr command_id id_of<query_sm_resp> = command_id::query_sm_resp;
template <>
constexpr command_id id_of<cancel_sm> = command_id::cancel_sm;
template <>
constexpr command_id id_of<cancel_sm_resp> = command_id::cancel_sm_resp;
template <>
constexpr command_id id_of<replace_sm> = command_id::replace_sm;
template <>
constexpr command_id id_of<replace_sm_resp> = command_id::replace_sm_resp;
template <>
constexpr command_id id_of<alert_notification> = command_id::alert_notification;

// Built from the variant's own list of alternatives, so that the order cannot drift.
template <class... Ts>
constexpr std::array<command_id, sizeof...(Ts)> make_ids(std::variant<Ts...>*) {
  return {id_of<Ts>...};
}
constexpr auto ids_by_index = make_ids(static_cast<pdu_body*>(nullptr));

}  // namespace

command_id command_id_of(const pdu_body& body) noexcept {
  // valueless_by_exception cannot happen for these nothrow-movable alternatives in practice;
  // fall back to generic_nack rather than index out of range.
  const std::size_t i = body.index();
  return i < ids_by_index.size() ? ids_by_index[i] : command_id::generic_nack;
}

const char* to_string(command_id id) noexcept {
  switch (id) {
    case command_id::generic_nack:
      return "generic_nack";
    case command_id::bind_receiver:
      return "bind_receiver";
    case command_id::bind_receiver_resp:
      return "bind_receiver_resp";
    case command_id::bind_transmitter:
      return "bind_transmitter";
    case command_id::bind_transmitter_resp:
      return "bind_transmitter_resp";
    case command_id::query_sm:
      return "query_sm";
    case command_id::query_sm_resp:
      return "query_sm_resp";
    case command_id::submit_sm:
      return "submit_sm";
    case command_id::submit_sm_resp:
      return "submit_sm_resp";
    case command_id::deliver_sm:
      return "deliver_sm";
    case command_id::deliver_sm_resp:
      return "deliver_sm_resp";
    case command_id::unbind:
      return "unbind";
    case command_id::unbind_resp:
      return "unbind_resp";
    case command_id::replace_sm:
      return "replace_sm";
    case command_id::replace_sm_resp:
      return "replace_sm_resp";
    case command_id::cancel_sm:
      return "cancel_sm";
    case command_id::cancel_sm_resp:
      return "cancel_sm_resp";
    case command_id::bind_transceiver:
      return "bind_transceiver";
    case command_id::bind_transceiver_resp:
      return "bind_transceiver_resp";
    case command_id::outbind:
      return "outbind";
    case command_id::enquire_link:
      return "enquire_link";
    case command_id::enquire_link_resp:
      return "enquire_link_resp";
    case command_id::alert_notification:
      return "alert_notification";
    case command_id::data_sm:
      return "data_sm";
    case command_id::data_sm_resp:
      return "data_sm_resp";
  }
  return "unknown";
}

command_id response_id_for(command_id request) noexcept {
  switch (request) {
    // SMPP 3.4 §4: every request except outbind (§4.1.7) and alert_notification (§4.12) has
    // a response whose id is the request's with bit 31 set (§5.1.2.1).
    case command_id::bind_receiver:
    case command_id::bind_transmitter:
    case command_id::bind_transceiver:
    case command_id::query_sm:
    case command_id::submit_sm:
    case command_id::deliver_sm:
    case command_id::unbind:
    case command_id::replace_sm:
    case command_id::cancel_sm:
    case command_id::enquire_link:
    case command_id::data_sm:
      return static_cast<command_id>(static_cast<std::uint32_t>(request) | 0x80000000u);
    default:
      return command_id::generic_nack;
  }
}

}  // namespace otpd::smpp
