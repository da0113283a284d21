#!/usr/bin/env node
// SMSC stand-in for otpd's integration tests, built on node-smpp (npm `smpp` 0.5.1) as a server.
//
// stdout: one JSON object per line per event; the first is {"event":"listening","port":N}.
// stdin:  one JSON command per line, each answered with {"event":"ack","cmd":...}.
// stderr: diagnostics only.
// Run with --help for the flags and commands.
'use strict';

const readline = require('readline');
const smpp = require('smpp');

const usage = `usage: node smsc.js [flags]
  --host H                 listen address (default 127.0.0.1)
  --port N                 listen port (default 0: the OS picks)
  --account ID:PASSWORD    accepted account, repeatable (default otpd:secret)
  --system-id S            system_id in bind responses (default smsc)
  --id-format F            submit_sm_resp message_id: hex|hex-upper|hex-lower|decimal (default hex,
                           which is upper case)
  --id-width N             zero-pad ids to N digits (default 16 for hex, 0 for decimal)
  --id-start N             first id, decimal or 0x-hex, up to 2^64-1 (default 0x812FC74700000001)
  --receipt-id-format F    id in the receipt text: same|hex|hex-upper|hex-lower|decimal (default same)
  --receipt-id-width N     zero-pad receipt ids (default 0: none)
  --receipt-delay-ms N     delay between submit_sm_resp and its receipt (default 0)
  --receipt-tlvs           add receipted_message_id and message_state TLVs to receipts
  --receipt-retry-ms N     a receipt answered with a temporary error (ESME_RX_T_APPN,
                           ESME_RTHROTTLED, ESME_RMSGQFUL) is sent again after N ms (default 500)
  --receipt-retries N      ... at most N times (default 10; 0: never again)
  --receipt-stat [PREFIX=]STAT[:ERR]
                           receipt stat (and err), for destinations starting with PREFIX when
                           given (longest prefix wins); repeatable (default DELIVRD:000)
  --throttle-every N       answer every Nth submit_sm with ESME_RTHROTTLED
  --qfull-every N          answer every Nth submit_sm with ESME_RMSGQFUL
  --submit-delay-ms N      answer submit_sm after N ms (slow SMSC)
  --receipt-if-unanswered  a submit accepted but whose session closed before its delayed answer
                           still gets its receipt (the SMSC has the message): "submit_resp_lost"
  --silent                 receive but never answer anything (binds, submits, enquire_link, unbind)
  --drop-after N           close a session when its Nth submit_sm arrives, without answering it
  --refuse-binds           answer every bind with ESME_RBINDFAIL
  --enquire-link-ms N      send enquire_link to every bound session every N ms
  --max-pdu-length N       largest command_length accepted (default 16384)
  --tls-cert FILE          serve SMPP over TLS with this PEM certificate (chain) ...
  --tls-key FILE           ... and this PEM private key (both or neither)
  --pdu-hex                add the whole PDU as hex ("pdu") to submit events
  --no-submit-events       no submit/submit_resp events (for throughput runs)
  --submit-times           add "arrival_us" to submit events: CLOCK_MONOTONIC microseconds (the
                           clock of C++ steady_clock on Linux) at which the bytes completing the
                           submit_sm became readable, before node-smpp decodes them (benchmarks)
  --print-sms              also print each SMS received as readable text on stderr (for the
                           sandbox: "SMS OTPD -> 84912345678: Your code is ...")
  --no-stdin               read no commands and ignore stdin closing (for running by hand in the
                           background; stop it with SIGTERM)

commands on stdin (JSON, one per line; "id" is echoed in the ack):
  {"cmd":"throttle","every":N}       every Nth submit gets ESME_RTHROTTLED (0: off)
  {"cmd":"throttle","for_ms":T}      all submits get ESME_RTHROTTLED for T ms (0: end now)
  {"cmd":"qfull","every":N} / {"cmd":"qfull","for_ms":T}   the same with ESME_RMSGQFUL
  {"cmd":"delay","ms":N}             answer submits after N ms
  {"cmd":"silent","on":true|false}   stop / resume answering
  {"cmd":"close_all"}                close every session now
  {"cmd":"close","session":K}        close one session now
  {"cmd":"drop_after","n":N[,"once":true][,"session":K]}  close at the Nth submit (0: off)
  {"cmd":"refuse_binds","on":true|false}
  {"cmd":"enquire_link","every_ms":N}          periodic enquire_link to bound sessions (0: off)
  {"cmd":"enquire_link"[,"session":K][,"timeout_ms":T]}  one enquire_link now
  {"cmd":"mo","source":A,"dest":B,"text":S|"hex":H[,"data_coding":N][,"esm_class":N]
        [,"source_ton":N,"source_npi":N,"dest_ton":N,"dest_npi":N][,"tlvs":{name:value}]
        [,"session":K|"system_id":S]}  send a deliver_sm (MO, or a hand-made receipt)
  {"cmd":"unbind"[,"session":K]}     SMSC-initiated unbind
  {"cmd":"raw","hex":H[,"session":K]}  write the bytes H as they are (garbage, truncated PDUs)
  {"cmd":"receipt_stat","stat":S[,"err":E][,"prefix":P]}  (stat null removes the prefix rule)
  {"cmd":"hold_receipts","on":true|false}  keep receipts queued (receipt_queued) / send them all
  {"cmd":"set", <flag name with _ for ->: value, ...}      e.g. {"cmd":"set","receipt_delay_ms":50}
  {"cmd":"sessions"}                 the ack lists the sessions
  {"cmd":"ping"}                     nothing: its ack follows every event emitted before it
  {"cmd":"reset"}                    clear every fault mode
`;

// SMPP 3.4 §5.1.3 command_status values used here.
const status = {
  ok: 0x00000000,
  invcmdlen: 0x00000002,
  invcmdid: 0x00000003,
  invbndsts: 0x00000004,
  alybnd: 0x00000005,
  bindfail: 0x0000000d,
  invpaswd: 0x0000000e,
  invsysid: 0x0000000f,
  msgqful: 0x00000014,
  throttled: 0x00000058,
  rx_t_appn: 0x00000064,
};

