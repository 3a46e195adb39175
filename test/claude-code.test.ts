import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { API_KEY, runCli, startStack, type Stack } from './helpers.js';

// Claude Code itself (@anthropic-ai/claude-code, print mode), pointed at the gateway with
// ANTHROPIC_BASE_URL, against the simulator in strict mode: the simulator asks it to run one of
// its own tools, and the tool's effect on disk is checked.

/** The native Claude Code binary for this machine, if the package installed one that runs. */
function claudeBinary(): string | undefined {
  const require = createRequire(import.meta.url);
  const candidates: string[] = [];
  for (const pkg of [`@anthropic-ai/claude-code-${process.platform}-${process.arch}`, `@anthropic-ai/claude-code-${process.platform}-${process.arch}-musl`]) {
    try {
      candidates.push(join(dirname(require.resolve(`${pkg}/package.json`)), 'claude'));
    } catch {
      // Not this platform's package.
    }
  }
  try {
    candidates.push(join(dirname(require.resolve('@anthropic-ai/claude-code/package.json')), 'bin', 'claude.exe'));
  } catch {
    // Not installed.
  }
  return candidates.find((path) => existsSync(path) && spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 }).stdout?.includes('Claude Code'));
}

const binary = claudeBinary();
const SKIP = binary ? false : 'Claude Code (@anthropic-ai/claude-code) is not installed for this platform: its end-to-end test is skipped';
if (SKIP) console.log(`# ${SKIP}`);

interface Run {
  code: number | null;
  result: { is_error: boolean; result: string; num_turns: number; terminal_reason?: string };
  stderr: string;
}

describe('Claude Code through ki2api', { skip: SKIP }, () => {
  let stack: Stack;
  let home: string;
  let work: string;
  before(async () => {
    stack = await startStack({}, { strict: true });
    home = mkdtempSync(join(tmpdir(), 'ki2api-cc-home-'));
    work = mkdtempSync(join(tmpdir(), 'ki2api-cc-work-'));
  });
  after(async () => {
    await stack.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  /** `claude -p <prompt>` with only `tools` allowed, as a user would point it at the gateway. */
  async function claude(prompt: string, model: string, tools: string): Promise<Run> {
    const { code, stdout, stderr } = await runCli(binary!, ['-p', prompt, '--allowedTools', tools, '--output-format', 'json'], {
      cwd: work,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        ANTHROPIC_BASE_URL: stack.url,
        ANTHROPIC_API_KEY: API_KEY,
        ANTHROPIC_MODEL: model,
        ANTHROPIC_DEFAULT_HAIKU_MODEL: 'claude-haiku-4-5-20251001',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_TELEMETRY: '1',
        DISABLE_AUTOUPDATER: '1',
        DISABLE_ERROR_REPORTING: '1',
      },
    });
    try {
      return { code, result: JSON.parse(stdout) as Run['result'], stderr };
    } catch {
      throw new Error(`Claude Code printed no JSON result (exit ${code}): ${stdout.slice(0, 500)} ${stderr.slice(0, 500)}`);
    }
  }

  it('runs its Write tool when the model asks, and the file is there', async () => {
    const file = join(work, 'hello.txt');
    const before = stack.sim.requests.length;
    const run = await claude(`Create the greeting file. [sim tool=Write input={"file_path":"${file}","content":"hello from claude code via ki2api\\n"}]`, 'claude-sonnet-4-5-20250929', 'Write');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.result.is_error, false, run.result.result);
    assert.equal(readFileSync(file, 'utf8'), 'hello from claude code via ki2api\n');
    const sent = stack.sim.requests.slice(before);
    assert.ok(sent.length >= 2, `${sent.length} Kiro requests`);
    assert.deepEqual(sent.map((r) => r.violation).filter(Boolean), []);
    // The second turn carries the tool's result back to Kiro.
    const results = (sent.at(-1)!.body as { conversationState: { currentMessage: { userInputMessage: { userInputMessageContext?: { toolResults?: unknown[] } } } } }).conversationState.currentMessage.userInputMessage.userInputMessageContext?.toolResults;
    assert.equal(results?.length, 1);
    assert.match(run.result.result, /simulated answer/);
  });

  it('keeps thinking across the tool call on a model with native thinking (signed, replayed, accepted)', async () => {
    const file = join(work, 'thought.txt');
    const before = stack.sim.requests.length;
    const run = await claude(`Write it down. [sim tool=Write input={"file_path":"${file}","content":"thought it through"}]`, 'claude-sonnet-4-6', 'Write');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.result.is_error, false, run.result.result);
    assert.equal(readFileSync(file, 'utf8'), 'thought it through');
    const sent = stack.sim.requests.slice(before);
    assert.deepEqual(sent.map((r) => r.violation).filter(Boolean), []);
    const last = sent.at(-1)!.body as { additionalModelRequestFields?: unknown; conversationState: { history?: { assistantResponseMessage?: { reasoningContent?: unknown } }[] } };
    assert.ok(last.additionalModelRequestFields, 'Claude Code asked for thinking, and Kiro got native reasoning fields');
    assert.ok(last.conversationState.history?.some((entry) => entry.assistantResponseMessage?.reasoningContent), 'the signed thinking of turn one went back to Kiro');
  });
});
