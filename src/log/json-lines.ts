import type { Logger } from 'pino';

/**
 * Writes records as pino lines without pino's serializer: `{"level":30,"time":…,<the logger's
 * bindings>,<the record>,"msg":"…"}`, the same shape and order pino writes, through the same
 * destination, gated by the logger's current level.
 *
 * Why: the webhook writes one line per review, and pino serializes nested values (the review's
 * image list) with a safe-stringify walk that costs several times `JSON.stringify`. The records
 * written here are plain data built by Portcullis (strings, numbers, booleans, arrays and plain
 * objects of them: no cycles, no errors, no BigInts), which is what makes `JSON.stringify`
 * enough. Anything else goes through pino.
 */

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
export type LineLevel = keyof typeof LEVELS;

/** What routes write their one line per request with. */
export interface RecordLogger {
  info(record: object, msg: string): void;
  warn(record: object, msg: string): void;
  /** Whether a line at `level` would be written: build nothing when it would not. */
  isLevelEnabled(level: LineLevel): boolean;
  /** Writes a line whose fields are given as JSON text: the members of an object, without the braces. */
  writeFields(level: LineLevel, fields: string, msg: string): void;
}

/** A RecordLogger over any pino logger (tests, embedders): slower, the same lines. */
export function recordLoggerOf(logger: Logger): RecordLogger {
  return {
    info: (record, msg) => logger.info(record, msg),
    warn: (record, msg) => logger.warn(record, msg),
    isLevelEnabled: (level) => logger.isLevelEnabled(level),
    writeFields: (level, fields, msg) => logger[level](JSON.parse(`{${fields}}`) as object, msg),
  };
}

export class JsonLines implements RecordLogger {
  readonly #logger: Logger;
  readonly #destination: { write(chunk: string): unknown };
  readonly #bindings: string;

  /** `destination` must be the one `logger` writes to, so that lines stay in order. */
  constructor(logger: Logger, destination: { write(chunk: string): unknown }) {
    this.#logger = logger;
    this.#destination = destination;
    // The root logger's base fields (`service`, …), serialized once.
    const bindings = JSON.stringify(logger.bindings());
    this.#bindings = bindings === '{}' ? '' : `,${bindings.slice(1, -1)}`;
  }

  info(record: object, msg: string): void {
    this.#write('info', record, msg);
  }

  warn(record: object, msg: string): void {
    this.#write('warn', record, msg);
  }

  isLevelEnabled(level: LineLevel): boolean {
    // `levelVal` follows `logger.level` changes; cheaper than pino's isLevelEnabled lookup.
    return LEVELS[level] >= this.#logger.levelVal;
  }

  writeFields(level: LineLevel, fields: string, msg: string): void {
    if (this.isLevelEnabled(level)) this.#line(level, fields, msg);
  }

  #write(level: LineLevel, record: object, msg: string): void {
    if (this.isLevelEnabled(level)) this.#line(level, JSON.stringify(record).slice(1, -1), msg);
  }

  #line(level: LineLevel, fields: string, msg: string): void {
    const body = fields === '' ? '' : `,${fields}`;
    this.#destination.write(
      `{"level":${LEVELS[level]},"time":${Date.now()}${this.#bindings}${body},"msg":${JSON.stringify(msg)}}\n`,
    );
  }
}
