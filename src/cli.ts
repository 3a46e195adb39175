#!/usr/bin/env node
import { createInterface } from 'node:readline/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent } from 'undici';
import { ConfigError, forRegion, loadConfig, type Config } from './config.js';
import { discoverAccounts } from './credentials/discovery.js';
import { checkLogin, defaultKiroCliStore, readKiroCliStore, readLoginFile } from './credentials/import.js';
import { BUILDER_ID_START_URL, deviceLogin, finishSocialLogin, LoginError, startSocialLogin } from './credentials/login.js';
import { removeSaved, saveAccount, type SavedLogin } from './credentials/saved.js';
import { KiroUpstream } from './kiro/upstream.js';
import { createLogger } from './logger.js';
import { main as serve } from './main.js';

// `ki2api` — the gateway, and the commands that give it accounts without the Kiro IDE:
//   ki2api [serve]          run the gateway (npm start)
//   ki2api login …          log in (Builder ID, IAM Identity Center, Google, GitHub)
//   ki2api import …         take over a login from kiro-cli, a token file, or a refresh token
//   ki2api accounts [remove <id>]
// Nothing any command prints holds a token, a code or a client secret.

const HELP = {
  main: `Usage: ki2api [command] [options]

Commands:
  serve (default)   Run the gateway (ki2api serve --help lists its settings).
  login             Log in to Kiro without the IDE and save the account.
  import            Take over a login from kiro-cli, a token file, or a refresh token.
  accounts          List the accounts the gateway uses; "accounts remove <id>" removes a saved one.

Run "ki2api <command> --help" for a command's options.`,
  login: `Usage:
  ki2api login --builder-id                      AWS Builder ID (device code)
  ki2api login --idc <start URL> [--region R]    IAM Identity Center (device code; R is its region)
  ki2api login --social google|github [--callback <url>]

The device-code logins print a URL and a code: open the URL, check the code, allow. The social
login prints a URL: sign in, and the browser ends on a kiro://… address it cannot open — paste
that address here (or pass it as --callback). The account is saved in KIRO_ACCOUNTS_DIR
(~/.ki2api/accounts); a running gateway serves with it within seconds.`,
  import: `Usage:
  ki2api import --kiro-cli [path]       kiro-cli's store (default ~/.local/share/kiro-cli/data.sqlite3)
  ki2api import --file <json>           a Kiro token file (the IDE's, or kiro-cli's JSON)
  ki2api import --refresh-token <token> [--idc --client-id <id> --client-secret <secret> [--region R] [--start-url U]]

Every login is checked by refreshing it once, then saved in KIRO_ACCOUNTS_DIR. kiro-cli keeps
renewing its own login: once imported, use one or the other, or they replace each other's tokens.`,
  accounts: `Usage:
  ki2api accounts [--json]       every account the gateway would use: id, kind, state, expiry, plan, credits
  ki2api accounts remove <id>    remove a saved account (the id from the list, or its file name)`,
};

type Out = { print(line: string): void; ask(question: string): Promise<string> };

const terminal: Out = {
  print: (line) => console.log(line),
  ask: async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};

class UsageError extends Error {}

/** Flags of the types given (string flags as strings, boolean ones as true), and the rest. */
type Flags = { [name: string]: string | undefined };

