import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import { buildKiroRequest } from '../src/kiro/request.js';
import { VERSION } from '../src/version.js';
import { soak, soakReport } from './bench/soak.js';
import { coldVariants, FACES, hasWrk, kiroBodyOf, variant, wrk } from './bench/agents.js';
import { captureClaudeCode } from './bench/capture.js';
import { micro } from './bench/micro.js';

// `npm run bench`: the Kiro simulator, the gateway and a bare byte-passthrough proxy on loopback,
// driven in interleaved runs by autocannon. The gateway (and, in its turn, the passthrough) is
// pinned to core 0; the simulator and the load generator share core 1. Figures go to stdout and
// bench/results.md. BENCH_SECONDS (per run, default 4) and BENCH_ROUNDS (default 5) scale it.

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** `npm run bench -- soak`: only the soak, for longer (BENCH_SOAK_SECONDS, default 300; 60 in the full run). */
const SOAK_ONLY = process.argv[2] === 'soak';
/** `npm run bench -- agents`: only the agent-sized scenarios and the wrk floors (needs Debian's wrk). */
const AGENTS_ONLY = process.argv[2] === 'agents';
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? (SOAK_ONLY ? 300 : 60));
const KEY = 'bench-key';
const hasTaskset = spawnSync('taskset', ['--version']).status === 0;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs node with `args` (a built script and its arguments), pinned to `core` where possible. */
function launch(core: number, args: string[], env: Record<string, string> = {}): ChildProcess {
  const node = [...(process.env.BENCH_NODE_OPTIONS ? process.env.BENCH_NODE_OPTIONS.split(' ') : []), ...args];
  const [command, argv] = hasTaskset ? ['taskset', ['-c', String(core), process.execPath, ...node]] : [process.execPath, node];
  return spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

/** The gateway's node arguments, exactly as `npm start` runs it (flags included). */
const GATEWAY_ARGS: readonly string[] = (() => {
  const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  const [node, ...args] = start.split(' ');
  if (node !== 'node') throw new Error(`npm start does not run node directly: ${start}`);
  return args;
})();

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`${url} did not come up`);
}

/** The node process itself (taskset execs it, so the pid is the same). CPU seconds and RSS bytes from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}
function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

const openaiBody = (directive: string, stream: boolean) =>
  JSON.stringify({ model: 'claude-sonnet-4-5-20250929', stream, messages: [{ role: 'user', content: `Benchmark request ${directive}` }] });
// The passthrough gets the Kiro body the gateway would have sent, so the simulator does the same work.
const kiroBody = (directive: string) =>
  buildKiroRequest({ upstreamModel: 'claude-sonnet-4.5', system: [], messages: [{ role: 'user', content: [{ type: 'text', text: `Benchmark request ${directive}` }] }] }, { conversationId: 'bench' }).json;

interface Target {
  name: 'gateway' | 'passthrough';
  url: string;
  pid: number;
  body: (directive: string, stream: boolean) => string;
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  cpu: number;
}

async function load(target: Target, directive: string, stream: boolean, connections: number, seconds = SECONDS): Promise<Run> {
  const cpuBefore = cpuSeconds(target.pid);
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: target.body(directive, stream),
    connections,
    duration: seconds,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.non2xx,
    cpu: cpuSeconds(target.pid) - cpuBefore,
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Scenario {
  gateway: Run;
  passthrough: Run;
  /** Median over rounds of gateway req/s ÷ the passthrough's in the same round: drift cancels out. */
  ratio: number;
}

