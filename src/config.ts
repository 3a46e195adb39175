import { homedir } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_TOKEN_FILE } from './credentials/token-file.js';

/** Everything ki2api can be told, from environment variables and the matching flags (flags win). */
export interface Config {
  port: number;
  host: string;
  /** null: auth off. */
  apiKeys: string[] | null;
  /** Account management from the dashboard; undefined: read-only. */
  adminKey: string | undefined;
  /** Shared state for several replicas; undefined: one process, in memory. */
  redis: { url: string; prefix: string; replica: string | undefined; lockMs: number } | undefined;
  /** One path, several (comma-separated), or a directory. */
  tokenFile: string;
  accessToken: string | undefined;
  refreshToken: string | undefined;
  profileArn: string | undefined;
  region: string;
  baseUrl: string;
  authUrl: string;
  oidcUrl: string;
  modelAliases: Record<string, string>;
  logLevel: string;
  bodyLimit: number;
  keepAliveMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  /** Largest image the gateway downloads for an http(s) image URL; 0 turns downloads off. */
  imageMaxBytes: number;
  imageTimeoutMs: number;
  /** Most http(s) images one request may make the gateway download, and their total bytes. */
  imageMaxPerRequest: number;
  imageMaxTotalBytes: number;
  /** Let image URLs reach loopback, private and link-local addresses (off: refused). */
  imageUrlAllowPrivate: boolean;
  /** Headers and body must arrive within this long. */
  requestTimeoutMs: number;
  /** The longest one request may take, stream included. */
  totalTimeoutMs: number;
  /** Failed key checks per address and minute before 429 (0: no limit). */
  authFailuresPerMinute: number;
  /** Stored responses: how long they last, and how many are kept. */
  responsesTtlSeconds: number;
  responsesMaxStored: number;
  managementUrl: string;
  /** The legacy host (q.{region}.amazonaws.com). */
  qUrl: string;
  /** The hosts with `{region}` left in, for accounts of another region than KIRO_REGION. */
  urlTemplates: { base: string; q: string; management: string; oidc: string; auth: string };
  /** Saved accounts (`ki2api login`, `ki2api import`). */
  accountsDir: string;
  connectTimeoutMs: number;
  retries: number;
  retryMaxWaitMs: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  logFile: string | undefined;
  metricsPublic: boolean;
  rateLimitRpm: number;
  maxConcurrentStreams: number;
  corsOrigins: string[] | null;
  cacheTtlSeconds: number;
  cacheMaxEntries: number;
  shutdownTimeoutMs: number;
  /** Write refreshed tokens back to their token file. */
  tokenWriteBack: boolean;
  refreshMarginSeconds: number;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string, fix: string) {
    super(`${variable}: ${problem}. ${fix}`);
    this.name = 'ConfigError';
  }
}

interface Option {
  env: string;
  flag: string;
  help: string;
  default?: string;
  secret?: boolean;
}

