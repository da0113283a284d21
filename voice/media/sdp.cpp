#include "voice/media/sdp.hpp"

#include <algorithm>
#include <charconv>

#include "common/ascii.hpp"

namespace otpd::media {
namespace {

constexpr std::string_view whitespace = " \t";

std::string_view trim(std::string_view s) noexcept { return ascii::trim(s, whitespace); }

// Splits on runs of spaces and tabs.
std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    const auto b = s.find_first_not_of(whitespace, pos);
    if (b == std::string_view::npos) break;
    auto e = s.find_first_of(whitespace, b);
    if (e == std::string_view::npos) e = s.size();
    out.push_back(s.substr(b, e - b));
    pos = e;
  }
  return out;
}

template <class T>
bool to_number(std::string_view s, T& out) noexcept {
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && ptr == s.data() + s.size();
}

bool to_payload_type(std::string_view s, std::uint8_t& out) noexcept {
  unsigned v = 0;
  if (!to_number(s, v) || v > 127) return false;
  out = static_cast<std::uint8_t>(v);
  return true;
}

using ascii::iequals;

std::optional<direction> direction_of(std::string_view attr) noexcept {
  if (attr == "sendrecv") return direction::sendrecv;
  if (attr == "sendonly") return direction::sendonly;
  if (attr == "recvonly") return direction::recvonly;
  if (attr == "inactive") return direction::inactive;
  return std::nullopt;
}

// RFC 4566 §5.7: c=<nettype> <addrtype> <connection-address>
bool parse_connection(std::string_view value, connection_data& out) {
  const auto t = tokens(value);
  if (t.size() < 3 || t[0] != "IN") return false;
  std::string_view addr = t[2];
  addr = addr.substr(0, addr.find('/'));  // multicast "/ttl[/count]"
  if (addr.empty()) return false;
  out.address_type = std::string(t[1]);
  out.address = std::string(addr);
  return true;
}

// RFC 4566 §5.14: m=<media> <port>[/<number of ports>] <proto> <fmt> ...
bool parse_media(std::string_view value, media_description& out) {
  const auto t = tokens(value);
  if (t.size() < 3) return false;
  out.media = std::string(t[0]);
  if (!to_number(t[1].substr(0, t[1].find('/')), out.port)) return false;
  out.proto = std::string(t[2]);
  for (std::size_t i = 3; i < t.size(); ++i) {
    std::uint8_t pt = 0;
    if (to_payload_type(t[i], pt)) out.payload_types.push_back(pt);
  }
  return true;
}

// a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
void parse_rtpmap(std::string_view value, media_description& m) {
  const auto sp = value.find_first_of(whitespace);
  if (sp == std::string_view::npos) return;
  rtpmap r;
  if (!to_payload_type(value.substr(0, sp), r.payload_type)) return;
  std::string_view rest = trim(value.substr(sp));
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return;
  r.encoding = std::string(rest.substr(0, slash));
  std::string_view rate = rest.substr(slash + 1);
  const auto slash2 = rate.find('/');
  if (slash2 != std::string_view::npos) {
    r.parameters = std::string(rate.substr(slash2 + 1));
    rate = rate.substr(0, slash2);
  }
  if (!to_number(rate, r.clock_rate)) return;
  m.rtpmaps.push_back(std::move(r));
}

void parse_fmtp(std::string_view value, media_description& m) {
  const auto sp = value.find_first_of(whitespace);
  fmtp f;
  if (!to_payload_type(value.substr(0, sp), f.payload_type)) return;
  if (sp != std::string_view::npos) f.parameters = std::string(trim(value.substr(sp)));
  m.fmtps.push_back(std::move(f));
}

