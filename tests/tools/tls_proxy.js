// TLS in front of a plain TCP port, for the otpd-smpp TLS test: the SMSC stand-in speaks plain
// SMPP, and this terminates TLS on 127.0.0.1 with an OS-chosen port.
//   node tls_proxy.js CERT.pem KEY.pem TARGET_PORT
// Prints {"event":"listening","port":N} first; exits when stdin closes (the test ended).
'use strict';
const fs = require('fs');
const net = require('net');
const tls = require('tls');

const [cert, key, target] = process.argv.slice(2);
const server = tls.createServer({cert: fs.readFileSync(cert), key: fs.readFileSync(key)}, (s) => {
  const c = net.connect(Number(target), '127.0.0.1');
  c.setNoDelay(true);
  s.pipe(c);
  c.pipe(s);
  s.on('error', () => c.destroy());
  c.on('error', () => s.destroy());
});
// A failed handshake (the client refused our certificate) is expected in the tests.
server.on('tlsClientError', () => {});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({event: 'listening', port: server.address().port}) + '\n');
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
