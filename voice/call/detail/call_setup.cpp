#include "voice/call/detail/call_setup.hpp"

#include "voice/sip/ids.hpp"

namespace otpd::voice::detail {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

std::string host_for_uri(const boost::asio::ip::address& a) {
  return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
}

}  // namespace

std::string parse_trunk(const trunk_config& cfg, trunk_target& t) {
  if (sip::parse_uri(cfg.uri, t.hop)) return "invalid trunk uri";
  std::string transport = lower(t.hop.transport().empty() ? cfg.transport : t.hop.transport());
  if (transport.empty()) transport = "udp";
  if (transport != "udp" && transport != "tcp") return "unsupported transport";
  t.tcp = transport == "tcp";
  boost::system::error_code ec;
  t.local = boost::asio::ip::make_address(cfg.local_address, ec);
  if (ec) return "invalid local address";
  t.hop_port = t.hop.port.value_or(default_sip_port);
  t.hop_name = t.hop.host + ":" + std::to_string(t.hop_port);
  return {};
}

std::string unbracket(std::string h) {
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') return h.substr(1, h.size() - 2);
  return h;
}

media::offer_params media_offer(const boost::asio::ip::address& local, std::uint16_t rtp_port) {
  media::offer_params offer;
  offer.address = local.to_string();
  offer.port = rtp_port;
  offer.session_id = sip::csprng_u64() >> 1;
  offer.session_version = offer.session_id;
  return offer;
}

sip::uac_call_params call_params(const trunk_config& cfg, const trunk_target& t,
                                 std::uint16_t sip_port, std::string_view to,
                                 std::string sdp_offer) {
  const std::string local_host = host_for_uri(t.local);
  const std::string domain =
      cfg.domain.empty() ? t.hop.host + (t.hop.port ? ":" + std::to_string(*t.hop.port) : "")
                         : cfg.domain;
  const std::string user = cfg.caller_id.empty() ? std::string("otpd") : cfg.caller_id;
  sip::uac_call_params p;
  p.request_uri = "sip:" + std::string(to) + "@" + domain;
  p.to_uri = p.request_uri;
  p.from_uri = "sip:" + user + "@" + (cfg.domain.empty() ? local_host : cfg.domain);
  p.contact_uri = "sip:" + user + "@" + local_host + ":" + std::to_string(sip_port) +
                  (t.tcp ? ";transport=tcp" : "");
  p.outbound_proxy = cfg.uri;
  p.via_host = local_host;
  p.via_port = sip_port;
  p.transport = t.tcp ? "TCP" : "UDP";
  p.credentials = {cfg.username, cfg.password.view()};
  p.sdp_offer = std::move(sdp_offer);
  p.random = sip::csprng_source();
  p.timers.t1 = cfg.t1;
  p.ring_timeout = cfg.ring_timeout;
  return p;
}

}  // namespace otpd::voice::detail
