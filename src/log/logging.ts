import { pino, type Level, type Logger } from 'pino';
import { BatchedDestination } from './batched-destination.js';
import { FdWriter } from './fd-writer.js';
import { JsonLines } from './json-lines.js';

/**
 * The webhook's logging: a pino logger and the fast review-line writer sharing one batched
 * destination on a file descriptor (stdout in a pod).
 */
export interface Logging {
  readonly logger: Logger;
  readonly lines: JsonLines;
  /** Resolves once every line logged so far is written (shutdown). */
  flush(): Promise<void>;
}

export interface LoggingOptions {
  readonly level: Level | 'silent';
  /** Default 1 (stdout). */
  readonly fd?: number;
  /** Fields on every line. Default `{ service: 'portcullis' }`. */
  readonly base?: Record<string, unknown>;
  readonly flushIntervalMs?: number;
}

export function createLogging(options: LoggingOptions): Logging {
  const writer = new FdWriter(options.fd ?? 1);
  const destination = new BatchedDestination(writer, {
    maxBatchBytes: 65_536,
    ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }),
  });
  const logger = pino({ level: options.level, base: options.base ?? { service: 'portcullis' } }, destination);
  return {
    logger,
    lines: new JsonLines(logger, destination),
    flush: () => new Promise<void>((resolve) => destination.flush(() => resolve())),
  };
}