async function interleaved(targets: readonly [Target, Target], directive: string, stream: boolean, connections: number): Promise<Scenario> {
  // One unmeasured run each first, so every scenario is measured on warm code (JIT, pools, caches).
  for (const target of targets) await load(target, directive, stream, connections, 2);
  const runs: Record<string, Run[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const target of targets) (runs[target.name] ??= []).push(await load(target, directive, stream, connections));
  }
  const summary = (list: Run[]): Run => ({
    rps: median(list.map((r) => r.rps)),
    p50: median(list.map((r) => r.p50)),
    p99: median(list.map((r) => r.p99)),
    requests: list.reduce((a, r) => a + r.requests, 0),
    errors: list.reduce((a, r) => a + r.errors, 0),
    cpu: list.reduce((a, r) => a + r.cpu, 0),
  });
  const gateway = runs.gateway!;
  const passthrough = runs.passthrough!;
  return { gateway: summary(gateway), passthrough: summary(passthrough), ratio: median(gateway.map((g, i) => g.rps / passthrough[i]!.rps)) };
}

/**
 * Sequential requests (concurrency 1) alternating between targets, timed in microseconds (autocannon
 * rounds to whole ms): until the whole answer arrived, or until its first body byte.
 */
async function sequential(targets: Target[], directive: string, samples: number, until: 'whole answer' | 'first byte'): Promise<Record<string, number>> {
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const times: Record<string, number[]> = {};
  for (let i = 0; i < samples; i++) {
    for (const target of targets) {
      const started = performance.now();
      const res = await request(target.url, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: target.body(directive, until === 'first byte'), dispatcher: agent });
      const iterator = res.body[Symbol.asyncIterator]();
      if (until === 'first byte') await iterator.next();
      else for (let next = await iterator.next(); !next.done; next = await iterator.next());
      (times[target.name] ??= []).push(performance.now() - started);
      for (let next = await iterator.next(); !next.done; next = await iterator.next());
    }
  }
  await agent.close();
  return Object.fromEntries(Object.entries(times).map(([name, list]) => [name, median(list)]));
}

/** Gateway RSS while `count` streams are open at once. */
async function rssWithOpenStreams(target: Target, count: number, directive = '[sim frames=4 delay=2500]', sampleAfterMs = 500): Promise<{ idle: number; open: number; completed: number }> {
  const idle = rssBytes(target.pid);
  const agent = new Agent({ connections: count + 10, keepAliveTimeout: 30_000 });
  let firstBytes = 0;
  const streams = Array.from({ length: count }, async () => {
    const res = await request(target.url, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: target.body(directive, true), dispatcher: agent });
    const iterator = res.body[Symbol.asyncIterator]();
    await iterator.next();
    firstBytes++;
    let text = '';
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) text += String(next.value);
    return text.includes('[DONE]');
  });
  while (firstBytes < count) await sleep(50);
  await sleep(sampleAfterMs);
  const open = rssBytes(target.pid);
  const done = await Promise.all(streams);
  await agent.close();
  return { idle, open, completed: done.filter(Boolean).length };
}

interface AgentRow {
  label: string;
  gatewayCpu: number;
  passthroughCpu: number;
  ratio: number;
  gatewayRps: number;
  passthroughRps: number;
  errors: number;
}

/**
 * Agent-sized requests on every face (wrk, c=4, interleaved rounds): the gateway's CPU per request
 * against the passthrough's, forwarding the Kiro body the gateway would build. Warm: one body
 * again and again (the caches hit, as in a real session, where all but the newest turn repeat);
 * cold: variants in turn, so many that nothing is cached.
 */
