import { canonicalScope } from '../reference/index.js';
import { goQuote } from './go-format.js';
import { invalidPolicy } from './invalid.js';
import { WILDCARD_SCOPE, registryScopeError } from './registry-scopes.js';
import { validateStatementCore } from './statement.js';
import type { TrustPolicy, TrustPolicyDocument, TrustPolicyStatement } from './types.js';

/** The policy document versions that exist (spec: only 1.0). */
export const SUPPORTED_VERSIONS: readonly string[] = ['1.0'];

/**
 * Applies every rule of the trust policy spec ("Trust Policy Constraints") to an OCI policy
 * document, in notation-go's order (OCIDocument.Validate) and with its messages. Any violation
 * rejects the whole document with ERR_POLICY_INVALID; nothing is ever dropped or defaulted
 * to allow.
 */
export function validateTrustPolicy(doc: TrustPolicyDocument): TrustPolicy {
  if (doc.version === '') throw invalidPolicy('oci trust policy document has empty version, version must be specified');
  if (!SUPPORTED_VERSIONS.includes(doc.version))
    throw invalidPolicy(`oci trust policy document uses unsupported version ${goQuote(doc.version)}`);
  if (doc.trustPolicies.length === 0)
    throw invalidPolicy('oci trust policy document can not have zero trust policy statements');

  const names = new Set<string>();
  const cores = doc.trustPolicies.map((statement) => {
    if (names.has(statement.name)) {
      throw invalidPolicy(
        `multiple oci trust policy statements use the same name ${goQuote(statement.name)}, statement names must be unique`,
        statement.name,
      );
    }
    const core = validateStatementCore(statement, 'oci trust policy: ');
    names.add(statement.name);
    return core;
  });

  // Registry scopes (spec "Selecting a trust policy based on artifact URI"): each statement has
  // some, `*` stands alone, and a scope value belongs to one statement only — otherwise the
  // statement that applies to an artifact would be ambiguous. At most one `*` statement follows.
  // Scopes are compared in the canonical spelling image references get (src/reference), so
  // that `LOCALHOST:05000/app` and `localhost:5000/app` are one scope and no spelling of an image
  // escapes the statement written for it; a scope without one canonical spelling is invalid.
  const owner = new Map<string, string>();
  const duplicates: { readonly scope: string; readonly shown: string }[] = [];
  const canonicalScopes: string[][] = [];
  for (const statement of doc.trustPolicies) {
    const scopes = statement.registryScopes;
    if (scopes.length === 0) {
      throw invalidPolicy(
        `oci trust policy statement ${goQuote(statement.name)} has zero registry scopes, it must specify registry scopes with at least one value`,
        statement.name,
      );
    }
    if (scopes.length > 1 && scopes.includes(WILDCARD_SCOPE)) {
      throw invalidPolicy(
        `oci trust policy statement ${goQuote(statement.name)} uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values`,
        statement.name,
      );
    }
    const canonicalOfStatement: string[] = [];
    for (const scope of scopes) {
      const error = scope === WILDCARD_SCOPE ? undefined : registryScopeError(scope);
      if (error !== undefined) throw invalidPolicy(error, statement.name);
      const canonical = canonicalScope(scope);
      if ('error' in canonical)
        throw invalidPolicy(
          `oci trust policy statement ${goQuote(statement.name)}: ${canonical.error}`,
          statement.name,
        );
      const written = canonical.value === scope ? '' : ` (written ${goQuote(scope)})`;
      if (owner.has(canonical.value))
        duplicates.push({ scope: canonical.value, shown: `${goQuote(canonical.value)}${written}` });
      else owner.set(canonical.value, statement.name);
      canonicalOfStatement.push(canonical.value);
    }
    canonicalScopes.push(canonicalOfStatement);
  }
  const duplicate = duplicates[0];
  if (duplicate !== undefined) {
    throw invalidPolicy(
      `registry scope ${duplicate.shown} is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement`,
      owner.get(duplicate.scope),
    );
  }

  const statements = cores.map((core, i): TrustPolicyStatement =>
    Object.freeze({ ...core, registryScopes: Object.freeze([...(canonicalScopes[i] ?? [])]) }),
  );
  return Object.freeze({ version: '1.0', statements: Object.freeze(statements) });
}
