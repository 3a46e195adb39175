import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { API_KEY, runCli, startStack, type Stack } from './helpers.js';

// The Codex CLI itself (@openai/codex, `codex exec --json`), configured as a user would — a model
// provider with wire_api = "responses" and base_url at the gateway — against the simulator in
// strict mode. The simulator asks it to run its own exec_command tool, and the effect is checked
// on disk and in what reached Kiro.

/** The Codex launcher, if the package is installed and its native binary runs here. */
function codexBinary(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('@openai/codex/package.json');
    const bin = join(dirname(pkg), 'bin', 'codex.js');
    if (!existsSync(bin)) return undefined;
    return spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', timeout: 30_000 }).stdout?.includes('codex') ? bin : undefined;
  } catch {
    return undefined;
  }
}

const binary = codexBinary();
const SKIP = binary ? false : 'Codex (@openai/codex) is not installed for this platform: its end-to-end test is skipped';
if (SKIP) console.log(`# ${SKIP}`);

type CodexEvent = { type: string; item?: { type: string; text?: string; command?: string; exit_code?: number | null; message?: string }; usage?: Record<string, number>; error?: { message: string }; message?: string };

interface Run {
  code: number | null;
  events: CodexEvent[];
  stderr: string;
}

type KiroBody = {
  conversationState: {
    conversationId: string;
    history?: { userInputMessage?: { content?: string }; assistantResponseMessage?: { toolUses?: { name: string; input: unknown }[]; reasoningContent?: unknown } }[];
    currentMessage: { userInputMessage: { content: string; userInputMessageContext?: { toolResults?: unknown[]; tools?: { toolSpecification: { name: string } }[] } } };
  };
  additionalModelRequestFields?: unknown;
};