// SMPP 3.4 §5.2.28 message_state, for the receipt TLV.
const message_states = {
  ENROUTE: 1,
  DELIVRD: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIV: 5,
  ACCEPTD: 6,
  UNKNOWN: 7,
  REJECTD: 8,
};

const id_modulus = 1n << 64n;

// ---------------------------------------------------------------------------------------------
// Configuration: flags first, then changed at run time by commands.

const config = {
  host: '127.0.0.1',
  port: 0,
  accounts: new Map(),
  system_id: 'smsc',
  id_format: 'hex',
  id_width: null,
  id_start: 0x812fc74700000001n,
  receipt_id_format: 'same',
  receipt_id_width: 0,
  receipt_delay_ms: 0,
  receipt_tlvs: false,
  receipt_retry_ms: 500,
  receipt_retries: 10,
  hold_receipts: false,
  receipt_stat: {stat: 'DELIVRD', err: '000'},
  receipt_stat_prefixes: new Map(),
  throttle_every: 0,
  qfull_every: 0,
  submit_delay_ms: 0,
  receipt_if_unanswered: false,
  silent: false,
  drop_after: 0,
  drop_once: false,
  drop_session: null,
  refuse_binds: false,
  enquire_link_ms: 0,
  max_pdu_length: 16384,
  tls_cert: null, // PEM files: SMPP over TLS when both are set
  tls_key: null,
  pdu_hex: false,
  submit_events: true,
  submit_times: false,
  print_sms: false,
  read_stdin: true,
};

const id_formats = new Set(['hex', 'hex-upper', 'hex-lower', 'decimal']);

function parse_uint(value, name) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: not a non-negative integer: ${value}`);
  return n;
}

function parse_id_start(value) {
  const n = BigInt(value);
  if (n < 0n || n >= id_modulus) throw new Error(`id-start out of range: ${value}`);
  return n;
}

function parse_id_format(value, allow_same) {
  if (id_formats.has(value) || (allow_same && value === 'same')) return value;
  throw new Error(`unknown id format: ${value}`);
}

// "[PREFIX=]STAT[:ERR]" -> {prefix, stat, err}
function parse_stat_rule(value) {
  let prefix = null;
  let rest = value;
  const eq = value.indexOf('=');
  if (eq >= 0) {
    prefix = value.slice(0, eq);
    rest = value.slice(eq + 1);
  }
  const [stat, err] = rest.split(':');
  if (!stat) throw new Error(`bad receipt stat: ${value}`);
  return {prefix, stat, err: err === undefined ? default_err(stat) : err};
}

function default_err(stat) {
  return stat === 'DELIVRD' ? '000' : '001';
}

// Flags and `set` keys share one table: name -> function(config, value).
const settable = {
  id_format: (v) => (config.id_format = parse_id_format(String(v), false)),
  id_width: (v) => (config.id_width = parse_uint(v, 'id-width')),
  id_start: (v) => {
    config.id_start = parse_id_start(String(v));
    next_id = config.id_start;
  },
  receipt_id_format: (v) => (config.receipt_id_format = parse_id_format(String(v), true)),
  receipt_id_width: (v) => (config.receipt_id_width = parse_uint(v, 'receipt-id-width')),
  receipt_delay_ms: (v) => (config.receipt_delay_ms = parse_uint(v, 'receipt-delay-ms')),
  receipt_tlvs: (v) => (config.receipt_tlvs = v === undefined ? true : Boolean(v)),
  receipt_retry_ms: (v) => (config.receipt_retry_ms = parse_uint(v, 'receipt-retry-ms')),
  receipt_retries: (v) => (config.receipt_retries = parse_uint(v, 'receipt-retries')),
  throttle_every: (v) => set_every('throttle', parse_uint(v, 'throttle-every')),
  qfull_every: (v) => set_every('qfull', parse_uint(v, 'qfull-every')),
  submit_delay_ms: (v) => (config.submit_delay_ms = parse_uint(v, 'submit-delay-ms')),
  receipt_if_unanswered: (v) => (config.receipt_if_unanswered = v === undefined ? true : Boolean(v)),
  silent: (v) => (config.silent = v === undefined ? true : Boolean(v)),
  drop_after: (v) => (config.drop_after = parse_uint(v, 'drop-after')),
  refuse_binds: (v) => (config.refuse_binds = v === undefined ? true : Boolean(v)),
  enquire_link_ms: (v) => set_enquire_link_period(parse_uint(v, 'enquire-link-ms')),
  pdu_hex: (v) => (config.pdu_hex = v === undefined ? true : Boolean(v)),
  submit_events: (v) => (config.submit_events = Boolean(v)),
  submit_times: (v) => (config.submit_times = v === undefined ? true : Boolean(v)),
};

function parse_args(argv) {
  const boolean_flags = new Set([
    'receipt-tlvs',
    'receipt-if-unanswered',
    'silent',
    'refuse-binds',
    'pdu-hex',
    'no-submit-events',
    'submit-times',
    'no-stdin',
    'print-sms',
    'help',
  ]);
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument: ${arg}`);
    let name = arg.slice(2);
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    } else if (!boolean_flags.has(name)) {
      if (i + 1 >= argv.length) throw new Error(`--${name} needs a value`);
      value = argv[++i];
    }
    switch (name) {
      case 'help':
        process.stdout.write(usage);
        process.exit(0);
      case 'host':
        config.host = value;
        break;
      case 'port':
        config.port = parse_uint(value, 'port');
        break;
      case 'account': {
        const colon = value.indexOf(':');
        if (colon <= 0) throw new Error(`--account wants ID:PASSWORD, got ${value}`);
        config.accounts.set(value.slice(0, colon), value.slice(colon + 1));
        break;
      }
      case 'system-id':
        config.system_id = value;
        break;
      case 'receipt-stat': {
        const rule = parse_stat_rule(value);
        if (rule.prefix === null) config.receipt_stat = {stat: rule.stat, err: rule.err};
        else config.receipt_stat_prefixes.set(rule.prefix, {stat: rule.stat, err: rule.err});
        break;
      }
      case 'max-pdu-length':
        config.max_pdu_length = parse_uint(value, 'max-pdu-length');
        break;
      case 'no-submit-events':
        config.submit_events = false;
        break;
      case 'no-stdin':
        config.read_stdin = false;
        break;
      case 'print-sms':
        config.print_sms = true;
        break;
      case 'tls-cert':
        config.tls_cert = value;
        break;
      case 'tls-key':
        config.tls_key = value;
        break;
      default: {
        const setter = settable[name.replace(/-/g, '_')];
        if (!setter) throw new Error(`unknown flag --${name}`);
        setter(value);
      }
    }
  }
  if (config.accounts.size === 0) config.accounts.set('otpd', 'secret');
}