async function agentScenarios(gateway: { url: string; pid: number }, pass: { url: string; pid: number }, log: (line: string) => void): Promise<{ rows: AgentRow[]; claudeCode: string }> {
  const sizes = [115_000, 415_000];
  log('capturing what Claude Code sends (bench/raw/, once)…');
  const captured = await captureClaudeCode(gateway.url, sizes);
  const rows: AgentRow[] = [];
  const arn = 'arn:aws:codewhisperer:us-east-1:000000000000:profile/BENCH';
  const rounds = Number(process.env.BENCH_AGENT_ROUNDS ?? 3);
  for (const size of sizes) {
    const anthropic = JSON.parse(captured.bodies.get(size)!) as Record<string, unknown>;
    const variants = Array.from({ length: coldVariants(captured.bodies.get(size)!.length) }, (_, k) => variant(anthropic, `v${k}-${Date.now()}`) as Record<string, unknown>);
    const kiro = { warm: [await kiroBodyOf(anthropic, arn)], cold: await Promise.all(variants.map((v) => kiroBodyOf(v, arn))) };
    for (const face of FACES) {
      for (const mode of ['warm', 'cold'] as const) {
        const bodies = (mode === 'warm' ? [anthropic] : variants).map((b) => JSON.stringify(face.body(b)));
        const label = `${face.name} ${Math.round(Buffer.byteLength(bodies[0]!) / 1000)} KB, ${mode}`;
        const perRound: { g: number; p: number; gr: number; pr: number; e: number }[] = [];
        const headers = { authorization: `Bearer ${KEY}`, 'x-api-key': KEY, 'anthropic-version': '2023-06-01' };
        for (let round = 0; round < rounds; round++) {
          const g0 = cpuSeconds(gateway.pid);
          const g = wrk(`${gateway.url}${face.path}`, bodies, headers, 4, SECONDS, 'bench/raw/wrk-gateway');
          const g1 = cpuSeconds(gateway.pid);
          const p0 = cpuSeconds(pass.pid);
          const p = wrk(`${pass.url}/`, kiro[mode], {}, 4, SECONDS, 'bench/raw/wrk-passthrough');
          const p1 = cpuSeconds(pass.pid);
          perRound.push({ g: ((g1 - g0) / g.requests) * 1000, p: ((p1 - p0) / p.requests) * 1000, gr: g.rps, pr: p.rps, e: g.errors + p.errors });
        }
        const row = {
          label,
          gatewayCpu: median(perRound.map((r) => r.g)),
          passthroughCpu: median(perRound.map((r) => r.p)),
          ratio: median(perRound.map((r) => r.g / r.p)),
          gatewayRps: median(perRound.map((r) => r.gr)),
          passthroughRps: median(perRound.map((r) => r.pr)),
          errors: perRound.reduce((a, r) => a + r.e, 0),
        };
        rows.push(row);
        log(`| ${row.label} | ${row.gatewayCpu.toFixed(2)} ms | ${row.passthroughCpu.toFixed(2)} ms | ${row.ratio.toFixed(1)}× | ${row.gatewayRps.toFixed(0)} | ${row.passthroughRps.toFixed(0)} | ${row.errors} |`);
      }
    }
  }
  return { rows, claudeCode: captured.claudeCode };
}


/** Small requests and 200-frame streams at c=32 through wrk: gateway, passthrough, and the simulator hit directly. */
function wrkFloors(targets: { name: string; url: string; pid?: number; body: string; headers: Record<string, string> }[]): string[] {
  const lines: string[] = [];
  for (const [label, stream, directive] of [
    ['small non-streaming, c=32', false, '[sim frames=20]'],
    ['streaming 200 frames, c=32', true, '[sim frames=200]'],
  ] as const) {
    const runs: Record<string, { rps: number[]; cpu: number[] }> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of targets) {
        const body = target.body.replace('{directive}', directive).replace('"stream":false', `"stream":${stream}`);
        const c0 = target.pid ? cpuSeconds(target.pid) : 0;
        const run = wrk(target.url, [body], target.headers, 32, SECONDS, `bench/raw/wrk-${target.name}`);
        const c1 = target.pid ? cpuSeconds(target.pid) : 0;
        const entry = (runs[target.name] ??= { rps: [], cpu: [] });
        entry.rps.push(run.rps);
        entry.cpu.push(target.pid ? ((c1 - c0) / run.requests) * 1000 : NaN);
      }
    }
    const m = (name: string, what: 'rps' | 'cpu') => median(runs[name]![what]);
    lines.push(
      `| ${label} | ${m('gateway', 'rps').toFixed(0)} | ${m('passthrough', 'rps').toFixed(0)} | ${m('direct', 'rps').toFixed(0)} | ${((m('gateway', 'rps') / m('passthrough', 'rps')) * 100).toFixed(0)} % | ${((m('passthrough', 'rps') / m('direct', 'rps')) * 100).toFixed(0)} % | ${(m('gateway', 'cpu') * 1000).toFixed(0)} µs | ${(m('passthrough', 'cpu') * 1000).toFixed(0)} µs | ${(m('gateway', 'cpu') / m('passthrough', 'cpu')).toFixed(1)}× |`,
    );
  }
  return lines;
}

