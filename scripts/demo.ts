import { ConfigError, helpText, loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { start } from '../src/main.js';
import { KiroSimulator } from '../src/simulator/server.js';

// `npm run demo`: the real gateway in front of the built-in Kiro simulator, so every route
// (and /docs "Try it out") works without a Kiro account. Answers say they are simulated.
const simulator = await new KiroSimulator({ answerDelayMs: 40, keepRequests: 100 }).start();
let parsed;
try {
  parsed = loadConfig({ ...process.env, KIRO_BASE_URL: simulator.url, KIRO_AUTH_URL: simulator.url, KIRO_OIDC_URL: simulator.url, KIRO_MANAGEMENT_URL: simulator.url, KIRO_ACCESS_TOKEN: 'demo-access-token', KIRO_PROFILE_ARN: 'arn:aws:codewhisperer:us-east-1:000000000000:profile/SIMULATOR' }, process.argv.slice(2));
} catch (error) {
  console.error(`ki2api demo: configuration error — ${(error as ConfigError).message}`);
  process.exit(2);
}
if (parsed.kind !== 'run') {
  console.log(parsed.kind === 'help' ? helpText() : '');
  process.exit(0);
}
const logger = createLogger(parsed.config.logLevel);
logger.info(`demo mode: Kiro is simulated at ${simulator.url}; no account needed, no real model is called`);
const running = await start(parsed.config, logger).catch((error: Error) => {
  logger.fatal(error.message);
  process.exit(2);
});
const key = parsed.config.apiKeys?.[0] ?? 'anything';
logger.info(`try: curl -s http://localhost:${parsed.config.port}/v1/chat/completions -H "Authorization: Bearer ${key}" -d '{"model":"claude-sonnet-4-5-20250929","messages":[{"role":"user","content":"Hello"}]}'`);
const stop = () => void running.close().then(() => simulator.close()).then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
