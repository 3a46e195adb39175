import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KIRO_MODELS } from '../../src/kiro/models.js';
import { ModelCatalog } from '../../src/chat/models.js';
import { toChatRequest } from '../../src/faces/anthropic/request.js';
import { buildKiroRequest } from '../../src/kiro/request.js';

// Agent-sized requests on every face, as wrk sends them: the bodies Claude Code really sent
// (captured by capture.ts), the same conversation in Chat Completions and Responses shape, and
// the Kiro body the gateway makes of it for the passthrough. "Cold" sends variants in turn, each
// text in them prefixed differently, so many that no cache of the gateway's ever hits.

type Json = Record<string, unknown>;
/** The gateway's largest cache: the Responses echo bytes (16 MB); the token counts keep 8 M characters. */
const LARGEST_CACHE_BYTES = 16 << 20;
/**
 * How many different bodies a cold run sends in turn: together twice the largest cache, so each
 * is long gone from every (least-recently-used) cache when it comes round again.
 */
export const coldVariants = (bodyBytes: number) => Math.max(64, Math.ceil((2 * LARGEST_CACHE_BYTES) / bodyBytes));

export const hasWrk = spawnSync('wrk', ['--version']).error === undefined;

const textOf = (content: unknown): string => (typeof content === 'string' ? content : Array.isArray(content) ? content.filter((b: Json) => b.type === 'text').map((b: Json) => b.text as string).join('\n') : '');

/** The conversation of an Anthropic request as a Chat Completions request. */
export function toChatBody(anthropic: Json): Json {
  const messages: Json[] = [{ role: 'system', content: textOf(anthropic.system) }];
  for (const message of anthropic.messages as Json[]) {
    const blocks = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : (message.content as Json[]);
    if (message.role === 'assistant') {
      const calls = blocks.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input) } }));
      messages.push({ role: 'assistant', content: textOf(blocks) || null, ...(calls.length > 0 && { tool_calls: calls }) });
      continue;
    }
    for (const b of blocks.filter((b) => b.type === 'tool_result')) messages.push({ role: 'tool', tool_call_id: b.tool_use_id, content: textOf(b.content) || '(empty)' });
    const text = textOf(blocks);
    if (text) messages.push({ role: 'user', content: text });
  }
  const tools = (anthropic.tools as Json[]).map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.input_schema } }));
  return { model: anthropic.model, stream: true, max_tokens: anthropic.max_tokens, messages, tools };
}

/** The conversation of an Anthropic request as a Responses request. */
export function toResponsesBody(anthropic: Json): Json {
  const input: Json[] = [];
  for (const message of anthropic.messages as Json[]) {
    const blocks = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : (message.content as Json[]);
    if (message.role === 'assistant') {
      const text = textOf(blocks);
      if (text) input.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
      for (const b of blocks.filter((b) => b.type === 'tool_use')) input.push({ type: 'function_call', call_id: b.id, name: b.name, arguments: JSON.stringify(b.input) });
      continue;
    }
    for (const b of blocks.filter((b) => b.type === 'tool_result')) input.push({ type: 'function_call_output', call_id: b.tool_use_id, output: textOf(b.content) || '(empty)' });
    const text = textOf(blocks);
    if (text) input.push({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
  }
  const tools = (anthropic.tools as Json[]).map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: t.input_schema }));
  return { model: anthropic.model, stream: true, store: false, max_output_tokens: anthropic.max_tokens, instructions: textOf(anthropic.system), input, tools };
}

/** The same request with every text prefixed by `tag`: nothing of it is in any cache. */
export function variant(value: unknown, tag: string, key = ''): unknown {
  if (typeof value === 'string') return ['text', 'description', 'content'].includes(key) ? `${tag} ${value}` : value;
  if (Array.isArray(value)) return value.map((item) => variant(item, tag, key));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, variant(v, tag, k)]));
  return value;
}

const catalog = new ModelCatalog(KIRO_MODELS);

/** The Kiro body the gateway builds for an Anthropic request: what the passthrough forwards. */
export async function kiroBodyOf(anthropic: Json, profileArn: string): Promise<string> {
  const model = catalog.require(String(anthropic.model));
  const { chat } = await toChatRequest(anthropic as never, model, async () => {
    throw new Error('no images in the bench');
  });
  const built = buildKiroRequest(chat, { conversationId: 'bench', thinking: model.thinking ?? 'tags', profileArn });
  return built.json;
}

export interface Face {
  name: 'anthropic' | 'chat' | 'responses';
  path: string;
  body: (anthropic: Json) => Json;
}

export const FACES: readonly Face[] = [
  { name: 'anthropic', path: '/v1/messages', body: (a) => a },
  { name: 'chat', path: '/v1/chat/completions', body: toChatBody },
  { name: 'responses', path: '/v1/responses', body: toResponsesBody },
];

export interface WrkRun {
  rps: number;
  requests: number;
  errors: number;
  p50: number;
}

/**
 * One wrk run sending `bodies` in turn to `url`: requests per second, total, errors, and the
 * median latency (ms). wrk is C and event-driven: on one core it outruns the gateway many times.
 */
export function wrk(url: string, bodies: readonly string[], headers: Record<string, string>, connections: number, seconds: number, dir: string): WrkRun {
  mkdirSync(dir, { recursive: true });
  const files = bodies.map((body, i) => {
    const file = join(dir, `body-${i}.json`);
    writeFileSync(file, body);
    return file;
  });
  const list = join(dir, 'bodies.txt');
  writeFileSync(list, files.join('\n') + '\n');
  const script = join(dir, 'send.lua');
  const target = new URL(url);
  writeFileSync(
    script,
    [
      'local bodies = {}',
      `for line in io.lines(${JSON.stringify(list)}) do local f = io.open(line, "rb"); bodies[#bodies + 1] = f:read("*a"); f:close() end`,
      `local headers = { ${Object.entries({ ...headers, 'content-type': 'application/json' })
        .map(([k, v]) => `[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
        .join(', ')} }`,
      'local i = 0',
      `request = function() i = i % #bodies + 1; return wrk.format("POST", ${JSON.stringify(target.pathname)}, headers, bodies[i]) end`,
      'done = function(summary, latency, requests) io.write(string.format("KI2API %d %d %d %.3f\\n", summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.duration, latency:percentile(50) / 1000)) end',
    ].join('\n'),
  );
  const result = spawnSync('taskset', ['-c', '1', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '30s', '-s', script, `${target.origin}`], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = /KI2API (\d+) (\d+) (\d+) ([\d.]+)/.exec(result.stdout ?? '');
  if (!line) throw new Error(`wrk printed no result: ${result.stdout} ${result.stderr}`);
  const requests = Number(line[1]);
  return { requests, errors: Number(line[2]), rps: requests / (Number(line[3]) / 1e6), p50: Number(line[4]) };
}