describe('Codex through ki2api', { skip: SKIP }, () => {
  let stack: Stack;
  let home: string;
  let work: string;
  before(async () => {
    stack = await startStack({}, { strict: true });
    home = mkdtempSync(join(tmpdir(), 'ki2api-codex-home-'));
    work = mkdtempSync(join(tmpdir(), 'ki2api-codex-work-'));
    mkdirSync(join(home, '.codex'));
    // What the README tells users to write.
    writeFileSync(
      join(home, '.codex', 'config.toml'),
      [
        'model = "claude-sonnet-4-5-20250929"',
        'model_provider = "ki2api"',
        '',
        '[model_providers.ki2api]',
        'name = "ki2api"',
        `base_url = "${stack.url}/v1"`,
        'env_key = "KI2API_KEY"',
        'wire_api = "responses"',
        'supports_websockets = false',
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    await stack.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  /** `codex exec --json <prompt>` with extra `-c key=value` settings. */
  async function codex(prompt: string, settings: string[] = [], model?: string): Promise<Run> {
    const args = [binary!, 'exec', '--json', '--skip-git-repo-check', '--sandbox', 'danger-full-access', ...settings.flatMap((s) => ['-c', s]), ...(model ? ['-m', model] : []), prompt];
    const { code, stdout, stderr } = await runCli(process.execPath, args, {
      cwd: work,
      env: { PATH: process.env.PATH, HOME: home, CODEX_HOME: join(home, '.codex'), KI2API_KEY: API_KEY, NO_COLOR: '1' },
    });
    const events = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as CodexEvent);
    return { code, events, stderr };
  }

  const items = (run: Run, type: string) => run.events.filter((e) => e.type === 'item.completed' && e.item?.type === type).map((e) => e.item!);
  const sentSince = (before: number) => stack.sim.requests.slice(before);
  const bodies = (before: number) => sentSince(before).map((r) => r.body as KiroBody);

  it('runs its exec_command tool when the model asks, and carries the result back', async () => {
    const before = stack.sim.requests.length;
    const run = await codex('Make the proof file. [sim tool=exec_command input={"cmd":"printf ki2api-codex > proof.txt"}]');
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    assert.equal(readFileSync(join(work, 'proof.txt'), 'utf8'), 'ki2api-codex');
    const commands = items(run, 'command_execution');
    assert.equal(commands.length, 1);
    assert.match(commands[0]!.command!, /printf ki2api-codex > proof\.txt/);
    assert.equal(commands[0]!.exit_code, 0);
    assert.match(items(run, 'agent_message').at(-1)!.text!, /simulated answer.*tool results/s);
    const turn = run.events.find((e) => e.type === 'turn.completed');
    assert.ok(turn?.usage && turn.usage.input_tokens! > 0 && turn.usage.output_tokens! > 0, 'Codex read the usage of response.completed');

    assert.deepEqual(sentSince(before).map((r) => r.violation).filter(Boolean), []);
    const sent = bodies(before);
    assert.equal(sent.length, 2);
    // Codex's whole toolset reached Kiro, its namespaced tools flattened under their namespace.
    const names = sent[0]!.conversationState.currentMessage.userInputMessage.userInputMessageContext!.tools!.map((t) => t.toolSpecification.name);
    assert.ok(names.includes('exec_command'), names.join(','));
    assert.ok(names.some((n) => n.startsWith('multi_agent_v1__')), names.join(','));
    // The second request is the same conversation with the command's output as a tool result.
    assert.equal(sent[1]!.conversationState.conversationId, sent[0]!.conversationState.conversationId);
    assert.equal(sent[1]!.conversationState.currentMessage.userInputMessage.userInputMessageContext?.toolResults?.length, 1);
  });

  it('keeps signed thinking across the tool call (encrypted_content replayed, accepted by strict Kiro)', async () => {
    const before = stack.sim.requests.length;
    const run = await codex('Think, then write. [sim tool=exec_command input={"cmd":"printf thought > thought.txt"}]', ['model_reasoning_effort="high"', 'model_reasoning_summary="detailed"'], 'claude-sonnet-4-6');
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    assert.equal(readFileSync(join(work, 'thought.txt'), 'utf8'), 'thought');
    assert.ok(items(run, 'reasoning').length >= 1, 'Codex showed the reasoning summary');
    assert.deepEqual(sentSince(before).map((r) => r.violation).filter(Boolean), []);
    const last = bodies(before).at(-1)!;
    assert.ok(last.additionalModelRequestFields, 'reasoning effort became native reasoning');
    assert.ok(last.conversationState.history?.some((turn) => turn.assistantResponseMessage?.reasoningContent), 'the thinking went back to Kiro, signed');
  });

  it('compacts in the middle of a turn and goes on', async () => {
    const before = stack.sim.requests.length;
    // A limit far below Codex's own prompt: it compacts after the first tool call.
    const run = await codex('Compact me. [sim tool=exec_command input={"cmd":"printf compacted > compacted.txt"}]', ['model_auto_compact_token_limit=3000']);
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    assert.equal(readFileSync(join(work, 'compacted.txt'), 'utf8'), 'compacted');
    assert.deepEqual(sentSince(before).map((r) => r.violation).filter(Boolean), []);
    const sent = bodies(before);
    assert.ok(sent.length >= 3, `${sent.length} Kiro requests`);
    assert.ok(sent.some((b) => /CONTEXT CHECKPOINT COMPACTION/i.test(JSON.stringify(b))), 'Codex asked for a summary');
    assert.match(items(run, 'agent_message').at(-1)!.text!, /simulated answer/);
  });

  it('stops with a clear message when the Kiro account is out of quota', async () => {
    const before = stack.sim.requests.length;
    stack.sim.enqueue({ status: 402, errorBody: { message: 'You have reached the limit for this month.', reason: 'MONTHLY_REQUEST_COUNT' } });
    const run = await codex('Anything.');
    assert.notEqual(run.code, 0);
    // insufficient_quota is the code Codex knows: its own quota message, and no retry loop.
    const failed = run.events.find((e) => e.type === 'turn.failed');
    assert.match(failed?.error?.message ?? '', /quota exceeded/i, JSON.stringify(run.events));
    assert.equal(stack.sim.requests.length - before, 1);
  });
});
