#include "smpp/proto/framer.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "golden.hpp"
#include "smpp/proto/codec.hpp"
#include "smpp/proto/status.hpp"

namespace otpd::smpp {
namespace {

using test::bytes;

// Every golden PDU, one after the other: several types and lengths.
bytes stream() {
  bytes s;
  for (const test::golden& g : test::goldens()) s.insert(s.end(), g.wire.begin(), g.wire.end());
  return s;
}

std::vector<bytes> expected_pdus() {
  std::vector<bytes> v;
  for (const test::golden& g : test::goldens()) v.push_back(g.wire);
  return v;
}

// Takes every complete PDU out of the framer.
void drain(framer& f, std::vector<bytes>& out) {
  for (;;) {
    boost::system::error_code ec;
    const auto s = f.next(ec);
    ASSERT_FALSE(ec) << ec.message();
    if (s.empty()) return;
    out.emplace_back(s.begin(), s.end());
  }
}

TEST(framer, yields_the_same_pdus_for_every_split_point) {
  const bytes all = stream();
  const auto want = expected_pdus();
  for (std::size_t cut = 0; cut <= all.size(); ++cut) {
    framer f;
    std::vector<bytes> got;
    f.put(std::span(all.data(), cut));
    drain(f, got);
    f.put(std::span(all.data() + cut, all.size() - cut));
    drain(f, got);
    ASSERT_EQ(got, want) << "split at " << cut;
    EXPECT_EQ(f.buffered(), 0u);
  }
}

TEST(framer, yields_the_same_pdus_one_byte_at_a_time) {
  const bytes all = stream();
  framer f;
  std::vector<bytes> got;
  for (const std::uint8_t b : all) {
    f.put(std::span(&b, 1));
    drain(f, got);
  }
  EXPECT_EQ(got, expected_pdus());
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(framer, prepare_and_commit_with_random_read_sizes) {
  const bytes all = stream();
  std::mt19937 rng(3);
  for (int round = 0; round < 50; ++round) {
    framer f;
    std::vector<bytes> got;
    std::size_t at = 0;
    while (at < all.size()) {
      const std::size_t want = 1 + rng() % 97;
      const auto room = f.prepare(want);
      ASSERT_GE(room.size(), want);
      // A socket read returns at most what is there, possibly less than the room.
      const std::size_t n = std::min({room.size(), all.size() - at, want});
      std::memcpy(room.data(), all.data() + at, n);
      f.commit(n);
      at += n;
      drain(f, got);
    }
    ASSERT_EQ(got, expected_pdus()) << "round " << round;
  }
}

TEST(framer, decoded_pdus_from_the_stream_match_the_goldens) {
  const bytes all = stream();
  framer f;
  f.put(all);
  for (const test::golden& g : test::goldens()) {
    boost::system::error_code ec;
    const auto s = f.next(ec);
    ASSERT_FALSE(ec);
    pdu p;
    ASSERT_FALSE(decode(s, p));
    EXPECT_EQ(p, g.value) << g.name;
  }
}

TEST(framer, length_above_the_maximum_is_rejected_from_the_length_bytes_alone) {
  framer f(1024);
  const std::uint8_t len[] = {0x00, 0x00, 0x04, 0x01};  // 1025
  f.put(len);
  boost::system::error_code ec;
  EXPECT_TRUE(f.next(ec).empty());
  EXPECT_EQ(ec, errc::invalid_command_length);
  EXPECT_EQ(status_for(ec), command_status::invalid_cmd_length);
  // Nothing was reserved for the announced body, even when asked for room.
  f.prepare(16);
  EXPECT_LT(f.capacity(), 1024u);
  // The stream cannot be resynchronised: the error stays.
  const std::uint8_t more[] = {0x00, 0x00, 0x00, 0x15};
  f.put(more);
  EXPECT_TRUE(f.next(ec).empty());
  EXPECT_EQ(ec, errc::invalid_command_length);
}

TEST(framer, four_gigabyte_length_is_rejected_without_allocation) {
  framer f;
  const std::uint8_t len[] = {0xFF, 0xFF, 0xFF, 0xFF};
  f.put(len);
  boost::system::error_code ec;
  EXPECT_TRUE(f.next(ec).empty());
  EXPECT_EQ(ec, errc::invalid_command_length);
  EXPECT_LT(f.capacity(), 64u * 1024u);
}

TEST(framer, length_below_the_header_is_rejected) {
  for (std::uint8_t n = 0; n < 16; ++n) {
    framer f;
    const std::uint8_t len[] = {0x00, 0x00, 0x00, n};
    f.put(len);
    boost::system::error_code ec;
    EXPECT_TRUE(f.next(ec).empty());
    EXPECT_EQ(ec, errc::invalid_command_length) << int{n};
  }
}

TEST(framer, length_exactly_at_the_maximum_is_accepted) {
  framer f(64);
  bytes pdu_bytes(64, 0);
  pdu_bytes[3] = 64;
  f.put(pdu_bytes);
  boost::system::error_code ec;
  EXPECT_EQ(f.next(ec).size(), 64u);
  EXPECT_FALSE(ec);
}

TEST(framer, fewer_than_four_bytes_need_more) {
  framer f;
  const std::uint8_t part[] = {0x00, 0x00, 0x00};
  f.put(part);
  boost::system::error_code ec = errc::unbound;
  EXPECT_TRUE(f.next(ec).empty());
  EXPECT_FALSE(ec);  // need more is not an error
  EXPECT_EQ(f.buffered(), 3u);
}

TEST(framer, prepare_makes_room_for_a_whole_announced_pdu) {
  framer f;
  bytes big(10000, 0);
  big[2] = 0x27;
  big[3] = 0x10;  // command_length 10000
  f.put(std::span(big.data(), 100));
  const auto room = f.prepare(16);
  EXPECT_GE(room.size(), 9900u);
}

TEST(framer, buffer_stays_bounded_over_a_long_stream) {
  const bytes all = stream();
  framer f;
  std::vector<bytes> got;
  std::size_t pdus = 0;
  for (int i = 0; i < 2000; ++i) {
    // Reads that end in the middle of PDUs, as a socket delivers them.
    for (std::size_t at = 0; at < all.size();) {
      const std::size_t n = std::min<std::size_t>(700, all.size() - at);
      const auto room = f.prepare(4096);
      std::memcpy(room.data(), all.data() + at, n);
      f.commit(n);
      at += n;
      got.clear();
      drain(f, got);
      pdus += got.size();
    }
  }
  EXPECT_EQ(pdus, 2000 * test::goldens().size());
  EXPECT_LE(f.capacity(), 2u * (4096u + 1024u));
}

TEST(framer, commit_never_exceeds_the_prepared_room) {
  framer f;
  const auto room = f.prepare(8);
  f.commit(room.size() + 1000);
  EXPECT_EQ(f.buffered(), room.size());
}

}  // namespace
}  // namespace otpd::smpp
