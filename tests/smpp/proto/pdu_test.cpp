#include "smpp/proto/pdu.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace otpd::smpp {
namespace {

TEST(pdu, command_id_of_every_alternative) {
  EXPECT_EQ(command_id_of(pdu_body(generic_nack{})), command_id::generic_nack);
  EXPECT_EQ(command_id_of(pdu_body(bind_receiver{})), command_id::bind_receiver);
  EXPECT_EQ(command_id_of(pdu_body(bind_receiver_resp{})), command_id::bind_receiver_resp);
  EXPECT_EQ(command_id_of(pdu_body(bind_transmitter{})), command_id::bind_transmitter);
  EXPECT_EQ(command_id_of(pdu_body(bind_transmitter_resp{})), command_id::bind_transmitter_resp);
  EXPECT_EQ(command_id_of(pdu_body(bind_transceiver{})), command_id::bind_transceiver);
  EXPECT_EQ(command_id_of(pdu_body(bind_transceiver_resp{})), command_id::bind_transceiver_resp);
  EXPECT_EQ(command_id_of(pdu_body(outbind{})), command_id::outbind);
  EXPECT_EQ(command_id_of(pdu_body(unbind{})), command_id::unbind);
  EXPECT_EQ(command_id_of(pdu_body(unbind_resp{})), command_id::unbind_resp);
  EXPECT_EQ(command_id_of(pdu_body(enquire_link{})), command_id::enquire_link);
  EXPECT_EQ(command_id_of(pdu_body(enquire_link_resp{})), command_id::enquire_link_resp);
  EXPECT_EQ(command_id_of(pdu_body(submit_sm{})), command_id::submit_sm);
  EXPECT_EQ(command_id_of(pdu_body(submit_sm_resp{})), command_id::submit_sm_resp);
  EXPECT_EQ(command_id_of(pdu_body(deliver_sm{})), command_id::deliver_sm);
  EXPECT_EQ(command_id_of(pdu_body(deliver_sm_resp{})), command_id::deliver_sm_resp);
  EXPECT_EQ(command_id_of(pdu_body(data_sm{})), command_id::data_sm);
  EXPECT_EQ(command_id_of(pdu_body(data_sm_resp{})), command_id::data_sm_resp);
  EXPECT_EQ(command_id_of(pdu_body(query_sm{})), command_id::query_sm);
  EXPECT_EQ(command_id_of(pdu_body(query_sm_resp{})), command_id::query_sm_resp);
  EXPECT_EQ(command_id_of(pdu_body(cancel_sm{})), command_id::cancel_sm);
  EXPECT_EQ(command_id_of(pdu_body(cancel_sm_resp{})), command_id::cancel_sm_resp);
  EXPECT_EQ(command_id_of(pdu_body(replace_sm{})), command_id::replace_sm);
  EXPECT_EQ(command_id_of(pdu_body(replace_sm_resp{})), command_id::replace_sm_resp);
  EXPECT_EQ(command_id_of(pdu_body(alert_notification{})), command_id::alert_notification);
  EXPECT_EQ(command_id_of(pdu{0, 1, submit_sm{}}), command_id::submit_sm);
}

TEST(pdu, wire_values_of_command_ids) {
  // SMPP 3.4 §5.1.2.1
  EXPECT_EQ(static_cast<std::uint32_t>(command_id::submit_sm), 0x00000004u);
  EXPECT_EQ(static_cast<std::uint32_t>(command_id::data_sm_resp), 0x80000103u);
  EXPECT_EQ(static_cast<std::uint32_t>(command_id::enquire_link), 0x00000015u);
}

TEST(pdu, names) {
  EXPECT_STREQ(to_string(command_id::submit_sm_resp), "submit_sm_resp");
  EXPECT_STREQ(to_string(command_id::alert_notification), "alert_notification");
  EXPECT_STREQ(to_string(command_id::generic_nack), "generic_nack");
  EXPECT_STREQ(to_string(static_cast<command_id>(0x00000021)), "unknown");  // submit_multi
}

TEST(pdu, name_of_every_body_type_is_known_and_distinct) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < std::variant_size_v<pdu_body>; ++i) {
    // Build each alternative by index through a table of defaults.
    static const pdu_body bodies[] = {generic_nack{},
                                      bind_receiver{},
                                      bind_receiver_resp{},
                                      bind_transmitter{},
                                      bind_transmitter_resp{},
                                      bind_transceiver{},
                                      bind_transceiver_resp{},
                                      outbind{},
                                      unbind{},
                                      unbind_resp{},
                                      enquire_link{},
                                      enquire_link_resp{},
                                      submit_sm{},
                                      submit_sm_resp{},
                                      deliver_sm{},
                                      deliver_sm_resp{},
                                      data_sm{},
                                      data_sm_resp{},
                                      query_sm{},
                                      query_sm_resp{},
                                      cancel_sm{},
                                      cancel_sm_resp{},
                                      replace_sm{},
                                      replace_sm_resp{},
                                      alert_notification{}};
    ASSERT_EQ(bodies[i].index(), i);
    const std::string n = to_string(command_id_of(bodies[i]));
    EXPECT_NE(n, "unknown");
    EXPECT_TRUE(names.insert(n).second) << n;
  }
}

TEST(pdu, response_ids) {
  EXPECT_EQ(response_id_for(command_id::submit_sm), command_id::submit_sm_resp);
  EXPECT_EQ(response_id_for(command_id::deliver_sm), command_id::deliver_sm_resp);
  EXPECT_EQ(response_id_for(command_id::data_sm), command_id::data_sm_resp);
  EXPECT_EQ(response_id_for(command_id::bind_transmitter), command_id::bind_transmitter_resp);
  EXPECT_EQ(response_id_for(command_id::bind_receiver), command_id::bind_receiver_resp);
  EXPECT_EQ(response_id_for(command_id::bind_transceiver), command_id::bind_transceiver_resp);
  EXPECT_EQ(response_id_for(command_id::query_sm), command_id::query_sm_resp);
  EXPECT_EQ(response_id_for(command_id::cancel_sm), command_id::cancel_sm_resp);
  EXPECT_EQ(response_id_for(command_id::replace_sm), command_id::replace_sm_resp);
  EXPECT_EQ(response_id_for(command_id::unbind), command_id::unbind_resp);
  EXPECT_EQ(response_id_for(command_id::enquire_link), command_id::enquire_link_resp);
  // No response exists: outbind (§4.1.7), alert_notification (§4.12), responses, unknown ids.
  EXPECT_EQ(response_id_for(command_id::outbind), command_id::generic_nack);
  EXPECT_EQ(response_id_for(command_id::alert_notification), command_id::generic_nack);
  EXPECT_EQ(response_id_for(command_id::submit_sm_resp), command_id::generic_nack);
  EXPECT_EQ(response_id_for(command_id::generic_nack), command_id::generic_nack);
  EXPECT_EQ(response_id_for(static_cast<command_id>(0x21)), command_id::generic_nack);
}

TEST(pdu, responses_have_bit_31) {
  EXPECT_TRUE(is_response(command_id::generic_nack));
  EXPECT_TRUE(is_response(command_id::deliver_sm_resp));
  EXPECT_FALSE(is_response(command_id::deliver_sm));
  EXPECT_FALSE(is_response(command_id::alert_notification));
}

}  // namespace
}  // namespace otpd::smpp
