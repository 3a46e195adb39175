import { createServer } from 'node:http';
import { Agent, request } from 'undici';

// The floor for any Node gateway: take a request, forward its bytes to the upstream over a
// keep-alive pool, stream the answer's bytes back. It translates, validates and counts nothing.
// Usage: tsx scripts/bench/passthrough.ts <port> <upstream base URL>
const [port, upstream] = process.argv.slice(2);
const agent = new Agent({ keepAliveTimeout: 30_000 });
const target = `${upstream}/generateAssistantResponse`;

createServer((req, res) => {
  request(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: req, dispatcher: agent }).then(
    ({ statusCode, headers, body }) => {
      res.writeHead(statusCode, { 'content-type': String(headers['content-type'] ?? 'application/octet-stream') });
      body.on('error', () => res.destroy());
      body.pipe(res);
      res.once('close', () => {
        if (!res.writableFinished) body.destroy();
      });
    },
    () => {
      res.writeHead(502).end();
    },
  );
}).listen(Number(port), '127.0.0.1', () => console.log(`passthrough listening on ${port}`));
