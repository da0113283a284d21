#!/usr/bin/env node
// Baseline for otpd_bench_codec: node-smpp's own PDU encode and decode of the same OTP
// submit_sm, so that docs/PERFORMANCE.md can give a ratio measured on one machine in one run.
// Usage: node bench/node_smpp_codec.js [--otpd build/release/bench/otpd_bench_codec] [iterations]
// With --otpd it also runs otpd's benchmark in the same go and prints the ratios.
// (Needs `npm ci` in tests/peers/smsc.)
'use strict';
const path = require('path');
const {execFileSync} = require('child_process');
const smpp = require(path.join(__dirname, '..', 'tests', 'peers', 'smsc', 'node_modules', 'smpp'));

const args = process.argv.slice(2);
let otpd = null;
if (args[0] === '--otpd') {
  otpd = args[1];
  args.splice(0, 2);
}
const n = Number(args[0] || 300000);
const fields = {
  source_addr_ton: 5,
  source_addr_npi: 0,
  source_addr: 'OTPD',
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: '84912345678',
  registered_delivery: 1,
  validity_period: '000000000500000R',
  data_coding: 0,
  short_message: Buffer.from('Your verification code is 482917. 5 min.'),
};

function run(label, fn) {
  for (let i = 0; i < n / 10; ++i) fn();  // warm-up for the JIT
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; ++i) fn();
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${label.padEnd(32)} ${ns.toFixed(0).padStart(7)} ns/op`);
  return ns;
}

const encoded = new smpp.PDU('submit_sm', fields).toBuffer();
const node = {
  submit_sm_encode: run('node-smpp submit_sm encode', () =>
    new smpp.PDU('submit_sm', fields).toBuffer()),
  submit_sm_decode: run('node-smpp submit_sm decode', () => smpp.PDU.fromBuffer(encoded)),
  submit_sm_round_trip: run('node-smpp submit_sm round trip', () =>
    smpp.PDU.fromBuffer(new smpp.PDU('submit_sm', fields).toBuffer())),
};

if (otpd) {
  // Wall-clock time per operation on both sides, single-threaded, same machine, same minute.
  const out = execFileSync(otpd, ['--benchmark_filter=submit_sm', '--benchmark_format=json',
                                  '--benchmark_min_time=0.5'], {encoding: 'utf8'});
  const results = JSON.parse(out).benchmarks;
  for (const name of Object.keys(node)) {
    const b = results.find((r) => r.name === name);
    if (!b) continue;
    const ns = b.real_time;  // time_unit is ns
    console.log(`${('otpd ' + name).padEnd(32)} ${ns.toFixed(0).padStart(7)} ns/op   ` +
                `${(node[name] / ns).toFixed(0)}x faster than node-smpp`);
  }
}
