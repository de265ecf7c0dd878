import { PortcullisError } from '../errors/index.js';
import { TRUST_POLICY_LINK } from './document.js';
import { goQuote } from './go-format.js';
import { WILDCARD_SCOPE } from './registry-scopes.js';
import type { TrustPolicy, TrustPolicyStatement } from './types.js';

/**
 * Picks the statement for an artifact (spec "Selecting a trust policy based on artifact URI";
 * notation-go GetApplicableTrustPolicy): the statement whose registryScopes contain
 * `repository` exactly wins over the `*` statement; with neither, ERR_POLICY_NO_MATCH.
 * `repository` is the reference without tag or digest and is compared literally: callers
 * normalise (`nginx` → `docker.io/library/nginx`) before asking. `reference` (default
 * `repository`) is what the message names.
 */
export function selectStatement(
  policy: TrustPolicy,
  repository: string,
  reference: string = repository,
): TrustPolicyStatement {
  const found = findStatement(policy, repository);
  if (found !== undefined) return found;
  throw new PortcullisError(
    'ERR_POLICY_NO_MATCH',
    `artifact ${goQuote(reference)} has no applicable oci trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: ${TRUST_POLICY_LINK}`,
    { context: { reference, subject: repository } },
  );
}

/**
 * The statement `selectStatement` picks, or undefined where none applies (the policy does not cover the repository).
 */
export function findStatement(policy: TrustPolicy, repository: string): TrustPolicyStatement | undefined {
  const exact = policy.statements.find(
    (s) => s.registryScopes.includes(repository) && !s.registryScopes.includes(WILDCARD_SCOPE),
  );
  return exact ?? policy.statements.find((s) => s.registryScopes.includes(WILDCARD_SCOPE));
}
