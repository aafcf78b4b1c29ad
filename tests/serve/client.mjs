// Webhook client for the service tests.
//   node client.mjs sign SECRET FILE           print the X-Line-Signature of FILE's bytes, checked with @line/bot-sdk
//   node client.mjs check SECRET FILE SIG      exit 0 when @line/bot-sdk accepts SIG for FILE
//   node client.mjs stream URL[,URL…] SECRET N FRIEND[,FRIEND…] [PER_BODY [SEND_EVERY [FIRST]]]
//        post N postback events (distinct webhookEventIds), PER_BODY to a webhook body (as LINE batches
//        them; default 1), every SEND_EVERY-th asking for a message (default 50); each body retried until
//        answered 200 (the server may be killed and restarted meanwhile). With several URLs the bodies
//        go to them in turn (several workers behind a load balancer), a failed one to the next; with
//        several friends event i is friend i mod their number's. FIRST numbers the events from there
//        (their webhookEventIds and reply tokens; default 0).
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { validateSignature } from '@line/bot-sdk';

const [cmd, ...args] = process.argv.slice(2);

// One POST on a fresh connection (the server may have been killed since the last one).
function post(url, body, headers) {
  return new Promise((resolve, reject) => {
    // Every way a killed server can end the exchange must settle the promise: otherwise node
    // would find nothing left to wait for and exit quietly in the middle of the stream.
    const req = request(url, { method: 'POST', agent: false, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let ended = false;
      res.resume();
      res.on('end', () => { ended = true; resolve(res.statusCode); });
      res.on('error', reject);
      res.on('close', () => { if (!ended) reject(new Error('connection closed mid-answer')); });
    });
    req.setTimeout(10000, () => req.destroy(new Error('no answer in 10 s')));
    req.on('error', reject);
    req.setNoDelay(true);
    req.end(body);
  });
}

function sign(secret, body) {
  return createHmac('sha256', secret).update(body).digest('base64');
}

if (cmd === 'sign') {
  const [secret, file] = args;
  const body = readFileSync(file);
  const sig = sign(secret, body);
  if (!validateSignature(body, secret, sig)) {
    console.error('the SDK rejects our own signature');
    process.exit(1);
  }
  console.log(sig);
} else if (cmd === 'check') {
  const [secret, file, sig] = args;
  process.exit(validateSignature(readFileSync(file), secret, sig) ? 0 : 1);
} else if (cmd === 'stream') {
  const [urlList, secret, n, friendList] = args;
  const urls = urlList.split(',');
  const friends = friendList.split(',');
  let turn = 0;
  const perBody = Number(args[4] || 1);
  const sendEvery = Number(args[5] || 50);
  const firstId = Number(args[6] || 0);
  let retries = 0;
  for (let first = 0; first < Number(n); first += perBody) {
    const events = [];
    for (let i = first; i < Math.min(first + perBody, Number(n)); i++) {
      events.push({
        type: 'postback', mode: 'active', timestamp: Date.now(),
        source: { type: 'user', userId: friends[i % friends.length] },
        webhookEventId: `01STREAM${String(firstId + i).padStart(18, '0')}`,
        deliveryContext: { isRedelivery: retries > 0 },
        replyToken: `token${firstId + i}`,
        postback: { data: i % sendEvery === 0 ? 'send' : 'count' },
      });
    }
    const body = JSON.stringify({ destination: 'U00000000000000000000000000000000', events });
    for (;;) {
      try {
        const url = urls[turn++ % urls.length];
        const status = await post(url, body, { 'content-type': 'application/json', 'x-line-signature': sign(secret, body) });
        if (status === 200) break;
      } catch (e) {
        // refused while the server restarts
      }
      retries++;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  console.log(`posted ${n} events (${retries} retries)`);
} else {
  console.error('usage: client.mjs sign|check|stream …');
  process.exit(2);
}
