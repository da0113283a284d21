// The test SMSC itself, driven over plain POSIX sockets with hand-built SMPP 3.4 PDUs, so that
// the harness is checked independently of otpd's codec.
#include "tests/support/smsc_process.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace otpd::test {
namespace {

using namespace std::chrono_literals;
using bytes = std::vector<std::uint8_t>;

// SMPP 3.4 §5.1.2 command_id values.
constexpr std::uint32_t generic_nack = 0x80000000;
constexpr std::uint32_t bind_receiver = 0x00000001;
constexpr std::uint32_t bind_transmitter = 0x00000002;
constexpr std::uint32_t submit_sm = 0x00000004;
constexpr std::uint32_t submit_sm_resp = 0x80000004;
constexpr std::uint32_t deliver_sm = 0x00000005;
constexpr std::uint32_t deliver_sm_resp = 0x80000005;
constexpr std::uint32_t unbind = 0x00000006;
constexpr std::uint32_t unbind_resp = 0x80000006;
constexpr std::uint32_t bind_transceiver = 0x00000009;
constexpr std::uint32_t bind_transceiver_resp = 0x80000009;
constexpr std::uint32_t enquire_link = 0x00000015;
constexpr std::uint32_t enquire_link_resp = 0x80000015;

// SMPP 3.4 §5.1.3 command_status values.
constexpr std::uint32_t esme_rok = 0x00;
constexpr std::uint32_t esme_rinvcmdlen = 0x02;
constexpr std::uint32_t esme_rinvbndsts = 0x04;
constexpr std::uint32_t esme_rbindfail = 0x0D;
constexpr std::uint32_t esme_rinvpaswd = 0x0E;
constexpr std::uint32_t esme_rinvsysid = 0x0F;
constexpr std::uint32_t esme_rmsgqful = 0x14;
constexpr std::uint32_t esme_rthrottled = 0x58;

// bind_transceiver, sequence 1, system_id "otpd", password "secret", system_type "",
// interface_version 0x34, addr_ton 0, addr_npi 0, address_range "" (SMPP 3.4 §4.1.5).
const bytes golden_bind_transceiver = {
    0x00, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00,  // header
    0x00, 0x00, 0x00, 0x01,                                                  //
    'o',  't',  'p',  'd',  0x00,                                            // system_id
    's',  'e',  'c',  'r',  'e',  't',  0x00,                                // password
    0x00,                                                                    // system_type
    0x34, 0x00, 0x00,  // interface_version, addr_ton, addr_npi
    0x00,              // address_range
};

class pdu_builder {
 public:
  pdu_builder(std::uint32_t command_id, std::uint32_t sequence) {
    u32(0);
    u32(command_id);
    u32(0);
    u32(sequence);
  }
  pdu_builder& u8(std::uint8_t v) {
    out_.push_back(v);
    return *this;
  }
  pdu_builder& u16(std::uint16_t v) { return u8(v >> 8).u8(v & 0xFF); }
  pdu_builder& u32(std::uint32_t v) { return u16(v >> 16).u16(v & 0xFFFF); }
  pdu_builder& cstr(std::string_view s) {
    out_.insert(out_.end(), s.begin(), s.end());
    return u8(0);
  }
  pdu_builder& raw(const bytes& b) {
    out_.insert(out_.end(), b.begin(), b.end());
    return *this;
  }
  pdu_builder& tlv(std::uint16_t tag, const bytes& value) {
    return u16(tag).u16(static_cast<std::uint16_t>(value.size())).raw(value);
  }
  bytes done() {
    const auto n = static_cast<std::uint32_t>(out_.size());
    for (int i = 0; i < 4; ++i) out_[i] = static_cast<std::uint8_t>(n >> (24 - 8 * i));
    return out_;
  }

