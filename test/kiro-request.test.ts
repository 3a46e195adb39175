import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatRequest } from '../src/chat/types.js';
import {
  buildKiroRequest,
  ensureEndsWithUser,
  ensureStartsWithUser,
  fillEmptyContent,
  foldSystemPrompt,
  kiroPromptParts,
  mergeAdjacentTurns,
  toTurns,
  type Turn,
  toKiroPayload,
  writeKiroBody,
} from '../src/kiro/request.js';
import { findViolation } from '../src/simulator/strict.js';

const text = (t: string) => [{ type: 'text' as const, text: t }];
const user = (t: string, sources: number[] = []): Turn => ({ role: 'user', text: t, images: [], toolResults: [], sources });
const assistant = (t: string, sources: number[] = []): Turn => ({ role: 'assistant', text: t, toolUses: [], sources });
const request = (partial: Partial<ChatRequest>): ChatRequest => ({ upstreamModel: 'claude-sonnet-4.5', system: [], messages: [], ...partial });
const options = { conversationId: '0b7d3c1e-5a6f-4f0e-9d1c-2f4b8a9e7c10', profileArn: 'arn:aws:codewhisperer:us-east-1:123456789012:profile/EXAMPLEPROF01' };

describe('Kiro request: each rule alone', () => {
  it('merges adjacent same-role turns, joining text with a blank line', () => {
    assert.deepEqual(mergeAdjacentTurns([user('a', [0]), user('b', [1]), assistant('c', [2]), assistant('d', [3]), user('e', [4])]), [user('a\n\nb', [0, 1]), assistant('c\n\nd', [2, 3]), user('e', [4])]);
  });

  it('starts history with a user turn', () => {
    assert.deepEqual(ensureStartsWithUser([assistant('hi'), user('q')]), [user('(empty)'), assistant('hi'), user('q')]);
    assert.deepEqual(ensureStartsWithUser([user('q')]), [user('q')]);
  });

  it('turns a trailing assistant prefill into history and asks to continue', () => {
    assert.deepEqual(ensureEndsWithUser([user('q'), assistant('The answer is')]), [user('q'), assistant('The answer is'), user('Continue')]);
  });

  it('folds system instructions into the first user turn', () => {
    assert.deepEqual(foldSystemPrompt([user('q'), assistant('a'), user('r')], ['Be terse.', 'Use French.']), [
      user('Be terse.\n\nUse French.\n\nq'),
      assistant('a'),
      user('r'),
    ]);
    assert.deepEqual(foldSystemPrompt([user('q')], []), [user('q')]);
  });

  it('never leaves content empty', () => {
    assert.deepEqual(fillEmptyContent([user(''), assistant(''), user('  ')]), [user('(empty)'), assistant('(empty)'), user('Continue')]);
  });

  it('turns tool messages into user turns carrying a tool result', () => {
    const turns = toTurns([{ role: 'tool', toolCallId: 'call_1', content: text('18C'), isError: true }]);
    assert.deepEqual(turns, [{ role: 'user', text: '', images: [], toolResults: [{ toolUseId: 'call_1', content: [{ text: '18C' }], status: 'error' }], sources: [0] }]);
  });
});

