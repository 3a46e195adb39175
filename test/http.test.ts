import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { request } from 'undici';
import { createAppServer } from '../src/http/server.js';
import { ACCESS_TOKEN, API_KEY, authHeaders, postChat, sseEvents, startStack, userMessage, type Stack } from './helpers.js';

const errorOf = (text: string) => (JSON.parse(text) as { error: { message: string; type: string; param: string | null; code: string | null } }).error;

describe('HTTP surface against the simulator', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ API_KEY: `${API_KEY},second-key` });
  });
  after(() => stack.close());

  const ok = async () => {
    const res = await postChat(stack.url, userMessage('still there?'));
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    return JSON.parse(res.text);
  };

  describe('auth', () => {
    it('rejects a missing or wrong key with 401 invalid_api_key in the OpenAI envelope', async () => {
      for (const headers of [{ 'content-type': 'application/json' }, { authorization: 'Bearer nope', 'content-type': 'application/json' }] as Record<string, string>[]) {
        const res = await postChat(stack.url, userMessage('x'), headers);
        assert.equal(res.status, 401);
        const error = errorOf(res.text);
        assert.equal(error.code, 'invalid_api_key');
        assert.equal(error.param, null);
        assert.ok(!res.text.includes(API_KEY));
      }
    });

    it('accepts Bearer and x-api-key, and every key of a comma-separated API_KEY', async () => {
      for (const headers of [{ authorization: `Bearer ${API_KEY}` }, { 'x-api-key': API_KEY }, { authorization: 'Bearer second-key' }] as Record<string, string>[]) {
        const res = await fetch(`${stack.url}/v1/models`, { headers });
        assert.equal(res.status, 200);
      }
    });

    it('keeps /health, /healthz, /openapi.json and /docs public', async () => {
      for (const path of ['/health', '/healthz', '/openapi.json', '/docs/']) {
        const res = await fetch(`${stack.url}${path}`);
        assert.equal(res.status, 200, path);
      }
    });
  });

  describe('routes', () => {
    it('serves the routes with and without /v1', async () => {
      const bare = await fetch(`${stack.url}/models`, { headers: authHeaders });
      assert.equal(bare.status, 200);
      const res = await fetch(`${stack.url}/chat/completions`, { method: 'POST', headers: authHeaders, body: JSON.stringify(userMessage('hi')) });
      assert.equal(res.status, 200);
      const one = await fetch(`${stack.url}/models/gpt-4o`, { headers: authHeaders });
      assert.deepEqual(await one.json(), { id: 'gpt-4o', object: 'model', created: 1759104000, owned_by: 'anthropic' });
    });

    it('lists the default model first, with the aliases users configure', async () => {
      const res = await fetch(`${stack.url}/v1/models`, { headers: authHeaders });
      const list = (await res.json()) as { object: string; data: { id: string }[] };
      assert.equal(list.object, 'list');
      const ids = list.data.map((m) => m.id);
      assert.equal(ids[0], 'claude-sonnet-4-5-20250929');
      for (const alias of ['claude-4-sonnet', 'claude-3-sonnet', 'claude-4-opus', 'gpt-4', 'gpt-4o']) assert.ok(ids.includes(alias), alias);
    });

    it('reports the model name the client asked for, and sends Kiro the mapped id', async () => {
      const res = await postChat(stack.url, { model: 'claude-3-sonnet', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(JSON.parse(res.text).model, 'claude-3-sonnet');
      const sent = stack.sim.requests.at(-1)!.body as { conversationState: { currentMessage: { userInputMessage: { modelId: string } } } };
      assert.equal(sent.conversationState.currentMessage.userInputMessage.modelId, 'claude-sonnet-4');
    });
  });

  describe('bad input always gets an OpenAI error, and the next request still works', () => {
    const send = async (path: string, init: RequestInit) => {
      const r = await fetch(`${stack.url}${path}`, init);
      return { status: r.status, text: await r.text() };
    };
    const cases: [string, () => Promise<{ status: number; text: string }>, number, string | null, string | null][] = [
      [
        'malformed JSON',
        () => send('/v1/chat/completions', { method: 'POST', headers: authHeaders, body: '{"model": "x", messages: [' }),
        400,
        'invalid_json',
        null,
      ],
      ['a wrong type', () => postChat(stack.url, { ...userMessage('x'), temperature: 'hot' }), 400, 'invalid_value', 'temperature'],
      ['no messages', () => postChat(stack.url, { model: 'claude-sonnet-4-5-20250929', messages: [] }), 400, 'invalid_value', 'messages'],
      ['an unknown role', () => postChat(stack.url, { model: 'gpt-4', messages: [{ role: 'robot', content: 'x' }] }), 400, 'invalid_value', 'messages.0.role'],
      ['a tool message without tool_call_id', () => postChat(stack.url, { model: 'gpt-4', messages: [{ role: 'tool', content: 'x' }] }), 400, 'invalid_value', 'messages.0.tool_call_id'],
      ['a missing model', () => postChat(stack.url, { messages: [{ role: 'user', content: 'x' }] }), 400, 'invalid_value', 'model'],
      ['an unknown model', () => postChat(stack.url, { ...userMessage('x'), model: 'gpt-5-turbo' }), 404, 'model_not_found', 'model'],
      ['an image URL into the private network', () => postChat(stack.url, { model: 'gpt-4', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://127.0.0.1:1/a.png' } }] }] }), 400, 'image_url_refused', 'messages.0.content.0.image_url.url'],
      ['an image that is not an image', () => postChat(stack.url, { model: 'gpt-4', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,aGVsbG8gd29ybGQ=' } }] }] }), 400, 'invalid_image', 'messages.0.content.0.image_url.url'],
      [
        'a JSON string instead of an object',
        () => send('/v1/chat/completions', { method: 'POST', headers: authHeaders, body: '"hello"' }),
        400,
        'invalid_json',
        null,
      ],
      [
        'a body declared in a charset other than UTF-8',
        () => send('/v1/chat/completions', { method: 'POST', headers: { ...authHeaders, 'content-type': 'application/json; charset=latin1' }, body: JSON.stringify(userMessage('x')) }),
        400,
        'unsupported_encoding',
        null,
      ],
      [
        'an unknown route',
        () => send('/v1/completions', { method: 'POST', headers: authHeaders, body: '{}' }),
        404,
        'unknown_url',
        null,
      ],
      [
        'a malformed %-escape in the path',
        () => send('/v1/models/%E0%A4%A', { headers: authHeaders }),
        400,
        'bad_request',
        null,
      ],
      [
        'an unknown model id on retrieve',
        () => send('/v1/models/nope', { headers: authHeaders }),
        404,
        'model_not_found',
        'model',
      ],
    ];
    for (const [name, makeRequest, status, code, param] of cases) {
      it(name, async () => {
        const res = await makeRequest();
        assert.equal(res.status, status, res.text);
        const error = errorOf(res.text);
        assert.equal(error.code, code);
        assert.equal(error.param, param);
        assert.equal(typeof error.type, 'string');
        assert.ok(error.message.length > 10);
        assert.doesNotMatch(res.text, /<html|\n\s+at /i);
        await ok();
      });
    }

    it('reads bodies however they arrive: chunked, gzip-compressed, with a byte-order mark, as form data (curl -d)', async () => {
      const body = JSON.stringify(userMessage('hi'));
      const chunked = await request(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: authHeaders,
        body: Readable.from(
          (async function* () {
            yield body.slice(0, 7);
            await sleep(5);
            yield body.slice(7);
          })(),
        ),
      });
      assert.equal(chunked.statusCode, 200, await chunked.body.text());
      const variants: [string, Record<string, string>, string | Buffer][] = [
        ['gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(body)],
        ['byte-order mark', { 'content-type': 'application/json; charset=utf-8' }, `\uFEFF${body}`],
        ['form data', { 'content-type': 'application/x-www-form-urlencoded' }, body],
      ];
      for (const [name, headers, payload] of variants) {
        const res = await request(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: authHeaders.authorization, ...headers }, body: payload });
        const text = await res.body.text();
        assert.equal(res.statusCode, 200, `${name}: ${text}`);
        assert.equal((JSON.parse(text) as { object: string }).object, 'chat.completion', name);
      }
    });

    it('ignores unknown keys and accepts every field real clients send', async () => {
      const res = await postChat(stack.url, {
        model: 'gpt-4o',
        messages: [
          { role: 'developer', content: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }] },
          { role: 'user', content: 'hi', name: 'ann' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'c1', content: 'done' },
          { role: 'user', content: [{ type: 'text', text: 'and?' }] },
        ],
        tools: [{ type: 'function', function: { name: 'f', description: 'does f', parameters: { type: 'object', properties: {} } } }],
        tool_choice: 'auto',
        parallel_tool_calls: false,
        max_completion_tokens: 100,
        temperature: 0.2,
        top_p: 1,
        stop: ['\n\n'],
        response_format: { type: 'text' },
        reasoning_effort: 'low',
        user: 'u1',
        metadata: { a: 'b' },
        stream_options: null,
        thinking: { type: 'enabled' },
        extra_body: {},
      });
      assert.equal(res.status, 200, res.text);
    });
  });

  describe('upstream failures', () => {
    const cases: [string, object, number, string][] = [
      ['429 with retry-after', { status: 429, headers: { 'retry-after': '3' } }, 429, 'rate_limit_exceeded'],
      ['402 quota', { status: 402, errorBody: { message: 'limit', reason: 'MONTHLY_REQUEST_COUNT' } }, 429, 'insufficient_quota'],
      ['403 bad token (and no refresh token)', { status: 403, errorBody: { message: 'The bearer token included in the request is invalid.', reason: null } }, 503, 'upstream_token_invalid'],
      ['400 context full', { status: 400, errorBody: { message: 'Input is too long.', reason: 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' } }, 400, 'context_length_exceeded'],
      ['400 improperly formed', { status: 400, errorBody: { message: 'Improperly formed request.', reason: null } }, 400, 'upstream_bad_request'],
      ['500', { status: 500 }, 502, 'upstream_error'],
    ];
    for (const [name, scenario, status, code] of cases) {
      it(`${name} → ${status} ${code}, streaming or not`, async () => {
        for (const stream of [false, true]) {
          // A fresh gateway each time: throttling and quota rest the (single) account.
          const own = await startStack();
          try {
            own.sim.enqueue(scenario, scenario);
            const res = await postChat(own.url, { ...userMessage('x'), stream });
            assert.equal(res.status, status, res.text);
            assert.equal(errorOf(res.text).code, code);
            if (code === 'rate_limit_exceeded') assert.equal(res.headers.get('retry-after'), '3');
          } finally {
            await own.close();
          }
        }
      });
    }

    it('after a 429 the account rests for retry-after, then serves again; after a 402 Kiro is not asked again', async () => {
      const own = await startStack();
      try {
        own.sim.enqueue({ status: 429, headers: { 'retry-after': '1' } });
        assert.equal((await postChat(own.url, userMessage('x'))).status, 429);
        const resting = await postChat(own.url, userMessage('x'));
        assert.equal(resting.status, 429);
        assert.equal(own.sim.requests.length, 1, 'a resting account is not sent to Kiro');
        await sleep(1100);
        assert.equal((await postChat(own.url, userMessage('x'))).status, 200);
        own.sim.enqueue({ status: 402, errorBody: { message: 'limit', reason: 'MONTHLY_REQUEST_COUNT' } });
        assert.equal((await postChat(own.url, userMessage('x'))).status, 429);
        const again = await postChat(own.url, userMessage('x'));
        assert.equal(errorOf(again.text).code, 'insufficient_quota');
        assert.ok(Number(again.headers.get('retry-after')) > 3000);
        assert.equal(own.sim.requests.length, 3);
        const health = await (await fetch(`${own.url}/health`)).json();
        assert.equal(health.accounts[0].state, 'cooling_down');
        assert.match(health.accounts[0].problem, /quota/);
      } finally {
        await own.close();
      }
    });

    it('a corrupt CRC mid-stream ends the stream with one error event, never silently', async () => {
      stack.sim.enqueue({ events: [{ text: 'Hello ' }, { text: 'world' }, { text: '!' }], corruptFrame: 1 });
      const res = await postChat(stack.url, { ...userMessage('x'), stream: true });
      assert.equal(res.status, 200);
      const events = sseEvents(res.text);
      const last = events.at(-1) as { error: { code: string } };
      assert.equal(last.error.code, 'upstream_stream_corrupt');
      assert.ok(!events.includes('[DONE]'));
      stack.sim.enqueue({ events: [{ text: 'Hello ' }, { text: 'world' }], corruptFrame: 1 });
      const json = await postChat(stack.url, userMessage('x'));
      assert.equal(json.status, 502);
      assert.equal(errorOf(json.text).code, 'upstream_stream_corrupt');
      await ok();
    });

    it('a socket cut mid-frame is an error, not a short answer', async () => {
      stack.sim.enqueue({ events: [{ text: 'Hello ' }, { text: 'world, this is long' }], split: 'whole', cutAfterBytes: 150 });
      const res = await postChat(stack.url, userMessage('x'));
      assert.equal(res.status, 502, res.text);
      assert.match(errorOf(res.text).code ?? '', /upstream_stream_(broken|corrupt)/);
      await ok();
    });

    it('Kiro unreachable → 502, slow first byte → 504', async () => {
      const dead = await startStack({ KIRO_BASE_URL: 'http://127.0.0.1:1' });
      try {
        const res = await postChat(dead.url, userMessage('x'));
        assert.equal(res.status, 502);
        assert.equal(errorOf(res.text).code, 'upstream_unreachable');
      } finally {
        await dead.close();
      }
      const slow = await startStack({ KIRO_FIRST_BYTE_TIMEOUT_MS: '1000' });
      try {
        slow.sim.enqueue({ firstByteDelayMs: 2500, events: [{ text: 'late' }] });
        const res = await postChat(slow.url, userMessage('x'));
        assert.equal(res.status, 504, res.text);
        assert.equal(errorOf(res.text).code, 'upstream_timeout');
      } finally {
        await slow.close();
      }
    });
  });

  describe('streaming', () => {
    it('keeps repeated identical deltas and reassembles frames split byte by byte', async () => {
      stack.sim.enqueue({ events: [{ text: '66' }, { text: '66' }, { text: '6' }, { metering: 0.01 }, { contextUsage: 1 }], split: 1 });
      const res = await postChat(stack.url, { ...userMessage('echo 66666'), stream: true });
      const chunks = sseEvents(res.text).filter((e) => e !== '[DONE]') as { choices: { delta: { content?: string } }[] }[];
      assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), '66666');
      assert.equal(sseEvents(res.text).at(-1), '[DONE]');
    });

    it('sends keep-alive comments while Kiro is silent, before and during the answer', async () => {
      const quick = await startStack({ STREAM_KEEPALIVE_MS: '100' });
      try {
        quick.sim.enqueue({ firstByteDelayMs: 450, delayMs: 450, events: [{ text: 'a' }, { text: 'b' }] });
        const res = await postChat(quick.url, { ...userMessage('x'), stream: true });
        const beforeFirstData = res.text.slice(0, res.text.indexOf('"content":"a"'));
        const between = res.text.slice(res.text.indexOf('"content":"a"'), res.text.indexOf('"content":"b"'));
        assert.match(beforeFirstData, /^: keep-alive\n\n/m);
        assert.match(between, /: keep-alive\n\n/);
        assert.equal(sseEvents(res.text).at(-1), '[DONE]');
      } finally {
        await quick.close();
      }
    });

    it('reports a refusal that comes after the stream started as an in-band error event', async () => {
      const quick = await startStack({ STREAM_KEEPALIVE_MS: '100' });
      try {
        quick.sim.enqueue({ firstByteDelayMs: 400, status: 429 });
        const res = await postChat(quick.url, { ...userMessage('x'), stream: true });
        assert.equal(res.status, 200);
        const last = sseEvents(res.text).at(-1) as { error: { code: string; type: string } };
        assert.equal(last.error.code, 'rate_limit_exceeded');
      } finally {
        await quick.close();
      }
    });

    it('streams chunks as they arrive instead of buffering the answer', async () => {
      stack.sim.enqueue({ delayMs: 300, events: [{ text: 'first' }, { text: 'second' }, { text: 'third' }] });
      const started = Date.now();
      const res = await request(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: authHeaders, body: JSON.stringify({ ...userMessage('x'), stream: true }) });
      let seenFirstAt = 0;
      let text = '';
      for await (const chunk of res.body) {
        text += chunk.toString();
        if (!seenFirstAt && text.includes('"content":"first"')) seenFirstAt = Date.now() - started;
      }
      const total = Date.now() - started;
      assert.ok(seenFirstAt > 0 && seenFirstAt < total - 400, `first chunk at ${seenFirstAt} ms of ${total} ms`);
    });

    it('aborts the upstream request at once when the client disconnects', async () => {
      stack.sim.enqueue({ events: [{ text: 'endless' }], hang: true });
      const before = stack.sim.abortedResponses;
      const controller = new AbortController();
      const res = await request(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: authHeaders,
        body: JSON.stringify({ ...userMessage('x'), stream: true }),
        signal: controller.signal,
      });
      for await (const chunk of res.body) {
        if (chunk.toString().includes('endless')) break;
      }
      controller.abort();
      const deadline = Date.now() + 2000;
      while (stack.sim.abortedResponses === before && Date.now() < deadline) await sleep(10);
      assert.equal(stack.sim.abortedResponses, before + 1);
      await ok();
    });

    it('aborts the upstream when a non-streaming client disconnects', async () => {
      stack.sim.enqueue({ events: [{ text: 'endless' }], hang: true });
      const before = stack.sim.abortedResponses;
      const controller = new AbortController();
      const pending = fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: authHeaders, body: JSON.stringify(userMessage('x')), signal: controller.signal }).catch(() => undefined);
      await sleep(200);
      controller.abort();
      await pending;
      const deadline = Date.now() + 2000;
      while (stack.sim.abortedResponses === before && Date.now() < deadline) await sleep(10);
      assert.equal(stack.sim.abortedResponses, before + 1);
    });
  });

  describe('what Kiro receives', () => {
    it('sends the IDE headers, a fresh invocation id and conversation id, and profileArn at the top level', async () => {
      await ok();
      await ok();
      const [a, b] = stack.sim.requests.slice(-2);
      for (const recorded of [a!, b!]) {
        assert.equal(recorded.headers.authorization, `Bearer ${ACCESS_TOKEN}`);
        assert.equal(recorded.headers['x-amzn-codewhisperer-optout'], 'true');
        assert.equal(recorded.headers['x-amzn-kiro-agent-mode'], 'vibe');
        assert.match(String(recorded.headers['x-amz-user-agent']), /^aws-sdk-js\/[\d.]+ KiroIDE-[\d.]+-[0-9a-f]{64}$/);
        assert.match(String(recorded.headers['amz-sdk-invocation-id']), /^[0-9a-f-]{36}$/);
        const body = recorded.body as { profileArn: string; conversationState: { conversationId: string; chatTriggerType: string } };
        assert.equal(body.profileArn, 'arn:aws:codewhisperer:us-east-1:123456789012:profile/TESTPROFILE');
        assert.equal(body.conversationState.chatTriggerType, 'MANUAL');
      }
      assert.notEqual(a!.headers['amz-sdk-invocation-id'], b!.headers['amz-sdk-invocation-id']);
      assert.notEqual((a!.body as { conversationState: { conversationId: string } }).conversationState.conversationId, (b!.body as { conversationState: { conversationId: string } }).conversationState.conversationId);
    });
  });

  describe('health', () => {
    it('reports version, uptime and credential state without any secret', async () => {
      const res = await fetch(`${stack.url}/health`);
      const text = await res.text();
      const health = JSON.parse(text);
      assert.equal(health.status, 'ok');
      assert.match(health.version, /^\d+\.\d+\.\d+/);
      assert.equal(typeof health.uptime_seconds, 'number');
      assert.equal(health.credentials.usable, true);
      assert.ok(!text.includes(ACCESS_TOKEN));
    });

    it('with no credentials at all: degraded health that says how to fix it, and a clear 503 for chat', async () => {
      const empty = await startStack({ KIRO_ACCESS_TOKEN: undefined, KIRO_TOKEN_FILE: '/nonexistent/kiro-auth-token.json' });
      try {
        const health = await (await fetch(`${empty.url}/health`)).json();
        assert.equal(health.status, 'degraded');
        assert.equal(health.credentials.found, false);
        assert.match(health.credentials.fix, /Kiro IDE|KIRO_ACCESS_TOKEN/);
        const res = await postChat(empty.url, userMessage('x'));
        assert.equal(res.status, 503);
        assert.equal(errorOf(res.text).code, 'no_credentials');
        assert.match(errorOf(res.text).message, /KIRO_ACCESS_TOKEN/);
      } finally {
        await empty.close();
      }
    });
  });

  describe('limits and auth off', () => {
    it('answers 413 over BODY_LIMIT, and API_KEY=off lets anyone in', async () => {
      const small = await startStack({ BODY_LIMIT: '1kb', API_KEY: 'off' });
      try {
        const res = await postChat(small.url, userMessage('x'.repeat(5000)), { 'content-type': 'application/json' });
        assert.equal(res.status, 413);
        assert.equal(errorOf(res.text).code, 'request_too_large');
        // Without a content-length the limit is enforced while reading.
        const chunked = await request(`${small.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: Readable.from(Array.from({ length: 10 }, () => 'x'.repeat(500))),
        });
        assert.equal(chunked.statusCode, 413);
        assert.equal(errorOf(await chunked.body.text()).code, 'request_too_large');
        const fine = await postChat(small.url, userMessage('hi'), { 'content-type': 'application/json' });
        assert.equal(fine.status, 200);
      } finally {
        await small.close();
      }
    });
  });

  it('never logs a secret', () => {
    const logs = stack.logs();
    assert.ok(logs.length > 0);
    assert.ok(!logs.includes(ACCESS_TOKEN), 'access token in logs');
    assert.ok(!logs.includes(API_KEY), 'API key in logs');
  });
});

describe('the HTTP server', () => {
  it('builds requests and responses on the Express app\'s own prototypes from the start', async () => {
    const app = express();
    app.get('/echo', (req, res) => res.status(201).json({ header: req.get('x-a'), path: req.path }));
    const server = createAppServer(app).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const seen: boolean[] = [];
    // Runs before Express sees the request: the prototypes must already be the app's.
    server.prependListener('request', (req, res) => seen.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response));
    try {
      const { port } = server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/echo`, { headers: { 'x-a': 'b' } });
      assert.equal(res.status, 201);
      assert.deepEqual(await res.json(), { header: 'b', path: '/echo' });
      assert.deepEqual(seen, [true]);
    } finally {
      server.close();
    }
  });
});