 private:
  bytes out_;
};

bytes bind_pdu(std::uint32_t command_id, std::uint32_t sequence, std::string_view system_id,
               std::string_view password) {
  return pdu_builder(command_id, sequence)
      .cstr(system_id)
      .cstr(password)
      .cstr("")
      .u8(0x34)
      .u8(0)
      .u8(0)
      .cstr("")
      .done();
}

struct submit_fields {
  std::string source = "OTPD";
  std::string dest = "84901234567";
  std::uint8_t esm_class = 0;
  std::string validity_period;
  std::uint8_t registered_delivery = 0;
  std::uint8_t data_coding = 0;
  bytes short_message = {'h', 'i'};
};

// SMPP 3.4 §4.4.1
pdu_builder submit_builder(std::uint32_t sequence, const submit_fields& f) {
  pdu_builder b(submit_sm, sequence);
  b.cstr("")  // service_type
      .u8(5)
      .u8(0)
      .cstr(f.source)
      .u8(1)
      .u8(1)
      .cstr(f.dest)
      .u8(f.esm_class)
      .u8(0)  // protocol_id
      .u8(0)  // priority_flag
      .cstr("")
      .cstr(f.validity_period)
      .u8(f.registered_delivery)
      .u8(0)  // replace_if_present_flag
      .u8(f.data_coding)
      .u8(0)  // sm_default_msg_id
      .u8(static_cast<std::uint8_t>(f.short_message.size()))
      .raw(f.short_message);
  return b;
}

bytes submit_pdu(std::uint32_t sequence, const submit_fields& f = {}) {
  return submit_builder(sequence, f).done();
}

std::string to_hex(const bytes& b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (auto c : b) {
    s += digits[c >> 4];
    s += digits[c & 0x0F];
  }
  return s;
}

struct raw_pdu {
  std::uint32_t command_id = 0;
  std::uint32_t command_status = 0;
  std::uint32_t sequence_number = 0;
  bytes body;

  // The C-Octet String starting at `offset` (moved past its NUL).
  std::string cstr(std::size_t& offset) const {
    auto end = std::find(body.begin() + static_cast<std::ptrdiff_t>(offset), body.end(), 0);
    if (end == body.end()) throw std::runtime_error("C-Octet String without NUL");
    std::string s(body.begin() + static_cast<std::ptrdiff_t>(offset), end);
    offset = static_cast<std::size_t>(end - body.begin()) + 1;
    return s;
  }
};

// deliver_sm fields the tests look at (SMPP 3.4 §4.6.1).
struct deliver_fields {
  std::string source;
  std::string dest;
  std::uint8_t esm_class = 0;
  std::string short_message;
  std::vector<std::pair<std::uint16_t, bytes>> tlvs;
};

deliver_fields parse_deliver(const raw_pdu& p) {
  deliver_fields d;
  std::size_t o = 0;
  auto u8 = [&] { return p.body.at(o++); };
  p.cstr(o);  // service_type
  o += 2;
  d.source = p.cstr(o);
  o += 2;
  d.dest = p.cstr(o);
  d.esm_class = u8();
  o += 2;     // protocol_id, priority_flag
  p.cstr(o);  // schedule_delivery_time
  p.cstr(o);  // validity_period
  o += 4;     // registered_delivery .. sm_default_msg_id
  std::size_t length = u8();
  d.short_message.assign(p.body.begin() + static_cast<std::ptrdiff_t>(o),
                         p.body.begin() + static_cast<std::ptrdiff_t>(o + length));
  o += length;
  while (o + 4 <= p.body.size()) {
    std::uint16_t tag = static_cast<std::uint16_t>(p.body[o] << 8 | p.body[o + 1]);
    std::size_t n = static_cast<std::size_t>(p.body[o + 2] << 8 | p.body[o + 3]);
    o += 4;
    d.tlvs.emplace_back(tag, bytes(p.body.begin() + static_cast<std::ptrdiff_t>(o),
                                   p.body.begin() + static_cast<std::ptrdiff_t>(o + n)));
    o += n;
  }
  return d;
}

// A plain blocking TCP client; every read has a deadline.
class smpp_socket {
 public:
  explicit smpp_socket(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~smpp_socket() { ::close(fd_); }
  smpp_socket(const smpp_socket&) = delete;
  smpp_socket& operator=(const smpp_socket&) = delete;

  void send(const bytes& b) {
    std::size_t done = 0;
    while (done < b.size()) {
      auto n = ::send(fd_, b.data() + done, b.size() - done, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      done += static_cast<std::size_t>(n);
    }
  }

  // The next PDU; nullopt on EOF or when none arrives before the timeout (closed() tells).
  std::optional<raw_pdu> read_pdu(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bytes header(16);
    if (!read_exact(header, deadline)) return std::nullopt;
    auto be32 = [&](std::size_t i) {
      return std::uint32_t{header[i]} << 24 | std::uint32_t{header[i + 1]} << 16 |
             std::uint32_t{header[i + 2]} << 8 | header[i + 3];
    };
    raw_pdu p;
    const std::uint32_t length = be32(0);
    p.command_id = be32(4);
    p.command_status = be32(8);
    p.sequence_number = be32(12);
    if (length < 16 || length > 65536) throw std::runtime_error("bad command_length");
    p.body.resize(length - 16);
    if (!read_exact(p.body, deadline)) return std::nullopt;
    return p;
  }

  // Reads PDUs until one with command_id arrives (answering deliver_sm and enquire_link on
  // the way, as an ESME must).
  std::optional<raw_pdu> read_until(std::uint32_t command_id,
                                    std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      auto p = read_pdu(left);
      if (!p || p->command_id == command_id) return p;
      if (p->command_id == deliver_sm || p->command_id == enquire_link) {
        send(pdu_builder(p->command_id | 0x80000000, p->sequence_number).cstr("").done());
      }
    }
  }

  // True when the peer closes the connection before the timeout (any PDUs are skipped).
  bool wait_closed(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_) {
      bytes one(1);
      if (!read_exact(one, deadline) && !closed_) return false;
    }
    return true;
  }