function parse(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>): { values: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    // Booleans are kept as "true": every flag reads as a string, or undefined when absent.
    const flags = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, value === true ? 'true' : value])) as Flags;
    return { values: flags, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function save(config: Config, login: SavedLogin, out: Out): void {
  const { path, id } = saveAccount(config.accountsDir, login);
  out.print(`Saved ${login.kind} account ${id} to ${path}.`);
  out.print('A running gateway serves with it within seconds; `ki2api accounts` shows it.');
}

const checkUrls = (config: Config) => ({ authUrl: config.urlTemplates.auth, oidcUrl: config.urlTemplates.oidc, region: config.region });

export async function login(argv: string[], config: Config, out: Out = terminal): Promise<void> {
  const { values } = parse(argv, { 'builder-id': { type: 'boolean' }, idc: { type: 'string' }, region: { type: 'string' }, social: { type: 'string' }, callback: { type: 'string' } });
  if (values.help !== undefined) return out.print(HELP.login);
  const chosen = [values['builder-id'], values.idc, values.social].filter((v) => v !== undefined).length;
  if (chosen !== 1) throw new UsageError('choose one of --builder-id, --idc <start URL>, --social google|github');
  if (values.social !== undefined) {
    const idp = ({ google: 'Google', github: 'Github' } as const)[values.social.toLowerCase() as 'google' | 'github'];
    if (!idp) throw new UsageError('--social takes google or github');
    const authUrl = forRegion(config.urlTemplates.auth, config.region);
    const start = startSocialLogin(authUrl, idp);
    out.print(`Open this URL and sign in with ${idp}:\n\n  ${start.url}\n`);
    const callback = values.callback ?? (await out.ask('Then paste the address the browser ended on (kiro://kiro.kiroAgent/authenticate-success?…): '));
    const tokens = await finishSocialLogin(authUrl, start, callback);
    const login: SavedLogin = { kind: 'social', ...tokens, region: config.region, provider: idp };
    return save(config, await checkLogin(login, checkUrls(config)), out);
  }
  const idc = values.idc;
  if (idc !== undefined && !/^https:\/\/\S+$/.test(idc)) throw new UsageError('--idc takes your start URL, e.g. https://d-1234567890.awsapps.com/start');
  const region = values.region ?? (idc === undefined ? 'us-east-1' : config.region);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new UsageError(`--region: "${region}" is not an AWS region`);
  const startUrl = idc ?? BUILDER_ID_START_URL;
  const { tokens, client } = await deviceLogin({
    oidcUrl: forRegion(config.urlTemplates.oidc, region),
    startUrl,
    show: (url, code) => out.print(`Open this URL, check that it shows the code ${code}, and allow the login:\n\n  ${url}\n\nWaiting for you to allow it…`),
  });
  const login: SavedLogin = { kind: idc === undefined ? 'builder-id' : 'idc', ...tokens, region, startUrl, client };
  save(config, await checkLogin(login, checkUrls(config)), out);
}

export async function importLogin(argv: string[], config: Config, out: Out = terminal): Promise<void> {
  const { values, positionals } = parse(argv, {
    'kiro-cli': { type: 'boolean' },
    file: { type: 'string' },
    'refresh-token': { type: 'string' },
    idc: { type: 'boolean' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    region: { type: 'string' },
    'start-url': { type: 'string' },
  });
  if (values.help !== undefined) return out.print(HELP.import);
  const chosen = [values['kiro-cli'], values.file, values['refresh-token']].filter((v) => v !== undefined).length;
  if (chosen !== 1) throw new UsageError('choose one of --kiro-cli [path], --file <json>, --refresh-token <token>');
  const client = values['client-id'] && values['client-secret'] ? { clientId: values['client-id'], clientSecret: values['client-secret'], expiresAt: new Date(Date.now() + 90 * 86_400_000).toISOString() } : undefined;
  let logins: SavedLogin[];
  if (values['kiro-cli'] !== undefined) {
    const path = positionals[0] ?? defaultKiroCliStore();
    logins = await readKiroCliStore(path);
    out.print(`Found ${logins.length} login${logins.length > 1 ? 's' : ''} in ${path}: ${logins.map((l) => l.kind).join(', ')}.`);
  } else if (values.file !== undefined) {
    logins = [readLoginFile(values.file, client)];
  } else {
    if (values.idc !== undefined && !client) throw new UsageError('an IdC refresh token needs --client-id and --client-secret (its OIDC client registration)');
    const refreshToken = values['refresh-token']!;
    if (refreshToken.length < 20 || refreshToken.includes('...')) throw new UsageError('that refresh token is truncated or too short: copy the whole token');
    const expired = new Date(Date.now() - 60_000).toISOString();
    const region = values.region ?? config.region;
    logins = [
      values.idc !== undefined
        ? { kind: values['start-url'] === BUILDER_ID_START_URL ? 'builder-id' : 'idc', accessToken: '', refreshToken, expiresAt: expired, region, client: client!, ...(values['start-url'] && { startUrl: values['start-url'] }) }
        : { kind: 'social', accessToken: '', refreshToken, expiresAt: expired, region },
    ];
  }
  for (const found of logins) save(config, await checkLogin(found, checkUrls(config)), out);
}

export async function accounts(argv: string[], config: Config, out: Out = terminal): Promise<void> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } });
  if (values.help !== undefined) return out.print(HELP.accounts);
  if (positionals[0] === 'remove') {
    const id = positionals[1];
    if (!id) throw new UsageError('accounts remove takes the id of a saved account (see `ki2api accounts`)');
    const removed = removeSaved(config.accountsDir, id);
    if (!removed) throw new LoginError(`No saved account ${id} in ${config.accountsDir}. Only accounts saved by \`ki2api login\` / \`ki2api import\` can be removed here; \`ki2api accounts\` lists them.`);
    return out.print(`Removed ${removed}. A running gateway stops using it within seconds.`);
  }
  if (positionals.length > 0) throw new UsageError(`unknown accounts command "${positionals[0]}"`);
  const logger = createLogger('silent');
  const dispatcher = new Agent({ connect: { timeout: config.connectTimeoutMs } });
  const pool = discoverAccounts(config, logger, dispatcher);
  const upstream = new KiroUpstream({
    hosts: { runtime: config.urlTemplates.base, legacy: config.urlTemplates.q, management: config.urlTemplates.management },
    credentials: pool,
    logger,
    dispatcher,
    insights: false,
    firstTokenTimeoutMs: config.firstByteTimeoutMs,
    breakerThreshold: config.breakerThreshold,
    breakerCooldownMs: config.breakerCooldownMs,
  });
  try {
    // Each account refreshed if it must be, and asked for its credits now.
    for (const account of upstream.accounts()) await upstream.insights.refreshUsage(account.fingerprint);
    const list = upstream.accounts();
    if (values.json !== undefined) return out.print(JSON.stringify(list, null, 2));
    if (list.every((a) => a.state === 'unusable' && a.problem?.startsWith('no token file'))) {
      return out.print(`No accounts yet. Log in with \`ki2api login --builder-id\` (or --idc, --social), import one with \`ki2api import\`, or log in to the Kiro IDE.`);
    }
    const rows = list.map((a) => [
      a.fingerprint,
      a.loginKind ?? '?',
      a.state === 'cooling_down' ? `resting until ${a.cooldownUntil}` : a.state,
      a.expiresAt ?? '-',
      a.usage?.plan ?? '-',
      a.usage ? `${a.usage.used} / ${a.usage.limit}` : '-',
      a.endpoint ?? '-',
      a.source,
    ]);
    const header = ['ID', 'KIND', 'STATE', 'TOKEN EXPIRES', 'PLAN', 'CREDITS', 'HOST', 'SOURCE'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const row of [header, ...rows]) out.print(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
    for (const a of list) if (a.problem) out.print(`\n${a.fingerprint}: ${a.problem}${a.fix ? `\n  ${a.fix}` : ''}`);
  } finally {
    await upstream.close();
  }
}

export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env, out: Out = terminal): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'serve' || command.startsWith('-')) {
    if (command === '--help' || command === '-h') {
      out.print(HELP.main);
      return 0;
    }
    await serve(command === 'serve' ? rest : argv);
    return 0;
  }
  const commands: Record<string, (argv: string[], config: Config, out: Out) => Promise<void>> = { login, import: importLogin, accounts };
  const handler = commands[command];
  if (!handler) {
    console.error(`ki2api: unknown command "${command}".\n\n${HELP.main}`);
    return 2;
  }
  try {
    const parsed = loadConfig(env, []);
    if (parsed.kind !== 'run') return 0;
    await handler(rest, parsed.config, out);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`ki2api ${command}: ${error.message}\n\n${HELP[command as keyof typeof HELP]}`);
      return 2;
    }
    if (error instanceof LoginError || error instanceof ConfigError) {
      console.error(`ki2api ${command}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry) {
  run(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`ki2api: ${(error as Error).message}`);
      process.exitCode = 1;
    },
  );
}
