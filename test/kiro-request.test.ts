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
  withProfileArn,
  kiroBodyBytes,
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
  it('adds the account\'s profile ARN to the ready JSON exactly as serialising the body with it would', () => {
    const { conversationId } = options;
    const arn = 'arn:aws:codewhisperer:us-east-1:123456789012:profile/"quoted"\\';
    const built = buildKiroRequest(request({ messages: [{ role: 'user', content: text('Hi "there"') }] }), { conversationId });
    assert.deepEqual(JSON.parse(withProfileArn(built, arn)), { ...built.body, profileArn: arn });
    const withArn = buildKiroRequest(request({ messages: [{ role: 'user', content: text('Hi') }] }), options);
    assert.equal(withProfileArn(withArn, arn), withArn.json, 'a body that has its ARN keeps it');
  });

  it('writes into a buffer, piece by piece, the same bytes as the JSON string, with or without the ARN', () => {
    const arn = 'arn:aws:codewhisperer:us-east-1:123456789012:profile/"quoted"\\';
    const long = 'ünïcode 漢字 😀 "quoted" \\ '.repeat(2000);
    const built = buildKiroRequest(request({ messages: [{ role: 'user', content: text(long) }, { role: 'assistant', content: text('ok') }, { role: 'user', content: text('again') }] }), { conversationId: options.conversationId });
    for (const [profileArn, expected] of [[undefined, built.json], [arn, withProfileArn(built, arn)]] as const) {
      const bytes = kiroBodyBytes(built, profileArn);
      assert.equal(bytes, Buffer.byteLength(expected));
      const target = Buffer.alloc(bytes + 10);
      assert.equal(writeKiroBody(built, profileArn, target), bytes);
      assert.equal(target.subarray(0, bytes).toString('utf8'), expected);
    }
    const withArn = buildKiroRequest(request({ messages: [{ role: 'user', content: text('Hi') }] }), options);
    assert.equal(kiroBodyBytes(withArn, arn), withArn.bytes, 'a body that has its ARN keeps it');
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