  bool closed() const { return closed_; }

 private:
  bool read_exact(bytes& out, std::chrono::steady_clock::time_point deadline) {
    std::size_t done = 0;
    while (done < out.size()) {
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), INT_MAX)));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      auto n = ::recv(fd_, out.data() + done, out.size() - done, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        closed_ = true;
        return false;
      }
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  int fd_ = -1;
  bool closed_ = false;
};

// Connects and binds as a transceiver of account otpd:secret.
std::unique_ptr<smpp_socket> bound(smsc_process& smsc,
                                   std::uint32_t command_id = bind_transceiver) {
  auto s = std::make_unique<smpp_socket>(smsc.port());
  s->send(bind_pdu(command_id, 1, "otpd", "secret"));
  auto resp = s->read_pdu();
  if (!resp || resp->command_status != esme_rok) throw std::runtime_error("bind failed");
  return s;
}

std::string string_of(const boost::json::object& e, std::string_view key) {
  return std::string(e.at(key).as_string());
}

std::int64_t int_of(const boost::json::object& e, std::string_view key) {
  return e.at(key).to_number<std::int64_t>();
}

std::string body_string(const raw_pdu& p) {
  std::size_t o = 0;
  return p.cstr(o);
}

TEST(smsc_process, bind_transceiver_is_accepted) {
  smsc_process smsc({"--account", "otpd:secret"});
  ASSERT_NE(smsc.port(), 0);
  EXPECT_EQ(smsc.count("listening"), 1u);
  EXPECT_EQ(boost::json::serialize(smsc.events().at(0).at("event")), "\"listening\"");

  smpp_socket s(smsc.port());
  s.send(golden_bind_transceiver);
  auto resp = s.read_pdu();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->command_id, bind_transceiver_resp);
  EXPECT_EQ(resp->command_status, esme_rok);
  EXPECT_EQ(resp->sequence_number, 1u);
  EXPECT_EQ(body_string(*resp), "smsc");

  auto bind = smsc.wait_for(event_with("bind", {{"system_id", "otpd"}}), 10s);
  ASSERT_TRUE(bind);
  EXPECT_EQ(string_of(*bind, "type"), "transceiver");
  EXPECT_EQ(int_of(*bind, "session"), 1);
  EXPECT_EQ(smsc.count("connect"), 1u);

  // A predicate may use the harness itself (it runs without the harness's lock).
  auto again = smsc.wait_for(
      [&](const boost::json::object& e) {
        return smsc.count("bind") == 1 && smsc.events().size() > 1 && e.at("event") == "bind";
      },
      10s);
  EXPECT_TRUE(again);
}