const ms = (v: number) => `${v.toFixed(2)} ms`;
const mb = (v: number) => `${(v / 1024 / 1024).toFixed(1)} MB`;

async function main() {
  if (process.argv[2] === 'micro') return micro();
  const [simPort, gatewayPort, passPort] = [await freePort(), await freePort(), await freePort()];
  const sim = launch(1, ['dist/src/simulator/main.js', '--port', String(simPort), '--answer-delay-ms', '0']);
  const simUrl = `http://127.0.0.1:${simPort}`;
  await waitFor(`${simUrl}/`);
  const gatewayEnv = {
    API_KEY: KEY,
    KIRO_ACCESS_TOKEN: 'bench-token',
    KIRO_PROFILE_ARN: 'arn:aws:codewhisperer:us-east-1:000000000000:profile/BENCH',
    KIRO_BASE_URL: simUrl,
    LOG_LEVEL: 'info',
  };
  const gateway = launch(0, [...GATEWAY_ARGS], { ...gatewayEnv, PORT: String(gatewayPort) });
  gateway.stdout!.resume();
  const passthrough = launch(0, ['dist/scripts/bench/passthrough.js', String(passPort), simUrl]);
  passthrough.stdout!.resume();
  await waitFor(`http://127.0.0.1:${gatewayPort}/health`);
  await waitFor(`http://127.0.0.1:${passPort}/`);

  const targets: [Target, Target] = [
    { name: 'gateway', url: `http://127.0.0.1:${gatewayPort}/v1/chat/completions`, pid: gateway.pid!, body: openaiBody },
    { name: 'passthrough', url: `http://127.0.0.1:${passPort}/`, pid: passthrough.pid!, body: (d) => kiroBody(d) },
  ];
  const [gw, pt] = targets as [Target, Target];
  const log = (line: string) => console.log(line);
  const floorTargets: Parameters<typeof wrkFloors>[0] = [
    { name: 'gateway', url: `http://127.0.0.1:${gatewayPort}/v1/chat/completions`, pid: gateway.pid!, body: openaiBody('{directive}', false), headers: { authorization: `Bearer ${KEY}` } },
    { name: 'passthrough', url: `http://127.0.0.1:${passPort}/`, pid: passthrough.pid!, body: kiroBody('{directive}'), headers: {} },
    { name: 'direct', url: `${simUrl}/generateAssistantResponse`, body: kiroBody('{directive}'), headers: {} },
  ];
  const agentSection = async () => {
    if (!hasWrk) return { text: '(Debian\'s wrk is not installed — `apt-get install wrk` — so the agent-sized scenarios and the wrk floors were not run.)', goals: [] as (readonly [string, string, boolean])[] };
    log('wrk floors: small requests and streams, gateway vs passthrough vs the simulator directly…');
    const floors = wrkFloors(floorTargets);
    floors.forEach((line) => log(line));
    const agents = await agentScenarios({ url: `http://127.0.0.1:${gatewayPort}`, pid: gateway.pid! }, { url: `http://127.0.0.1:${passPort}`, pid: passthrough.pid! }, log);
    const worst = Math.max(...agents.rows.map((r) => r.ratio));
    const text = [
      '## Agent-sized requests and the wrk floors',
      '',
      `Load from wrk (Debian's, one thread on core 1, beside the simulator). Agent bodies are what ${agents.claudeCode} really sent through the gateway (captured into bench/raw/), the same conversation in Chat Completions and Responses shape, at c=4; the passthrough forwards the Kiro body the gateway builds from it. Warm sends one body again and again (as a session does: all but the newest turn repeat); cold sends variants in turn with every text changed, so many (twice the gateway's largest cache) that no cache hits. Medians of ${process.env.BENCH_AGENT_ROUNDS ?? 3} interleaved rounds of ${SECONDS} s.`,
      '',
      '| scenario | gateway CPU per request | passthrough CPU per request | ratio | gateway req/s | passthrough req/s | errors |',
      '|---|---|---|---|---|---|---|',
      ...agents.rows.map((row) => `| ${row.label} | ${row.gatewayCpu.toFixed(2)} ms | ${row.passthroughCpu.toFixed(2)} ms | ${row.ratio.toFixed(1)}× | ${row.gatewayRps.toFixed(0)} | ${row.passthroughRps.toFixed(0)} | ${row.errors} |`),
      '',
      'The same small request and 200-frame stream as above, at c=32 through wrk, with the simulator hit directly as the ceiling: "passthrough vs direct" shows the load generator is not what limits the passthrough.',
      '',
      '| scenario | gateway req/s | passthrough req/s | direct req/s | gateway vs passthrough | passthrough vs direct | gateway CPU per request | passthrough CPU per request | CPU ratio |',
      '|---|---|---|---|---|---|---|---|---|',
      ...floors,
    ].join('\n');
    return { text, goals: [['agent-sized requests: CPU per request ≤ 3× the passthrough\'s (worst face and size, warm and cold)', `${worst.toFixed(1)}×`, worst <= 3] as const] };
  };
  if (AGENTS_ONLY) {
    try {
      const section = await agentSection();
      mkdirSync('bench', { recursive: true });
      writeFileSync('bench/agents.md', `# ki2api agent-sized benchmark\n\nMade by \`npm run bench -- agents\` on ${new Date().toISOString().slice(0, 10)}: ki2api ${VERSION}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; the gateway and the passthrough pinned to core 0.\n\n${section.text}\n`);
      log('\n' + section.text);
    } finally {
      for (const child of [gateway, passthrough, sim]) child.kill('SIGTERM');
    }
    return;
  }
  if (SOAK_ONLY) {
    try {
      log(`soak: ${SOAK_SECONDS} s of good, bad and abandoned requests…`);
      const result = await soak(`http://127.0.0.1:${gatewayPort}`, gw.pid, KEY, SOAK_SECONDS, 16, log);
      const report = soakReport(result, SOAK_SECONDS);
      mkdirSync('bench', { recursive: true });
      writeFileSync('bench/soak.md', `# ki2api soak\n\nMade by \`npm run bench -- soak\` on ${new Date().toISOString().slice(0, 10)}: ki2api ${VERSION}, Node ${process.version}.\n\n${report}`);
      log(`\n${report}`);
    } finally {
      for (const child of [gateway, passthrough, sim]) child.kill('SIGTERM');
    }
    return;
  }
  try {
    log(`ki2api ${VERSION} benchmark — ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), Node ${process.version}, ${hasTaskset ? 'gateway pinned to core 0' : 'no taskset: not pinned'}; ${ROUNDS} interleaved rounds of ${SECONDS} s`);
    log('warming up…');
    for (const target of targets) await load(target, '[sim frames=20]', false, 8, 2);

    const rows: string[] = [];
    const results: Record<string, Scenario> = {};
    for (const [label, directive, stream, connections] of [
      ['non-streaming, c=1', '[sim frames=20]', false, 1],
      ['non-streaming, c=32', '[sim frames=20]', false, 32],
      ['streaming 200 chunks, c=1', '[sim frames=200]', true, 1],
      ['streaming 200 chunks, c=32', '[sim frames=200]', true, 32],
    ] as const) {
      log(`running ${label}…`);
      const r = await interleaved(targets, directive, stream, connections);
      results[label] = r;
      const g = r.gateway;
      const p = r.passthrough;
      rows.push(
        `| ${label} | ${g.rps.toFixed(0)} | ${ms(g.p50)} / ${ms(g.p99)} | ${p.rps.toFixed(0)} | ${ms(p.p50)} / ${ms(p.p99)} | ${(r.ratio * 100).toFixed(0)} % | ${((g.cpu / g.requests) * 1000).toFixed(2)} s | ${((p.cpu / p.requests) * 1000).toFixed(2)} s | ${g.errors + p.errors} |`,
      );
      log(rows.at(-1)!);
    }

    log('latency at concurrency 1, microsecond resolution…');
    const latency = await sequential(targets, '[sim frames=20]', 2000, 'whole answer');
    log(`p50 gateway ${ms(latency.gateway!)}, passthrough ${ms(latency.passthrough!)}`);

    log('time to first byte on a paced stream (20 chunks, 10 ms apart)…');
    const ttfb = await sequential(targets, '[sim frames=20 delay=10]', 40, 'first byte');
    log(`TTFB gateway ${ms(ttfb.gateway!)}, passthrough ${ms(ttfb.passthrough!)}`);

    /** `measure` run against a gateway started for it alone (its memory owes nothing to the runs above), stopped afterwards. */
    const onFreshGateway = async <T>(measure: (target: Target) => Promise<T>): Promise<T> => {
      const port = await freePort();
      const fresh = launch(0, [...GATEWAY_ARGS], { ...gatewayEnv, PORT: String(port) });
      fresh.stdout!.resume();
      try {
        await waitFor(`http://127.0.0.1:${port}/health`);
        await sleep(500);
        return await measure({ ...gw, url: `http://127.0.0.1:${port}/v1/chat/completions`, pid: fresh.pid! });
      } finally {
        fresh.kill('SIGTERM');
      }
    };

    const afterLoadRss = rssBytes(gw.pid);
    log('1,000 concurrent open streams, on a fresh gateway…');
    const memory = await onFreshGateway((target) => rssWithOpenStreams(target, 1000));
    log(`RSS idle ${mb(memory.idle)}, with 1,000 open streams ${mb(memory.open)} (${memory.completed}/1000 completed); after the load runs ${mb(afterLoadRss)}`);

    log('1,000 streams open and flowing (a frame every 100 ms), on a fresh gateway, then a minute of rest…');
    const { flowing, rested } = await onFreshGateway(async (target) => {
      const flowing = await rssWithOpenStreams(target, 1000, '[sim frames=100 delay=100]', 5000);
      await sleep(60_000);
      return { flowing, rested: rssBytes(target.pid) };
    });
    log(`RSS idle ${mb(flowing.idle)}, flowing ${mb(flowing.open)}, a minute after ${mb(rested)}`);
    const agentResults = await agentSection();

    log(`soak: ${SOAK_SECONDS} s of good, bad and abandoned requests…`);
    const soaked = await soak(`http://127.0.0.1:${gatewayPort}`, gw.pid, KEY, SOAK_SECONDS, 16, log);

    const c32 = results['non-streaming, c=32']!;
    const s32 = results['streaming 200 chunks, c=32']!;
    const streamCpuPer1000 = (s32.gateway.cpu / s32.gateway.requests) * 1000;
    const smallCpu = c32.gateway.cpu / c32.gateway.requests / (c32.passthrough.cpu / c32.passthrough.requests);
    const streamCpu = s32.gateway.cpu / s32.gateway.requests / (s32.passthrough.cpu / s32.passthrough.requests);
    const goals = [
      ['small requests at c=32: ≥ 50 % of the passthrough\'s throughput', `${(c32.ratio * 100).toFixed(0)} %`, c32.ratio >= 0.5],
      ['small requests at c=32: CPU per request ≤ 2× the passthrough\'s', `${smallCpu.toFixed(1)}×`, smallCpu <= 2],
      ['added p50 latency at c=1 < 0.5 ms', ms(latency.gateway! - latency.passthrough!), latency.gateway! - latency.passthrough! < 0.5],
      ['streams at c=32: CPU per 200-frame stream ≤ 2× the passthrough\'s', `${streamCpu.toFixed(1)}× (${streamCpuPer1000.toFixed(2)} s per 1,000)`, streamCpu <= 2],
      ['first streamed byte ≤ passthrough + 0.5 ms', `${ms(ttfb.gateway! - ttfb.passthrough!)} later`, ttfb.gateway! <= ttfb.passthrough! + 0.5],
      ['< 150 MB resident with 1,000 open streams', mb(memory.open), memory.open < 150 * 1024 * 1024],
      ['< 150 MB resident with 1,000 streams open and flowing', mb(flowing.open), flowing.open < 150 * 1024 * 1024],
      ['back within 20 MB of idle a minute after', rested >= flowing.idle ? `${mb(rested - flowing.idle)} above idle` : `${mb(flowing.idle - rested)} below idle`, rested - flowing.idle < 20 * 1024 * 1024],
      ...agentResults.goals,
    ] as const;

    const report = [
      '# ki2api benchmark results',
      '',
      `Made by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ki2api ${VERSION}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}.`,
      `${hasTaskset ? 'The gateway and the passthrough are pinned to core 0 (taskset); the simulator and autocannon share core 1.' : 'taskset was not available: nothing was pinned.'}`,
      `Each scenario starts with an unmeasured 2-second run per target (warm code), then ${ROUNDS} interleaved ${SECONDS}-second autocannon rounds (gateway, passthrough, gateway, …): req/s and latencies are medians, CPU is the total over the rounds, and "throughput vs floor" is the median of each round's gateway ÷ passthrough req/s (so a machine that drifts between rounds does not skew it).`,
      'The passthrough forwards the bytes of a ready Kiro request to the simulator over a keep-alive pool and streams the bytes back, translating nothing: the floor for any Node gateway.',
      `The gateway runs as \`npm start\` runs it (\`node ${GATEWAY_ARGS.join(' ')}\`), with its defaults (LOG_LEVEL=info: one JSON log line per request, metrics on).`,
      '',
      '| scenario | gateway req/s | gateway p50 / p99 | passthrough req/s | passthrough p50 / p99 | throughput vs floor | gateway CPU per 1,000 | passthrough CPU per 1,000 | errors |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Time to first byte on a paced stream (20 chunks 10 ms apart, median of 40): gateway ${ms(ttfb.gateway!)}, passthrough ${ms(ttfb.passthrough!)}.`,
      `Latency at concurrency 1 (median of 2,000 sequential non-streaming requests, µs resolution): gateway ${ms(latency.gateway!)}, passthrough ${ms(latency.passthrough!)}, added ${ms(latency.gateway! - latency.passthrough!)}.`,
      `Resident memory of a fresh gateway: ${mb(memory.idle)} idle; ${mb(memory.open)} with 1,000 concurrent open streams (${memory.completed} of 1,000 completed with [DONE]). After the load runs above: ${mb(afterLoadRss)}.`,
      `1,000 streams open and flowing (100 frames, one every 100 ms), on a fresh gateway: ${mb(flowing.idle)} idle, ${mb(flowing.open)} five seconds in (${flowing.completed} of 1,000 completed), ${mb(rested)} a minute after they ended.`,
      '',
      agentResults.text,
      '',
      '## Goals',
      '',
      '| goal | measured | met |',
      '|---|---|---|',
      ...goals.map(([goal, measured, met]) => `| ${goal} | ${measured} | ${met ? 'yes' : 'no'} |`),
      '',
      soakReport(soaked, SOAK_SECONDS),
    ].join('\n');
    mkdirSync('bench', { recursive: true });
    writeFileSync('bench/results.md', report);
    log('\n' + report);
  } finally {
    for (const child of [gateway, passthrough, sim]) child.kill('SIGTERM');
  }
}

await main();
process.exit(0);
