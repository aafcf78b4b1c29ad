// A recording stand-in for the Messaging API for the crash test: answers 200 to a new
// X-Line-Retry-Key and 409 to one it accepted before (as LINE does); logs every request
// with its retry key (pushes) or reply token (replies).
// Multicasts are keyed like pushes; the recipients of each accepted one are appended to
// LOGFILE.recipients, one user id a line.
//   node mock_line.mjs PORT LOGFILE [FLAKY]
// With FLAKY=1 it also fails like a struggling peer: a tenth of the requests get 500, a
// tenth 429 (Retry-After: 1), one in twenty hangs past the client's timeout — before any of
// them is accepted, so a retry is the only way through.
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';

const [port, log, flaky] = process.argv.slice(2);
const seen = new Set();
createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    let key = req.headers['x-line-retry-key'] ?? '';
    if (req.url === '/v2/bot/message/reply') {
      try { key = JSON.parse(body).replyToken; } catch { key = '?'; }
    }
    if (flaky === '1') {
      const r = Math.random();
      if (r < 0.1) { appendFileSync(log, `${req.url} 500 ${key}\n`); res.writeHead(500); res.end('{}'); return; }
      if (r < 0.2) { appendFileSync(log, `${req.url} 429 ${key}\n`); res.writeHead(429, { 'retry-after': '1' }); res.end('{}'); return; }
      if (r < 0.25) { appendFileSync(log, `${req.url} hang ${key}\n`); return; }  // never answered
    }
    let status = 200;
    if (req.url === '/v2/bot/message/push' || req.url === '/v2/bot/message/multicast') {
      if (seen.has(key)) status = 409; else seen.add(key);
    }
    if (req.url === '/v2/bot/message/multicast' && status === 200) {
      appendFileSync(`${log}.recipients`, JSON.parse(body).to.join('\n') + '\n');
    }
    appendFileSync(log, `${req.url} ${status} ${key}\n`);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(status === 200 ? '{"sentMessages":[]}' : '{"message":"The retry key is already accepted"}');
  });
}).listen(Number(port), '127.0.0.1');
