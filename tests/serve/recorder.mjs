// A recording stand-in for LINE's Messaging API and a staff notification endpoint, for the
// tests that read what was sent: every request is logged as one JSON line (method, path,
// retry key, body). Pushes and replies answer 200 (409 for a retry key accepted before, as LINE
// does); multicasts likewise; profiles answer for the ids given (404 for any other: not a friend);
// pushes to the ids given as 'monthly-limit:U…' answer LINE's 429 for the month's limit; the quota
// is 'quota:LIMIT:USED' (no limit without it); /notify answers 200.
//   node recorder.mjs PORT LOGFILE 'U…=名前' ['U…=名前' …] ['monthly-limit:U…' …] ['quota:LIMIT:USED']
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';

const [port, log, ...people] = process.argv.slice(2);
const limited = new Set(people.filter((p) => p.startsWith('monthly-limit:')).map((p) => p.slice('monthly-limit:'.length)));
const quota = (people.find((p) => p.startsWith('quota:')) ?? '').split(':');
const profiles = new Map(people.filter((p) => p.includes('=')).map((p) => p.split('=')));
const seen = new Set();
createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const key = req.headers['x-line-retry-key'] ?? '';
    let status = 200;
    let answer = '{}';
    const profile = req.url.match(/^\/v2\/bot\/profile\/(U[0-9a-f]{32})$/);
    if (req.url === '/v2/bot/message/quota') {
      answer = quota.length === 3 ? JSON.stringify({ type: 'limited', value: Number(quota[1]) }) : '{"type":"none"}';
    } else if (req.url === '/v2/bot/message/quota/consumption') {
      answer = JSON.stringify({ totalUsage: quota.length === 3 ? Number(quota[2]) : 0 });
    } else if (profile) {
      const name = profiles.get(profile[1]);
      if (name === undefined) { status = 404; answer = '{"message":"Not found"}'; } else {
        answer = JSON.stringify({ userId: profile[1], displayName: name, language: 'ja' });
      }
    } else if (req.url === '/v2/bot/message/push' && limited.has(JSON.parse(body).to)) {
      status = 429;
      answer = '{"message":"You have reached your monthly limit."}';
    } else if (req.url === '/v2/bot/message/push' || req.url === '/v2/bot/message/multicast') {
      if (seen.has(key)) status = 409; else seen.add(key);
      answer = status === 200 ? '{"sentMessages":[]}' : '{"message":"The retry key is already accepted"}';
    } else if (req.url === '/v2/bot/message/reply') {
      answer = '{"sentMessages":[]}';
    }
    appendFileSync(log, JSON.stringify({ method: req.method, url: req.url, status, key, body }) + '\n');
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(answer);
  });
}).listen(Number(port), '127.0.0.1');
