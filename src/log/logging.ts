import { pino, type Level, type Logger } from 'pino';
import { JsonLines } from './json-lines.js';

/**
 * The webhook's logging: a pino logger and the fast review-line writer sharing pino's own
 * destination (SonicBoom) on a file descriptor (stdout in a pod), asynchronous and buffered:
 *
 * - Lines gather in the destination's buffer and go out in one write once `MIN_WRITE` bytes
 *   have gathered, while a write is in flight, or at the latest `flushIntervalMs` (50) after the
 *   first line since the last write: under load one write per ~60 reviews, at low traffic a line
 *   is out within 50 ms. pino's lines and the review lines share the buffer, so their order is
 *   kept.
 * - A reader that stops reading never stalls a review: what waits is bounded at 16 MiB (beyond
 *   it lines are dropped, and counted); EAGAIN is retried; a descriptor that fails for good
 *   (EPIPE, EBADF) is reported once on stderr and logging goes on without it.
 * - `flush()` resolves once every line logged so far is written, a write in flight included:
 *   shutdown waits for it (logging.test.ts checks that no line is lost when the process exits
 *   right after, behind a slow reader — the hand-written writer this replaced lost most of them).
 *
 * A crash loses at most the lines of the last 50 ms.
 */
export interface Logging {
  readonly logger: Logger;
  readonly lines: JsonLines;
  /** Resolves once every line logged so far is written (shutdown). */
  flush(): Promise<void>;
  /** Lines dropped because the reader fell 16 MiB behind. */
  readonly dropped: number;
}

export interface LoggingOptions {
  readonly level: Level | 'silent';
  /** Default 1 (stdout). */
  readonly fd?: number;
  /** Fields on every line. Default `{ service: 'portcullis' }`. */
  readonly base?: Record<string, unknown>;
  readonly flushIntervalMs?: number;
}

/** Bytes gathered before a write (SonicBoom's minLength; it must stay under maxWrite). */
const MIN_WRITE = 16 * 1024;
const MAX_WRITE = 64 * 1024;
const MAX_QUEUED = 16 * 1024 * 1024;

export function createLogging(options: LoggingOptions): Logging {
  const destination = pino.destination({
    dest: options.fd ?? 1,
    sync: false,
    minLength: MIN_WRITE,
    maxWrite: MAX_WRITE,
    maxLength: MAX_QUEUED,
  });
  let dropped = 0;
  destination.on('drop', (data: string) => {
    for (let at = data.indexOf('\n'); at !== -1; at = data.indexOf('\n', at + 1)) dropped++;
  });
  let failed = false;
  destination.on('error', (error: NodeJS.ErrnoException) => {
    if (!failed) process.stderr.write(`portcullis: the log destination failed (${error.code ?? error.message})\n`);
    failed = true;
  });
  // Lines written since the last flush: the timer writes them out within the interval.
  let pending = false;
  const timer = setInterval(() => {
    if (!pending) return;
    pending = false;
    destination.flush();
  }, options.flushIntervalMs ?? 50);
  timer.unref();
  const sink = {
    write(chunk: string): void {
      pending = true;
      destination.write(chunk);
    },
  };
  const logger = pino({ level: options.level, base: options.base ?? { service: 'portcullis' } }, sink);
  return {
    logger,
    lines: new JsonLines(logger, sink),
    flush: () =>
      new Promise<void>((resolve) => {
        pending = false;
        destination.flush(() => resolve());
      }),
    get dropped() {
      return dropped;
    },
  };
}
