// The lab's misbehaving servers (docs/smtp-lab.md), one process for both, started by start.sh:
//   drop  ADDR:25  accepts the TCP connection and closes it at once, without a greeting;
//   busy  ADDR:25  greets with 421 (RFC 5321 §3.8, "service not available") and closes.
// A scanner must report both as `inconclusive`, never as a TLS failure.
// Usage: node drop-server.mjs DROP_ADDR BUSY_ADDR PORT
import { createServer } from 'node:net';

const [dropAddr, busyAddr, port = '25'] = process.argv.slice(2);
if (!dropAddr || !busyAddr) {
  console.error('usage: node drop-server.mjs DROP_ADDR BUSY_ADDR [PORT]');
  process.exit(2);
}

function listen(server, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: Number(port) }, resolve);
  });
}

const drop = createServer((socket) => {
  socket.on('error', () => {});
  // A reset, as a firewall or an overloaded server that gives up would: no FIN handshake, no bytes.
  socket.resetAndDestroy();
});
const busy = createServer((socket) => {
  socket.on('error', () => {});
  socket.end('421 4.7.0 mx.busy.tls.lab.mailcheck.test Too many connections, try again later\r\n');
});

await listen(drop, dropAddr);
await listen(busy, busyAddr);
console.log(`[smtp-lab] drop on ${dropAddr}:${port}, busy (421) on ${busyAddr}:${port}`);
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
