import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';

// The soak: a gateway under a steady mix of good, bad and abandoned requests for a while, its
// resident memory and open file descriptors sampled as it goes. A leak shows as a line that keeps
// rising; a healthy gateway levels off, and is back near where it started once the load stops.

export interface SoakSample {
  second: number;
  rssMb: number;
  fds: number;
  requests: number;
}

export interface SoakResult {
  samples: SoakSample[];
  /** What the mix sent, by kind, and how many answers were 5xx (there should be none). */
  sent: Record<string, number>;
  serverErrors: number;
  /** Memory and descriptors before the load, and 35 s after it stopped. */
  before: { rssMb: number; fds: number };
  after: { rssMb: number; fds: number };
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

type Kind = 'good' | 'good stream' | 'bad JSON' | 'unknown model' | 'no key' | 'too large' | 'abandoned stream' | 'half-sent body' | 'gone before the answer';
const MIX: Kind[] = ['good', 'good', 'good', 'good stream', 'good stream', 'bad JSON', 'unknown model', 'no key', 'too large', 'abandoned stream', 'half-sent body', 'gone before the answer'];

export async function soak(baseUrl: string, pid: number, key: string, seconds: number, concurrency = 16, log: (line: string) => void = console.log): Promise<SoakResult> {
  const agent = new Agent({ connections: concurrency * 2, keepAliveTimeout: 10_000 });
  const url = `${baseUrl}/v1/chat/completions`;
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const body = (text: string, stream = false, model = 'claude-sonnet-4-5-20250929') => JSON.stringify({ model, stream, messages: [{ role: 'user', content: text }] });
  const sent: Record<string, number> = {};
  let serverErrors = 0;
  let requests = 0;
  const { port } = new URL(baseUrl);

  const one = async (kind: Kind): Promise<void> => {
    sent[kind] = (sent[kind] ?? 0) + 1;
    requests++;
    const status = async (res: { statusCode: number; body: { dump(): Promise<void> } }) => {
      if (res.statusCode >= 500) serverErrors++;
      await res.body.dump();
    };
    switch (kind) {
      case 'good':
        return status(await request(url, { method: 'POST', headers, body: body('soak [sim frames=20]'), dispatcher: agent }));
      case 'good stream':
        return status(await request(url, { method: 'POST', headers, body: body('soak [sim frames=50 delay=2]', true), dispatcher: agent }));
      case 'bad JSON':
        return status(await request(url, { method: 'POST', headers, body: '{"model": [', dispatcher: agent }));
      case 'unknown model':
        return status(await request(url, { method: 'POST', headers, body: body('x', false, 'no-such-model'), dispatcher: agent }));
      case 'no key':
        return status(await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body('x'), dispatcher: agent }));
      case 'too large':
        return status(await request(url, { method: 'POST', headers, body: Buffer.alloc(21 * 1024 * 1024, 0x20), dispatcher: agent }));
      case 'abandoned stream': {
        const controller = new AbortController();
        const res = await request(url, { method: 'POST', headers, body: body('soak [sim frames=100 delay=20]', true), dispatcher: agent, signal: controller.signal });
        await res.body[Symbol.asyncIterator]().next();
        controller.abort();
        return;
      }
      case 'half-sent body':
        await new Promise<void>((resolve) => {
          const socket = connect(Number(port), '127.0.0.1', () => {
            socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"model":`);
            setTimeout(() => {
              socket.destroy();
              resolve();
            }, 200);
          });
          socket.on('error', () => resolve());
        });
        return;
      case 'gone before the answer': {
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 5);
        await request(url, { method: 'POST', headers, body: body('soak [sim frames=20 delay=5]'), dispatcher: agent, signal: controller.signal }).then((res) => res.body.dump(), () => undefined);
        return;
      }
    }
  };

  await sleep(1000);
  const before = { rssMb: rssMb(pid), fds: openFds(pid) };
  const samples: SoakSample[] = [];
  const started = performance.now();
  let stop = false;
  const workers = Array.from({ length: concurrency }, async (_, w) => {
    for (let i = w; !stop; i++) await one(MIX[i % MIX.length]!).catch(() => undefined);
  });
  for (let second = 5; second <= seconds; second += 5) {
    await sleep(Math.max(0, started + second * 1000 - performance.now()));
    const sample = { second, rssMb: rssMb(pid), fds: openFds(pid), requests };
    samples.push(sample);
    log(`  soak ${second}s: RSS ${sample.rssMb.toFixed(1)} MB, ${sample.fds} open fds, ${requests} requests`);
  }
  stop = true;
  await Promise.all(workers);
  await agent.close();
  // Past the keep-alive time of the gateway's pool to Kiro (30 s): what is still open then stays open.
  await sleep(35_000);
  const after = { rssMb: rssMb(pid), fds: openFds(pid) };
  return { samples, sent, serverErrors, before, after };
}

/** The soak's section of bench/results.md. */
export function soakReport(result: SoakResult, seconds: number): string {
  const half = result.samples.slice(Math.floor(result.samples.length / 2));
  const growth = half.length > 1 ? half.at(-1)!.rssMb - half[0]!.rssMb : 0;
  return [
    '## Soak',
    '',
    `${seconds} s of 16 concurrent clients sending, in turn, good requests and streams, bad JSON, unknown models, requests without a key, 21 MB bodies, streams abandoned after their first chunk, half-sent bodies, and requests abandoned before their answer (${Object.entries(result.sent).map(([kind, n]) => `${kind}: ${n}`).join(', ')}). Answers that were 5xx: ${result.serverErrors}.`,
    '',
    '| second | RSS | open file descriptors | requests so far |',
    '|---|---|---|---|',
    `| before | ${result.before.rssMb.toFixed(1)} MB | ${result.before.fds} | 0 |`,
    ...result.samples.map((s) => `| ${s.second} | ${s.rssMb.toFixed(1)} MB | ${s.fds} | ${s.requests} |`),
    `| 35 s after | ${result.after.rssMb.toFixed(1)} MB | ${result.after.fds} | — |`,
    '',
    `RSS over the second half of the soak moved by ${growth.toFixed(1)} MB; open descriptors went from ${result.before.fds} before the load to ${result.after.fds} 35 s after it (idle keep-alive connections close after 30 s).`,
    '',
  ].join('\n');
}
