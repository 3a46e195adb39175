import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { initClient } from '@ts-rest/core';
import openapiTS, { astToString } from 'openapi-typescript';
import { contract } from '../contract/index.js';
import { API_KEY, startStack, type Stack } from './helpers.js';

describe('typed clients', () => {
  let stack: Stack;
  before(async () => (stack = await startStack()));
  after(() => stack.close());

  it('the ts-rest client from the contract calls every route with typed results', async () => {
    const client = initClient(contract, { baseUrl: stack.url, baseHeaders: { authorization: `Bearer ${API_KEY}` } });
    const models = await client.models.listModels();
    assert.equal(models.status, 200);
    if (models.status === 200) assert.ok(models.body.data.length > 5);
    const model = await client.models.retrieveModel({ params: { model: 'claude-4-opus' } });
    assert.equal(model.status, 200);
    const missing = await client.models.retrieveModel({ params: { model: 'nope' } });
    assert.equal(missing.status, 404);
    if (missing.status === 404) assert.equal('code' in missing.body.error && missing.body.error.code, 'model_not_found');
    const completion = await client.chat.createChatCompletion({ body: { model: 'gpt-4', messages: [{ role: 'user', content: 'typed' }] } });
    assert.equal(completion.status, 200);
    if (completion.status === 200) assert.equal(completion.body.choices[0]!.message.role, 'assistant');
    const health = await client.ops.health();
    assert.equal(health.status, 200);
    if (health.status === 200) assert.equal(health.body.status, 'ok');
  });

  it('a client generated from openapi.json (openapi-typescript + openapi-fetch) compiles and calls the server', async () => {
    const dir = fileURLToPath(new URL('./generated-client/', import.meta.url));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    try {
      const ast = await openapiTS(new URL('../openapi.json', import.meta.url));
      writeFileSync(`${dir}schema.d.ts`, astToString(ast));
      writeFileSync(
        `${dir}client.ts`,
        [
          "import createClient from 'openapi-fetch';",
          "import type { paths } from './schema.js';",
          'export async function run(baseUrl: string, key: string) {',
          "  const client = createClient<paths, 'application/json'>({ baseUrl, headers: { authorization: `Bearer ${key}` } });",
          "  const models = await client.GET('/v1/models');",
          "  const chat = await client.POST('/v1/chat/completions', { body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'generated' }] } });",
          "  const bad = await client.POST('/v1/chat/completions', { body: { model: 'gpt-4o', messages: [] } });",
          '  const content: string | null | undefined = chat.data?.choices[0]?.message.content;',
          '  const code: string | null | undefined = bad.error?.error.code;',
          '  return { modelCount: models.data?.data.length ?? 0, content, code };',
          '}',
        ].join('\n'),
      );
      writeFileSync(
        `${dir}tsconfig.json`,
        JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['client.ts'] }),
      );
      execFileSync(process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', dir], { stdio: 'pipe' });
      const { run } = (await import(`${dir}client.ts`)) as { run: (url: string, key: string) => Promise<{ modelCount: number; content: string | null; code: string | null }> };
      const result = await run(stack.url, API_KEY);
      assert.ok(result.modelCount > 5);
      assert.match(result.content ?? '', /simulated/);
      assert.equal(result.code, 'invalid_value');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