TEST(smsc_process, wrong_credentials_are_rejected) {
  smsc_process smsc({"--account", "otpd:secret", "--account", "other:pw"});
  {
    smpp_socket s(smsc.port());
    s.send(bind_pdu(bind_transceiver, 7, "otpd", "wrong"));
    auto resp = s.read_pdu();
    ASSERT_TRUE(resp);
    EXPECT_EQ(resp->command_id, bind_transceiver_resp);
    EXPECT_EQ(resp->command_status, esme_rinvpaswd);
    EXPECT_EQ(resp->sequence_number, 7u);
    EXPECT_TRUE(resp->body.empty());  // node-smpp sends no body with an error status

    // Still unbound: a submit is refused.
    s.send(submit_pdu(8));
    auto submit_resp = s.read_pdu();
    ASSERT_TRUE(submit_resp);
    EXPECT_EQ(submit_resp->command_status, esme_rinvbndsts);
  }
  {
    smpp_socket s(smsc.port());
    s.send(bind_pdu(bind_transmitter, 1, "nobody", "secret"));
    auto resp = s.read_pdu();
    ASSERT_TRUE(resp);
    EXPECT_EQ(resp->command_status, esme_rinvsysid);
  }
  auto rejected = smsc.wait_for(event_with("bind_rejected", {{"status", esme_rinvsysid}}), 10s);
  ASSERT_TRUE(rejected);
  EXPECT_EQ(string_of(*rejected, "system_id"), "nobody");
  EXPECT_EQ(smsc.count("bind"), 0u);

  smpp_socket ok(smsc.port());
  ok.send(bind_pdu(bind_receiver, 1, "other", "pw"));
  auto resp = ok.read_pdu();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->command_status, esme_rok);
  EXPECT_TRUE(smsc.wait_for(event_with("bind", {{"type", "receiver"}}), 10s));
}

TEST(smsc_process, submit_sm_is_reported_with_its_raw_bytes) {
  smsc_process smsc;
  auto s = bound(smsc);
  submit_fields f;
  f.esm_class = 0x40;  // UDHI
  f.data_coding = 0x08;
  f.validity_period = "000000000500000R";
  // UDH (concatenation 0x00, ref 0x2A, 2 parts, part 1) + UCS2 "Xin" with a non-ASCII char.
  f.short_message = {0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 0x00, 'X', 0x1E, 0xA1, 0x00, 'n'};
  auto pdu = submit_builder(2, f)
                 .tlv(0x020C, {0x00, 0x07})  // sar_msg_ref_num
                 .tlv(0x020E, {0x02})        // sar_total_segments
                 .tlv(0x020F, {0x01})        // sar_segment_seqnum
                 .tlv(0x1401, {0xDE, 0xAD})  // vendor specific
                 .done();
  s->send(pdu);
  auto resp = s->read_pdu();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->command_id, submit_sm_resp);
  EXPECT_EQ(resp->command_status, esme_rok);
  EXPECT_EQ(resp->sequence_number, 2u);
  // Default ids: upper-case hex, 16 digits, counting up from above 2^63.
  EXPECT_EQ(body_string(*resp), "812FC74700000001");

  auto submit = smsc.wait_for_event("submit", 10s);
  ASSERT_TRUE(submit);
  EXPECT_EQ(string_of(*submit, "short_message"), to_hex(f.short_message));
  EXPECT_EQ(int_of(*submit, "sequence_number"), 2);
  EXPECT_EQ(int_of(*submit, "esm_class"), 0x40);
  EXPECT_EQ(int_of(*submit, "data_coding"), 8);
  EXPECT_EQ(string_of(*submit, "validity_period"), "000000000500000R");
  EXPECT_EQ(string_of(*submit, "message_id"), "812FC74700000001");
  EXPECT_EQ(int_of(*submit, "status"), 0);
  const auto& source = submit->at("source").as_object();
  EXPECT_EQ(int_of(source, "ton"), 5);
  EXPECT_EQ(string_of(source, "addr"), "OTPD");
  EXPECT_EQ(string_of(submit->at("dest").as_object(), "addr"), "84901234567");
  const auto& tlvs = submit->at("tlvs").as_array();
  ASSERT_EQ(tlvs.size(), 4u);
  EXPECT_EQ(int_of(tlvs[0].as_object(), "tag"), 0x020C);
  EXPECT_EQ(string_of(tlvs[0].as_object(), "name"), "sar_msg_ref_num");
  EXPECT_EQ(string_of(tlvs[0].as_object(), "hex"), "0007");
  EXPECT_EQ(string_of(tlvs[2].as_object(), "hex"), "01");
  EXPECT_EQ(int_of(tlvs[3].as_object(), "tag"), 0x1401);
  EXPECT_EQ(string_of(tlvs[3].as_object(), "hex"), "dead");

  // message_payload (0x0424) with an empty short_message.
  submit_fields payload;
  payload.short_message = {};
  s->send(submit_builder(3, payload).tlv(0x0424, {'a', 0x00, 'b'}).done());
  auto resp2 = s->read_pdu();
  ASSERT_TRUE(resp2);
  EXPECT_EQ(body_string(*resp2), "812FC74700000002");
  auto second = smsc.wait_for(event_with("submit", {{"sequence_number", 3}}), 10s);
  ASSERT_TRUE(second);
  const auto& tlv = second->at("tlvs").as_array().at(0).as_object();
  EXPECT_EQ(string_of(tlv, "name"), "message_payload");
  EXPECT_EQ(string_of(tlv, "hex"), "610062");
}

