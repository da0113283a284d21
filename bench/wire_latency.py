#!/usr/bin/env python3
"""otpd's latency as seen on the wire, from a loopback capture (tcpdump -i lo -w FILE).

    python3 bench/wire_latency.py FILE --http-port P --smpp-port Q

For each POST /v1/verifications captured on its way into otpd (port P), with a destination
number unique per request: when its HTTP response left otpd, and when the submit_sm for that
number left otpd for the SMSC (port Q). Prints p50/p90/p99/max of

    request in -> response out        (otpd's HTTP latency, client and network excluded)
    request in -> submit_sm out       (the latency otpd adds: HTTP request in -> SMPP on the wire)

Timestamps are the kernel's capture times of the segments that complete each message; the
streams are reassembled per TCP flow (loopback: no loss, no reordering). bench/gateway_bench.sh
runs it with CAPTURE=1 (the default when tcpdump is installed).
"""
import argparse
import re
import struct
import sys
from collections import defaultdict

TO_RE = re.compile(rb'"to"\s*:\s*"\+?([0-9]+)"')


def packets(path):
    with open(path, 'rb') as f:
        head = f.read(24)
        magic = struct.unpack('<I', head[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            endian = '<'
        else:
            endian = '>'
            magic = struct.unpack('>I', head[:4])[0]
        scale = 1e-9 if magic == 0xa1b23c4d else 1e-6
        linktype = struct.unpack(endian + 'I', head[20:24])[0]
        while True:
            ph = f.read(16)
            if len(ph) < 16:
                return
            sec, frac, incl, orig = struct.unpack(endian + 'IIII', ph)
            data = f.read(incl)
            yield sec + frac * scale, linktype, data, incl < orig


def tcp_segment(linktype, data):
    if linktype == 1:  # Ethernet (what tcpdump -i lo gives)
        off = 14
        if struct.unpack('!H', data[12:14])[0] != 0x0800:
            return None
    elif linktype == 113:  # Linux cooked
        off = 16
    elif linktype == 276:  # Linux cooked v2
        off = 20
    elif linktype in (0, 108):  # BSD loopback / null
        off = 4
    else:
        raise SystemExit(f'unsupported link type {linktype}')
    ip = data[off:]
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
        return None
    ihl = (ip[0] & 15) * 4
    total = struct.unpack('!H', ip[2:4])[0]
    src, dst = ip[12:16], ip[16:20]
    tcp = ip[ihl:total]
    sport, dport, seq = struct.unpack('!HHI', tcp[:8])
    doff = (tcp[12] >> 4) * 4
    return (src, sport, dst, dport), seq, tcp[doff:]


def percentile(values, p):
    if not values:
        return float('nan')
    v = sorted(values)
    rank = max(1, min(len(v), int(p / 100 * len(v) + 0.999999)))
    return v[rank - 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('pcap')
    ap.add_argument('--http-port', type=int, required=True)
    ap.add_argument('--smpp-port', type=int, required=True)
    a = ap.parse_args()

    buffers = defaultdict(bytearray)
    next_seq = {}
    pending = defaultdict(list)  # client flow -> request-in times awaiting their response
    request_in = {}  # number -> time the request reached otpd
    http_lat = []
    submit_out = {}  # number -> time its submit_sm left otpd
    truncated = 0

    for ts, linktype, data, trunc in packets(a.pcap):
        if trunc:
            truncated += 1
        seg = tcp_segment(linktype, data)
        if seg is None:
            continue
        flow, seq, payload = seg
        if not payload:
            continue
        # Loopback delivers in order; skip retransmitted bytes if any.
        exp = next_seq.get(flow)
        if exp is not None and seq != exp:
            if (seq - exp) & 0xffffffff > 0x7fffffff:  # old data
                continue
        next_seq[flow] = (seq + len(payload)) & 0xffffffff
        buf = buffers[flow]
        buf += payload
        _, sport, _, dport = flow
        if dport == a.http_port:  # requests into otpd
            while True:
                end = buf.find(b'\r\n\r\n')
                if end < 0:
                    break
                m = re.search(rb'(?i)\r\ncontent-length:\s*(\d+)', bytes(buf[:end + 2]))
                total = end + 4 + (int(m.group(1)) if m else 0)
                if len(buf) < total:
                    break
                msg = bytes(buf[:total])
                del buf[:total]
                pending[flow].append(ts)
                if msg.startswith(b'POST /v1/verifications'):
                    t = TO_RE.search(msg)
                    if t:
                        request_in[t.group(1).decode()] = ts
        elif sport == a.http_port:  # responses out of otpd
            client = (flow[2], flow[3], flow[0], flow[1])
            while True:
                end = buf.find(b'\r\n\r\n')
                if end < 0:
                    break
                m = re.search(rb'(?i)\r\ncontent-length:\s*(\d+)', bytes(buf[:end + 2]))
                total = end + 4 + (int(m.group(1)) if m else 0)
                if len(buf) < total:
                    break
                del buf[:total]
                if pending[client]:
                    http_lat.append(ts - pending[client].pop(0))
        elif dport == a.smpp_port:  # PDUs from otpd to the SMSC
            while len(buf) >= 16:
                length, command_id = struct.unpack('!II', buf[:8])
                if length < 16 or length > 65536:
                    buf.clear()  # lost framing: give up on this flow's backlog
                    break
                if len(buf) < length:
                    break
                pdu = bytes(buf[:length])
                del buf[:length]
                if command_id != 0x00000004:  # submit_sm
                    continue
                body = pdu[16:]
                p = body.index(b'\0') + 1  # service_type
                p += 2  # source ton, npi
                p = body.index(b'\0', p) + 1  # source_addr
                p += 2  # dest ton, npi
                dest = body[p:body.index(b'\0', p)].decode('ascii', 'replace')
                submit_out.setdefault(dest, ts)

    added = [submit_out[n] - t for n, t in request_in.items() if n in submit_out]
    print(f'wire ({a.pcap}): {len(request_in)} create requests, {len(http_lat)} responses, '
          f'{len(added)} matched submit_sm; {truncated} truncated packets')

    def show(name, v):
        v = [x * 1e3 for x in v]
        print(f'  {name}: p50 {percentile(v, 50):.3f} p90 {percentile(v, 90):.3f} '
              f'p99 {percentile(v, 99):.3f} max {percentile(v, 100):.3f} ms')

    show('request in -> response out ', http_lat)
    show('request in -> submit_sm out', added)
    return 0 if added else 1


if __name__ == '__main__':
    sys.exit(main())
