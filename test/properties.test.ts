import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import fc from 'fast-check';
import { JSONSchemaFaker } from 'json-schema-faker';
import { request } from 'undici';
import { API_KEY, startStack, type Stack } from './helpers.js';

// Property-based requests generated from the committed openapi.json against the running gateway
// (with the simulator in strict mode): whatever a client sends that the document describes — and
// whatever it sends with one field broken — the answer is never a 5xx, always a status the document
// lists for that operation, with a body its schema for that status accepts. Kiro's own opaque 400
// never comes back: that would mean the request normaliser let a request through that Kiro rejects.

type Json = Record<string, unknown>;
const doc = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8')) as { paths: Record<string, Record<string, Json>>; components: { schemas: Record<string, Json> } };

/** OpenAPI 3.0's `nullable` beside `allOf` (no `type`) is valid OpenAPI but not for ajv: say it as anyOf-null. */
function denull(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(denull);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) out[key] = denull(value);
  if (out.nullable === true && out.type === undefined) {
    delete out.nullable;
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: false });
ajv.addSchema({ $id: 'ki2api', components: denull(doc.components) as Json });
const validators = new Map<string, ValidateFunction>();
/** A validator for a schema of the document; `$ref`s resolve against its components. */
function validatorFor(schema: Json): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(denull(JSON.parse(key.replaceAll('"#/components/', '"ki2api#/components/'))) as Json);
    validators.set(key, validate);
  }
  return validate;
}

/** An instance of `schema`, drawn with `seed` (json-schema-faker, seeded so fast-check can replay and shrink). */
function sample(schema: Json, seed: number): unknown {
  let state = seed >>> 0 || 1;
  JSONSchemaFaker.option({
    alwaysFakeOptionals: false,
    optionalsProbability: 0.4,
    maxItems: 4,
    maxLength: 40,
    useExamplesValue: false,
    failOnInvalidTypes: false,
    random: () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    },
  });
  return JSONSchemaFaker.generate({ ...schema, components: doc.components } as never);
}

interface Operation {
  method: string;
  path: string;
  /** Needs ADMIN_KEY too: sent without it, every answer is a documented refusal. */
  admin: boolean;
  body?: Json;
  responses: Record<string, { json?: Json; sse?: Json }>;
}

const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => {
    const responses: Operation['responses'] = {};
    for (const [status, response] of Object.entries(op.responses as Record<string, { content?: Record<string, { schema: Json }> }>)) {
      responses[status] = { ...(response.content?.['application/json'] && { json: response.content['application/json'].schema }), ...(response.content?.['text/event-stream'] && { sse: response.content['text/event-stream'].schema }) };
    }
    const body = (op.requestBody as { content?: Record<string, { schema: Json }> } | undefined)?.content?.['application/json']?.schema;
    const admin = ((op.security ?? []) as Record<string, unknown>[]).some((scheme) => 'adminKey' in scheme);
    return { method: method.toUpperCase(), path, admin, ...(body && { body }), responses };
  }),
);

const KNOWN_MODELS = ['claude-sonnet-4-5-20250929', 'gpt-4o', 'claude-haiku-4-5-20251001', 'claude-opus-4-6'];

/** One broken field: dropped, or replaced by any JSON value at all. */
const mutation = fc.oneof(
  fc.constant(undefined),
  fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), value: fc.jsonValue({ maxDepth: 3 }) }),
);

function mutate(body: unknown, change: { kind: 'drop' | 'replace'; pick: number; value?: unknown } | undefined): unknown {
  if (!change || !body || typeof body !== 'object' || Array.isArray(body)) return body;
  const keys = Object.keys(body);
  if (keys.length === 0) return body;
  const key = keys[change.pick % keys.length]!;
  const copy = { ...(body as Json) };
  if (change.kind === 'drop') delete copy[key];
  else copy[key] = change.value;
  return copy;
}

/** The data events of an SSE body (comments and `[DONE]` left out). */
const sseData = (text: string) => text.split('\n\n').flatMap((block) => block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6))).filter((d) => d !== '[DONE]');

describe('property-based requests from openapi.json', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ AUTH_FAILURES_PER_MINUTE: '0', STREAM_KEEPALIVE_MS: '2000' }, { strict: true });
  });
  after(() => stack.close());

  for (const operation of operations) {
    it(`${operation.method} ${operation.path}: never a 5xx, never an undocumented status or body`, async () => {
      const runs = operation.body ? 150 : 25;
      const seen = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), mutation, fc.boolean(), fc.constantFrom(...KNOWN_MODELS), async (seed, change, knownModel, model) => {
          let path = operation.path;
          if (path.includes('{model}')) path = path.replace('{model}', encodeURIComponent(knownModel ? model : String(sample({ type: 'string', minLength: 1 }, seed))));
          let body: unknown;
          if (operation.body) {
            body = sample(operation.body, seed);
            if (knownModel && body && typeof body === 'object') (body as Json).model = model;
            body = mutate(body, change);
          }
          const res = await request(`${stack.url}${path}`, {
            method: operation.method as 'GET',
            headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
            ...(body !== undefined && { body: JSON.stringify(body) }),
          });
          const text = await res.body.text();
          const status = String(res.statusCode);
          seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
          const context = `${operation.method} ${path} ${JSON.stringify(body)?.slice(0, 400)} → ${status} ${text.slice(0, 300)}`;
          assert.ok(res.statusCode < 500, context);
          const documented = operation.responses[status];
          assert.ok(documented, `undocumented status: ${context}`);
          const type = String(res.headers['content-type'] ?? '');
          if (type.startsWith('text/event-stream')) {
            assert.ok(documented.sse, `undocumented stream: ${context}`);
            const errors = validatorFor(doc.components.schemas.ErrorResponse!);
            for (const data of sseData(text)) {
              const event = JSON.parse(data) as unknown;
              const validate = validatorFor(documented.sse);
              assert.ok(validate(event) || errors(event), `event matches no documented schema: ${data.slice(0, 300)} ${JSON.stringify(validate.errors)}`);
            }
          } else {
            assert.ok(documented.json, `undocumented body: ${context}`);
            const validate = validatorFor(documented.json);
            assert.ok(validate(JSON.parse(text)), `body does not match the documented schema: ${context} ${JSON.stringify(validate.errors)}`);
          }
          if (res.statusCode === 400) assert.notEqual((JSON.parse(text) as { error: { code: string } }).error.code, 'upstream_bad_request', `Kiro rejected what the gateway sent: ${context}`);
        }),
        { numRuns: runs, seed: 20261201 },
      );
      // The generated requests reach the model as well as the validator; management, without the
      // admin key, is refused whatever the body.
      if (operation.admin) assert.ok((seen.get(403) ?? 0) >= 10 && !seen.has(200), JSON.stringify([...seen]));
      else if (operation.body) assert.ok((seen.get(200) ?? 0) >= 10 && [...seen.keys()].some((s) => s >= 400), JSON.stringify([...seen]));
    });
  }
});
