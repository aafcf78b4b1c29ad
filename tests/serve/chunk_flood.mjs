// A chunked request whose chunk header line (its extensions) or whose trailer section never
// ends: MB bytes of it are streamed, then the answer's status line is printed ("closed" when
// the server closed the connection instead).
//   node chunk_flood.mjs PORT extension|trailer MB
import { connect } from 'node:net';

const [port, where, mb] = process.argv.slice(2);
const socket = connect(Number(port), '127.0.0.1');
let answer = '';
let done = false;
const finish = (what) => {
  if (done) return;
  done = true;
  console.log(what);
  socket.destroy();
};
socket.on('data', (d) => {
  answer += d.toString('latin1');
  const eol = answer.indexOf('\r\n');
  if (eol >= 0) finish(answer.slice(0, eol));
});
socket.on('error', () => finish('closed'));
socket.on('close', () => finish('closed'));
socket.on('connect', async () => {
  socket.write('POST /webhook HTTP/1.1\r\nHost: x\r\nX-Line-Signature: x\r\nTransfer-Encoding: chunked\r\n\r\n');
  socket.write(where === 'extension' ? '5;a=' : '5\r\nhello\r\n0\r\nX-Fill: ');
  const piece = 'x'.repeat(64 * 1024);
  for (let sent = 0; sent < Number(mb) * 1024 * 1024 && !done; sent += piece.length) {
    if (!socket.write(piece)) await new Promise((r) => socket.once('drain', r));
  }
  if (!done) socket.write(where === 'extension' ? '\r\nhello\r\n0\r\n\r\n' : '\r\n\r\n');
});
setTimeout(() => finish('no answer'), 20000);
