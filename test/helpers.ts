import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { loadConfig, type Config } from '../src/config.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { createAppServer } from '../src/http/server.js';
import { createLogger } from '../src/logger.js';
import { KiroSimulator, type SimulatorOptions } from '../src/simulator/server.js';

export const API_KEY = 'test-key-0123456789';
export const ACCESS_TOKEN = 'aoa-test-access-token-SECRET-4242';
/** A folder that does not exist: tests see no saved accounts unless they make some. */
export const NO_ACCOUNTS_DIR = join(tmpdir(), `ki2api-no-accounts-${process.pid}`);

export interface Stack {
  sim: KiroSimulator;
  gateway: Gateway;
  server: Server;
  /** http://127.0.0.1:<port> */
  url: string;
  config: Config;
  /** Everything the gateway logged. */
  logs(): string;
  close(): Promise<void>;
}

/** Every Kiro URL pointed at the simulator (and no saved accounts of the machine's own). */
export const simulatorEnv = (sim: KiroSimulator): Record<string, string> => ({
  KIRO_BASE_URL: sim.url,
  KIRO_AUTH_URL: sim.url,
  KIRO_OIDC_URL: sim.url,
  KIRO_MANAGEMENT_URL: sim.url,
  KIRO_Q_URL: `${sim.url}/q`,
  KIRO_ACCOUNTS_DIR: NO_ACCOUNTS_DIR,
});

/** Simulator + real gateway on loopback ports. `env` overrides the test defaults. */
export async function startStack(env: Record<string, string | undefined> = {}, simOptions: SimulatorOptions = {}): Promise<Stack> {
  const sim = await new KiroSimulator(simOptions).start();
  const parsed = loadConfig(
    {
      API_KEY,
      KIRO_ACCESS_TOKEN: ACCESS_TOKEN,
      KIRO_PROFILE_ARN: 'arn:aws:codewhisperer:us-east-1:123456789012:profile/TESTPROFILE',
      ...simulatorEnv(sim),
      STREAM_KEEPALIVE_MS: '1000',
      UPSTREAM_RETRIES: '0',
      LOG_LEVEL: 'debug',
      ...env,
    },
    [],
  );
  if (parsed.kind !== 'run') throw new Error('unexpected CLI mode');
  const sink = new PassThrough();
  let logText = '';
  sink.on('data', (chunk: Buffer) => (logText += chunk.toString()));
  const gateway = createGateway(parsed.config, createLogger(parsed.config.logLevel, sink));
  await gateway.ready();
  const server = createAppServer(gateway.app, gateway.serverOptions).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    sim,
    gateway,
    server,
    url,
    config: parsed.config,
    logs: () => logText,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
      await sim.close();
    },
  };
}

/** A stack for the length of `fn`, closed however `fn` ends. */
export async function withStack(env: Record<string, string | undefined>, fn: (stack: Stack) => Promise<void>): Promise<void> {
  const stack = await startStack(env);
  try {
    await fn(stack);
  } finally {
    await stack.close();
  }
}

export const authHeaders = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };

/** POST a chat request with fetch; returns status, headers and the raw body text. `edit` may rewrite the JSON text. */
export async function postChat(url: string, body: unknown, headers: Record<string, string> = authHeaders, edit: (json: string) => string = (json) => json) {
  const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: edit(JSON.stringify(body)) });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The JSON payloads of an SSE body, `[DONE]` included as the string. Comments are dropped. */
export function sseEvents(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice(6))
    .map((data) => (data === '[DONE]' ? data : JSON.parse(data)));
}

export const userMessage = (content: string) => ({ model: 'claude-sonnet-4-5-20250929', messages: [{ role: 'user', content }] });

/** Runs a CLI to its end (killed after `timeoutMs`): its exit code and everything it printed. */
export function runCli(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