TEST(smsc_process, throttle_and_queue_full_take_effect) {
  smsc_process smsc;
  auto s = bound(smsc);
  std::uint32_t seq = 2;
  auto submit_status = [&] {
    s->send(submit_pdu(seq));
    auto resp = s->read_pdu();
    if (!resp || resp->sequence_number != seq++) throw std::runtime_error("no submit_sm_resp");
    return resp->command_status;
  };
  EXPECT_EQ(submit_status(), esme_rok);

  auto ack = smsc.command({{"cmd", "throttle"}, {"every", 2}});
  EXPECT_EQ(string_of(ack, "cmd"), "throttle");
  EXPECT_EQ(submit_status(), esme_rok);
  EXPECT_EQ(submit_status(), esme_rthrottled);
  EXPECT_EQ(submit_status(), esme_rok);
  EXPECT_EQ(submit_status(), esme_rthrottled);
  smsc.command({{"cmd", "throttle"}, {"every", 0}});
  EXPECT_EQ(submit_status(), esme_rok);

  // A window long enough never to end during the test, then ended by command.
  smsc.command({{"cmd", "throttle"}, {"for_ms", 600000}});
  EXPECT_EQ(submit_status(), esme_rthrottled);
  EXPECT_EQ(submit_status(), esme_rthrottled);
  smsc.command({{"cmd", "throttle"}, {"for_ms", 0}});
  EXPECT_EQ(submit_status(), esme_rok);

  smsc.command({{"cmd", "qfull"}, {"every", 1}});
  EXPECT_EQ(submit_status(), esme_rmsgqful);
  smsc.command({{"cmd", "reset"}});
  EXPECT_EQ(submit_status(), esme_rok);

  auto throttled = smsc.wait_for(event_with("submit", {{"status", esme_rthrottled}}), 10s);
  ASSERT_TRUE(throttled);
  EXPECT_TRUE(throttled->at("message_id").is_null());
  EXPECT_THROW(smsc.command({{"cmd", "no_such_command"}}), std::runtime_error);
}

