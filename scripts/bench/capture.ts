import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// What agents really send, captured from the real client rather than made up: Claude Code
// (`@anthropic-ai/claude-code`, a devDependency) runs in print mode against a gateway that stands
// on the simulator, behind a proxy that keeps every request body. The simulator keeps calling
// tools, so Claude Code keeps going and its requests grow turn by turn; the bench takes the one
// nearest each size it measures (its first full request is ~115 KB). Kept in bench/raw/ (not
// committed: it holds Claude Code's own system prompt and tool texts).

export interface Captured {
  /** The size asked for → the body nearest it, as Claude Code sent it. */
  bodies: Map<number, string>;
  claudeCode: string;
}

function claudeBinary(): string | undefined {
  const require = createRequire(import.meta.url);
  for (const pkg of [`@anthropic-ai/claude-code-${process.platform}-${process.arch}`, '@anthropic-ai/claude-code']) {
    try {
      const dir = dirname(require.resolve(`${pkg}/package.json`));
      for (const file of ['claude', 'bin/claude.exe', 'cli.js']) if (existsSync(join(dir, file))) return join(dir, file);
    } catch {
      // not this platform's package
    }
  }
  return undefined;
}

/** Starts the gateway (`gatewayUrl`) behind a recording proxy and lets Claude Code talk until its requests pass the largest size. */
export async function captureClaudeCode(gatewayUrl: string, sizes: readonly number[], dir = 'bench/raw'): Promise<Captured> {
  const files = sizes.map((size) => join(dir, `claude-code-${Math.round(size / 1000)}k.json`));
  const versionFile = join(dir, 'claude-code-version.txt');
  if (files.every((file) => existsSync(file)) && existsSync(versionFile)) {
    return { bodies: new Map(sizes.map((size, i) => [size, readFileSync(files[i]!, 'utf8')])), claudeCode: readFileSync(versionFile, 'utf8').trim() };
  }
  const binary = claudeBinary();
  if (!binary) throw new Error('Claude Code (@anthropic-ai/claude-code) is not installed: npm ci installs it; the agent-sized scenarios need its requests');
  const largest = Math.max(...sizes);
  const bodies: string[] = [];
  const upstream = new URL(gatewayUrl);
  const proxy: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST' && req.url?.startsWith('/v1/messages') && !req.url.includes('count_tokens')) bodies.push(body.toString('utf8'));
      const forward = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as { port: number }).port;
  const home = mkdtempSync(join(tmpdir(), 'ki2api-bench-home-'));
  const work = mkdtempSync(join(tmpdir(), 'ki2api-bench-work-'));
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`,
    ANTHROPIC_API_KEY: process.env.BENCH_KEY ?? 'bench-key',
    ANTHROPIC_MODEL: 'claude-sonnet-4-5-20250929',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
  };
  const version = await new Promise<string>((resolve) => {
    const child = spawn(binary, ['--version'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('close', () => resolve(out.trim()));
  });
  const child = spawn(binary, ['-p', 'Look around this project and say hello.', '--output-format', 'json'], { cwd: work, env, stdio: ['ignore', 'ignore', 'ignore'] });
  const deadline = Date.now() + 180_000;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (bodies.some((body) => body.length > largest) || Date.now() > deadline || child.exitCode !== null) {
        clearInterval(timer);
        resolve();
      }
    }, 200);
  });
  child.kill('SIGKILL');
  proxy.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  const nearest = (size: number) => bodies.filter((body) => body.length <= size * 1.01).sort((a, b) => b.length - a.length)[0];
  mkdirSync(dir, { recursive: true });
  const found = new Map<number, string>();
  sizes.forEach((size, i) => {
    const body = nearest(size);
    if (!body || body.length < size * 0.75) throw new Error(`Claude Code sent no request near ${size} bytes (largest ${Math.max(0, ...bodies.map((b) => b.length))})`);
    writeFileSync(files[i]!, body);
    found.set(size, body);
  });
  writeFileSync(versionFile, version);
  return { bodies: found, claudeCode: version };
}
