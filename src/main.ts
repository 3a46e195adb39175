import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { ConfigError, helpText, loadConfig, type Config } from './config.js';
import { createGateway } from './gateway.js';
import { createAppServer } from './http/server.js';
import { createLogger, type Logger } from './logger.js';
import { VERSION } from './version.js';

export interface Running {
  server: Server;
  /** Stop accepting, let open requests (streams too) finish up to SHUTDOWN_TIMEOUT_MS, then close. */
  close: () => Promise<void>;
}

/** Start the gateway; resolves once it listens. */
export async function start(config: Config, logger: Logger): Promise<Running> {
  const gateway = createGateway(config, logger);
  // With several replicas, the shared state first: a replica that starts late takes the current tokens.
  await gateway.ready();
  const server = createAppServer(gateway.app, gateway.serverOptions).listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new ConfigError('PORT', `port ${config.port} on ${config.host} is already in use`, 'Stop the other process, or set PORT (or --port) to a free port.'));
      } else reject(error);
    });
  });
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
  logger.info(`ki2api ${VERSION} listening on ${url} (docs: ${url}/docs)`);
  if (config.apiKeys === null) logger.warn('API_KEY=off: AUTHENTICATION IS DISABLED. Anyone who can reach this port can use your Kiro account.');
  else if (config.apiKeys.includes('ki2api-key-2024') && config.host !== '127.0.0.1' && config.host !== 'localhost') {
    logger.warn(`Listening on ${config.host} with the public default API key: set API_KEY to a secret of your own.`);
  }
  const credentials = gateway.upstream.credentialStatus();
  if (credentials.usable) logger.info(`Kiro credentials: ${credentials.source} (${credentials.authMethod ?? 'token'})`);
  else logger.warn(`No usable Kiro credentials (${credentials.problem}). ${credentials.fix ?? ''} Chat requests answer 503 until then.`);

  return {
    server,
    close: async () => {
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Connections that finish their request while we drain are idle from then on: close them too.
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      const deadline = setTimeout(() => {
        logger.warn(`shutdown deadline (${config.shutdownTimeoutMs} ms) reached: closing the remaining connections`);
        server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      try {
        await drained;
      } finally {
        clearInterval(sweep);
        clearTimeout(deadline);
      }
      await gateway.close();
    },
  };
}

/** `ki2api [serve]`: run the gateway until SIGTERM / SIGINT. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  let parsed;
  try {
    parsed = loadConfig(process.env, argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`ki2api: configuration error — ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  if (parsed.kind === 'help') return void console.log(helpText());
  if (parsed.kind === 'version') return void console.log(VERSION);

  const logger = createLogger(parsed.config.logLevel, undefined, parsed.config.logFile);
  const { shutdownTimeoutMs } = parsed.config;
  // Signals are handled from the first moment, also while still starting up.
  let running: Running | undefined;
  let stopping = false;
  const exit = (code: number) => {
    // Flush the logs, but never wait on that for long (their reader may be gone).
    setTimeout(() => process.exit(code), 1000).unref();
    logger.flush(() => process.exit(code));
  };
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      logger.flush();
      process.exit(1);
    }
    stopping = true;
    if (!running) return exit(0);
    logger.info(`${signal}: no new connections; letting open requests finish (up to ${shutdownTimeoutMs} ms)`);
    running.close().then(
      () => {
        logger.info('shut down cleanly');
        exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    running = await start(parsed.config, logger);
  } catch (error) {
    if (error instanceof ConfigError) {
      logger.fatal(`configuration error — ${error.message}`);
      return exit(2);
    }
    // Not the configuration (a broken install, say): said in one line, not as a crash.
    logger.fatal({ err: error }, `could not start: ${(error as Error).message}`);
    return exit(1);
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry) void main();
