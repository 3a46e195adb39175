import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * JSON lines for machines (an asynchronous writer on stdout: logging never blocks a request);
 * readable lines when a person watches a terminal. No log call ever gets a header, a body or a
 * token — the log entries are built field by field — and tests scan the logs for secrets.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream, logFile?: string): Logger {
  const options = { level, base: undefined };
  const console = destination ?? (process.stdout.isTTY ? pretty({ colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' }) : pino.destination({ dest: 1, sync: false }));
  if (!logFile) return pino(options, console);
  return pino(options, pino.multistream([{ level: 'trace', stream: console }, { level: 'trace', stream: pino.destination({ dest: logFile, mkdir: true, sync: false }) }]));
}