export const OPTIONS = [
  { env: 'PORT', flag: 'port', default: '8989', help: 'Port to listen on.' },
  { env: 'HOST', flag: 'host', default: '127.0.0.1', help: 'Interface to listen on (0.0.0.0 for all; Docker sets it).' },
  { env: 'API_KEY', flag: 'api-key', default: 'ki2api-key-2024', help: 'Client API key, or a comma-separated list; "off" disables auth.', secret: true },
  { env: 'ADMIN_KEY', flag: 'admin-key', help: 'Lets the dashboard add, remove and refresh accounts (sent as x-admin-key); unset: the dashboard is read-only.', secret: true },
  { env: 'KIRO_TOKEN_FILE', flag: 'token-file', default: '~/.aws/sso/cache/kiro-auth-token.json', help: 'Kiro token file; several (comma-separated) or a folder of them make an account pool.' },
  { env: 'KIRO_ACCESS_TOKEN', flag: 'access-token', help: 'Kiro access token (instead of the token file).', secret: true },
  { env: 'KIRO_REFRESH_TOKEN', flag: 'refresh-token', help: 'Kiro refresh token.', secret: true },
  { env: 'KIRO_PROFILE_ARN', flag: 'profile-arn', help: 'Kiro profile ARN (arn:aws:codewhisperer:<region>:<account>:profile/<id>).' },
  { env: 'KIRO_REGION', flag: 'region', default: 'us-east-1', help: 'Kiro API region.' },
  { env: 'KIRO_BASE_URL', flag: 'base-url', default: 'https://runtime.{region}.kiro.dev', help: 'Kiro API; chat is POST {KIRO_BASE_URL}/generateAssistantResponse.' },
  { env: 'KIRO_AUTH_URL', flag: 'auth-url', default: 'https://prod.{region}.auth.desktop.kiro.dev', help: 'Social-login refresh: POST {KIRO_AUTH_URL}/refreshToken.' },
  { env: 'KIRO_OIDC_URL', flag: 'oidc-url', default: 'https://oidc.{region}.amazonaws.com', help: 'IdC refresh: POST {KIRO_OIDC_URL}/token.' },
  { env: 'KIRO_MANAGEMENT_URL', flag: 'management-url', default: 'https://management.{region}.kiro.dev', help: 'Kiro control plane: profiles, models, usage limits.' },
  { env: 'KIRO_Q_URL', flag: 'q-url', default: 'https://q.{region}.amazonaws.com', help: 'Kiro\'s legacy host, for Builder ID and IdC logins the runtime host does not serve.' },
  { env: 'KIRO_ACCOUNTS_DIR', flag: 'accounts-dir', default: '~/.ki2api/accounts', help: 'Where `ki2api login` and `ki2api import` save accounts; read in addition to KIRO_TOKEN_FILE.' },
  { env: 'KIRO_TOKEN_WRITEBACK', flag: 'token-writeback', default: 'true', help: 'Write refreshed tokens back to the token file (false: keep them in memory).' },
  { env: 'KIRO_REFRESH_MARGIN_SECONDS', flag: 'refresh-margin-seconds', default: '300', help: 'Refresh the access token this long before it expires.' },
  { env: 'MODEL_ALIASES', flag: 'model-aliases', help: 'Extra model names: "alias=model,alias2=model2" (or a JSON object).' },
  { env: 'LOG_LEVEL', flag: 'log-level', default: 'info', help: 'fatal, error, warn, info, debug, trace or silent.' },
  { env: 'BODY_LIMIT', flag: 'body-limit', default: '20mb', help: 'Largest request body (bytes, or with kb/mb).' },
  { env: 'STREAM_KEEPALIVE_MS', flag: 'stream-keepalive-ms', default: '5000', help: 'Send ": keep-alive" on a silent stream this often.' },
  { env: 'KIRO_CONNECT_TIMEOUT_MS', flag: 'connect-timeout-ms', default: '10000', help: 'Give up connecting to Kiro after this long.' },
  { env: 'KIRO_FIRST_BYTE_TIMEOUT_MS', flag: 'first-byte-timeout-ms', default: '120000', help: 'Give up (and retry) when Kiro has not started answering in this long.' },
  { env: 'KIRO_IDLE_TIMEOUT_MS', flag: 'idle-timeout-ms', default: '120000', help: 'Give up when a Kiro stream is silent this long.' },
  { env: 'UPSTREAM_RETRIES', flag: 'upstream-retries', default: '2', help: 'Retries for 429/5xx/network failures, only before anything reached the client.' },
  { env: 'UPSTREAM_RETRY_MAX_WAIT_MS', flag: 'upstream-retry-max-wait-ms', default: '5000', help: 'Longest wait before a retry; a longer retry-after goes to the client.' },
  { env: 'BREAKER_THRESHOLD', flag: 'breaker-threshold', default: '5', help: 'Consecutive Kiro failures that open an account\'s circuit breaker.' },
  { env: 'BREAKER_COOLDOWN_MS', flag: 'breaker-cooldown-ms', default: '30000', help: 'How long an open breaker waits before one trial request.' },
  { env: 'RATE_LIMIT_RPM', flag: 'rate-limit-rpm', default: '0', help: 'Requests per minute per API key (0: no limit).' },
  { env: 'MAX_CONCURRENT_STREAMS', flag: 'max-concurrent-streams', default: '0', help: 'Open streams per API key (0: no limit).' },
  { env: 'CORS_ORIGINS', flag: 'cors-origins', help: 'Allow browser clients from these origins (comma-separated, or *). Off when unset.' },
  { env: 'METRICS_PUBLIC', flag: 'metrics-public', default: 'false', help: 'Serve /metrics without the API key.' },
  { env: 'CACHE_TTL_SECONDS', flag: 'cache-ttl-seconds', default: '0', help: 'Cache identical non-streaming requests this long (0: off).' },
  { env: 'CACHE_MAX_ENTRIES', flag: 'cache-max-entries', default: '500', help: 'Most answers the cache keeps.' },
  { env: 'SHUTDOWN_TIMEOUT_MS', flag: 'shutdown-timeout-ms', default: '30000', help: 'On SIGTERM/SIGINT, let open streams finish for up to this long.' },
  { env: 'LOG_FILE', flag: 'log-file', help: 'Also write JSON logs to this file.' },
  { env: 'IMAGE_MAX_BYTES', flag: 'image-max-bytes', default: '5mb', help: 'Largest image downloaded for an http(s) image URL; 0 refuses image URLs.' },
  { env: 'IMAGE_FETCH_TIMEOUT_MS', flag: 'image-fetch-timeout-ms', default: '10000', help: 'Deadline for downloading one image URL.' },
  { env: 'IMAGE_MAX_PER_REQUEST', flag: 'image-max-per-request', default: '20', help: 'Most image URLs one request may have downloaded.' },
  { env: 'IMAGE_MAX_TOTAL_BYTES', flag: 'image-max-total-bytes', default: '20mb', help: 'Most bytes of image URLs one request may have downloaded.' },
  { env: 'IMAGE_URL_ALLOW_PRIVATE', flag: 'image-url-allow-private', default: 'false', help: 'Let image URLs reach loopback, private and link-local addresses (only if you mean it).' },
  { env: 'REQUEST_TIMEOUT_MS', flag: 'request-timeout-ms', default: '30000', help: 'A request\'s headers and body must arrive within this long.' },
  { env: 'KIRO_TOTAL_TIMEOUT_MS', flag: 'total-timeout-ms', default: '1800000', help: 'The longest one request may take, stream included.' },
  { env: 'RESPONSES_TTL_SECONDS', flag: 'responses-ttl-seconds', default: '3600', help: 'How long a stored response (previous_response_id, GET /v1/responses/{id}) lasts.' },
  { env: 'RESPONSES_MAX_STORED', flag: 'responses-max-stored', default: '1000', help: 'Most stored responses kept (least recently used go first).' },
  { env: 'REDIS_URL', flag: 'redis-url', help: 'Share state with other replicas through this Redis (redis://[:password@]host:6379/0); unset: one process, in memory.', secret: true },
  { env: 'REDIS_PREFIX', flag: 'redis-prefix', default: 'ki2api:', help: 'Prefix of every Redis key (several deployments can share one Redis).' },
  { env: 'REPLICA_ID', flag: 'replica-id', help: 'This replica\'s name in /health, /metrics and the dashboard (default: host, process and a random suffix).' },
  { env: 'REDIS_LOCK_MS', flag: 'redis-lock-ms', default: '20000', help: 'How long a replica may hold an account\'s refresh lock without renewing it (a replica that dies frees it after this).' },
  { env: 'AUTH_FAILURES_PER_MINUTE', flag: 'auth-failures-per-minute', default: '60', help: 'Requests without a valid key allowed per address and minute before 429 (0: no limit).' },
] as const satisfies readonly Option[];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function helpText(): string {
  const rows = OPTIONS.map((o) => {
    const flag = `--${o.flag} <value>`.padEnd(34);
    const dflt = 'default' in o ? ` (default: ${o.default})` : '';
    return `  ${flag} ${o.env.padEnd(27)} ${o.help}${dflt}`;
  });
  return [
    'ki2api — OpenAI-compatible API in front of Kiro (Claude through your Kiro login)',
    '',
    'Usage: npm start -- [options]      (or: npx tsx src/main.ts [options])',
    '',
    'Every option is an environment variable or the matching flag (flags win):',
    ...rows,
    '  --help                             Show this help.',
    '  --version                          Print the version.',
    '',
    'Credentials are found by themselves: KIRO_ACCESS_TOKEN if set, else the Kiro IDE token file.',
    'Docs: http://localhost:8989/docs once running.',
  ].join('\n');
}