void parse_attribute(std::string_view value, session_description& sd, media_description* m) {
  const auto colon = value.find(':');
  const std::string_view name = value.substr(0, colon);
  const std::string_view arg =
      colon == std::string_view::npos ? std::string_view{} : trim(value.substr(colon + 1));
  if (auto d = direction_of(trim(name)); d && colon == std::string_view::npos) {
    (m != nullptr ? m->dir : sd.dir) = d;
    return;
  }
  if (m == nullptr) return;  // the media attributes below mean nothing at session level
  if (name == "rtpmap") {
    parse_rtpmap(arg, *m);
  } else if (name == "fmtp") {
    parse_fmtp(arg, *m);
  } else if (name == "ptime") {
    std::uint32_t v = 0;
    if (to_number(arg, v)) m->ptime = v;
  }
}

void parse_origin(std::string_view value, origin& o) {
  const auto t = tokens(value);
  if (t.size() < 6) return;
  o.username = std::string(t[0]);
  o.session_id = std::string(t[1]);
  o.session_version = std::string(t[2]);
  o.address_type = std::string(t[4]);
  o.address = std::string(t[5]);
}

// RFC 3551 §6, Table 4: the static audio types we can offer without an rtpmap.
std::optional<codec> static_codec(std::uint8_t pt) {
  if (pt == 0) return pcmu();
  if (pt == 8) return pcma();
  return std::nullopt;
}

}  // namespace

const char* to_string(direction d) noexcept {
  switch (d) {
    case direction::sendrecv:
      return "sendrecv";
    case direction::sendonly:
      return "sendonly";
    case direction::recvonly:
      return "recvonly";
    case direction::inactive:
      return "inactive";
  }
  return "sendrecv";
}

codec pcmu() { return {0, "PCMU", 8000}; }
codec pcma() { return {8, "PCMA", 8000}; }

const rtpmap* media_description::find_rtpmap(std::uint8_t pt) const noexcept {
  for (const rtpmap& r : rtpmaps) {
    if (r.payload_type == pt) return &r;
  }
  return nullptr;
}

std::string build_offer(const offer_params& p) {
  const std::string addrtype = p.address.find(':') != std::string::npos ? "IP6" : "IP4";
  std::string s;
  s.reserve(256);
  s += "v=0\r\n";
  // RFC 4566 §5.2: o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>
  s += "o=" + (p.username.empty() ? std::string("-") : p.username) + ' ' +
       std::to_string(p.session_id) + ' ' + std::to_string(p.session_version) + " IN " + addrtype +
       ' ' + p.address + "\r\n";
  s += "s=" + (p.session_name.empty() ? std::string("-") : p.session_name) + "\r\n";
  s += "c=IN " + addrtype + ' ' + p.address + "\r\n";
  s += "t=0 0\r\n";
  s += "m=audio " + std::to_string(p.port) + " RTP/AVP";
  for (const codec& c : p.codecs) s += ' ' + std::to_string(c.payload_type);
  if (p.telephone_event) s += ' ' + std::to_string(*p.telephone_event);
  s += "\r\n";
  for (const codec& c : p.codecs) {
    s += "a=rtpmap:" + std::to_string(c.payload_type) + ' ' + c.name + '/' +
         std::to_string(c.clock_rate) + "\r\n";
  }
  if (p.telephone_event) {
    // RFC 4733 §7.1.1: telephone-event at the clock rate of the audio.
    const std::string pt = std::to_string(*p.telephone_event);
    s += "a=rtpmap:" + pt + " telephone-event/8000\r\n";
    if (!p.telephone_events.empty()) s += "a=fmtp:" + pt + ' ' + p.telephone_events + "\r\n";
  }
  if (p.ptime_ms != 0) s += "a=ptime:" + std::to_string(p.ptime_ms) + "\r\n";
  s += std::string("a=") + to_string(p.dir) + "\r\n";
  return s;
}

