// One address for two Prism mocks, as api.line.me is one host for both OpenAPI files: the
// audience API (manage-audience.yml) and the rest of the Messaging API (messaging-api.yml).
// Every answer gets an X-Line-Request-Id when the mock gave none, as LINE's answers all carry
// one (the OpenAPI files do not declare it, so Prism does not make it up).
//   node line_router.mjs PORT MESSAGING_PORT AUDIENCE_PORT
import { createServer, request } from 'node:http';
import { randomUUID } from 'node:crypto';

const [port, messaging, audience] = process.argv.slice(2).map(Number);
createServer((req, res) => {
  const to = req.url.startsWith('/v2/bot/audienceGroup') ? audience : messaging;
  const out = request({ host: '127.0.0.1', port: to, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    const headers = { ...answer.headers };
    if (!headers['x-line-request-id']) headers['x-line-request-id'] = randomUUID();
    res.writeHead(answer.statusCode, headers);
    answer.pipe(res);
  });
  out.on('error', () => { res.writeHead(502); res.end('{}'); });
  req.pipe(out);
}).listen(port, '127.0.0.1');
