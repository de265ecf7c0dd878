import { PortcullisError } from '../errors/index.js';

/**
 * The one error a rejected policy document produces. The whole document is rejected: callers
 * never fall back to a partial or permissive policy.
 */
export function invalidPolicy(message: string, statement?: string, cause?: unknown): PortcullisError {
  return new PortcullisError('ERR_POLICY_INVALID', message, {
    ...(cause === undefined ? {} : { cause }),
    context: statement === undefined ? {} : { policy: statement },
  });
}
