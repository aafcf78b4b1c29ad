// A recording stand-in for the Messaging API for the crash test: answers 200 to a new
// X-Line-Retry-Key and 409 to one it accepted before (as LINE does); logs every request
// with its retry key (pushes) or reply token (replies).
//   node mock_line.mjs PORT LOGFILE
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';

const [port, log] = process.argv.slice(2);
const seen = new Set();
createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    let key = req.headers['x-line-retry-key'] ?? '';
    let status = 200;
    if (req.url === '/v2/bot/message/reply') {
      try { key = JSON.parse(body).replyToken; } catch { key = '?'; }
    }
    if (req.url === '/v2/bot/message/push') {
      if (seen.has(key)) status = 409; else seen.add(key);
    }
    appendFileSync(log, `${req.url} ${status} ${key}\n`);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(status === 200 ? '{"sentMessages":[]}' : '{"message":"The retry key is already accepted"}');
  });
}).listen(Number(port), '127.0.0.1');