function integer(variable: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(variable, `"${raw}" is not a whole number from ${min} to ${max}`, `Set ${variable} to e.g. ${min === 1 ? 8989 : min}.`);
  }
  return value;
}

function boolean(variable: string, raw: string): boolean {
  const value = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(variable, `"${raw}" is not true or false`, `Set ${variable} to true or false.`);
}

function bytes(variable: string, raw: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb)?$/i.exec(raw.trim());
  if (!match) throw new ConfigError(variable, `"${raw}" is not a size`, `Use a number of bytes or e.g. "512kb", "20mb".`);
  const unit = (match[2] ?? 'b').toLowerCase();
  return Math.floor(Number(match[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1));
}

const trimSlash = (raw: string): string => raw.replace(/\/+$/, '');

/** A host template (`https://runtime.{region}.kiro.dev`) for one region. */
export const forRegion = (template: string, region: string): string => template.replaceAll('{region}', region);

function url(variable: string, raw: string): string {
  try {
    const parsed = new URL(raw);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
    return raw.replace(/\/+$/, '');
  } catch {
    throw new ConfigError(variable, `"${raw}" is not an http(s) URL`, `Set ${variable} to e.g. https://runtime.us-east-1.kiro.dev, or unset it.`);
  }
}

function corsOrigins(raw: string | undefined): string[] | null {
  if (!raw?.trim()) return null;
  const origins = raw.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError('CORS_ORIGINS', `"${origin}" is not an origin`, 'Use origins like https://app.example.com (no path), comma-separated, or *.');
    }
  }
  return origins;
}

