#include "smpp/proto/status.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace otpd::smpp {
namespace {

using boost::system::error_code;

error_code st(std::uint32_t v) { return {static_cast<int>(v), command_status_category()}; }

TEST(status, messages_carry_the_smpp_name_and_meaning) {
  EXPECT_EQ(make_error_code(command_status::throttled).message(),
            "ESME_RTHROTTLED: throttling error");
  EXPECT_EQ(make_error_code(command_status::invalid_dest_addr).message(),
            "ESME_RINVDSTADR: invalid destination address");
  EXPECT_EQ(st(0x400).message(), "ESME_R0x00000400: SMSC vendor-specific error");
  EXPECT_EQ(st(0x12345).message(), "ESME_R0x00012345: reserved status");
  EXPECT_STREQ(command_status_category().name(), "smpp.command_status");
}

TEST(status, an_error_code_converts_implicitly_from_both_enums) {
  const error_code a = command_status::message_queue_full;
  const error_code b = errc::enquire_link_timeout;
  EXPECT_EQ(&a.category(), &command_status_category());
  EXPECT_EQ(&b.category(), &error_category());
  EXPECT_NE(a, b);
  EXPECT_FALSE(error_code(command_status::ok));  // ESME_ROK is success
}

TEST(status, names_of_every_listed_status) {
  struct row {
    std::uint32_t v;
    const char* name;
  };
  for (const row r : {row{0x00, "ESME_ROK"},
                      row{0x01, "ESME_RINVMSGLEN"},
                      row{0x02, "ESME_RINVCMDLEN"},
                      row{0x03, "ESME_RINVCMDID"},
                      row{0x04, "ESME_RINVBNDSTS"},
                      row{0x05, "ESME_RALYBND"},
                      row{0x08, "ESME_RSYSERR"},
                      row{0x0A, "ESME_RINVSRCADR"},
                      row{0x0B, "ESME_RINVDSTADR"},
                      row{0x0D, "ESME_RBINDFAIL"},
                      row{0x0E, "ESME_RINVPASWD"},
                      row{0x0F, "ESME_RINVSYSID"},
                      row{0x14, "ESME_RMSGQFUL"},
                      row{0x45, "ESME_RSUBMITFAIL"},
                      row{0x50, "ESME_RINVDSTTON"},
                      row{0x58, "ESME_RTHROTTLED"},
                      row{0x62, "ESME_RINVEXPIRY"},
                      row{0x64, "ESME_RX_T_APPN"},
                      row{0x65, "ESME_RX_P_APPN"},
                      row{0x66, "ESME_RX_R_APPN"},
                      row{0xC0, "ESME_RINVOPTPARSTREAM"},
                      row{0xC2, "ESME_RINVPARLEN"},
                      row{0xC4, "ESME_RINVOPTPARAMVAL"},
                      row{0xFE, "ESME_RDELIVERYFAILURE"},
                      row{0xFF, "ESME_RUNKNOWNERR"}}) {
    EXPECT_STREQ(status_name(r.v), r.name);
  }
}

TEST(status, unlisted_values_are_rendered_in_hex_and_survive_a_second_call) {
  const char* a = status_name(0x0401);
  const char* b = status_name(0x0009);  // a hole in Table 5-2
  EXPECT_STREQ(a, "ESME_R0x00000401");
  EXPECT_STREQ(b, "ESME_R0x00000009");
  EXPECT_STREQ(status_name(0xFFFFFFFF), "ESME_R0xFFFFFFFF");
}

TEST(status, errc_messages_are_distinct) {
  std::set<std::string> seen;
  for (int e = static_cast<int>(errc::invalid_command_length);
       e <= static_cast<int>(errc::invalid_field); ++e) {
    const std::string m = error_code(e, error_category()).message();
    EXPECT_EQ(m.find("unknown smpp error"), std::string::npos) << e;
    EXPECT_TRUE(seen.insert(m).second) << m;
  }
  EXPECT_STREQ(error_category().name(), "smpp");
}

TEST(status, status_for_decode_errors) {
  EXPECT_EQ(status_for(errc::invalid_command_length), command_status::invalid_cmd_length);
  EXPECT_EQ(status_for(errc::unknown_command_id), command_status::invalid_cmd_id);
  EXPECT_EQ(status_for(errc::truncated_body), command_status::invalid_msg_length);
  EXPECT_EQ(status_for(errc::c_string_unterminated), command_status::invalid_msg_length);
  EXPECT_EQ(status_for(errc::c_string_too_long), command_status::invalid_msg_length);
  EXPECT_EQ(status_for(errc::sm_length_mismatch), command_status::invalid_msg_length);
  EXPECT_EQ(status_for(errc::trailing_bytes), command_status::invalid_msg_length);
  EXPECT_EQ(status_for(errc::invalid_tlv), command_status::invalid_optional_part);
  EXPECT_EQ(status_for(errc::invalid_tlv_length), command_status::invalid_param_length);
}

TEST(status, status_for_other_codes) {
  EXPECT_EQ(status_for(error_code{}), command_status::ok);
  EXPECT_EQ(status_for(errc::unexpected_pdu), command_status::system_error);
  EXPECT_EQ(status_for(command_status::throttled), command_status::throttled);  // passes through
  EXPECT_EQ(status_for(boost::system::errc::make_error_code(boost::system::errc::io_error)),
            command_status::system_error);
}

TEST(status, rebind_is_required_when_the_session_is_unusable) {
  for (const errc e : {errc::invalid_command_length, errc::enquire_link_timeout,
                       errc::connection_closed, errc::bind_timeout, errc::unbound}) {
    EXPECT_TRUE(requires_rebind(e)) << error_code(e).message();
  }
  EXPECT_TRUE(requires_rebind(command_status::invalid_bind_status));
  EXPECT_TRUE(requires_rebind(command_status::already_bound));
  EXPECT_TRUE(requires_rebind(command_status::invalid_cmd_length));
  // A malformed PDU or a refused message leaves the bind intact.
  for (const errc e : {errc::unknown_command_id, errc::truncated_body, errc::invalid_tlv,
                       errc::response_timeout, errc::window_full, errc::deadline_passed}) {
    EXPECT_FALSE(requires_rebind(e)) << error_code(e).message();
  }
  for (const command_status s :
       {command_status::ok, command_status::throttled, command_status::invalid_dest_addr,
        command_status::system_error, command_status::invalid_cmd_id}) {
    EXPECT_FALSE(requires_rebind(s)) << error_code(s).message();
  }
}

TEST(status, throttling) {
  EXPECT_TRUE(is_throttling(command_status::throttled));
  EXPECT_TRUE(is_throttling(command_status::message_queue_full));
  EXPECT_FALSE(is_throttling(command_status::system_error));
  EXPECT_FALSE(is_throttling(errc::window_full));
  EXPECT_FALSE(is_throttling(error_code{}));
}

TEST(status, retryable) {
  for (const command_status s :
       {command_status::throttled, command_status::message_queue_full, command_status::system_error,
        command_status::rx_temp_app_error, command_status::submit_failed,
        command_status::invalid_bind_status}) {
    EXPECT_TRUE(is_retryable(s)) << error_code(s).message();
    EXPECT_FALSE(is_permanent_rejection(s)) << error_code(s).message();
  }
  for (const errc e : {errc::window_full, errc::not_bound, errc::no_bind_available,
                       errc::connection_closed, errc::unbound}) {
    EXPECT_TRUE(is_retryable(e)) << error_code(e).message();
  }
  // Written without an answer: the SMSC may have it. Never resubmit blindly (DESIGN §5).
  EXPECT_FALSE(is_retryable(errc::response_timeout));
  EXPECT_FALSE(is_retryable(errc::unknown_outcome));
  EXPECT_FALSE(is_retryable(errc::deadline_passed));
  EXPECT_FALSE(is_retryable(error_code{}));
}

TEST(status, permanent_rejections) {
  for (const command_status s :
       {command_status::invalid_dest_addr, command_status::invalid_dest_ton,
        command_status::invalid_dest_npi, command_status::invalid_source_addr,
        command_status::invalid_esm_class, command_status::rx_perm_app_error,
        command_status::rx_reject_app_error, command_status::invalid_msg_length,
        command_status::invalid_expiry, command_status::invalid_param_length,
        command_status::invalid_optional_param_value}) {
    EXPECT_TRUE(is_permanent_rejection(s)) << error_code(s).message();
    EXPECT_FALSE(is_retryable(s)) << error_code(s).message();
  }
  EXPECT_TRUE(is_permanent_rejection(errc::encoding_error));
  EXPECT_FALSE(is_permanent_rejection(errc::response_timeout));
  EXPECT_FALSE(is_permanent_rejection(command_status::throttled));
  EXPECT_FALSE(is_permanent_rejection(error_code{}));
}

TEST(status, no_code_is_both_retryable_and_permanent) {
  for (std::uint32_t v = 0; v <= 0x500; ++v) {
    EXPECT_FALSE(is_retryable(st(v)) && is_permanent_rejection(st(v))) << v;
  }
  for (int e = 1; e <= static_cast<int>(errc::invalid_field); ++e) {
    const error_code ec(e, error_category());
    EXPECT_FALSE(is_retryable(ec) && is_permanent_rejection(ec)) << ec.message();
  }
}

}  // namespace
}  // namespace otpd::smpp