TEST(smsc_process, receipt_follows_registered_delivery) {
  // Ids above 2^63 in hex; the receipt carries the same id in decimal.
  smsc_process smsc({"--id-start", "0xFFFFFFFFFFFFFFFE", "--receipt-id-format", "decimal"});
  auto s = bound(smsc);
  submit_fields f;
  f.registered_delivery = 1;
  f.short_message = {'Y', 'o', 'u', 'r', ' ', 'c', 'o', 'd', 'e'};
  s->send(submit_pdu(2, f));
  auto resp = s->read_pdu();
  ASSERT_TRUE(resp);
  EXPECT_EQ(body_string(*resp), "FFFFFFFFFFFFFFFE");

  auto receipt = s->read_pdu();
  ASSERT_TRUE(receipt);
  ASSERT_EQ(receipt->command_id, deliver_sm);
  auto d = parse_deliver(*receipt);
  EXPECT_EQ(d.esm_class, 0x04);
  EXPECT_EQ(d.source, f.dest);
  EXPECT_EQ(d.dest, f.source);
  EXPECT_EQ(d.short_message.rfind("id:18446744073709551614 sub:001 dlvrd:001 submit date:", 0), 0u)
      << d.short_message;
  EXPECT_NE(d.short_message.find(" stat:DELIVRD err:000 text:Your code"), std::string::npos)
      << d.short_message;
  EXPECT_TRUE(d.tlvs.empty());
  s->send(pdu_builder(deliver_sm_resp, receipt->sequence_number).cstr("").done());

  auto ack = smsc.wait_for(event_with("deliver_sm_resp", {{"kind", "receipt"}}), 10s);
  ASSERT_TRUE(ack);
  EXPECT_EQ(int_of(*ack, "status"), 0);
  EXPECT_EQ(string_of(*ack, "message_id"), "FFFFFFFFFFFFFFFE");
  auto sent = smsc.wait_for_event("receipt_sent", 10s);
  ASSERT_TRUE(sent);
  EXPECT_EQ(string_of(*sent, "receipt_id"), "18446744073709551614");

  // No receipt asked for: none sent. The next id wraps past 2^64 - 1.
  s->send(submit_pdu(3));
  auto resp2 = s->read_pdu();
  ASSERT_TRUE(resp2);
  EXPECT_EQ(body_string(*resp2), "FFFFFFFFFFFFFFFF");
  s->send(pdu_builder(enquire_link, 4).done());
  auto next = s->read_pdu();  // the enquire_link_resp comes before any receipt could
  ASSERT_TRUE(next);
  EXPECT_EQ(next->command_id, enquire_link_resp);
  EXPECT_EQ(smsc.count("receipt_sent"), 1u);
}

TEST(smsc_process, receipt_tlvs_and_stat_per_prefix) {
  smsc_process smsc(
      {"--receipt-tlvs", "--receipt-stat", "8499=UNDELIV:005", "--id-format", "decimal"});
  auto s = bound(smsc);
  submit_fields f;
  f.dest = "84991112222";
  f.registered_delivery = 2;  // on failure only: this destination fails
  s->send(submit_pdu(2, f));
  auto resp = s->read_pdu();
  ASSERT_TRUE(resp);
  const std::string id = body_string(*resp);
  EXPECT_EQ(id, "9308878062554710017");  // 0x812FC74700000001
  auto receipt = s->read_until(deliver_sm);
  ASSERT_TRUE(receipt);
  auto d = parse_deliver(*receipt);
  EXPECT_NE(d.short_message.find("dlvrd:000"), std::string::npos) << d.short_message;
  EXPECT_NE(d.short_message.find("stat:UNDELIV err:005"), std::string::npos) << d.short_message;
  ASSERT_EQ(d.tlvs.size(), 2u);
  bytes id_bytes(id.begin(), id.end());
  id_bytes.push_back(0);
  EXPECT_EQ(d.tlvs[0], (std::pair<std::uint16_t, bytes>{0x001E, id_bytes}));
  EXPECT_EQ(d.tlvs[1], (std::pair<std::uint16_t, bytes>{0x0427, {5}}));  // UNDELIVERABLE
  s->send(pdu_builder(deliver_sm_resp, receipt->sequence_number).cstr("").done());
  EXPECT_TRUE(smsc.wait_for_event("deliver_sm_resp", 10s));
}

TEST(smsc_process, undecodable_pdu_gets_generic_nack) {
  smsc_process smsc;
  auto s = bound(smsc);
  // A submit_sm whose service_type has no NUL: the body ends inside the first field.
  s->send(pdu_builder(submit_sm, 5).u8('A').u8('B').done());
  auto nack = s->read_pdu();
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->command_id, generic_nack);
  EXPECT_EQ(nack->command_status, esme_rinvcmdlen);
  EXPECT_EQ(nack->sequence_number, 5u);
  EXPECT_TRUE(smsc.wait_for(event_with("generic_nack_sent", {{"sequence_number", 5}}), 10s));

  // The session goes on.
  s->send(pdu_builder(enquire_link, 6).done());
  auto resp = s->read_pdu();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->command_id, enquire_link_resp);
  EXPECT_EQ(resp->sequence_number, 6u);
}

