import { setMaxListeners } from 'node:events';
import { PortcullisError, type ErrorCode } from '../errors/index.js';
import type { CredentialProvider } from './auth/credentials.js';

/**
 * One registry operation (resolve, fetch a manifest, list referrers…): what it is about, for
 * error messages, and its deadline, shared by every round trip it makes (token requests,
 * retries and redirects included), so an operation never takes longer than its budget.
 */
export interface Operation extends Disposable {
  /** Registry as in the reference (`docker.io`, `localhost:5000`). */
  readonly registry: string;
  readonly repository?: string;
  /** What is being done, for messages: `manifest v1`, `blob sha256:…`. */
  readonly what: string;
  /** Aborts at the deadline or when the caller's signal aborts. */
  readonly signal: AbortSignal;
  /** `performance.now()` value of the deadline. */
  readonly deadline: number;
  readonly timeoutMs: number;
  /** The caller's own signal, to tell cancellation from the deadline. */
  readonly callerSignal?: AbortSignal;
  /** A digest the operation is about, for the error context. */
  readonly digest?: string;
  /** Credentials for this operation instead of the client's (e.g. a pod's pull secret). */
  readonly credentials?: CredentialProvider;
  /**
   * Ends the operation once it has settled: clears its deadline timer and stops listening to the
   * caller's signal (idempotent; also `[Symbol.dispose]`, so `using op = …` ends it).
   */
  end(): void;
}

export interface OperationInit {
  readonly registry: string;
  readonly repository?: string | undefined;
  readonly what: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly digest?: string | undefined;
  readonly credentials?: CredentialProvider | undefined;
}

/**
 * Starts an operation's deadline. Not `AbortSignal.timeout` (and `AbortSignal.any`): Node keeps
 * those timers and the signals composed from them until a full garbage collection, so every
 * operation of every image reviewed stayed in memory a while (about 12 MiB at 30,000 images).
 * Here the deadline is one unref'd timer (it never keeps the process alive), cleared when the
 * operation ends, and the caller's signal is followed by a listener removed at the same time.
 */
export function startOperation(init: OperationInit): Operation {
  const controller = new AbortController();
  const caller = init.signal;
  const timer = setTimeout(() => {
    caller?.removeEventListener('abort', onCallerAbort);
    controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }, init.timeoutMs);
  timer.unref();
  const onCallerAbort = (): void => {
    controller.abort(caller?.reason);
    end();
  };
  const end = (): void => {
    clearTimeout(timer);
    caller?.removeEventListener('abort', onCallerAbort);
  };
  if (caller?.aborted === true) onCallerAbort();
  else if (caller !== undefined) {
    // A review's signal follows every operation of its images at once (a 100-image pod: 200 and
    // more), each listener removed when its operation ends: not the leak Node warns of past 10.
    setMaxListeners(0, caller);
    caller.addEventListener('abort', onCallerAbort, { once: true });
  }
  return {
    registry: init.registry,
    ...(init.repository === undefined ? {} : { repository: init.repository }),
    ...(init.digest === undefined ? {} : { digest: init.digest }),
    ...(init.credentials === undefined ? {} : { credentials: init.credentials }),
    what: init.what,
    signal: controller.signal,
    deadline: performance.now() + init.timeoutMs,
    timeoutMs: init.timeoutMs,
    ...(caller === undefined ? {} : { callerSignal: caller }),
    end,
    [Symbol.dispose]: end,
  };
}

export function remainingMs(op: Operation): number {
  return op.deadline - performance.now();
}

/** `registry 127.0.0.1:5000, repository app` */
export function where(op: Operation): string {
  return op.repository === undefined
    ? `registry ${op.registry}`
    : `registry ${op.registry}, repository ${op.repository}`;
}

/** A PortcullisError that names the registry, repository and operation. */
export function operationError(op: Operation, code: ErrorCode, message: string, cause?: unknown): PortcullisError {
  return new PortcullisError(code, `${where(op)}: ${op.what}: ${message}`, {
    ...(cause === undefined ? {} : { cause }),
    context: {
      reference: op.repository === undefined ? op.registry : `${op.registry}/${op.repository}`,
      subject: op.registry,
      ...(op.digest === undefined ? {} : { digest: op.digest }),
    },
  });
}

/**
 * Where a round trip was when it failed, so a message can name the slow or failing stage: the
 * DNS lookup of the host, the connection (TCP and TLS), the registry's answer, or its body.
 */
export type Stage = { readonly stage: 'dns' | 'connect' | 'answer' | 'body'; readonly host: string };

function stageWords(s: Stage): string {
  switch (s.stage) {
    case 'dns':
      return `the DNS lookup of ${s.host.startsWith('[') ? s.host : s.host.replace(/:\d+$/, '')} did not finish`;
    case 'connect':
      return `connecting to ${s.host} did not finish`;
    case 'answer':
      return `connected to ${s.host}, but the registry did not answer`;
    case 'body':
      return `the registry at ${s.host} did not finish sending its answer`;
  }
}

/** The error for an aborted operation: its deadline passed (during `stage`, when known), or the caller cancelled it. */
export function abortError(op: Operation, cause?: unknown, stage?: Stage): PortcullisError {
  if (op.callerSignal?.aborted === true)
    return operationError(op, 'ERR_REGISTRY_TIMEOUT', 'cancelled by the caller', cause);
  return operationError(
    op,
    'ERR_REGISTRY_TIMEOUT',
    `${stage === undefined ? 'no answer' : stageWords(stage)} within the ${op.timeoutMs} ms deadline`,
    cause,
  );
}

/** Text from a registry, made safe to put in a one-line message. */
export function printable(text: string, max = 300): string {
  const clean = text
    .replace(/[^\x20-\x7e]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
