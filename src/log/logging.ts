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

/** Queued but unwritten log bytes beyond this are dropped (a stalled log reader must not exhaust memory). */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

export function createLogging(options: LoggingOptions): Logging {
  // Asynchronous writes (a log reader that stops reading never stalls reviews), of Buffers: the
  // batch is encoded once, and SonicBoom's buffer mode does no further passes over it. Measured
  // under load, writing strings asynchronously cost about as much CPU as deciding a warm review.
  const boom = pino.destination({ dest: options.fd ?? 1, sync: false, minLength: 0, maxLength: MAX_QUEUED_BYTES, contentMode: 'buffer' });
  const sink = {
    write: (batch: string) => boom.write(Buffer.from(batch, 'utf8') as unknown as string),
    flush: (callback?: (error?: Error | null) => void) => boom.flush(callback),
    flushSync: () => boom.flushSync(),
  };
  const destination = new BatchedDestination(sink, { maxBatchBytes: 65_536, ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }) });
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
