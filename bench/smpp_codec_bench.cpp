// SMPP codec and framer throughput. Target: >= 5 million submit_sm encode+decode per second on
// one core (Release).
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "smpp/proto/codec.hpp"
#include "smpp/proto/framer.hpp"
#include "smpp/proto/tlv.hpp"

namespace {

using namespace otpd::smpp;

// A realistic OTP submit: alphanumeric sender, international destination, 40 characters,
// receipt requested, 5-minute validity.
pdu otp_submit(std::uint32_t seq) {
  submit_sm s;
  s.source = {5, 0, "MyBank"};
  s.dest = {1, 1, "447700900123"};
  s.validity_period = "000000000500000R";
  s.registered_delivery = 1;
  s.short_message = "Your MyBank code is 482913. Valid 5 min.";
  return pdu{0, seq, std::move(s)};
}

// A delivery receipt as most SMSCs send it (Appendix B text plus the SMPP 3.4 TLVs).
pdu receipt(std::uint32_t seq) {
  deliver_sm d;
  d.source = {1, 1, "447700900123"};
  d.dest = {5, 0, "MyBank"};
  d.esm_class = 0x04;
  d.short_message =
      "id:5f3a9c sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD "
      "err:000 text:";
  set_c_string(d.tlvs, tlv_tag::receipted_message_id, "5f3a9c");
  set_u8(d.tlvs, tlv_tag::message_state, 2);
  return pdu{0, seq, std::move(d)};
}

std::span<const std::uint8_t> as_span(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void submit_sm_encode(benchmark::State& state) {
  const pdu p = otp_submit(1);
  std::string out;
  out.reserve(256);
  for (auto _ : state) {
    out.clear();
    auto ec = encode(p, out);
    benchmark::DoNotOptimize(ec);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
BENCHMARK(submit_sm_encode);

void submit_sm_decode(benchmark::State& state) {
  std::string wire;
  (void)encode(otp_submit(1), wire);
  pdu p;  // reused, as the session does
  for (auto _ : state) {
    auto ec = decode(as_span(wire), p);
    benchmark::DoNotOptimize(ec);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
}
BENCHMARK(submit_sm_decode);

void submit_sm_round_trip(benchmark::State& state) {
  const pdu src = otp_submit(1);
  std::string wire;
  wire.reserve(256);
  pdu p;
  for (auto _ : state) {
    wire.clear();
    auto ec = encode(src, wire);
    benchmark::DoNotOptimize(ec);
    ec = decode(as_span(wire), p);
    benchmark::DoNotOptimize(ec);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(submit_sm_round_trip);

void deliver_sm_receipt_decode(benchmark::State& state) {
  std::string wire;
  (void)encode(receipt(1), wire);
  pdu p;
  for (auto _ : state) {
    auto ec = decode(as_span(wire), p);
    benchmark::DoNotOptimize(ec);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
}
BENCHMARK(deliver_sm_receipt_decode);

// A stream of the PDUs a transceiver receives (submit_sm_resp, receipts, enquire_link), fed
// through the framer in socket-sized reads; with arg 1 every frame is also decoded.
void framer_throughput(benchmark::State& state) {
  const bool decode_too = state.range(0) != 0;
  std::string stream;
  std::int64_t count = 0;
  for (std::uint32_t i = 1; i <= 1000; ++i) {
    switch (i % 4) {
      case 0:
        (void)encode(receipt(i), stream);
        break;
      case 3:
        (void)encode(pdu{0, i, enquire_link{}}, stream);
        break;
      default:
        (void)encode(pdu{0, i, submit_sm_resp{std::to_string(0x5f3a9c00 + i)}}, stream);
    }
    ++count;
  }
  framer f;
  pdu p;
  for (auto _ : state) {
    std::size_t at = 0;
    std::int64_t frames = 0;
    while (at < stream.size()) {
      const auto room = f.prepare(4096);
      const std::size_t n = std::min(room.size(), std::min<std::size_t>(4096, stream.size() - at));
      std::memcpy(room.data(), stream.data() + at, n);
      f.commit(n);
      at += n;
      boost::system::error_code ec;
      for (auto frame = f.next(ec); !frame.empty(); frame = f.next(ec)) {
        ++frames;
        if (decode_too) benchmark::DoNotOptimize(decode(frame, p));
      }
    }
    if (frames != count) state.SkipWithError("lost frames");
  }
  state.SetItemsProcessed(state.iterations() * count);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(stream.size()));
}
BENCHMARK(framer_throughput)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