TEST(smsc_process, enquire_link_both_ways) {
  smsc_process smsc;
  auto s = bound(smsc);
  s->send(pdu_builder(enquire_link, 2).done());
  auto resp = s->read_pdu();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->command_id, enquire_link_resp);
  auto logged = smsc.wait_for_event("enquire_link", 10s);
  ASSERT_TRUE(logged);
  EXPECT_TRUE(logged->at("bound").as_bool());

  // SMSC -> ESME, answered.
  smsc.command({{"cmd", "enquire_link"}});
  auto from_smsc = s->read_pdu();
  ASSERT_TRUE(from_smsc);
  ASSERT_EQ(from_smsc->command_id, enquire_link);
  s->send(pdu_builder(enquire_link_resp, from_smsc->sequence_number).done());
  EXPECT_TRUE(smsc.wait_for_event("enquire_link_resp", 10s));

  // SMSC -> ESME, not answered: reported after its timeout.
  smsc.command({{"cmd", "enquire_link"}, {"timeout_ms", 100}});
  auto unanswered = s->read_pdu();
  ASSERT_TRUE(unanswered);
  auto report = smsc.wait_for_event("enquire_link_unanswered", 10s);
  ASSERT_TRUE(report);
  EXPECT_EQ(int_of(*report, "sequence_number"), unanswered->sequence_number);
}

TEST(smsc_process, silent_smsc_answers_nothing) {
  smsc_process smsc;
  auto s = bound(smsc);
  smsc.command({{"cmd", "silent"}, {"on", true}});
  s->send(submit_pdu(2));
  s->send(pdu_builder(enquire_link, 3).done());
  ASSERT_TRUE(smsc.wait_for(event_with("enquire_link", {{"answered", false}}), 10s));
  auto submit = smsc.wait_for_event("submit", 10s);
  ASSERT_TRUE(submit);
  EXPECT_FALSE(submit->at("answered").as_bool());
  smsc.command({{"cmd", "silent"}, {"on", false}});
  // The first PDU to come back answers the enquire_link sent after silence ended: neither
  // request of the silent period was answered.
  s->send(pdu_builder(enquire_link, 4).done());
  auto resp = s->read_pdu();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->command_id, enquire_link_resp);
  EXPECT_EQ(resp->sequence_number, 4u);
}

TEST(smsc_process, slow_smsc_answers_after_the_delay) {
  smsc_process smsc({"--submit-delay-ms", "150"});
  auto s = bound(smsc);
  const auto start = std::chrono::steady_clock::now();
  s->send(submit_pdu(2));
  auto resp = s->read_pdu();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->command_status, esme_rok);
  // Node's timers have millisecond granularity: allow that much.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 149ms);
  smsc.command({{"cmd", "delay"}, {"ms", 0}});
  s->send(submit_pdu(3));
  ASSERT_TRUE(s->read_pdu());
}

TEST(smsc_process, sessions_are_closed_on_command) {
  smsc_process smsc;
  auto a = bound(smsc);
  auto b = bound(smsc);
  auto ack = smsc.command({{"cmd", "close_all"}});
  EXPECT_EQ(ack.at("sessions").as_array().size(), 2u);
  EXPECT_TRUE(a->wait_closed());
  EXPECT_TRUE(b->wait_closed());
  EXPECT_TRUE(smsc.wait_for(event_with("close", {{"session", 2}}), 10s));

  // Mid-window drop: the 2nd submit of a session is received, never answered, and the
  // connection closes.
  smsc.command({{"cmd", "drop_after"}, {"n", 2}, {"once", true}});
  auto c = bound(smsc);
  c->send(submit_pdu(2));
  c->send(submit_pdu(3));
  c->send(submit_pdu(4));
  auto first = c->read_pdu();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->sequence_number, 2u);
  EXPECT_FALSE(c->read_pdu());
  EXPECT_TRUE(c->closed());
  auto dropped = smsc.wait_for(event_with("submit", {{"dropped", true}}), 10s);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(int_of(*dropped, "sequence_number"), 3);

  // "once": the next session is not dropped.
  auto d = bound(smsc);
  for (std::uint32_t seq = 2; seq < 5; ++seq) {
    d->send(submit_pdu(seq));
    auto resp = d->read_pdu();
    ASSERT_TRUE(resp);
    EXPECT_EQ(resp->command_status, esme_rok);
  }
  // Every submit answered so far is counted once sync() returns. The one sent after the
  // dropped submit was never processed (the SMSC had closed that session): 2 + 3 submits.
  smsc.sync();
  EXPECT_EQ(smsc.count("submit"), 5u);
  EXPECT_EQ(smsc.count("submit_resp"), 4u);
}