describe('Kiro request: whole bodies', () => {
  it('sends the ready JSON with the account\'s profile ARN added exactly as serialising the body with it would, as a string or from a reused buffer', () => {
    const arn = 'arn:aws:codewhisperer:us-east-1:123456789012:profile/"quoted"\\';
    const long = 'ünïcode 漢字 😀 "quoted" \\ '.repeat(2000);
    const lent: Buffer[] = [];
    const take = (bytes: number) => {
      const buffer = Buffer.alloc(bytes + 7);
      return { bytes: buffer.subarray(0, bytes), release: () => void lent.push(buffer) };
    };
    for (const content of ['Hi "there"', long]) {
      const built = buildKiroRequest(request({ messages: [{ role: 'user', content: text(content) }, { role: 'assistant', content: text('ok') }, { role: 'user', content: text('again') }] }), { conversationId: options.conversationId });
      assert.equal(built.bytes, Buffer.byteLength(built.json));
      const target = Buffer.alloc(built.bytes + 10);
      assert.equal(writeKiroBody(built, target), built.bytes);
      assert.equal(target.subarray(0, built.bytes).toString('utf8'), built.json, 'written piece by piece: the bytes of the JSON string');
      for (const pooled of [false, true]) {
        const payload = toKiroPayload(built, pooled ? take : undefined);
        const asText = (body: Buffer | string) => (typeof body === 'string' ? body : body.toString('utf8'));
        assert.equal(asText(payload.body(undefined)), built.json);
        // One account's ARN, then another's (a retry on the next account): each exactly as JSON.stringify would have it.
        for (const profileArn of [arn, 'arn:aws:codewhisperer:eu-central-1:1:profile/X']) {
          const body = payload.body(profileArn);
          assert.equal(typeof body === 'string', !pooled);
          assert.equal(asText(body), JSON.stringify({ ...built.body, profileArn }));
        }
        payload.release();
        assert.equal(payload.released, pooled, 'only a reused buffer is given back; a string stays for a retry');
        if (pooled) assert.throws(() => payload.body(arn), /released/, 'a released buffer is never sent');
      }
    }
    assert.equal(lent.length, 2, 'each reused buffer given back once');
    const withArn = buildKiroRequest(request({ messages: [{ role: 'user', content: text('Hi') }] }), options);
    assert.equal(toKiroPayload(withArn, undefined).body(arn), withArn.json, 'a body that has its ARN keeps it');
  });

  it('builds example A of kiro-protocol.md §3.4 exactly', () => {
    const { body } = buildKiroRequest(request({ system: ['You are a terse assistant.'], messages: [{ role: 'user', content: text('What is 2+2?') }] }), options);
    assert.deepEqual(body, {
      conversationState: {
        chatTriggerType: 'MANUAL',
        conversationId: options.conversationId,
        agentTaskType: 'vibe',
        currentMessage: { userInputMessage: { content: 'You are a terse assistant.\n\nWhat is 2+2?', modelId: 'claude-sonnet-4.5', origin: 'AI_EDITOR' } },
      },
      profileArn: options.profileArn,
    });
  });

  it('puts earlier turns in history, repeats modelId on user entries, and omits an empty history', () => {
    const { body } = buildKiroRequest(
      request({
        system: ['sys'],
        messages: [
          { role: 'user', content: text('one') },
          { role: 'assistant', content: text('two') },
          { role: 'user', content: text('three') },
        ],
      }),
      { conversationId: 'c' },
    );
    assert.deepEqual(body.conversationState.history, [
      { userInputMessage: { content: 'sys\n\none', modelId: 'claude-sonnet-4.5', origin: 'AI_EDITOR' } },
      { assistantResponseMessage: { content: 'two' } },
    ]);
    assert.equal(body.conversationState.currentMessage.userInputMessage.content, 'three');
    assert.equal('profileArn' in body, false);
    const single = buildKiroRequest(request({ messages: [{ role: 'user', content: text('x') }] }), { conversationId: 'c' }).body;
    assert.equal('history' in single.conversationState, false);
  });

  it('produces bodies the strict Kiro validator accepts for awkward text conversations', () => {
    const awkward: ChatRequest['messages'][] = [
      [{ role: 'assistant', content: text('I start') }],
      [{ role: 'user', content: [] }],
      [
        { role: 'user', content: text('a') },
        { role: 'user', content: text('b') },
        { role: 'assistant', content: [] },
        { role: 'assistant', content: text('c') },
      ],
      [
        { role: 'user', content: text('q') },
        { role: 'assistant', content: text('prefill') },
      ],
    ];
    for (const messages of awkward) {
      const { body } = buildKiroRequest(request({ system: ['s'], messages }), options);
      assert.equal(findViolation(body), undefined, JSON.stringify(messages));
    }
  });

  it('counts prompt text over history, current message and tools, without JSON overhead', () => {
    const { body } = buildKiroRequest(
      request({ messages: [{ role: 'user', content: text('alpha') }, { role: 'assistant', content: text('beta') }, { role: 'user', content: text('gamma') }] }),
      options,
    );
    assert.deepEqual(kiroPromptParts(body), ['alpha', 'beta', 'gamma']);
  });
});
