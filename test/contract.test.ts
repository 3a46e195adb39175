import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { buildOpenApiDocument } from '../contract/openapi.js';
import { openapiJsonText } from '../src/http/docs.js';
import { VERSION } from '../src/version.js';
import { startStack, type Stack } from './helpers.js';

const committed = readFileSync(new URL('../openapi.json', import.meta.url), 'utf8');

describe('OpenAPI document', () => {
  it('the committed openapi.json matches the contract (run `npm run openapi` when this fails)', () => {
    assert.equal(committed, openapiJsonText(), 'openapi.json is stale: run npm run openapi and commit it');
  });

  it('is a valid OpenAPI document', async () => {
    await SwaggerParser.validate(structuredClone(buildOpenApiDocument(VERSION)) as never);
  });

  it('documents the stream as text/event-stream of a named chunk component on the same 200 response', () => {
    const doc = JSON.parse(committed);
    const ok = doc.paths['/v1/chat/completions'].post.responses['200'].content;
    assert.deepEqual(ok['application/json'].schema, { $ref: '#/components/schemas/CreateChatCompletionResponse' });
    assert.deepEqual(ok['text/event-stream'].schema, { $ref: '#/components/schemas/CreateChatCompletionStreamResponse' });
    assert.match(ok['text/event-stream'].example, /data: \[DONE\]/);
    assert.ok(doc.components.schemas.CreateChatCompletionStreamResponse.properties.choices);
  });

  it('has bearer auth, public health routes, and an example for every route', () => {
    const doc = JSON.parse(committed);
    assert.deepEqual(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', description: doc.components.securitySchemes.bearerAuth.description });
    assert.deepEqual(doc.paths['/health'].get.security, []);
    assert.deepEqual(doc.paths['/v1/models'].get.security, undefined);
    const examples = doc.paths['/v1/chat/completions'].post.requestBody.content['application/json'].examples;
    assert.ok(examples.simple && examples.streaming.value.stream === true);
    for (const [path, methods] of Object.entries<Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref?: string; oneOf?: { $ref: string }[] } }> }> }>>(doc.paths)) {
      for (const operation of Object.values(methods)) {
        const schema = operation.responses['200']!.content!['application/json']!.schema;
        // A route that answers in each face's shape (the model list) lists them all.
        const refs = schema.$ref ? [schema.$ref] : schema.oneOf!.map((one) => one.$ref);
        for (const ref of refs) assert.ok(doc.components.schemas[ref.split('/').at(-1)!].example, `${path}: its 200 schema ${ref} has no example`);
      }
    }
  });
});

describe('served docs', () => {
  let stack: Stack;
  before(async () => (stack = await startStack()));
  after(() => stack.close());

  it('serves /openapi.json byte-identical to the committed file', async () => {
    const res = await fetch(`${stack.url}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(await res.text(), committed);
  });

  it('serves a self-hosted Swagger UI at /docs that references no outside URL', async () => {
    const page = await (await fetch(`${stack.url}/docs/`)).text();
    assert.match(page, /swagger-ui/i);
    const assets = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.length > 0);
    for (const asset of assets) assert.doesNotMatch(asset, /^(https?:)?\/\//, `external asset ${asset}`);
    const init = await (await fetch(`${stack.url}/docs/swagger-ui-init.js`)).text();
    assert.match(init, /"\/v1\/chat\/completions"/);
    assert.equal((await fetch(`${stack.url}/docs/swagger-ui-bundle.js`)).status, 200);
  });
});