TEST(smsc_process, binds_refused_while_flag_set) {
  smsc_process smsc({"--refuse-binds"});
  {
    smpp_socket s(smsc.port());
    s.send(golden_bind_transceiver);
    auto resp = s.read_pdu();
    ASSERT_TRUE(resp);
    EXPECT_EQ(resp->command_status, esme_rbindfail);
  }
  smsc.command({{"cmd", "refuse_binds"}, {"on", false}});
  EXPECT_NO_THROW(bound(smsc));
}

TEST(smsc_process, mo_and_unbind) {
  smsc_process smsc;
  auto s = bound(smsc);
  auto ack =
      smsc.command({{"cmd", "mo"}, {"source", "84901234567"}, {"dest", "8088"}, {"text", "STOP"}});
  auto mo = s->read_pdu();
  ASSERT_TRUE(mo);
  ASSERT_EQ(mo->command_id, deliver_sm);
  EXPECT_EQ(mo->sequence_number, static_cast<std::uint32_t>(int_of(ack, "sequence_number")));
  auto d = parse_deliver(*mo);
  EXPECT_EQ(d.esm_class, 0);
  EXPECT_EQ(d.source, "84901234567");
  EXPECT_EQ(d.short_message, "STOP");
  s->send(pdu_builder(deliver_sm_resp, mo->sequence_number).cstr("").done());
  EXPECT_TRUE(smsc.wait_for(event_with("deliver_sm_resp", {{"kind", "mo"}}), 10s));

  s->send(pdu_builder(unbind, 9).done());
  auto resp = s->read_pdu();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->command_id, unbind_resp);
  EXPECT_EQ(resp->sequence_number, 9u);
  EXPECT_TRUE(s->wait_closed());  // the SMSC ends its side after unbind_resp
  EXPECT_TRUE(smsc.wait_for_event("unbind", 10s));
  s.reset();  // and the session is over once ours is closed too
  EXPECT_TRUE(smsc.wait_for_event("close", 10s));
}

TEST(smsc_process, receipts_wait_for_a_receiver) {
  smsc_process smsc;
  auto tx = bound(smsc, bind_transmitter);
  submit_fields f;
  f.registered_delivery = 1;
  tx->send(submit_pdu(2, f));
  ASSERT_TRUE(tx->read_pdu());
  ASSERT_TRUE(smsc.wait_for_event("receipt_queued", 10s));
  auto rx = bound(smsc, bind_receiver);
  auto receipt = rx->read_pdu();
  ASSERT_TRUE(receipt);
  EXPECT_EQ(receipt->command_id, deliver_sm);
  EXPECT_EQ(parse_deliver(*receipt).esm_class, 0x04);
}

TEST(smsc_process, exits_on_sigterm_and_on_stdin_close) {
  {
    smsc_process smsc;
    int status = smsc.stop();
    EXPECT_EQ(describe_wait_status(status), "exited with 0");
  }
  // Without the wrapper: closing stdin alone ends the SMSC (what happens if a test crashes).
  std::mutex mutex;
  std::condition_variable cv;
  bool listening = false;
  child_process node({"node", smsc_process::script_path()}, [&](std::string_view line) {
    std::lock_guard lock(mutex);
    if (line.find("\"listening\"") != std::string_view::npos) listening = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return listening; }));
  }
  node.close_stdin();
  auto status = node.wait_exit(std::chrono::steady_clock::now() + 20s);
  ASSERT_TRUE(status);
  EXPECT_EQ(describe_wait_status(*status), "exited with 0");
}

}  // namespace
}  // namespace otpd::test
