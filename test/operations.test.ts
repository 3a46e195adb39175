import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { request } from 'undici';
import { openaiErrors } from '../src/faces/openai-envelope.js';
import { useFaceErrors } from '../src/http/errors.js';
import { requestsPerWindow } from '../src/http/limits.js';
import { BatchedWriter } from '../src/logger.js';
import { KiroSimulator } from '../src/simulator/server.js';
import { ACCESS_TOKEN, API_KEY, authHeaders, NO_ACCOUNTS_DIR, postChat, sseEvents, userMessage, withStack, type Stack } from './helpers.js';

const errorOf = (text: string) => (JSON.parse(text) as { error: { code: string; type: string; message: string } }).error;

/**
 * Prometheus text exposition: every sample line is `name{labels} value`. Prometheus reads special
 * values case-insensitively (Go's ParseFloat), and prom-client writes NaN as "Nan".
 */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?(?:[0-9.]+(?:e[+-]?\d+)?|[Nn]a[Nn]|\+Inf|-Inf))$/.exec(line);
    assert.ok(match, `not a Prometheus sample line: ${line}`);
    samples.set(match[1]!, /^nan$/i.test(match[2]!) ? Number.NaN : Number(match[2]));
  }
  return samples;
}

describe('protection', () => {
  it('RATE_LIMIT_RPM answers 429 with retry-after in the OpenAI shape, per key', async () => {
    await withStack({ API_KEY: `${API_KEY},other-key`, RATE_LIMIT_RPM: '2' }, async (stack) => {
      assert.equal((await postChat(stack.url, userMessage('1'))).status, 200);
      assert.equal((await postChat(stack.url, userMessage('2'))).status, 200);
      const limited = await postChat(stack.url, userMessage('3'));
      assert.equal(limited.status, 429);
      assert.equal(errorOf(limited.text).code, 'rate_limit_exceeded');
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      const other = await postChat(stack.url, userMessage('4'), { authorization: 'Bearer other-key', 'content-type': 'application/json' });
      assert.equal(other.status, 200, 'another key has its own budget');
      assert.equal((await fetch(`${stack.url}/v1/models`, { headers: authHeaders })).status, 200, 'only chat is limited');
    });
  });

  it('the request limiter recovers when its window passes', async () => {
    const app = express();
    app.use(useFaceErrors([], openaiErrors));
    app.use(requestsPerWindow(2, 400));
    app.get('/', (_req, res) => res.json({ ok: true }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(url)).status);
      assert.deepEqual(statuses, [200, 200, 429]);
      await sleep(450);
      assert.equal((await fetch(url)).status, 200);
    } finally {
      server.close();
    }
  });

  it('MAX_CONCURRENT_STREAMS refuses one stream too many, and recovers when one ends', async () => {
    await withStack({ MAX_CONCURRENT_STREAMS: '1' }, async (stack) => {
      stack.sim.enqueue({ events: [{ text: 'long' }], hang: true });
      const controller = new AbortController();
      const first = await request(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: authHeaders, body: JSON.stringify({ ...userMessage('x'), stream: true }), signal: controller.signal });
      // Read without `break`: leaving a for-await would close the stream.
      const reader = first.body[Symbol.asyncIterator]();
      let seen = '';
      while (!seen.includes('long')) seen += String((await reader.next()).value);
      const second = await postChat(stack.url, { ...userMessage('y'), stream: true });
      assert.equal(second.status, 429);
      assert.equal(errorOf(second.text).code, 'concurrency_limit_exceeded');
      assert.equal((await postChat(stack.url, userMessage('not a stream'))).status, 200);
      controller.abort();
      await sleep(100);
      assert.equal((await postChat(stack.url, { ...userMessage('z'), stream: true })).status, 200);
    });
  });

  it('compresses JSON when asked, never a stream; CORS only when configured; security headers on /docs', async () => {
    await withStack({ CORS_ORIGINS: 'https://app.example.com' }, async (stack) => {
      const models = await request(`${stack.url}/v1/models`, { headers: { ...authHeaders, 'accept-encoding': 'gzip' } });
      assert.equal(models.headers['content-encoding'], 'gzip');
      await models.body.dump();
      const stream = await request(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { ...authHeaders, 'accept-encoding': 'gzip' }, body: JSON.stringify({ ...userMessage('x'), stream: true }) });
      assert.equal(stream.headers['content-encoding'], undefined);
      assert.match(await stream.body.text(), /data: \[DONE\]/);
      const preflight = await fetch(`${stack.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example.com');
      const docs = await fetch(`${stack.url}/docs/`);
      assert.match(docs.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      assert.equal(docs.headers.get('x-content-type-options'), 'nosniff');
    });
    await withStack({}, async (stack) => {
      const res = await fetch(`${stack.url}/v1/models`, { headers: { ...authHeaders, origin: 'https://evil.example.com' } });
      assert.equal(res.headers.get('access-control-allow-origin'), null, 'CORS is off by default');
    });
  });
});

describe('observability', () => {
  it('/metrics parses as Prometheus text, counts requests, needs the key unless public, and holds no secret', async () => {
    await withStack({}, async (stack) => {
      assert.equal((await fetch(`${stack.url}/metrics`)).status, 401);
      await postChat(stack.url, userMessage('x'));
      await postChat(stack.url, { ...userMessage('x'), stream: true, stream_options: { include_usage: true } });
      stack.sim.enqueue({ status: 500 });
      assert.equal((await postChat(stack.url, userMessage('x'))).status, 502);
      const res = await fetch(`${stack.url}/metrics`, { headers: authHeaders });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await res.text();
      const samples = parsePrometheus(text);
      assert.equal(samples.get('ki2api_requests_total{route="/v1/chat/completions",status="200",model="claude-sonnet-4-5-20250929"}'), 2);
      assert.ok((samples.get('ki2api_tokens_total{kind="completion"}') ?? 0) > 0);
      assert.ok((samples.get('ki2api_time_to_first_token_seconds_count{model="claude-sonnet-4-5-20250929"}') ?? 0) >= 2);
      assert.equal(samples.get('ki2api_inflight_streams'), 0);
      assert.equal(samples.get('ki2api_upstream_errors_total{kind="upstream"}'), 1, 'Kiro\'s 500 is an upstream error');
      assert.equal(samples.get('ki2api_errors_total{code="invalid_api_key"}'), 1, 'the 401 above is an error, but not an upstream one');
      assert.equal([...samples.keys()].filter((k) => k.startsWith('ki2api_upstream_errors_total{')).length, 1);
      assert.ok([...samples.keys()].some((k) => k.startsWith('ki2api_account_healthy{')));
      assert.ok(samples.has('ki2api_process_resident_memory_bytes'));
      assert.ok(!text.includes(ACCESS_TOKEN) && !text.includes(API_KEY));
    });
    await withStack({ METRICS_PUBLIC: 'true' }, async (stack) => {
      assert.equal((await fetch(`${stack.url}/metrics`)).status, 200);
    });
  });

  it('one log line per request with request id, route, model, account, status, duration, ttft, tokens; x-request-id honoured; no secrets', async () => {
    await withStack({}, async (stack) => {
      const res = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { ...authHeaders, 'x-request-id': 'trace-abc-123' }, body: JSON.stringify(userMessage('x')) });
      assert.equal(res.headers.get('x-request-id'), 'trace-abc-123');
      await res.text();
      const bogus = await fetch(`${stack.url}/v1/models`, { headers: { ...authHeaders, 'x-request-id': 'no spaces or <html> allowed' } });
      assert.match(bogus.headers.get('x-request-id') ?? '', /^req_[0-9a-f]{24}$/);
      await sleep(20);
      const lines = stack.logs().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const line = lines.find((l) => l.request_id === 'trace-abc-123')!;
      assert.equal(line.route, '/v1/chat/completions');
      assert.equal(line.model, 'claude-sonnet-4-5-20250929');
      assert.equal(line.status, 200);
      assert.match(String(line.account), /^[0-9a-f]{8}$/);
      for (const field of ['duration_ms', 'ttft_ms', 'overhead_ms', 'prompt_tokens', 'completion_tokens']) assert.equal(typeof line[field], 'number', field);
      assert.ok(!stack.logs().includes(ACCESS_TOKEN) && !stack.logs().includes(API_KEY));
    });
  });

  it('every response carries a plausible x-ki2api-overhead-ms: small, and excluding the time Kiro took', async () => {
    await withStack({}, async (stack) => {
      stack.sim.enqueue({ firstByteDelayMs: 300, delayMs: 100, events: [{ text: 'a' }, { text: 'b' }] });
      const started = performance.now();
      const slow = await postChat(stack.url, userMessage('x'));
      const total = performance.now() - started;
      const overhead = Number(slow.headers.get('x-ki2api-overhead-ms'));
      assert.ok(total >= 400, `total ${total}`);
      assert.ok(overhead >= 0 && overhead < 100, `overhead ${overhead} ms of ${total} ms`);
      const responses = [
        await fetch(`${stack.url}/v1/models`, { headers: authHeaders }),
        await fetch(`${stack.url}/health`),
        await fetch(`${stack.url}/nope`),
        await fetch(`${stack.url}/v1/models`),
        await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: authHeaders, body: JSON.stringify({ ...userMessage('x'), stream: true }) }),
      ];
      for (const res of responses) {
        const value = Number(res.headers.get('x-ki2api-overhead-ms'));
        assert.ok(Number.isFinite(value) && value >= 0 && value < 200, `${res.url}: ${value}`);
        await res.text();
      }
    });
  });

  it('LOG_FILE also writes the JSON log lines to a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki2api-log-'));
    const file = join(dir, 'logs', 'ki2api.log');
    const { createLogger } = await import('../src/logger.js');
    const { PassThrough } = await import('node:stream');
    const logger = createLogger('info', new PassThrough(), file);
    logger.info({ request_id: 'r1' }, 'request');
    logger.flush();
    await sleep(100);
    try {
      assert.equal(JSON.parse(readFileSync(file, 'utf8').trim().split('\n')[0]!).request_id, 'r1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('resilience', () => {
  it('retries 5xx, throttling and a silent Kiro before the first byte, honouring retry-after', async () => {
    await withStack({ UPSTREAM_RETRIES: '2', KIRO_FIRST_BYTE_TIMEOUT_MS: '1000' }, async (stack) => {
      stack.sim.enqueue({ status: 500 });
      const res = await postChat(stack.url, userMessage('x'));
      assert.equal(res.status, 200, res.text);
      assert.equal(stack.sim.requests.length, 2);

      stack.sim.enqueue({ status: 429, headers: { 'retry-after': '1' } });
      const started = Date.now();
      const throttled = await postChat(stack.url, { ...userMessage('x'), stream: true });
      assert.equal(throttled.status, 200);
      assert.ok(Date.now() - started >= 950, 'waited for retry-after');
      assert.equal(sseEvents(throttled.text).at(-1), '[DONE]');

      stack.sim.enqueue({ firstByteDelayMs: 2500, events: [{ text: 'too late' }] });
      const silent = await postChat(stack.url, userMessage('x'));
      assert.equal(silent.status, 200);
      assert.doesNotMatch(silent.text, /too late/);
      await sleep(20);
      assert.ok(stack.logs().includes('"retries":1'));
    });
  });

  it('never retries once the answer has started, and passes a long retry-after to the client', async () => {
    await withStack({ UPSTREAM_RETRIES: '2' }, async (stack) => {
      stack.sim.enqueue({ events: [{ text: 'Hello ' }, { text: 'world, this will be cut' }], split: 'frame', delayMs: 50, cutAfterBytes: 150 });
      const res = await postChat(stack.url, { ...userMessage('x'), stream: true });
      const events = sseEvents(res.text);
      assert.equal((events.at(-1) as { error: { code: string } }).error.code, 'upstream_stream_broken');
      assert.ok(JSON.stringify(events).includes('Hello '));
      assert.equal(stack.sim.requests.length, 1);

      stack.sim.enqueue({ status: 429, headers: { 'retry-after': '60' } });
      const long = await postChat(stack.url, userMessage('x'));
      assert.equal(long.status, 429);
      assert.equal(long.headers.get('retry-after'), '60');
      assert.equal(stack.sim.requests.length, 2);
    });
  });

  it('the circuit breaker opens after consecutive failures, fails fast, then closes after a good trial', async () => {
    await withStack({ BREAKER_THRESHOLD: '2', BREAKER_COOLDOWN_MS: '300' }, async (stack) => {
      // 502s say Kiro itself is unwell (a plain 500 is taken as the request's own doing).
      stack.sim.enqueue({ status: 502 }, { status: 502 });
      assert.equal((await postChat(stack.url, userMessage('x'))).status, 502);
      assert.equal((await postChat(stack.url, userMessage('x'))).status, 502);
      const open = await postChat(stack.url, userMessage('x'));
      assert.equal(open.status, 503);
      assert.equal(errorOf(open.text).code, 'upstream_circuit_open');
      assert.ok(open.headers.get('retry-after'));
      assert.equal(stack.sim.requests.length, 2, 'an open breaker does not hammer Kiro');
      await sleep(350);
      assert.equal((await postChat(stack.url, userMessage('x'))).status, 200);
      assert.equal((await postChat(stack.url, userMessage('x'))).status, 200);
      assert.equal(stack.sim.requests.length, 4);
    });
  });

  it('caches identical non-streaming requests when CACHE_TTL_SECONDS is set, and only then', async () => {
    await withStack({ CACHE_TTL_SECONDS: '60' }, async (stack) => {
      const first = await postChat(stack.url, userMessage('same'));
      const second = await postChat(stack.url, userMessage('same'));
      assert.equal(first.headers.get('x-ki2api-cache'), 'miss');
      assert.equal(second.headers.get('x-ki2api-cache'), 'hit');
      assert.equal(JSON.parse(second.text).choices[0].message.content, JSON.parse(first.text).choices[0].message.content);
      assert.equal(stack.sim.requests.length, 1);
      assert.equal((await postChat(stack.url, userMessage('different'))).headers.get('x-ki2api-cache'), 'miss');
      assert.equal((await postChat(stack.url, { ...userMessage('same'), stream: true })).headers.get('x-ki2api-cache'), null);
      assert.equal(stack.sim.requests.length, 3);
      const metrics = parsePrometheus(await (await fetch(`${stack.url}/metrics`, { headers: authHeaders })).text());
      assert.equal(metrics.get('ki2api_cache_lookups_total{result="hit"}'), 1);
      assert.equal(metrics.get('ki2api_cache_lookups_total{result="miss"}'), 2);
    });
    await withStack({}, async (stack) => {
      await postChat(stack.url, userMessage('same'));
      const again = await postChat(stack.url, userMessage('same'));
      assert.equal(again.headers.get('x-ki2api-cache'), null);
      assert.equal(stack.sim.requests.length, 2);
    });
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('graceful shutdown', () => {
  it('SIGTERM during a stream: no new connections, the stream finishes, exit code 0', async () => {
    const sim = await new KiroSimulator().start();
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', API_KEY, KIRO_ACCESS_TOKEN: ACCESS_TOKEN, KIRO_BASE_URL: sim.url, KIRO_MANAGEMENT_URL: sim.url, KIRO_ACCOUNTS_DIR: NO_ACCOUNTS_DIR, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 15_000;
      while (!output.includes('listening') && Date.now() < deadline) await sleep(50);
      assert.match(output, /listening/);
      sim.enqueue({ delayMs: 150, events: Array.from({ length: 10 }, (_, i) => ({ text: `part${i} ` })) });
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpRequest(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST', headers: authHeaders }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            if (text.includes('part1 ') && !child.killed) child.kill('SIGTERM');
          });
          res.on('end', () => resolve(text));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(JSON.stringify({ ...userMessage('x'), stream: true }));
      });
      assert.match(body, /part9 /);
      assert.equal(sseEvents(body).at(-1), '[DONE]');
      await sleep(50);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), 'no new connections while draining');
      assert.equal(await exited, 0);
      assert.match(output, /shut down cleanly/);
    } finally {
      child.kill('SIGKILL');
      await sim.close();
    }
  });

  it('exits cleanly on SIGTERM even when whoever read its logs has gone away (broken stdout pipe)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: String(await freePort()), HOST: '127.0.0.1', KIRO_ACCESS_TOKEN: ACCESS_TOKEN, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      // The reader goes away just as shutdown starts logging (the worst moment).
      child.stdout!.destroy();
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(5000).then(() => 'hung' as const)]);
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('log writing', () => {
  it('writes the lines of one event-loop turn in one write, in order; flush() writes at once', async () => {
    const writes: string[] = [];
    const writer = new BatchedWriter({ write: (text: string) => writes.push(text) } as unknown as NodeJS.WritableStream);
    writer.write('{"a":1}\n');
    writer.write('{"b":2}\n');
    assert.deepEqual(writes, [], 'nothing is written before the turn ends');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(writes, ['{"a":1}\n{"b":2}\n']);
    writer.write('{"c":3}\n');
    writer.flush();
    assert.deepEqual(writes, ['{"a":1}\n{"b":2}\n', '{"c":3}\n']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes.length, 2, 'a flushed line is not written twice');
  });
});
