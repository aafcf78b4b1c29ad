// A recording stand-in for LINE's Messaging API and a staff notification endpoint, for the
// tests that read what was sent: every request is logged as one JSON line (method, path,
// retry key, body). Pushes and replies answer 200 (409 for a retry key accepted before, as LINE
// does); multicasts likewise; profiles answer for the ids given (404 for any other: not a friend);
// pushes to the ids given as 'monthly-limit:U…' answer LINE's 429 for the month's limit; the quota
// is 'quota:LIMIT:USED' (no limit without it); /notify answers 200.
// Broadcasts and narrowcasts are keyed like pushes (a repeated key: 409 with the request id it was
// accepted as); a narrowcast's progress is `sending` at the first read and `succeeded` after;
// an uploaded audience is IN_PROGRESS at the first read and READY after. With 'slow-narrowcast:MS'
// a new narrowcast is accepted at once but answered MS milliseconds later (a crash test kills
// the caller in between). With 'followers:N' the account's friends are listed (N ids, 1,000 a
// page); without it LINE's 403 for an account that may not list them. Every answer carries
// X-Line-Request-Id, as LINE's do.
//   node recorder.mjs PORT LOGFILE 'U…=名前' ['U…=名前' …] ['monthly-limit:U…' …] ['quota:LIMIT:USED']
//     ['slow-narrowcast:MS'] ['followers:N']
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';

const [port, log, ...people] = process.argv.slice(2);
const limited = new Set(people.filter((p) => p.startsWith('monthly-limit:')).map((p) => p.slice('monthly-limit:'.length)));
const quota = (people.find((p) => p.startsWith('quota:')) ?? '').split(':');
const profiles = new Map(people.filter((p) => p.includes('=')).map((p) => p.split('=')));
const followers = people.find((p) => p.startsWith('followers:'));
const slow = Number((people.find((p) => p.startsWith('slow-narrowcast:')) ?? ':0').split(':')[1]);
const seen = new Set();
const accepted = new Map();   // retry key → request id (broadcasts and narrowcasts)
const progressReads = new Map();  // request id → reads so far
const audiences = new Map();  // audience id → { ids, reads }
let requests = 0;
createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const key = req.headers['x-line-retry-key'] ?? '';
    let status = 200;
    let answer = '{}';
    const requestId = `req-${++requests}`;
    const headers = { 'content-type': 'application/json', 'x-line-request-id': requestId };
    let delay = 0;
    const profile = req.url.match(/^\/v2\/bot\/profile\/(U[0-9a-f]{32})$/);
    const audience = req.url.match(/^\/v2\/bot\/audienceGroup\/([0-9]+)$/);
    const progress = req.url.match(/^\/v2\/bot\/message\/progress\/narrowcast\?requestId=(.+)$/);
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
    } else if (req.url === '/v2/bot/message/narrowcast' || req.url === '/v2/bot/message/broadcast') {
      if (accepted.has(key)) {
        status = 409;
        headers['x-line-accepted-request-id'] = accepted.get(key);
        answer = '{"message":"The retry key is already accepted"}';
      } else {
        accepted.set(key, requestId);
        status = req.url.endsWith('narrowcast') ? 202 : 200;
        if (status === 202) delay = slow;
      }
    } else if (req.url.startsWith('/v2/bot/followers/ids')) {
      if (followers === undefined) {
        status = 403;
        answer = '{"message":"Access to this API is not available for your account"}';
      } else {
        const total = Number(followers.split(':')[1]);
        const from = Number(new URL(req.url, 'http://x').searchParams.get('start') ?? '0');
        const ids = [];
        for (let i = from; i < Math.min(total, from + 1000); i++) ids.push(`U${i.toString(16).padStart(32, '0')}`);
        answer = JSON.stringify(from + 1000 < total ? { userIds: ids, next: String(from + 1000) } : { userIds: ids });
      }
    } else if (req.url.startsWith('/v2/bot/message/delivery/broadcast?date=')) {
      // LINE's count of the day's broadcast messages (the day in UTC+9, as yyyyMMdd).
      const day = req.url.split('=')[1];
      answer = /^[0-9]{8}$/.test(day) ? JSON.stringify({ status: 'ready', success: 480 }) : '{"message":"bad date"}';
      if (!/^[0-9]{8}$/.test(day)) status = 400;
    } else if (progress) {
      const reads = (progressReads.get(progress[1]) ?? 0) + 1;
      progressReads.set(progress[1], reads);
      answer = JSON.stringify(reads === 1 ? { phase: 'sending', acceptedTime: new Date().toISOString() } :
        { phase: 'succeeded', acceptedTime: new Date().toISOString(), completedTime: new Date().toISOString(),
          targetCount: 120, successCount: 118, failureCount: 2 });
    } else if (req.url === '/v2/bot/audienceGroup/upload' && req.method === 'POST') {
      const id = 4000 + audiences.size;
      audiences.set(String(id), { ids: JSON.parse(body).audiences.map((a) => a.id), reads: 0 });
      status = 202;
      answer = JSON.stringify({ audienceGroupId: id, createRoute: 'MESSAGING_API', type: 'UPLOAD' });
    } else if (req.url === '/v2/bot/audienceGroup/upload' && req.method === 'PUT') {
      const b = JSON.parse(body);
      audiences.get(String(b.audienceGroupId))?.ids.push(...b.audiences.map((a) => a.id));
      status = 202;
    } else if (audience && req.method === 'DELETE') {
      status = audiences.delete(audience[1]) ? 200 : 404;
    } else if (audience && audiences.has(audience[1])) {
      const a = audiences.get(audience[1]);
      a.reads += 1;
      answer = JSON.stringify({ audienceGroup: { audienceGroupId: Number(audience[1]), type: 'UPLOAD',
        status: a.reads === 1 ? 'IN_PROGRESS' : 'READY', audienceCount: a.ids.length }, jobs: [] });
    } else if (req.url === '/v2/bot/message/reply') {
      answer = '{"sentMessages":[]}';
    }
    appendFileSync(log, JSON.stringify({ method: req.method, url: req.url, status, key, body }) + '\n');
    setTimeout(() => {
      res.writeHead(status, headers);
      res.end(answer);
    }, delay);
  });
}).listen(Number(port), '127.0.0.1');
