import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { API_KEY, postChat, startStack, userMessage, type Stack } from './helpers.js';

// A catalogue of bad input, each kind followed by a good request that must still work: the
// gateway answers every one with the face's own error envelope and a fitting 4xx, and keeps
// serving.

interface Raw {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

type Case = [name: string, raw: Raw, status: number, code?: string | null];

const KEY = { authorization: `Bearer ${API_KEY}` };
const JSON_KEY = { ...KEY, 'content-type': 'application/json' };
const chat = (body: unknown, headers: Record<string, string> = JSON_KEY): Raw => ({ body: JSON.stringify(body), headers });
const msg = (message: unknown) => chat({ model: 'gpt-4o', messages: [message] });
const withField = (field: string, value: unknown) => chat({ ...userMessage('x'), [field]: value });
const image = (url: unknown) => msg({ role: 'user', content: [{ type: 'image_url', image_url: { url } }] });
const tool = (fn: unknown) => chat({ ...userMessage('x'), tools: [{ type: 'function', function: fn }] });

const CASES: Case[] = [
  // the body itself
  ['truncated JSON', { body: '{"model": "gpt-4o", "messages": [', headers: JSON_KEY }, 400, 'invalid_json'],
  ['JSON followed by garbage', { body: `${JSON.stringify(userMessage('x'))} trailing`, headers: JSON_KEY }, 400, 'invalid_json'],
  ['a JSON string', { body: '"hello"', headers: JSON_KEY }, 400, 'invalid_json'],
  ['a JSON number', { body: '42', headers: JSON_KEY }, 400, 'invalid_json'],
  ['JSON null', { body: 'null', headers: JSON_KEY }, 400, 'invalid_json'],
  ['a JSON array', { body: '[1,2]', headers: JSON_KEY }, 400, 'invalid_value'],
  ['an empty body', { body: '', headers: JSON_KEY }, 400, 'invalid_value'],
  ['only white space', { body: ' \n\t ', headers: JSON_KEY }, 400, 'invalid_value'],
  ['bytes that are not UTF-8', { body: Buffer.concat([Buffer.from('{"model":"gpt-4o","messages":[{"role":"user","content":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}]}')]), headers: JSON_KEY }, 200],
  ['a lone surrogate escape', { body: '{"model":"gpt-4o","messages":[{"role":"user","content":"\\ud800 alone"}]}', headers: JSON_KEY }, 200],
  ['NUL characters in the text', msg({ role: 'user', content: 'a\u0000b\u0000' }), 200],
  ['gzip that is not gzip', { body: Buffer.from('definitely not gzip'), headers: { ...JSON_KEY, 'content-encoding': 'gzip' } }, 400],
  ['a truncated gzip body', { body: gzipSync(JSON.stringify(userMessage('x'))).subarray(0, 20), headers: { ...JSON_KEY, 'content-encoding': 'gzip' } }, 400],
  ['an unknown content encoding', { body: JSON.stringify(userMessage('x')), headers: { ...JSON_KEY, 'content-encoding': 'compress' } }, 400, 'unsupported_encoding'],
  ['a charset other than UTF-8', { body: JSON.stringify(userMessage('x')), headers: { ...KEY, 'content-type': 'application/json; charset=latin1' } }, 400, 'unsupported_encoding'],
  ['10,000 levels of nesting', { body: `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"metadata":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, headers: JSON_KEY }, 400, 'too_deeply_nested'],
  ['duplicate keys (the last wins)', { body: '{"model":"nope","model":"gpt-4o","messages":[{"role":"user","content":"x"}]}', headers: JSON_KEY }, 200],
  ['a __proto__ key', { body: '{"model":"gpt-4o","__proto__":{"polluted":true},"messages":[{"role":"user","content":"x","__proto__":{"role":"system"}}]}', headers: JSON_KEY }, 200],
  ['constructor and prototype keys', { body: '{"model":"gpt-4o","constructor":{"prototype":{"x":1}},"messages":[{"role":"user","content":"x"}]}', headers: JSON_KEY }, 200],
  ['a number too large for a double', { body: '{"model":"gpt-4o","max_tokens":1e400,"messages":[{"role":"user","content":"x"}]}', headers: JSON_KEY }, 400, 'invalid_value'],
  ['a body over BODY_LIMIT', { body: JSON.stringify({ ...userMessage('x'), pad: 'p'.repeat(2 * 1024 * 1024) }), headers: JSON_KEY }, 413, 'request_too_large'],
  // fields
  ['no model', chat({ messages: [{ role: 'user', content: 'x' }] }), 400, 'invalid_value'],
  ['an empty model', chat({ model: '', messages: [{ role: 'user', content: 'x' }] }), 400, 'invalid_value'],
  ['a numeric model', chat({ model: 7, messages: [{ role: 'user', content: 'x' }] }), 400, 'invalid_value'],
  ['an unknown model', chat({ model: 'gpt-5-turbo', messages: [{ role: 'user', content: 'x' }] }), 404, 'model_not_found'],
  ['no messages', chat({ model: 'gpt-4o' }), 400, 'invalid_value'],
  ['an empty message list', chat({ model: 'gpt-4o', messages: [] }), 400, 'invalid_value'],
  ['messages as an object', chat({ model: 'gpt-4o', messages: { role: 'user', content: 'x' } }), 400, 'invalid_value'],
  ['a null message', msg(null), 400, 'invalid_value'],
  ['a message without a role', msg({ content: 'x' }), 400, 'invalid_value'],
  ['an unknown role', msg({ role: 'robot', content: 'x' }), 400, 'invalid_value'],
  ['numeric content', msg({ role: 'user', content: 42 }), 400, 'invalid_value'],
  ['an unknown content part', msg({ role: 'user', content: [{ type: 'video', url: 'x' }] }), 400, 'invalid_value'],
  ['an image part without image_url', msg({ role: 'user', content: [{ type: 'image_url' }] }), 400, 'invalid_value'],
  ['an image URL that is not a string', image(5), 400, 'invalid_value'],
  ['a data URI without base64', image('data:image/png,rawbytes'), 400, 'invalid_image_url'],
  ['a data URI that holds no image', image('data:image/png;base64,aGVsbG8gd29ybGQ='), 400, 'invalid_image'],
  ['a javascript: image URL', image('javascript:alert(1)'), 400, 'invalid_image_url'],
  ['a file: image URL', image('file:///etc/passwd'), 400, 'invalid_image_url'],
  ['a tool message without tool_call_id', msg({ role: 'tool', content: 'x' }), 400, 'invalid_value'],
  ['tool_calls that are not a list', msg({ role: 'assistant', content: null, tool_calls: { id: 'c' } }), 400, 'invalid_value'],
  ['a tool call without a function', msg({ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function' }] }), 400, 'invalid_value'],
  ['tool call arguments that are not a string', msg({ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: { a: 1 } } }] }), 400, 'invalid_value'],
  ['tools that are not a list', withField('tools', { type: 'function' }), 400, 'invalid_value'],
  ['a tool without a name', tool({ description: 'x' }), 400, 'invalid_value'],
  ['a tool with an empty name', tool({ name: '' }), 400, 'invalid_value'],
  ['tool parameters that are not an object', tool({ name: 'f', parameters: 'object' }), 400, 'invalid_value'],
  ['an unknown tool_choice', withField('tool_choice', 'sometimes'), 400, 'invalid_value'],
  ['tool_choice naming a tool that is not there', chat({ ...userMessage('x'), tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'g' } } }), 400, 'invalid_value'],
  ['a string temperature', withField('temperature', 'hot'), 400, 'invalid_value'],
  ['a temperature out of range', withField('temperature', 5), 400, 'invalid_value'],
  ['negative max_tokens', withField('max_tokens', -1), 400, 'invalid_value'],
  ['zero max_tokens', withField('max_tokens', 0), 400, 'invalid_value'],
  ['fractional max_tokens', withField('max_tokens', 1.5), 400, 'invalid_value'],
  ['n above 1', withField('n', 5), 400, 'unsupported_parameter'],
  ['a numeric stop', withField('stop', 7), 400, 'invalid_value'],
  ['stream as a string', withField('stream', 'yes'), 400, 'invalid_value'],
  ['an unknown response_format', withField('response_format', { type: 'yaml' }), 400, 'invalid_value'],
  ['an unknown reasoning_effort', withField('reasoning_effort', 'extreme'), 400, 'invalid_value'],
  ['stream_options that are not an object', withField('stream_options', 'all'), 400, 'invalid_value'],
  ['metadata with a numeric value', withField('metadata', { a: 1 }), 400, 'invalid_value'],
  ['a conversation too big for Kiro once converted', msg({ role: 'user', content: 'word '.repeat(150_000) }), 400, 'request_too_large_for_kiro'],
  // routes, methods and keys
  ['GET on the chat route', { method: 'GET', headers: KEY }, 404, 'unknown_url'],
  ['PUT on the model list', { method: 'PUT', path: '/v1/models', headers: KEY }, 404, 'unknown_url'],
  ['an unknown route', { path: '/v1/completions', headers: JSON_KEY, body: '{}' }, 404, 'unknown_url'],
  ['a malformed %-escape in the path', { method: 'GET', path: '/v1/models/%E0%A4%A', headers: KEY }, 400, 'bad_request'],
  ['an 8 KB path', { method: 'GET', path: `/v1/${'x'.repeat(8000)}`, headers: KEY }, 404, 'unknown_url'],
  ['a model id that climbs out of the path', { method: 'GET', path: '/v1/models/..%2F..%2Fhealth', headers: KEY }, 404, 'model_not_found'],
  ['no API key', chat(userMessage('x'), { 'content-type': 'application/json' }), 401, 'invalid_api_key'],
  ['a wrong API key', chat(userMessage('x'), { authorization: 'Bearer wrong', 'content-type': 'application/json' }), 401, 'invalid_api_key'],
  ['Basic instead of Bearer', chat(userMessage('x'), { authorization: `Basic ${Buffer.from(`u:${API_KEY}`).toString('base64')}`, 'content-type': 'application/json' }), 401, 'invalid_api_key'],
  ['an empty x-api-key', chat(userMessage('x'), { 'x-api-key': '', 'content-type': 'application/json' }), 401, 'invalid_api_key'],
  ['POST on /health', { path: '/health', body: '{}', headers: JSON_KEY }, 404, 'unknown_url'],
  // CORS is off: a preflight is a request like any other, and has no key.
  ['a CORS preflight with CORS off', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } }, 401, 'invalid_api_key'],
  ['POST on /docs', { path: '/docs/', body: '{}', headers: JSON_KEY }, 405, 'method_not_allowed'],
];

describe('bad input: a clear error, never a crash, and the next request works', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ BODY_LIMIT: '1mb', AUTH_FAILURES_PER_MINUTE: '0' });
  });
  after(() => stack.close());

  it(`the catalogue holds at least 60 kinds (${CASES.length})`, () => assert.ok(CASES.length >= 60));

  for (const [name, raw, status, code] of CASES) {
    it(name, async () => {
      const res = await request(`${stack.url}${raw.path ?? '/v1/chat/completions'}`, { method: (raw.method ?? 'POST') as 'POST', headers: raw.headers ?? {}, ...(raw.body !== undefined && { body: raw.body }) });
      const text = await res.body.text();
      assert.equal(res.statusCode, status, `${name}: ${text.slice(0, 300)}`);
      if (status >= 400) {
        const error = (JSON.parse(text) as { error: { message: string; type: string; code: string | null } }).error;
        assert.equal(typeof error.type, 'string');
        assert.ok(error.message.length > 10, error.message);
        if (code !== undefined) assert.equal(error.code, code, error.message);
        assert.doesNotMatch(text, /<html|\n\s+at |node_modules/i);
      }
      const good = await postChat(stack.url, userMessage('still there?'));
      assert.equal(good.status, 200, good.text);
    });
  }
});