// ---------------------------------------------------------------------------------------------
// Output.

const started = process.hrtime.bigint();

function now_ms() {
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function emit(event) {
  event.t = Math.round(now_ms() * 1000) / 1000;
  process.stdout.write(JSON.stringify(event) + '\n');
}

function diag(...args) {
  process.stderr.write(`smsc: ${args.join(' ')}\n`);
}

// ---------------------------------------------------------------------------------------------
// node-smpp adjustments (see shared INTEROP notes).

// Raw mode: node-smpp decodes short_message / message_payload into text and times into Dates,
// which loses the bytes the tests must check. Without the filters every field stays as read
// (Buffers and strings), and what we send is written as given.
for (const name of Object.keys(smpp.commands)) {
  const params = smpp.commands[name].params || {};
  for (const key of Object.keys(params)) delete params[key].filter;
}
for (const name of Object.keys(smpp.tlvs)) delete smpp.tlvs[name].filter;

// Framing errors (length < 16 or too large) leave no way to find the next PDU: mark them so
// the session's error handler answers generic_nack and closes.
const original_command_length = smpp.PDU.commandLength;
smpp.PDU.commandLength = function (stream) {
  let length;
  try {
    length = original_command_length(stream);
  } catch (e) {
    e.framing = true;
    throw e;
  }
  if (length !== false && length < 16) {
    const e = new Error(`command_length ${length} is shorter than a header`);
    e.framing = true;
    throw e;
  }
  return length;
};

// A body that node-smpp cannot decode would otherwise throw inside its read loop and leave the
// session stuck; it becomes an "undecodable" PDU that the handler answers with generic_nack.
// Every PDU keeps its raw bytes (non-enumerable, so node-smpp's own loops ignore it).
smpp.PDU.fromStream = function (stream, command_length) {
  const body = stream.read(command_length - 4);
  if (!body) return false;
  const head = Buffer.alloc(4);
  head.writeUInt32BE(command_length, 0);
  const raw = Buffer.concat([head, body]);
  let pdu;
  try {
    pdu = new smpp.PDU(raw);
  } catch (e) {
    pdu = {
      command: 'undecodable',
      command_id: raw.readUInt32BE(4),
      command_status: raw.readUInt32BE(8),
      sequence_number: raw.readUInt32BE(12),
      error: e,
      isResponse: () => false,
    };
  }
  Object.defineProperty(pdu, 'raw', {value: raw, enumerable: false});
  return pdu;
};

// ---------------------------------------------------------------------------------------------
// Parsing submit_sm ourselves: node-smpp keeps TLVs as typed values, the tests want bytes.

class reader {
  constructor(buf, offset) {
    this.buf = buf;
    this.offset = offset;
  }
  remaining() {
    return this.buf.length - this.offset;
  }
  need(n) {
    if (this.remaining() < n) throw new Error(`truncated at offset ${this.offset}`);
  }
  u8() {
    this.need(1);
    return this.buf[this.offset++];
  }
  u16() {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  bytes(n) {
    this.need(n);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  cstring() {
    const end = this.buf.indexOf(0, this.offset);
    if (end < 0) throw new Error(`C-Octet String without NUL at offset ${this.offset}`);
    const v = this.buf.toString('latin1', this.offset, end);
    this.offset = end + 1;
    return v;
  }
}

function tlv_name(tag) {
  const def = smpp.tlvsById[tag];
  return def ? def.tag : null;
}

function parse_tlvs(r) {
  const tlvs = [];
  while (r.remaining() > 0) {
    const tag = r.u16();
    const length = r.u16();
    const value = r.bytes(length);
    tlvs.push({tag, name: tlv_name(tag), hex: value.toString('hex')});
  }
  return tlvs;
}

// SMPP 3.4 §4.4.1
function parse_submit_sm(raw) {
  const r = new reader(raw, 16);
  const sm = {};
  sm.service_type = r.cstring();
  sm.source = {ton: r.u8(), npi: r.u8(), addr: r.cstring()};
  sm.dest = {ton: r.u8(), npi: r.u8(), addr: r.cstring()};
  sm.esm_class = r.u8();
  sm.protocol_id = r.u8();
  sm.priority_flag = r.u8();
  sm.schedule_delivery_time = r.cstring();
  sm.validity_period = r.cstring();
  sm.registered_delivery = r.u8();
  sm.replace_if_present_flag = r.u8();
  sm.data_coding = r.u8();
  sm.sm_default_msg_id = r.u8();
  sm.sm_length = r.u8();
  sm.short_message_bytes = r.bytes(sm.sm_length);
  sm.short_message = sm.short_message_bytes.toString('hex');
  sm.tlvs = parse_tlvs(r);
  return sm;
}

// ---------------------------------------------------------------------------------------------
// Message ids.

let next_id = config.id_start;

function format_id(n, format, width) {
  let s;
  switch (format) {
    case 'hex':
    case 'hex-upper':
      s = n.toString(16).toUpperCase();
      break;
    case 'hex-lower':
      s = n.toString(16);
      break;
    case 'decimal':
      s = n.toString(10);
      break;
    default:
      throw new Error(`unknown id format ${format}`);
  }
  return width > 0 ? s.padStart(width, '0') : s;
}

function allocate_id() {
  const n = next_id;
  next_id = (next_id + 1n) % id_modulus;
  const width = config.id_width !== null ? config.id_width : config.id_format === 'decimal' ? 0 : 16;
  return {value: n, text: format_id(n, config.id_format, width)};
}

function receipt_id_text(id) {
  if (config.receipt_id_format === 'same') return id.text;
  return format_id(id.value, config.receipt_id_format, config.receipt_id_width);
}

// ---------------------------------------------------------------------------------------------
// Sessions.

let session_counter = 0;
const sessions = new Map(); // id -> session_state
const round_robin = new Map(); // system_id -> counter
const pending_receipts = new Map(); // system_id -> [receipt]

class session_state {
  constructor(id, session) {
    this.id = id;
    this.session = session;
    this.system_id = null;
    this.bind_type = null;
    this.submits = 0;
    this.closed = false;
    this.closing = false; // close_session() called: ignore what is still buffered
    this.enquire_timer = null;
    this.outstanding_enquire = new Map(); // sequence_number -> timer
    this.outstanding_deliver = new Map(); // sequence_number -> receipt (re-queued on close)
  }
  can_receive() {
    return this.bind_type === 'receiver' || this.bind_type === 'transceiver';
  }
  can_transmit() {
    return this.bind_type === 'transmitter' || this.bind_type === 'transceiver';
  }
}

function send_response(st, pdu, options) {
  if (st.closed || st.closing) return;
  let response;
  if (pdu.command === 'unknown' || pdu.command === 'undecodable' || !smpp.commands[pdu.command + '_resp']) {
    response = new smpp.PDU('generic_nack', {
      sequence_number: pdu.sequence_number,
      command_status: (options && options.command_status) || status.invcmdid,
    });
  } else {
    response = pdu.response(options || {});
  }
  st.session.send(response);
}

function generic_nack(st, sequence_number, command_status) {
  if (st.closed) return;
  st.session.send(new smpp.PDU('generic_nack', {sequence_number, command_status}));
}

function close_session(st, reason) {
  if (st.closed || st.closing) return;
  st.closing = true;
  diag(`closing session ${st.id}: ${reason}`);
  st.session.socket.destroy();
}

function on_session(session) {
  const id = ++session_counter;
  const st = new session_state(id, session);
  sessions.set(id, st);
  // node-smpp leaves Nagle on: small PDUs would wait ~40 ms for the peer's delayed ACK.
  session.socket.setNoDelay(true);
  emit({event: 'connect', session: id, remote_port: session.socket.remotePort});
  // --submit-times: when the bytes became readable, ahead of node-smpp's own 'readable' handler.
  session.socket.prependListener('readable', () => {
    if (config.submit_times) st.readable_ns = process.hrtime.bigint();
  });

  session.on('pdu', (pdu) => {
    try {
      handle_pdu(st, pdu);
    } catch (e) {
      // A bug here must not kill the SMSC nor leave node-smpp's reader stuck.
      diag(`session ${id}: handler failed: ${e.stack || e}`);
      if (!pdu.isResponse()) generic_nack(st, pdu.sequence_number, 0x00000008);
    }
  });
  session.on('error', (e) => {
    if (e.framing) {
      emit({event: 'framing_error', session: id, error: String(e.message)});
      generic_nack(st, 0, status.invcmdlen);
      if (!st.closed) st.session.socket.end();
      return;
    }
    diag(`session ${id}: ${e.message}`);
  });
  session.on('close', () => on_close(st));
}

function on_close(st) {
  if (st.closed) return;
  st.closed = true;
  sessions.delete(st.id);
  if (st.enquire_timer) clearInterval(st.enquire_timer);
  for (const [sequence_number, timer] of st.outstanding_enquire) {
    clearTimeout(timer);
    emit({event: 'enquire_link_unanswered', session: st.id, sequence_number, reason: 'closed'});
  }
  st.outstanding_enquire.clear();
  emit({event: 'close', session: st.id, system_id: st.system_id});
  // Receipts not acknowledged on a lost session go to the next bind, as a real SMSC retries.
  for (const receipt of st.outstanding_deliver.values()) {
    if (receipt.kind === 'receipt') {
      emit({event: 'receipt_requeued', message_id: receipt.message_id, session: st.id});
      queue_receipt(receipt);
    }
  }
  st.outstanding_deliver.clear();
}

function handle_pdu(st, pdu) {
  if (st.closing) return;
  if (!pdu.isResponse() && config.silent) {
    if (pdu.command === 'submit_sm') {
      on_submit(st, pdu);
    } else {
      emit({
        event: pdu.command === 'enquire_link' ? 'enquire_link' : 'ignored',
        session: st.id,
        command: pdu.command,
        sequence_number: pdu.sequence_number,
        bound: st.bind_type !== null,
        answered: false,
      });
    }
    return;
  }
  switch (pdu.command) {
    case 'bind_transmitter':
    case 'bind_receiver':
    case 'bind_transceiver':
      return on_bind(st, pdu);
    case 'submit_sm':
      return on_submit(st, pdu);
    case 'enquire_link':
      send_response(st, pdu);
      emit({
        event: 'enquire_link',
        session: st.id,
        sequence_number: pdu.sequence_number,
        bound: st.bind_type !== null,
        answered: true,
      });
      return;
    case 'unbind':
      send_response(st, pdu);
      emit({event: 'unbind', session: st.id, sequence_number: pdu.sequence_number});
      // SMPP 3.4 §4.2: after unbind_resp the connection is done; end() still flushes the resp.
      st.session.socket.end();
      return;
    case 'undecodable':
      emit({
        event: 'generic_nack_sent',
        session: st.id,
        command_id: pdu.command_id,
        sequence_number: pdu.sequence_number,
        status: status.invcmdlen,
        reason: String(pdu.error && pdu.error.message),
      });
      generic_nack(st, pdu.sequence_number, status.invcmdlen);
      return;
    case 'generic_nack':
      emit({
        event: 'generic_nack_received',
        session: st.id,
        sequence_number: pdu.sequence_number,
        status: pdu.command_status,
      });
      return;
    case 'deliver_sm_resp':
    case 'enquire_link_resp':
    case 'unbind_resp':
      return; // handled by the callbacks given to session.send
    default:
      if (pdu.isResponse()) {
        emit({event: 'unexpected_response', session: st.id, command: pdu.command,
              sequence_number: pdu.sequence_number});
        return;
      }
      emit({
        event: 'generic_nack_sent',
        session: st.id,
        command_id: pdu.command_id,
        sequence_number: pdu.sequence_number,
        status: status.invcmdid,
        reason: `unsupported command ${pdu.command}`,
      });
      send_response(st, pdu, {command_status: status.invcmdid});
  }
}

function on_bind(st, pdu) {
  const type = pdu.command.slice('bind_'.length);
  let command_status = status.ok;
  if (st.bind_type !== null) command_status = status.alybnd;
  else if (config.refuse_binds) command_status = status.bindfail;
  else if (!config.accounts.has(pdu.system_id)) command_status = status.invsysid;
  else if (config.accounts.get(pdu.system_id) !== pdu.password) command_status = status.invpaswd;

  if (command_status !== status.ok) {
    send_response(st, pdu, {command_status});
    emit({
      event: 'bind_rejected',
      session: st.id,
      type,
      system_id: pdu.system_id,
      status: command_status,
    });
    return;
  }
  st.bind_type = type;
  st.system_id = pdu.system_id;
  send_response(st, pdu, {system_id: config.system_id});
  emit({
    event: 'bind',
    type,
    system_id: pdu.system_id,
    session: st.id,
    interface_version: pdu.interface_version,
    system_type: pdu.system_type,
  });
  if (config.enquire_link_ms > 0) start_enquire_timer(st);
  if (st.can_receive()) flush_receipts(st.system_id);
}

// ---------------------------------------------------------------------------------------------
// submit_sm and fault modes.

const faults = {
  throttle_count: 0,
  throttle_until: 0,
  qfull_count: 0,
  qfull_until: 0,
};

function set_every(kind, n) {
  config[`${kind}_every`] = n;
  faults[`${kind}_count`] = 0;
}

function set_window(kind, ms) {
  faults[`${kind}_until`] = ms > 0 ? Date.now() + ms : 0;
}

function fault_status() {
  const now = Date.now();
  let result = status.ok;
  if (now < faults.throttle_until) result = status.throttled;
  if (config.throttle_every > 0 && ++faults.throttle_count % config.throttle_every === 0) {
    result = result || status.throttled;
  }
  if (!result && now < faults.qfull_until) result = status.msgqful;
  if (config.qfull_every > 0 && ++faults.qfull_count % config.qfull_every === 0) {
    result = result || status.msgqful;
  }
  return result;
}

// A readable line per SMS for a person watching the sandbox: GSM 7-bit (unpacked, ASCII
// range), Latin-1 or UCS2; a UDH is skipped; other codings as hex.
function print_sms(sm) {
  let bytes = sm.short_message_bytes;
  if (bytes.length === 0) {
    const payload = sm.tlvs.find((t) => t.tag === 0x0424);
    if (payload) bytes = Buffer.from(payload.hex, 'hex');
  }
  if (sm.esm_class & 0x40 && bytes.length > 0) bytes = bytes.subarray(bytes[0] + 1);
  let text;
  if (sm.data_coding === 0x08 && bytes.length % 2 === 0) {
    const swapped = Buffer.from(bytes);
    swapped.swap16();
    text = swapped.toString('utf16le');
  } else if (sm.data_coding === 0x00 || sm.data_coding === 0x01 || sm.data_coding === 0x03) {
    text = bytes.toString('latin1');
  } else {
    text = `(data_coding ${sm.data_coding}) ${bytes.toString('hex')}`;
  }
  process.stderr.write(`SMS ${sm.source.addr} -> ${sm.dest.addr}: ${text}\n`);
}

function on_submit(st, pdu) {
  let sm;
  try {
    sm = parse_submit_sm(pdu.raw);
  } catch (e) {
    emit({
      event: 'generic_nack_sent',
      session: st.id,
      command_id: pdu.command_id,
      sequence_number: pdu.sequence_number,
      status: status.invcmdlen,
      reason: String(e.message),
    });
    if (!config.silent) generic_nack(st, pdu.sequence_number, status.invcmdlen);
    return;
  }
  st.submits += 1;
  const event = {
    event: 'submit',
    session: st.id,
    system_id: st.system_id,
    sequence_number: pdu.sequence_number,
    service_type: sm.service_type,
    source: sm.source,
    dest: sm.dest,
    esm_class: sm.esm_class,
    protocol_id: sm.protocol_id,
    priority_flag: sm.priority_flag,
    schedule_delivery_time: sm.schedule_delivery_time,
    validity_period: sm.validity_period,
    registered_delivery: sm.registered_delivery,
    replace_if_present_flag: sm.replace_if_present_flag,
    data_coding: sm.data_coding,
    sm_default_msg_id: sm.sm_default_msg_id,
    sm_length: sm.sm_length,
    short_message: sm.short_message,
    tlvs: sm.tlvs,
    submit_number: st.submits,
    status: null,
    message_id: null,
    delay_ms: 0,
  };
  if (config.pdu_hex) event.pdu = pdu.raw.toString('hex');
  if (config.submit_times && st.readable_ns) event.arrival_us = Number(st.readable_ns / 1000n);
  if (config.print_sms) print_sms(sm);

  if (config.silent) {
    event.answered = false;
    if (config.submit_events) emit(event);
    return;
  }
  if (
    config.drop_after > 0 &&
    st.submits === config.drop_after &&
    (config.drop_session === null || config.drop_session === st.id)
  ) {
    event.answered = false;
    event.dropped = true;
    emit(event);
    if (config.drop_once) {
      config.drop_after = 0;
      config.drop_once = false;
      config.drop_session = null;
    }
    close_session(st, `drop after submit ${st.submits}`);
    return;
  }

  let command_status = st.can_transmit() ? fault_status() : status.invbndsts;
  let id = null;
  if (command_status === status.ok) id = allocate_id();
  event.status = command_status;
  event.message_id = id && id.text;
  event.delay_ms = config.submit_delay_ms;
  event.answered = true;
  if (config.submit_events) emit(event);

  const respond = () => {
    if (st.closed) {
      // The session went away before the answer: the SMSC still has the message.
      if (id && config.receipt_if_unanswered) {
        emit({event: 'submit_resp_lost', session: st.id, sequence_number: pdu.sequence_number,
              message_id: id.text});
        maybe_schedule_receipt(st, sm, id);
      }
      return;
    }
    send_response(st, pdu, id ? {message_id: id.text} : {command_status});
    if (config.submit_events) {
      emit({
        event: 'submit_resp',
        session: st.id,
        sequence_number: pdu.sequence_number,
        status: command_status,
        message_id: id && id.text,
      });
    }
    if (id) maybe_schedule_receipt(st, sm, id);
  };
  if (config.submit_delay_ms > 0) setTimeout(respond, config.submit_delay_ms);
  else respond();
}

// ---------------------------------------------------------------------------------------------
// Delivery receipts (SMPP 3.4 Appendix B).

function stat_for(dest_addr) {
  let best = null;
  for (const [prefix, rule] of config.receipt_stat_prefixes) {
    if (dest_addr.startsWith(prefix) && (best === null || prefix.length > best.prefix.length)) {
      best = {prefix, rule};
    }
  }
  return best ? best.rule : config.receipt_stat;
}

function smpp_date(d) {
  const two = (n) => String(n).padStart(2, '0');
  return (
    two(d.getUTCFullYear() % 100) +
    two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes())
  );
}

// Appendix B: "text:" carries the first 20 characters of the original message.
function receipt_text_field(sm) {
  const bytes = sm.short_message_bytes.subarray(0, 20);
  let s = '';
  for (const b of bytes) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
  return s;
}

function maybe_schedule_receipt(st, sm, id) {
  // SMPP 3.4 §5.2.17: bits 1..0 = 01 receipt on success or failure, 10 on failure only
  // (11 is "success only" in SMPP 5.0).
  const wanted = sm.registered_delivery & 0x03;
  if (wanted === 0) return;
  const rule = stat_for(sm.dest.addr);
  const delivered = rule.stat === 'DELIVRD';
  if ((wanted === 2 && delivered) || (wanted === 3 && !delivered)) return;
  const submitted_at = new Date();
  const receipt = {
    kind: 'receipt',
    system_id: st.system_id,
    message_id: id.text,
    receipt_id: receipt_id_text(id),
    stat: rule.stat,
    err: rule.err,
    to: sm.source,
    from: sm.dest,
    submitted_at,
    text_field: receipt_text_field(sm),
  };
  const go = () => queue_receipt(receipt);
  if (config.receipt_delay_ms > 0) setTimeout(go, config.receipt_delay_ms);
  else go();
}

function receivers_of(system_id) {
  return [...sessions.values()]
    .filter((s) => !s.closed && s.can_receive() && (system_id === null || s.system_id === system_id))
    .sort((a, b) => a.id - b.id);
}

function pick_receiver(system_id) {
  const candidates = receivers_of(system_id);
  if (candidates.length === 0) return null;
  const n = round_robin.get(system_id) || 0;
  round_robin.set(system_id, n + 1);
  return candidates[n % candidates.length];
}

function queue_receipt(receipt) {
  const target = config.hold_receipts ? null : pick_receiver(receipt.system_id);
  if (!target) {
    if (!pending_receipts.has(receipt.system_id)) pending_receipts.set(receipt.system_id, []);
    pending_receipts.get(receipt.system_id).push(receipt);
    emit({event: 'receipt_queued', message_id: receipt.message_id, system_id: receipt.system_id});
    return;
  }
  send_receipt(target, receipt);
}

// Receipts held are queued as if no receiver were bound; releasing sends every queued one.
function set_hold_receipts(on) {
  config.hold_receipts = on;
  if (!on) {
    for (const system_id of [...pending_receipts.keys()]) flush_receipts(system_id);
  }
}

function flush_receipts(system_id) {
  const queue = pending_receipts.get(system_id);
  if (!queue) return;
  pending_receipts.delete(system_id);
  for (const receipt of queue) queue_receipt(receipt);
}

function send_receipt(st, receipt) {
  const done = new Date();
  const text =
    `id:${receipt.receipt_id} sub:001 dlvrd:${receipt.stat === 'DELIVRD' ? '001' : '000'} ` +
    `submit date:${smpp_date(receipt.submitted_at)} done date:${smpp_date(done)} ` +
    `stat:${receipt.stat} err:${receipt.err} text:${receipt.text_field}`;
  const fields = {
    source_addr_ton: receipt.from.ton,
    source_addr_npi: receipt.from.npi,
    source_addr: receipt.from.addr,
    dest_addr_ton: receipt.to.ton,
    dest_addr_npi: receipt.to.npi,
    destination_addr: receipt.to.addr,
    esm_class: 0x04, // SMPP 3.4 §5.2.12: SMSC delivery receipt
    data_coding: 0,
    short_message: Buffer.from(text, 'latin1'),
  };
  if (config.receipt_tlvs) {
    fields.receipted_message_id = receipt.message_id;
    fields.message_state = message_states[receipt.stat] || message_states.UNKNOWN;
  }
  const sequence_number = send_deliver_sm(st, fields, receipt);
  emit({
    event: 'receipt_sent',
    session: st.id,
    sequence_number,
    message_id: receipt.message_id,
    receipt_id: receipt.receipt_id,
    stat: receipt.stat,
    err: receipt.err,
    source: receipt.from,
    dest: receipt.to,
    text,
    tlvs: config.receipt_tlvs,
  });
}

// SMPP 3.4 §5.1.3 statuses that ask the SMSC to try a deliver_sm again later.
const temporary_deliver_errors = new Set([status.rx_t_appn, status.throttled, status.msgqful]);

// A receipt the ESME could not take for now goes again after receipt_retry_ms, as an SMSC
// retries (a bounded number of times); any other error refuses it for good.
function after_refused_receipt(receipt, command_status) {
  const attempts = receipt.attempts || 0;
  if (!temporary_deliver_errors.has(command_status) || attempts >= config.receipt_retries) {
    emit({event: 'receipt_refused', message_id: receipt.message_id, status: command_status,
          attempts: attempts + 1});
    return;
  }
  receipt.attempts = attempts + 1;
  setTimeout(() => {
    emit({event: 'receipt_retry', message_id: receipt.message_id, attempt: receipt.attempts + 1});
    queue_receipt(receipt);
  }, config.receipt_retry_ms);
}

// Sends a deliver_sm and reports its deliver_sm_resp; returns the sequence number.
function send_deliver_sm(st, fields, what) {
  const pdu = new smpp.PDU('deliver_sm', fields);
  st.session.send(pdu, (resp) => {
    st.outstanding_deliver.delete(pdu.sequence_number);
    emit({
      event: 'deliver_sm_resp',
      session: st.id,
      sequence_number: resp.sequence_number,
      status: resp.command_status,
      kind: what.kind,
      message_id: what.message_id === undefined ? null : what.message_id,
    });
    if (what.kind === 'receipt' && resp.command_status !== status.ok) {
      after_refused_receipt(what, resp.command_status);
    }
  });
  st.outstanding_deliver.set(pdu.sequence_number, what);
  return pdu.sequence_number;
}

// ---------------------------------------------------------------------------------------------
// SMSC-initiated enquire_link and unbind.

function send_enquire_link(st, timeout_ms) {
  if (st.closed) return;
  const pdu = new smpp.PDU('enquire_link', {});
  const sent_at = now_ms();
  st.session.send(pdu, (resp) => {
    const timer = st.outstanding_enquire.get(resp.sequence_number);
    if (timer === undefined) return; // already reported unanswered
    clearTimeout(timer);
    st.outstanding_enquire.delete(resp.sequence_number);
    emit({
      event: 'enquire_link_resp',
      session: st.id,
      sequence_number: resp.sequence_number,
      status: resp.command_status,
      rtt_ms: Math.round((now_ms() - sent_at) * 1000) / 1000,
    });
  });
  const sequence_number = pdu.sequence_number;
  st.outstanding_enquire.set(
    sequence_number,
    setTimeout(() => {
      st.outstanding_enquire.delete(sequence_number);
      emit({event: 'enquire_link_unanswered', session: st.id, sequence_number, reason: 'timeout'});
    }, timeout_ms),
  );
  emit({event: 'enquire_link_sent', session: st.id, sequence_number});
}

function start_enquire_timer(st) {
  if (st.enquire_timer) clearInterval(st.enquire_timer);
  st.enquire_timer = null;
  if (config.enquire_link_ms > 0) {
    st.enquire_timer = setInterval(() => send_enquire_link(st, config.enquire_link_ms),
                                   config.enquire_link_ms);
  }
}

function set_enquire_link_period(ms) {
  config.enquire_link_ms = ms;
  for (const st of sessions.values()) if (st.bind_type !== null) start_enquire_timer(st);
}

function send_unbind(st) {
  const pdu = new smpp.PDU('unbind', {});
  st.session.send(pdu, (resp) => {
    emit({event: 'unbind_resp', session: st.id, status: resp.command_status});
    st.session.socket.end();
  });
  emit({event: 'unbind_sent', session: st.id, sequence_number: pdu.sequence_number});
}

// ---------------------------------------------------------------------------------------------
// Commands on stdin.

function target_sessions(cmd) {
  if (cmd.session === undefined) return [...sessions.values()].filter((s) => s.bind_type !== null);
  const st = sessions.get(cmd.session);
  if (!st) throw new Error(`no session ${cmd.session}`);
  return [st];
}

function send_mo(cmd) {
  let st;
  if (cmd.session !== undefined) {
    st = sessions.get(cmd.session);
    if (!st || !st.can_receive()) throw new Error(`session ${cmd.session} cannot receive`);
  } else {
    st = pick_receiver(cmd.system_id === undefined ? null : cmd.system_id);
    if (!st) throw new Error('no receiver or transceiver bound');
  }
  let message;
  if (cmd.hex !== undefined) message = Buffer.from(cmd.hex, 'hex');
  else message = Buffer.from(cmd.text || '', 'latin1');
  const fields = {
    source_addr_ton: cmd.source_ton === undefined ? 1 : cmd.source_ton,
    source_addr_npi: cmd.source_npi === undefined ? 1 : cmd.source_npi,
    source_addr: String(cmd.source || ''),
    dest_addr_ton: cmd.dest_ton === undefined ? 0 : cmd.dest_ton,
    dest_addr_npi: cmd.dest_npi === undefined ? 1 : cmd.dest_npi,
    destination_addr: String(cmd.dest || ''),
    esm_class: cmd.esm_class || 0,
    data_coding: cmd.data_coding || 0,
    short_message: message,
  };
  for (const [name, value] of Object.entries(cmd.tlvs || {})) {
    const def = smpp.tlvs[name];
    if (!def) throw new Error(`unknown TLV ${name}`);
    fields[name] = def.type === smpp.types.tlv.buffer ? Buffer.from(String(value), 'hex') : value;
  }
  const sequence_number = send_deliver_sm(st, fields, {kind: 'mo'});
  emit({
    event: 'mo_sent',
    session: st.id,
    sequence_number,
    source: fields.source_addr,
    dest: fields.destination_addr,
    esm_class: fields.esm_class,
    short_message: message.toString('hex'),
  });
  return {session: st.id, sequence_number};
}

function run_command(cmd) {
  switch (cmd.cmd) {
    case 'throttle':
    case 'qfull':
      if (cmd.every !== undefined) set_every(cmd.cmd, parse_uint(cmd.every, 'every'));
      if (cmd.for_ms !== undefined) set_window(cmd.cmd, parse_uint(cmd.for_ms, 'for_ms'));
      return {};
    case 'delay':
      config.submit_delay_ms = parse_uint(cmd.ms, 'ms');
      return {};
    case 'silent':
      config.silent = cmd.on === undefined ? true : Boolean(cmd.on);
      return {};
    case 'refuse_binds':
      config.refuse_binds = cmd.on === undefined ? true : Boolean(cmd.on);
      return {};
    case 'close_all': {
      const closed = [...sessions.values()].map((st) => st.id);
      for (const id of closed) close_session(sessions.get(id), 'close_all');
      return {sessions: closed};
    }
    case 'close':
      for (const st of target_sessions(cmd)) close_session(st, 'close command');
      return {};
    case 'drop_after':
      config.drop_after = parse_uint(cmd.n, 'n');
      config.drop_once = Boolean(cmd.once);
      config.drop_session = cmd.session === undefined ? null : cmd.session;
      return {};
    case 'enquire_link':
      if (cmd.every_ms !== undefined) {
        set_enquire_link_period(parse_uint(cmd.every_ms, 'every_ms'));
        return {};
      }
      {
        const targets = target_sessions(cmd);
        for (const st of targets) send_enquire_link(st, cmd.timeout_ms || 1000);
        return {sessions: targets.map((st) => st.id)};
      }
    case 'mo':
      return send_mo(cmd);
    case 'unbind': {
      const targets = target_sessions(cmd);
      for (const st of targets) send_unbind(st);
      return {sessions: targets.map((st) => st.id)};
    }
    case 'raw': {
      if (typeof cmd.hex !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(cmd.hex)) {
        throw new Error('raw wants "hex": an even number of hex digits');
      }
      const targets = target_sessions(cmd);
      for (const st of targets) st.session.socket.write(Buffer.from(cmd.hex, 'hex'));
      return {sessions: targets.map((st) => st.id)};
    }
    case 'receipt_stat': {
      if (cmd.prefix === undefined) {
        config.receipt_stat = {stat: cmd.stat, err: cmd.err || default_err(cmd.stat)};
      } else if (cmd.stat === null) {
        config.receipt_stat_prefixes.delete(cmd.prefix);
      } else {
        config.receipt_stat_prefixes.set(cmd.prefix, {stat: cmd.stat, err: cmd.err || default_err(cmd.stat)});
      }
      return {};
    }
    case 'set':
      for (const [key, value] of Object.entries(cmd)) {
        if (key === 'cmd' || key === 'id') continue;
        const setter = settable[key];
        if (!setter) throw new Error(`cannot set ${key}`);
        setter(value);
      }
      return {};
    case 'sessions':
      return {
        sessions: [...sessions.values()].map((st) => ({
          session: st.id,
          system_id: st.system_id,
          type: st.bind_type,
          submits: st.submits,
        })),
      };
    case 'ping':
      return {};
    case 'hold_receipts':
      set_hold_receipts(Boolean(cmd.on));
      return {};
    case 'reset':
      set_every('throttle', 0);
      set_every('qfull', 0);
      set_window('throttle', 0);
      set_window('qfull', 0);
      config.submit_delay_ms = 0;
      config.silent = false;
      config.drop_after = 0;
      config.drop_once = false;
      config.drop_session = null;
      config.refuse_binds = false;
      set_hold_receipts(false);
      return {};
    default:
      throw new Error(`unknown command ${cmd.cmd}`);
  }
}

function on_command_line(line) {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
    if (typeof cmd !== 'object' || cmd === null || typeof cmd.cmd !== 'string') {
      throw new Error('a command is an object with a string "cmd"');
    }
  } catch (e) {
    diag(`bad command ${line}: ${e.message}`);
    emit({event: 'ack', cmd: null, ok: false, error: String(e.message)});
    return;
  }
  const ack = {event: 'ack', cmd: cmd.cmd};
  if (cmd.id !== undefined) ack.id = cmd.id;
  try {
    Object.assign(ack, run_command(cmd), {ok: true});
  } catch (e) {
    diag(`command ${cmd.cmd} failed: ${e.message}`);
    Object.assign(ack, {ok: false, error: String(e.message)});
  }
  emit(ack);
}

// ---------------------------------------------------------------------------------------------
// Start and stop.

let server = null;

function shutdown(why) {
  diag(`exiting: ${why}`);
  for (const st of sessions.values()) st.session.socket.destroy();
  if (server) server.close();
  process.exit(0);
}

function main() {
  try {
    parse_args(process.argv.slice(2));
  } catch (e) {
    diag(e.message);
    process.stderr.write(usage);
    process.exit(2);
  }
  smpp.PDU.maxLength = config.max_pdu_length;

  // The parent reads stdout; if it goes away, so do we.
  process.stdout.on('error', () => process.exit(0));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  if (Boolean(config.tls_cert) !== Boolean(config.tls_key)) {
    diag('--tls-cert and --tls-key go together');
    process.exit(2);
  }
  const fs = require('fs');
  server = config.tls_cert
    ? smpp.createServer({cert: fs.readFileSync(config.tls_cert), key: fs.readFileSync(config.tls_key)},
        on_session)
    : smpp.createServer(on_session);
  server.on('error', (e) => {
    diag(`server: ${e.message}`);
    process.exit(1);
  });
  server.listen(config.port, config.host, () => {
    emit({event: 'listening', port: server.address().port, host: config.host});
    if (!config.read_stdin) return;
    // Commands are read only once listening, so that "listening" is always the first line.
    const rl = readline.createInterface({input: process.stdin, terminal: false});
    rl.on('line', on_command_line);
    rl.on('close', () => shutdown('stdin closed'));
  });
}

main();