boost::system::error_code parse(std::string_view text, session_description& out) {
  out = session_description{};
  bool seen_version = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const bool typed = line.size() >= 2 && line[1] == '=';
    // RFC 4566 §5: the description starts with v=0.
    if (!seen_version) {
      if (!typed || line[0] != 'v' || trim(line.substr(2)) != "0") return errc::sdp_malformed;
      seen_version = true;
      continue;
    }
    if (!typed) continue;
    const std::string_view value = line.substr(2);
    media_description* m = out.media.empty() ? nullptr : &out.media.back();
    switch (line[0]) {
      case 'o':
        if (m == nullptr) parse_origin(value, out.o);
        break;
      case 's':
        if (m == nullptr) out.session_name = std::string(value);
        break;
      case 'c': {
        connection_data c;
        if (!parse_connection(value, c)) return errc::sdp_malformed;
        (m != nullptr ? m->connection : out.connection) = std::move(c);
        break;
      }
      case 'm': {
        media_description md;
        if (!parse_media(value, md)) return errc::sdp_malformed;
        out.media.push_back(std::move(md));
        break;
      }
      case 'a':
        parse_attribute(value, out, m);
        break;
      default:
        break;  // b=, t=, k=, i=, u=, e=, p=, z=, r= and unknown types: nothing we need
    }
  }
  if (!seen_version) return errc::sdp_malformed;
  return {};
}

boost::system::error_code negotiate(const offer_params& offer, const session_description& answer,
                                    negotiated_media& out) {
  out = negotiated_media{};
  // We offer a single audio stream, so it is the answer's m=audio line (RFC 3264 §6: the
  // answer has as many m= lines as the offer, in the same order).
  const auto audio = std::find_if(answer.media.begin(), answer.media.end(),
                                  [](const media_description& m) { return m.media == "audio"; });
  if (audio == answer.media.end()) return errc::no_audio_stream;
  if (audio->port == 0) return errc::stream_rejected;  // RFC 3264 §6
  if (!iequals(audio->proto, "RTP/AVP")) return errc::unsupported_transport;
  if (audio->connection) {
    out.remote = *audio->connection;  // RFC 4566 §5.7: media level overrides session level
  } else if (answer.connection) {
    out.remote = *answer.connection;
  } else {
    return errc::no_connection_address;
  }
  out.remote_port = audio->port;

  if (offer.telephone_event) {
    for (std::uint8_t pt : audio->payload_types) {
      const rtpmap* r = audio->find_rtpmap(pt);
      if (r != nullptr && iequals(r->encoding, "telephone-event") && r->clock_rate == 8000) {
        out.telephone_event = pt;
        break;
      }
    }
  }

  bool found = false;
  for (std::uint8_t pt : audio->payload_types) {
    if (out.telephone_event && pt == *out.telephone_event) continue;
    std::optional<codec> theirs;
    if (const rtpmap* r = audio->find_rtpmap(pt)) {
      theirs = codec{pt, r->encoding, r->clock_rate};
    } else {
      theirs = static_codec(pt);
    }
    if (!theirs) continue;  // a dynamic type without rtpmap names nothing
    const auto ours = std::find_if(offer.codecs.begin(), offer.codecs.end(), [&](const codec& c) {
      return iequals(c.name, theirs->name) && c.clock_rate == theirs->clock_rate;
    });
    if (ours == offer.codecs.end()) continue;
    // Send with the answer's payload type (RFC 3264 §6.1: the answerer receives with it).
    out.send_codec = codec{pt, ours->name, ours->clock_rate};
    found = true;
    break;
  }
  if (!found) return errc::no_common_codec;

  out.dir = audio->dir.value_or(answer.dir.value_or(direction::sendrecv));
  out.ptime = audio->ptime;
  return {};
}

boost::system::error_code negotiate(const offer_params& offer, std::string_view answer,
                                    negotiated_media& out) {
  session_description sd;
  if (auto ec = parse(answer, sd)) {
    out = negotiated_media{};
    return ec;
  }
  return negotiate(offer, sd, out);
}

}  // namespace otpd::media
