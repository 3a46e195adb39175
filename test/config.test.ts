import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ConfigError, helpText, loadConfig, OPTIONS } from '../src/config.js';
import { DEFAULT_TOKEN_FILE } from '../src/credentials/token-file.js';

const run = (env: Record<string, string> = {}, argv: string[] = []) => {
  const parsed = loadConfig(env, argv);
  assert.equal(parsed.kind, 'run');
  return (parsed as Extract<typeof parsed, { kind: 'run' }>).config;
};

describe('configuration', () => {
  it('has working defaults with nothing set', () => {
    const config = run();
    assert.equal(config.port, 8989);
    assert.deepEqual(config.apiKeys, ['ki2api-key-2024']);
    assert.equal(config.tokenFile, DEFAULT_TOKEN_FILE);
    assert.equal(config.baseUrl, 'https://runtime.us-east-1.kiro.dev');
    assert.equal(config.authUrl, 'https://prod.us-east-1.auth.desktop.kiro.dev');
    assert.equal(config.oidcUrl, 'https://oidc.us-east-1.amazonaws.com');
  });

  it('derives the URLs from KIRO_REGION and lets flags win over the environment', () => {
    const config = run({ KIRO_REGION: 'eu-central-1', PORT: '1000' }, ['--port', '2000', '--api-key', 'a, b']);
    assert.equal(config.baseUrl, 'https://runtime.eu-central-1.kiro.dev');
    assert.equal(config.port, 2000);
    assert.deepEqual(config.apiKeys, ['a', 'b']);
  });

  it('turns auth off with API_KEY=off and parses MODEL_ALIASES in both forms', () => {
    assert.equal(run({ API_KEY: 'off' }).apiKeys, null);
    assert.deepEqual(run({ MODEL_ALIASES: 'fast=claude-haiku-4-5, smart = claude-opus-4-5' }).modelAliases, { fast: 'claude-haiku-4-5', smart: 'claude-opus-4-5' });
    assert.deepEqual(run({ MODEL_ALIASES: '{"fast":"claude-haiku-4-5"}' }).modelAliases, { fast: 'claude-haiku-4-5' });
  });

  const bad: [Record<string, string>, string][] = [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ KIRO_REGION: 'mars' }, 'KIRO_REGION'],
    [{ KIRO_BASE_URL: 'ftp://x' }, 'KIRO_BASE_URL'],
    [{ KIRO_PROFILE_ARN: 'nope' }, 'KIRO_PROFILE_ARN'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ BODY_LIMIT: 'huge' }, 'BODY_LIMIT'],
    [{ MODEL_ALIASES: 'justaname' }, 'MODEL_ALIASES'],
    [{ API_KEY: ' , ' }, 'API_KEY'],
  ];
  for (const [env, variable] of bad) {
    it(`names ${variable} when ${JSON.stringify(env)} is bad`, () => {
      assert.throws(() => loadConfig(env, []), (e: Error) => e instanceof ConfigError && e.message.startsWith(`${variable}:`));
    });
  }

  it('rejects unknown flags and lists every option in --help', () => {
    assert.throws(() => loadConfig({}, ['--prot', '1']), ConfigError);
    assert.equal(loadConfig({}, ['--help']).kind, 'help');
    for (const option of OPTIONS) assert.ok(helpText().includes(option.env) && helpText().includes(`--${option.flag}`), option.env);
  });

  it('the real CLI prints help, and exits 2 naming the variable on a bad value', () => {
    const help = execFileSync(process.execPath, ['--import', 'tsx', 'src/main.ts', '--help'], { encoding: 'utf8' });
    assert.match(help, /KIRO_TOKEN_FILE/);
    const failed = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], { encoding: 'utf8', env: { ...process.env, PORT: 'abc' } });
    assert.equal(failed.status, 2);
    assert.match(failed.stderr, /PORT: "abc" is not a whole number/);
  });

  it('the real CLI exits 2 naming MODEL_ALIASES when an alias points at no model', () => {
    const env = { ...process.env, MODEL_ALIASES: 'fast=no-such-model', PORT: '18979', KIRO_ACCESS_TOKEN: 't', KIRO_ACCOUNTS_DIR: '/nonexistent', LOG_LEVEL: 'info' };
    const failed = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], { encoding: 'utf8', env, timeout: 30_000 });
    assert.equal(failed.status, 2, failed.stdout + failed.stderr);
    assert.match(failed.stdout + failed.stderr, /configuration error — MODEL_ALIASES: alias \\"fast\\" points to \\"no-such-model\\"/);
  });
});

describe('README', () => {
  it('its configuration table lists every variable and flag the code accepts, with the same defaults', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const option of OPTIONS) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${option.env}\` |`));
      assert.ok(row, `README has no row for ${option.env}`);
      assert.ok(row.includes(`\`--${option.flag}\``), `README row for ${option.env} lacks --${option.flag}`);
      if ('default' in option && !['KIRO_TOKEN_FILE'].includes(option.env)) {
        assert.ok(row.includes(`\`${option.default}\``), `README row for ${option.env} does not show the default ${option.default}`);
      }
    }
  });
});

describe('the ways to run the gateway', () => {
  it('npm start and the Docker image run node with the same flags', async () => {
    const { readFileSync } = await import('node:fs');
    const start = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
    const dockerCmd = /^CMD (\[.*\])$/m.exec(readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8'))![1]!;
    assert.deepEqual(JSON.parse(dockerCmd), start.split(' '));
  });
});

describe('docker-compose.yml', () => {
  it('its cluster profile runs Redis, two replicas that use it, and a load balancer on 8989 that streams unbuffered', async () => {
    const { readFileSync } = await import('node:fs');
    const { default: yaml } = await import('js-yaml');
    type Service = { profiles?: string[]; environment?: Record<string, string>; ports?: string[]; image?: string };
    const compose = yaml.load(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8')) as { services: Record<string, Service>; configs: Record<string, { content: string }> };
    const known = new Set<string>(OPTIONS.map((option) => option.env));
    const cluster = Object.entries(compose.services).filter(([, service]) => service.profiles?.includes('cluster'));
    const replicas = cluster.filter(([, service]) => service.environment?.REDIS_URL);
    assert.equal(replicas.length, 2);
    for (const [name, service] of [...replicas, ['ki2api', compose.services.ki2api!] as const]) {
      for (const variable of Object.keys(service.environment ?? {})) assert.ok(known.has(variable), `${name} sets ${variable}, which the gateway does not read`);
    }
    assert.equal(new Set(replicas.map(([, service]) => service.environment!.REPLICA_ID)).size, 2, 'each replica has its own id');
    assert.ok(cluster.some(([, service]) => service.image?.startsWith('redis')));
    const balancer = cluster.find(([, service]) => service.ports?.includes('8989:8989'));
    assert.ok(balancer, 'a load balancer publishes 8989');
    const nginx = compose.configs.balancer!.content;
    for (const [name] of replicas) assert.match(nginx, new RegExp(`server ${name}:8989`));
    assert.match(nginx, /proxy_buffering off/);
    assert.deepEqual(compose.services.ki2api!.profiles, undefined, 'plain `docker compose up` still runs the single gateway');
  });
});
