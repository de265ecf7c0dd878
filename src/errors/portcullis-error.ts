import type { ErrorCode } from './codes.js';

/** Context a person needs to act on an error. Every field is optional; set what is known. */
export interface ErrorContext {
  /** The image or artifact reference as the user gave it. */
  readonly reference?: string;
  /** The resolved artifact digest. */
  readonly digest?: string;
  /** The name of the trust policy statement in force. */
  readonly policy?: string;
  /** The digest of the signature manifest being evaluated. */
  readonly signature?: string;
  /** A file, store or field the error is about. */
  readonly subject?: string;
}

export interface PortcullisErrorOptions {
  readonly cause?: unknown;
  readonly context?: ErrorContext;
}

/** Marks Portcullis errors across copies of this module (a registered symbol: the same in every copy). */
const BRAND = Symbol.for('dev.portcullis.error');

/**
 * The one error type of Portcullis. `code` is stable and documented in docs/errors.md;
 * messages are for people and may be reworded.
 */
export class PortcullisError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  /**
   * `instanceof PortcullisError` holds for every Portcullis error, also one made by another copy
   * of this module: the CLI's command bundles each carry their own copy (scripts/bundle-cli.mjs),
   * and a typed error crossing from one to the runner's copy must keep its code, not become
   * ERR_INTERNAL. Subclasses keep the ordinary prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== PortcullisError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }

  constructor(code: ErrorCode, message: string, options: PortcullisErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PortcullisError';
    this.code = code;
    this.context = options.context ?? {};
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** A copy carrying more context (existing fields win: the innermost knows best). */
  withContext(context: ErrorContext): PortcullisError {
    const copy = new PortcullisError(this.code, this.message, {
      cause: this.cause,
      context: { ...context, ...this.context },
    });
    if (this.stack !== undefined) copy.stack = this.stack;
    return copy;
  }
}

export function isPortcullisError(value: unknown): value is PortcullisError {
  return value instanceof PortcullisError;
}

/** Wraps any thrown value as a PortcullisError, keeping typed errors as they are. */
export function toPortcullisError(value: unknown, fallback: ErrorCode, message?: string): PortcullisError {
  if (value instanceof PortcullisError) return value;
  const text = value instanceof Error ? value.message : String(value);
  return new PortcullisError(fallback, message === undefined ? text : `${message}: ${text}`, { cause: value });
}
