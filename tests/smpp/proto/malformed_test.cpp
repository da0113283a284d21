// The decoder against hostile input: every truncation of every golden vector, bit flips and
// random bytes. Nothing may crash (ASan/UBSan watch), and the error is the predicted one where
// the input allows a prediction.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "golden.hpp"
#include "smpp/proto/codec.hpp"
#include "smpp/proto/status.hpp"

namespace otpd::smpp {
namespace {

using test::bytes;

boost::system::error_code decode_bytes(const bytes& b, pdu& out, decode_info* info = nullptr) {
  return decode(std::span<const std::uint8_t>(b.data(), b.size()), out, info);
}

void set_length(bytes& b, std::uint32_t len) {
  b[0] = static_cast<std::uint8_t>(len >> 24);
  b[1] = static_cast<std::uint8_t>(len >> 16);
  b[2] = static_cast<std::uint8_t>(len >> 8);
  b[3] = static_cast<std::uint8_t>(len);
}

const tlv_list* tlvs_of(const pdu_body& body) {
  return std::visit(
      [](const auto& b) -> const tlv_list* {
        if constexpr (requires { b.tlvs; }) {
          return &b.tlvs;
        } else {
          return nullptr;
        }
      },
      body);
}

bool is_decode_error(const boost::system::error_code& ec) {
  static const std::set<errc> decode_errors = {errc::invalid_command_length,
                                               errc::unknown_command_id,
                                               errc::truncated_body,
                                               errc::c_string_unterminated,
                                               errc::c_string_too_long,
                                               errc::sm_length_mismatch,
                                               errc::invalid_tlv,
                                               errc::invalid_tlv_length,
                                               errc::trailing_bytes};
  return ec.category() == error_category() && decode_errors.count(static_cast<errc>(ec.value()));
}

// A successful decode must re-encode to something that decodes to the same value.
void expect_stable(const pdu& p) {
  std::string wire;
  if (encode(p, wire)) return;  // decoded leniently (e.g. a short time field): not re-encodable
  pdu again;
  ASSERT_FALSE(
      decode(std::span(reinterpret_cast<const std::uint8_t*>(wire.data()), wire.size()), again));
  EXPECT_EQ(again, p);
}

TEST(malformed, every_truncation_with_the_original_header_is_a_length_error) {
  for (const test::golden& g : test::goldens()) {
    for (std::size_t n = 0; n < g.wire.size(); ++n) {
      const bytes cut(g.wire.begin(), g.wire.begin() + static_cast<std::ptrdiff_t>(n));
      pdu p;
      decode_info info;
      EXPECT_EQ(decode_bytes(cut, p, &info), errc::invalid_command_length) << g.name << " " << n;
      EXPECT_EQ(info.header_valid, n >= 16) << g.name << " " << n;
    }
  }
}

TEST(malformed, every_truncation_with_a_matching_length_gives_the_predicted_error) {
  for (const test::golden& g : test::goldens()) {
    // Where the TLVs start, and the offsets at which a TLV ends.
    std::size_t mandatory_end = g.wire.size();
    std::set<std::size_t> tlv_boundaries;
    if (const tlv_list* tl = tlvs_of(g.value.body)) {
      for (const tlv& t : *tl) mandatory_end -= 4 + t.value.size();
      std::size_t at = mandatory_end;
      tlv_boundaries.insert(at);
      for (const tlv& t : *tl) tlv_boundaries.insert(at += 4 + t.value.size());
    }
    const bool body_optional =
        g.value.command_status != 0 || std::holds_alternative<deliver_sm_resp>(g.value.body);

    for (std::size_t n = 16; n < g.wire.size(); ++n) {
      bytes cut(g.wire.begin(), g.wire.begin() + static_cast<std::ptrdiff_t>(n));
      set_length(cut, static_cast<std::uint32_t>(n));
      pdu p;
      const auto ec = decode_bytes(cut, p);
      SCOPED_TRACE(g.name + " cut at " + std::to_string(n));
      if (n == 16 && body_optional) {
        EXPECT_FALSE(ec) << ec.message();
      } else if (n < mandatory_end) {
        EXPECT_TRUE(ec == errc::truncated_body || ec == errc::c_string_unterminated ||
                    ec == errc::sm_length_mismatch)
            << ec.message();
      } else if (tlv_boundaries.count(n) != 0) {
        EXPECT_FALSE(ec) << ec.message();  // fewer TLVs: still a valid PDU
        EXPECT_EQ(p.sequence_number, g.value.sequence_number);
      } else {
        EXPECT_EQ(ec, errc::invalid_tlv);
      }
      EXPECT_EQ(status_for(ec) == command_status::system_error, false);
    }
  }
}

TEST(malformed, bit_flips_never_crash_and_hit_the_expected_field) {
  std::mt19937 rng(20240101);
  for (const test::golden& g : test::goldens()) {
    for (int round = 0; round < 300; ++round) {
      bytes b = g.wire;
      const std::size_t bit = rng() % (b.size() * 8);
      b[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      const std::size_t at = bit / 8;
      pdu p;
      decode_info info;
      const auto ec = decode_bytes(b, p, &info);
      SCOPED_TRACE(g.name + " bit " + std::to_string(bit));
      if (at < 4) {
        EXPECT_EQ(ec, errc::invalid_command_length);
      } else if (at < 8) {
        const auto id = static_cast<command_id>(info.raw_command_id);
        if (std::string_view(to_string(id)) == "unknown") {
          EXPECT_EQ(ec, errc::unknown_command_id);
        } else if (!ec) {
          expect_stable(p);
        } else {
          EXPECT_TRUE(is_decode_error(ec)) << ec.message();
        }
      } else if (at < 16) {
        // status or sequence_number: the body still decodes (an error status only makes a
        // response more lenient).
        ASSERT_FALSE(ec) << ec.message();
        pdu expected = g.value;
        expected.command_status = p.command_status;
        expected.sequence_number = p.sequence_number;
        EXPECT_EQ(p, expected);
      } else if (!ec) {
        expect_stable(p);
      } else {
        EXPECT_TRUE(is_decode_error(ec)) << ec.message();
      }
    }
  }
}

TEST(malformed, multi_byte_corruption_never_crashes) {
  std::mt19937 rng(7);
  std::size_t decoded = 0;
  for (const test::golden& g : test::goldens()) {
    for (int round = 0; round < 200; ++round) {
      bytes b = g.wire;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int i = 0; i < flips; ++i) {
        // Keep the length so that the body parser is exercised.
        const std::size_t at = 4 + rng() % (b.size() - 4);
        b[at] = static_cast<std::uint8_t>(rng());
      }
      pdu p;
      const auto ec = decode_bytes(b, p);
      if (!ec) {
        ++decoded;
        expect_stable(p);
      } else {
        EXPECT_TRUE(is_decode_error(ec)) << g.name << ": " << ec.message();
      }
    }
  }
  EXPECT_GT(decoded, 0u);  // the corpus must also reach the success path
}

TEST(malformed, random_bytes_with_and_without_a_valid_header) {
  std::mt19937 rng(42);
  static constexpr std::uint32_t ids[] = {
      0x80000000, 0x00000001, 0x80000001, 0x00000002, 0x80000002, 0x00000003, 0x80000003,
      0x00000004, 0x80000004, 0x00000005, 0x80000005, 0x00000006, 0x80000006, 0x00000007,
      0x80000007, 0x00000008, 0x80000008, 0x00000009, 0x80000009, 0x0000000B, 0x00000015,
      0x80000015, 0x00000102, 0x00000103, 0x80000103};
  std::size_t reached_body = 0;
  for (int round = 0; round < 20000; ++round) {
    bytes b(rng() % 320);
    // Mostly zero bytes and short runs make NUL-terminated fields likely.
    for (auto& c : b) c = rng() % 3 == 0 ? 0 : static_cast<std::uint8_t>(rng());
    const bool framed = b.size() >= 16 && round % 4 != 0;
    if (framed) {
      set_length(b, static_cast<std::uint32_t>(b.size()));
      const std::uint32_t id = ids[rng() % std::size(ids)];
      b[4] = static_cast<std::uint8_t>(id >> 24);
      b[5] = static_cast<std::uint8_t>(id >> 16);
      b[6] = static_cast<std::uint8_t>(id >> 8);
      b[7] = static_cast<std::uint8_t>(id);
    }
    pdu p;
    decode_info info;
    const auto ec = decode_bytes(b, p, &info);
    if (!ec) {
      expect_stable(p);
    } else {
      ASSERT_TRUE(is_decode_error(ec)) << ec.message();
    }
    if (framed) {
      EXPECT_TRUE(info.header_valid);
      EXPECT_NE(ec, errc::invalid_command_length);
      EXPECT_NE(ec, errc::unknown_command_id);
      ++reached_body;
    } else if (b.size() < 16) {
      EXPECT_EQ(ec, errc::invalid_command_length);
    }
  }
  EXPECT_GT(reached_body, 10000u);
}

}  // namespace
}  // namespace otpd::smpp
