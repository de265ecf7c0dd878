import { goQuote } from './go-format.js';

export const WILDCARD_SCOPE = '*';

// Adapted by notation-go from distribution's reference grammar
// (distribution/reference/regexp.go): a domain with optional port, then a lower-case path.
// No scheme, tag or digest; no normalisation (`nginx` is not `docker.io/library/nginx`).
const DOMAIN =
  /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?$/;
const REPOSITORY =
  /^[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?(?:(?:\/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?$/;
const ENSURE =
  'make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout';

/** notation-go validateRegistryScopeFormat: the message for an invalid non-`*` scope, or undefined. */
export function registryScopeError(scope: string): string | undefined {
  if (scope.length > 1 && scope.includes('*'))
    return `registry scope ${goQuote(scope)} with wild card(s) is not valid, ${ENSURE}`;
  const slash = scope.indexOf('/');
  const domain = slash < 0 ? '' : scope.slice(0, slash);
  const repository = slash < 0 ? '' : scope.slice(slash + 1);
  if (domain === '' || repository === '' || !DOMAIN.test(domain) || !REPOSITORY.test(repository)) {
    return `registry scope ${goQuote(scope)} is not valid, ${ENSURE}`;
  }
  return undefined;
}
