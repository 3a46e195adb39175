import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * JSON lines for machines; readable lines when a person watches a terminal.
 * Secrets never reach a logger call, and these paths are redacted as a second line of defence.
 */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stdout, logFile?: string): Logger {
  const options = {
    level,
    base: undefined,
    redact: {
      paths: ['*.authorization', '*.accessToken', '*.refreshToken', '*.clientSecret', '*.apiKey', 'req.headers.authorization', 'req.headers["x-api-key"]'],
      censor: '[redacted]',
    },
  };
  const isTerminal = destination === process.stdout && process.stdout.isTTY;
  const console = isTerminal ? pretty({ colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' }) : destination;
  if (!logFile) return pino(options, console);
  return pino(options, pino.multistream([{ level: 'trace', stream: console }, { level: 'trace', stream: pino.destination({ dest: logFile, mkdir: true, sync: false }) }]));
}
