import { pino, type Level, type Logger } from 'pino';
import { BatchedDestination } from './batched-destination.js';
import { JsonLines } from './json-lines.js';

/**
 * The webhook's logging: a pino logger and the fast review-line writer sharing one batched
 * destination on a file descriptor (stdout in a pod).
 */
export interface Logging {
  readonly logger: Logger;
  readonly lines: JsonLines;
  /** Writes every gathered line before returning (shutdown, exit). */
  flushSync(): void;
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
  // minLength 0: SonicBoom writes each batch at once (the batching happens in front of it).
  const sink = pino.destination({ dest: options.fd ?? 1, sync: false, minLength: 0 });
  const destination = new BatchedDestination(sink, options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs });
  const logger = pino({ level: options.level, base: options.base ?? { service: 'portcullis' } }, destination);
  return {
    logger,
    lines: new JsonLines(logger, destination),
    flushSync: () => {
      try {
        destination.flushSync();
      } catch {
        // The sink is closed or not open yet: nothing more can be written (never fail a shutdown over logs).
      }
    },
  };
}
