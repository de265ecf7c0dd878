import { expect } from 'vitest';
import { PortcullisError } from '../../src/errors/index.js';

/** Runs `fn`, which must throw a PortcullisError (anything else, or no throw, fails the test); returns it. */
export function caught(fn: () => unknown): PortcullisError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error('expected a PortcullisError, but the call succeeded');
  if (!(thrown instanceof PortcullisError)) throw thrown;
  return thrown;
}

/** The stable code of the PortcullisError `fn` throws. */
export function codeOf(fn: () => unknown): string {
  return caught(fn).code;
}

/** `fn` throws a PortcullisError with this code whose message contains `part`. */
export function expectFailure(fn: () => unknown, code: string, part?: string): PortcullisError {
  const error = caught(fn);
  expect(error.code).toBe(code);
  if (part !== undefined) expect(error.message).toContain(part);
  return error;
}

/** `promise` must reject with a PortcullisError (anything else, or a resolve, fails the test); returns it. */
export async function rejected(promise: Promise<unknown>): Promise<PortcullisError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PortcullisError) return error;
    throw error;
  }
  throw new Error('expected a rejection with a PortcullisError, but the promise resolved');
}