function aliases(raw: string | undefined): Record<string, string> {
  if (!raw?.trim()) return {};
  const fix = 'Use "alias=model,alias2=model2" or a JSON object, with models from GET /v1/models.';
  if (raw.trim().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ConfigError('MODEL_ALIASES', 'is not valid JSON', fix);
    }
    if (!parsed || typeof parsed !== 'object' || Object.values(parsed).some((v) => typeof v !== 'string')) {
      throw new ConfigError('MODEL_ALIASES', 'must map names to model ids (strings)', fix);
    }
    return parsed as Record<string, string>;
  }
  const out: Record<string, string> = {};
  for (const pair of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [alias, model, extra] = pair.split('=').map((s) => s.trim());
    if (!alias || !model || extra !== undefined) throw new ConfigError('MODEL_ALIASES', `"${pair}" is not "alias=model"`, fix);
    out[alias] = model;
  }
  return out;
}

function adminKey(raw: string | undefined, apiKeys: string[] | null): string | undefined {
  if (raw === undefined) return undefined;
  const fix = 'Set ADMIN_KEY to a secret of its own (16 characters or more), or unset it for a read-only dashboard.';
  if (raw.length < 16) throw new ConfigError('ADMIN_KEY', 'is shorter than 16 characters', fix);
  if (apiKeys?.includes(raw)) throw new ConfigError('ADMIN_KEY', 'is one of the API keys: every client could manage accounts', fix);
  return raw;
}

function redisConfig(url: string | undefined, prefix: string, replica: string | undefined, lockMs: number): Config['redis'] {
  if (url === undefined) return undefined;
  if (!/^rediss?:\/\/[^\s]+$/.test(url)) throw new ConfigError('REDIS_URL', 'is not a redis:// or rediss:// URL', 'Use redis://host:6379 (redis://:password@host:6379/0 with a password), or unset it to run one process alone.');
  if (replica !== undefined && !/^[\w.-]{1,64}$/.test(replica)) throw new ConfigError('REPLICA_ID', 'holds characters other than letters, digits, "_", "." and "-"', 'Use a short name such as ki2api-1, or unset it.');
  return { url, prefix, replica, lockMs };
}

export type ParsedCli = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; config: Config };

