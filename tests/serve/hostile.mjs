// Hostile clients for the service's HTTP layer: holds N connections open, in three kinds — idle
// (connected, nothing sent), slow headers (one header line every 2 s) and slow bodies (a
// promised body, one byte every 2 s) — and reports, when told to stop, how many the server
// closed by itself.
//   node hostile.mjs HOST PORT N SECONDS   → prints "open A closed B" after SECONDS
import { connect } from 'node:net';

const [host, port, n, seconds] = process.argv.slice(2);
let open = 0;
let closed = 0;
const sockets = [];
for (let i = 0; i < Number(n); i++) {
  const s = connect({ host, port: Number(port) });
  s.on('connect', () => {
    open++;
    const kind = i % 3;
    if (kind === 1) s.write('POST /webhook HTTP/1.1\r\nHost: x\r\n');
    if (kind === 2) s.write('POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nX-Line-Signature: x\r\n\r\n');
    if (kind !== 0) {
      const t = setInterval(() => { if (!s.destroyed) s.write(kind === 1 ? `X-Slow-${i}: 1\r\n` : 'a'); }, 2000);
      s.on('close', () => clearInterval(t));
    }
  });
  s.on('close', () => { closed++; });
  s.on('error', () => {});
  sockets.push(s);
}
setTimeout(() => {
  console.log(`open ${open} closed ${closed}`);
  for (const s of sockets) s.destroy();
  process.exit(0);
}, Number(seconds) * 1000);
