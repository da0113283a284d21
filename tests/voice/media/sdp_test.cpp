#include "voice/media/sdp.hpp"

#include <random>
#include <string>

#include <gtest/gtest.h>

namespace otpd::media {
namespace {

offer_params our_offer() {
  offer_params p;
  p.session_id = 3912345678u;
  p.session_version = 1;
  p.address = "127.0.0.1";
  p.port = 40000;
  return p;
}

TEST(sdp, builds_the_offer) {
  EXPECT_EQ(build_offer(our_offer()),
            "v=0\r\n"
            "o=- 3912345678 1 IN IP4 127.0.0.1\r\n"
            "s=otpd\r\n"
            "c=IN IP4 127.0.0.1\r\n"
            "t=0 0\r\n"
            "m=audio 40000 RTP/AVP 0 8 101\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
            "a=fmtp:101 0-16\r\n"
            "a=ptime:20\r\n"
            "a=sendrecv\r\n");
}

TEST(sdp, offer_variants) {
  offer_params p = our_offer();
  p.codecs = {pcma()};
  p.telephone_event.reset();
  p.address = "::1";
  p.dir = direction::sendonly;
  p.ptime_ms = 0;
  const std::string s = build_offer(p);
  EXPECT_NE(s.find("c=IN IP6 ::1\r\n"), std::string::npos);
  EXPECT_NE(s.find("m=audio 40000 RTP/AVP 8\r\n"), std::string::npos);
  EXPECT_EQ(s.find("telephone-event"), std::string::npos);
  EXPECT_EQ(s.find("a=ptime"), std::string::npos);
  EXPECT_NE(s.find("a=sendonly\r\n"), std::string::npos);
}

TEST(sdp, offer_parses_back_and_negotiates_with_itself) {
  const offer_params p = our_offer();
  session_description sd;
  ASSERT_FALSE(parse(build_offer(p), sd));
  EXPECT_EQ(sd.o.session_id, "3912345678");
  EXPECT_EQ(sd.session_name, "otpd");
  ASSERT_EQ(sd.media.size(), 1u);
  EXPECT_EQ(sd.media[0].payload_types, (std::vector<std::uint8_t>{0, 8, 101}));
  ASSERT_EQ(sd.media[0].rtpmaps.size(), 3u);
  EXPECT_EQ(sd.media[0].rtpmaps[2].encoding, "telephone-event");
  ASSERT_EQ(sd.media[0].fmtps.size(), 1u);
  EXPECT_EQ(sd.media[0].fmtps[0].parameters, "0-16");
  negotiated_media n;
  ASSERT_FALSE(negotiate(p, sd, n));
  EXPECT_EQ(n.send_codec.payload_type, 0);
  EXPECT_EQ(n.telephone_event, 101);
}

// What baresip 1.0.0 answers to our offer: the common codecs in our order.
constexpr const char* baresip_answer =
    "v=0\r\n"
    "o=- 1731337617 3204839184 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 10000 RTP/AVP 0 101\r\n"
    "b=AS:64\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n"
    "a=label:1\r\n"
    "a=ssrc:2581342124 cname:sip:callee@127.0.0.1\r\n"
    "a=rtcp-rsize\r\n"
    "a=ptime:20\r\n";

TEST(sdp, negotiates_baresip_answer) {
  negotiated_media n;
  ASSERT_FALSE(negotiate(our_offer(), baresip_answer, n));
  EXPECT_EQ(n.remote.address_type, "IP4");
  EXPECT_EQ(n.remote.address, "127.0.0.1");
  EXPECT_EQ(n.remote_port, 10000);
  EXPECT_EQ(n.send_codec.payload_type, 0);
  EXPECT_EQ(n.send_codec.name, "PCMU");
  EXPECT_EQ(n.send_codec.clock_rate, 8000u);
  EXPECT_EQ(n.telephone_event, 101);
  EXPECT_EQ(n.dir, direction::sendrecv);
  EXPECT_EQ(n.ptime, 20u);
}

TEST(sdp, lf_line_ends_and_no_rtpmap_for_static_types) {
  negotiated_media n;
  ASSERT_FALSE(negotiate(our_offer(),
                         "v=0\no=- 1 1 IN IP4 10.0.0.2\ns=-\nc=IN IP4 10.0.0.2\nt=0 0\n"
                         "m=audio 5004 RTP/AVP 8\n",
                         n));
  EXPECT_EQ(n.remote.address, "10.0.0.2");
  EXPECT_EQ(n.remote_port, 5004);
  EXPECT_EQ(n.send_codec.payload_type, 8);
  EXPECT_EQ(n.send_codec.name, "PCMA");
  EXPECT_FALSE(n.telephone_event);
  EXPECT_EQ(n.dir, direction::sendrecv);
  EXPECT_FALSE(n.ptime);
}

TEST(sdp, first_offered_codec_of_the_answer_wins) {
  // The answerer prefers PCMA, and lists a codec we never offered before it.
  negotiated_media n;
  ASSERT_FALSE(negotiate(our_offer(),
                         "v=0\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
                         "m=audio 5004 RTP/AVP 9 8 0\r\na=rtpmap:9 G722/8000\r\n",
                         n));
  EXPECT_EQ(n.send_codec.payload_type, 8);
}

TEST(sdp, dynamic_telephone_event_type) {
  negotiated_media n;
  ASSERT_FALSE(negotiate(our_offer(),
                         "v=0\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
                         "m=audio 5004 RTP/AVP 96 0\r\n"
                         "a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-15\r\n",
                         n));
  EXPECT_EQ(n.telephone_event, 96);
  EXPECT_EQ(n.send_codec.payload_type, 0);
}

TEST(sdp, dynamic_codec_type_matched_by_name) {
  // PCMU under a dynamic number (legal, if odd): matched by rtpmap name, sent with 97.
  negotiated_media n;
  ASSERT_FALSE(negotiate(our_offer(),
                         "v=0\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
                         "m=audio 5004 RTP/AVP 98 97\r\n"
                         "a=rtpmap:98 opus/48000/2\r\na=rtpmap:97 pcmu/8000\r\n",
                         n));
  EXPECT_EQ(n.send_codec.payload_type, 97);
  EXPECT_EQ(n.send_codec.name, "PCMU");
}

TEST(sdp, media_level_connection_overrides_session) {
  negotiated_media n;
  ASSERT_FALSE(negotiate(our_offer(),
                         "v=0\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
                         "m=audio 5004 RTP/AVP 0\r\nc=IN IP4 192.0.2.7/127\r\na=recvonly\r\n",
                         n));
  EXPECT_EQ(n.remote.address, "192.0.2.7");
  EXPECT_EQ(n.dir, direction::recvonly);
  // Only at media level.
  ASSERT_FALSE(negotiate(
      our_offer(), "v=0\r\ns=-\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\nc=IN IP6 2001:db8::1\r\n", n));
  EXPECT_EQ(n.remote.address_type, "IP6");
  EXPECT_EQ(n.remote.address, "2001:db8::1");
}

TEST(sdp, direction_attributes) {
  const auto dir_of = [](const std::string& lines) {
    negotiated_media n;
    EXPECT_FALSE(negotiate(our_offer(), "v=0\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n" + lines, n));
    return n.dir;
  };
  EXPECT_EQ(dir_of("m=audio 1 RTP/AVP 0\r\na=sendonly\r\n"), direction::sendonly);
  EXPECT_EQ(dir_of("m=audio 1 RTP/AVP 0\r\na=inactive\r\n"), direction::inactive);
  // Session level applies unless the media level says otherwise.
  EXPECT_EQ(dir_of("a=recvonly\r\nm=audio 1 RTP/AVP 0\r\n"), direction::recvonly);
  EXPECT_EQ(dir_of("a=recvonly\r\nm=audio 1 RTP/AVP 0\r\na=sendrecv\r\n"), direction::sendrecv);
}

TEST(sdp, named_errors) {
  negotiated_media n;
  const std::string head = "v=0\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n";
  EXPECT_EQ(negotiate(our_offer(), head + "m=audio 0 RTP/AVP 0\r\n", n), errc::stream_rejected);
  EXPECT_EQ(negotiate(our_offer(), head + "m=audio 5004 RTP/AVP 18 3\r\n", n),
            errc::no_common_codec);
  // telephone-event alone is no codec.
  EXPECT_EQ(
      negotiate(our_offer(),
                head + "m=audio 5004 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n", n),
      errc::no_common_codec);
  // A dynamic type without rtpmap names nothing.
  EXPECT_EQ(negotiate(our_offer(), head + "m=audio 5004 RTP/AVP 96\r\n", n), errc::no_common_codec);
  EXPECT_EQ(negotiate(our_offer(), head + "m=video 5006 RTP/AVP 31\r\n", n), errc::no_audio_stream);
  EXPECT_EQ(negotiate(our_offer(), head, n), errc::no_audio_stream);
  EXPECT_EQ(negotiate(our_offer(), head + "m=audio 5004 RTP/SAVP 0\r\n", n),
            errc::unsupported_transport);
  EXPECT_EQ(negotiate(our_offer(), "v=0\r\ns=-\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\n", n),
            errc::no_connection_address);
  EXPECT_EQ(negotiate(our_offer(), "", n), errc::sdp_malformed);
  EXPECT_EQ(negotiate(our_offer(), "\r\n\r\n", n), errc::sdp_malformed);
  EXPECT_EQ(negotiate(our_offer(), "v=1\r\n", n), errc::sdp_malformed);
  EXPECT_EQ(negotiate(our_offer(), "o=- 1 1 IN IP4 x\r\nv=0\r\n", n), errc::sdp_malformed);
  EXPECT_EQ(negotiate(our_offer(), head + "m=audio 70000 RTP/AVP 0\r\n", n), errc::sdp_malformed);
  EXPECT_EQ(negotiate(our_offer(), head + "m=audio\r\n", n), errc::sdp_malformed);
  EXPECT_EQ(negotiate(our_offer(), "v=0\r\nc=IN\r\n", n), errc::sdp_malformed);
}

TEST(sdp, unknown_and_broken_lines_are_ignored) {
  negotiated_media n;
  ASSERT_FALSE(negotiate(our_offer(),
                         "v=0\r\nthis is not sdp\r\nx=whatever\r\ns=-\r\nc=IN IP4 10.0.0.2\r\n"
                         "t=0 0\r\nm=audio 5004/2 RTP/AVP 0 abc 300 101\r\n"
                         "a=rtpmap:0\r\na=rtpmap:x PCMU/8000\r\na=rtpmap:101 telephone-event/x\r\n"
                         "a=ptime:abc\r\na=\r\n=\r\na\r\n",
                         n));
  EXPECT_EQ(n.send_codec.payload_type, 0);
  EXPECT_EQ(n.remote_port, 5004);
  EXPECT_FALSE(n.telephone_event);  // its rtpmap was unreadable
  EXPECT_FALSE(n.ptime);
}

TEST(sdp, garbage_never_crashes) {
  std::mt19937 gen(2024);
  const std::string alphabet = "vocmtas=:/ \r\n0123456789IPN4.-RTAVPaudio";
  const std::string base = baresip_answer;
  for (int i = 0; i < 5000; ++i) {
    std::string s;
    if (i % 2 == 0) {
      // Mutations of a valid answer.
      s = base;
      for (int k = 0; k < 5; ++k) s[gen() % s.size()] = alphabet[gen() % alphabet.size()];
      s.resize(gen() % (s.size() + 1));
    } else {
      s.resize(gen() % 200);
      for (char& c : s) c = static_cast<char>(gen());
    }
    negotiated_media n;
    (void)negotiate(our_offer(), s, n);
  }
  // Every prefix of a valid answer.
  for (std::size_t len = 0; len <= base.size(); ++len) {
    negotiated_media n;
    (void)negotiate(our_offer(), std::string_view(base).substr(0, len), n);
  }
  SUCCEED();
}

}  // namespace
}  // namespace otpd::media
