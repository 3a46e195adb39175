import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Response } from 'express';
import { RequestTrace } from '../src/chat/trace.js';
import type { ChatRequest, ChatUpstream, EventBatch } from '../src/chat/types.js';
import { createLogger } from '../src/logger.js';
import { Orchestrator } from '../src/orchestrator/answer.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** An upstream that answers one word, then stays open until `end()`. */
function openEndedUpstream() {
  let end = () => undefined as void;
  const upstream: ChatUpstream = {
    name: 'open-ended',
    models: [],
    async stream(): Promise<AsyncIterable<EventBatch>> {
      return (async function* () {
        yield [{ type: 'text', text: 'Hello' }] as EventBatch;
        await new Promise<void>((resolve) => (end = resolve));
      })();
    },
    countTokens: async () => 1,
    credentialStatus: () => ({ found: true, usable: true, source: 'test', authMethod: null, expiresAt: null, problem: null, fix: null }),
    accounts: () => [],
    close: async () => undefined,
  };
  return { upstream, end: () => end() };
}

/** Just what the orchestrator reads of an Express response. */
const response = () => Object.assign(new EventEmitter(), { locals: { trace: new RequestTrace() }, writableFinished: false }) as unknown as Response;

describe('orchestrator', () => {
  it('lets go of the request once the upstream answers: an open stream keeps no conversation', async () => {
    // What a stream's closures hold lives as long as the stream (minutes); the request is the whole
    // conversation (a Claude Code session: hundreds of KB), which nothing needs once Kiro answers.
    const { upstream, end } = openEndedUpstream();
    const orchestrator = new Orchestrator({ upstream, logger: createLogger('silent', new PassThrough()), keepAliveMs: 1000, totalTimeoutMs: 60_000, retries: 1, retryMaxWaitMs: 100 });
    let request: ChatRequest | undefined = { model: 'm', upstreamModel: 'm', system: [], messages: [{ role: 'user', content: [{ type: 'text', text: 'x'.repeat(100_000) }] }] } as unknown as ChatRequest;
    const held = new WeakRef(request);
    const answer = await orchestrator.open(response(), request, true);
    request = undefined;
    const events = answer.events[Symbol.asyncIterator]();
    assert.deepEqual((await events.next()).value, [{ type: 'text', text: 'Hello' }]);
    // A WeakRef keeps its target until the current job ends: collect on a later turn.
    await nextTurn();
    gc();
    assert.equal(held.deref(), undefined, 'the orchestrator still holds the request while the answer streams');
    const last = events.next();
    await nextTurn();
    end();
    assert.equal((await last).done, true);
  });
});