/** Build the config from `env` and `argv`. Throws ConfigError naming the variable at fault. */
export function loadConfig(env: NodeJS.ProcessEnv, argv: string[]): ParsedCli {
  let flags: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(OPTIONS.map((o) => [o.flag, { type: 'string' as const }]));
    flags = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } }, strict: true }).values;
  } catch (error) {
    throw new ConfigError('command line', (error as Error).message, 'Run with --help to see the options.');
  }
  if (flags.help) return { kind: 'help' };
  if (flags.version) return { kind: 'version' };

  const value = (option: (typeof OPTIONS)[number]): string | undefined => {
    const raw = (flags[option.flag] as string | undefined) ?? env[option.env];
    if (raw !== undefined && raw.trim() !== '') return raw.trim();
    return 'default' in option ? option.default : undefined;
  };
  const get = (name: (typeof OPTIONS)[number]['env']) => value(OPTIONS.find((o) => o.env === name)!);

  const region = get('KIRO_REGION')!;
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw new ConfigError('KIRO_REGION', `"${region}" is not an AWS region`, 'Use us-east-1 or eu-central-1.');
  }
  const withRegion = (s: string) => s.replaceAll('{region}', region);

  const apiKeyRaw = get('API_KEY')!;
  const apiKeys = apiKeyRaw.toLowerCase() === 'off' ? null : apiKeyRaw.split(',').map((k) => k.trim()).filter(Boolean);
  if (apiKeys && apiKeys.length === 0) throw new ConfigError('API_KEY', 'holds no key', 'Set one key, a comma-separated list, or "off".');

  const profileArn = get('KIRO_PROFILE_ARN');
  if (profileArn && !/^arn:aws:codewhisperer:[a-z0-9-]+:\d+:profile\/\S+$/.test(profileArn)) {
    throw new ConfigError('KIRO_PROFILE_ARN', 'is not a profile ARN', 'It looks like arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEF; copy it from the Kiro token file, or unset it.');
  }

  const logLevel = get('LOG_LEVEL')!.toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `"${logLevel}" is not a level`, `Use one of ${LOG_LEVELS.join(', ')}.`);

  const tokenFileRaw = (flags['token-file'] as string | undefined) ?? env.KIRO_TOKEN_FILE;
  const tokenFile = tokenFileRaw?.trim()
    ? tokenFileRaw
        .split(',')
        .map((p) => p.trim().replace(/^~(?=$|[/\\])/, homedir()))
        .join(',')
    : DEFAULT_TOKEN_FILE;

  return {
    kind: 'run',
    config: {
      port: integer('PORT', get('PORT')!, 1, 65535),
      host: get('HOST')!,
      apiKeys,
      adminKey: adminKey(get('ADMIN_KEY'), apiKeys),
      redis: redisConfig(get('REDIS_URL'), get('REDIS_PREFIX')!, get('REPLICA_ID'), integer('REDIS_LOCK_MS', get('REDIS_LOCK_MS')!, 1000, 600_000)),
      tokenFile,
      accessToken: get('KIRO_ACCESS_TOKEN'),
      refreshToken: get('KIRO_REFRESH_TOKEN'),
      profileArn,
      region,
      baseUrl: url('KIRO_BASE_URL', withRegion(get('KIRO_BASE_URL')!)),
      authUrl: url('KIRO_AUTH_URL', withRegion(get('KIRO_AUTH_URL')!)),
      oidcUrl: url('KIRO_OIDC_URL', withRegion(get('KIRO_OIDC_URL')!)),
      modelAliases: aliases(get('MODEL_ALIASES')),
      logLevel,
      bodyLimit: bytes('BODY_LIMIT', get('BODY_LIMIT')!),
      keepAliveMs: integer('STREAM_KEEPALIVE_MS', get('STREAM_KEEPALIVE_MS')!, 10, 600_000),
      firstByteTimeoutMs: integer('KIRO_FIRST_BYTE_TIMEOUT_MS', get('KIRO_FIRST_BYTE_TIMEOUT_MS')!, 1000, 3_600_000),
      idleTimeoutMs: integer('KIRO_IDLE_TIMEOUT_MS', get('KIRO_IDLE_TIMEOUT_MS')!, 1000, 3_600_000),
      imageMaxBytes: bytes('IMAGE_MAX_BYTES', get('IMAGE_MAX_BYTES')!),
      imageTimeoutMs: integer('IMAGE_FETCH_TIMEOUT_MS', get('IMAGE_FETCH_TIMEOUT_MS')!, 100, 600_000),
      imageMaxPerRequest: integer('IMAGE_MAX_PER_REQUEST', get('IMAGE_MAX_PER_REQUEST')!, 0, 1000),
      imageMaxTotalBytes: bytes('IMAGE_MAX_TOTAL_BYTES', get('IMAGE_MAX_TOTAL_BYTES')!),
      imageUrlAllowPrivate: boolean('IMAGE_URL_ALLOW_PRIVATE', get('IMAGE_URL_ALLOW_PRIVATE')!),
      requestTimeoutMs: integer('REQUEST_TIMEOUT_MS', get('REQUEST_TIMEOUT_MS')!, 1000, 3_600_000),
      totalTimeoutMs: integer('KIRO_TOTAL_TIMEOUT_MS', get('KIRO_TOTAL_TIMEOUT_MS')!, 1000, 86_400_000),
      authFailuresPerMinute: integer('AUTH_FAILURES_PER_MINUTE', get('AUTH_FAILURES_PER_MINUTE')!, 0, 1_000_000),
      responsesTtlSeconds: integer('RESPONSES_TTL_SECONDS', get('RESPONSES_TTL_SECONDS')!, 1, 30 * 86_400),
      responsesMaxStored: integer('RESPONSES_MAX_STORED', get('RESPONSES_MAX_STORED')!, 1, 1_000_000),
      managementUrl: url('KIRO_MANAGEMENT_URL', withRegion(get('KIRO_MANAGEMENT_URL')!)),
      qUrl: url('KIRO_Q_URL', withRegion(get('KIRO_Q_URL')!)),
      urlTemplates: {
        base: trimSlash(get('KIRO_BASE_URL')!),
        q: trimSlash(get('KIRO_Q_URL')!),
        management: trimSlash(get('KIRO_MANAGEMENT_URL')!),
        oidc: trimSlash(get('KIRO_OIDC_URL')!),
        auth: trimSlash(get('KIRO_AUTH_URL')!),
      },
      accountsDir: get('KIRO_ACCOUNTS_DIR')!.replace(/^~(?=$|[/\\])/, homedir()),
      connectTimeoutMs: integer('KIRO_CONNECT_TIMEOUT_MS', get('KIRO_CONNECT_TIMEOUT_MS')!, 100, 600_000),
      retries: integer('UPSTREAM_RETRIES', get('UPSTREAM_RETRIES')!, 0, 10),
      retryMaxWaitMs: integer('UPSTREAM_RETRY_MAX_WAIT_MS', get('UPSTREAM_RETRY_MAX_WAIT_MS')!, 0, 600_000),
      breakerThreshold: integer('BREAKER_THRESHOLD', get('BREAKER_THRESHOLD')!, 1, 1000),
      breakerCooldownMs: integer('BREAKER_COOLDOWN_MS', get('BREAKER_COOLDOWN_MS')!, 10, 3_600_000),
      logFile: get('LOG_FILE'),
      metricsPublic: boolean('METRICS_PUBLIC', get('METRICS_PUBLIC')!),
      rateLimitRpm: integer('RATE_LIMIT_RPM', get('RATE_LIMIT_RPM')!, 0, 1_000_000),
      maxConcurrentStreams: integer('MAX_CONCURRENT_STREAMS', get('MAX_CONCURRENT_STREAMS')!, 0, 100_000),
      corsOrigins: corsOrigins(get('CORS_ORIGINS')),
      cacheTtlSeconds: integer('CACHE_TTL_SECONDS', get('CACHE_TTL_SECONDS')!, 0, 86_400),
      cacheMaxEntries: integer('CACHE_MAX_ENTRIES', get('CACHE_MAX_ENTRIES')!, 1, 1_000_000),
      shutdownTimeoutMs: integer('SHUTDOWN_TIMEOUT_MS', get('SHUTDOWN_TIMEOUT_MS')!, 0, 3_600_000),
      tokenWriteBack: boolean('KIRO_TOKEN_WRITEBACK', get('KIRO_TOKEN_WRITEBACK')!),
      refreshMarginSeconds: integer('KIRO_REFRESH_MARGIN_SECONDS', get('KIRO_REFRESH_MARGIN_SECONDS')!, 0, 3000),
    },
  };
}
