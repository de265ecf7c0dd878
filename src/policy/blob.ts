import { PortcullisError } from '../errors/index.js';
import { goQuote } from './go-format.js';
import { invalidPolicy } from './invalid.js';
import { validateStatementCore } from './statement.js';
import type { BlobTrustPolicy, BlobTrustPolicyDocument, BlobTrustPolicyStatement } from './types.js';
import { SUPPORTED_VERSIONS } from './validate.js';

/**
 * Validates a blob trust policy document (trustpolicy.blob.json; spec "Blob trust policy";
 * notation-go BlobDocument.Validate): the OCI statement rules without registryScopes, plus
 * at most one statement with `globalPolicy: true`. Like notation-go, a global statement may
 * use level skip (its check for that compares unlike types and never fires).
 */
export function validateBlobTrustPolicy(doc: BlobTrustPolicyDocument): BlobTrustPolicy {
  if (doc.version === '') throw invalidPolicy('blob trust policy has empty version, version must be specified');
  if (!SUPPORTED_VERSIONS.includes(doc.version))
    throw invalidPolicy(`blob trust policy document uses unsupported version ${goQuote(doc.version)}`);
  if (doc.trustPolicies.length === 0)
    throw invalidPolicy('blob trust policy document can not have zero trust policy statements');

  const names = new Set<string>();
  let global: string | undefined;
  const statements = doc.trustPolicies.map((statement): BlobTrustPolicyStatement => {
    if (names.has(statement.name)) {
      throw invalidPolicy(
        `multiple blob trust policy statements use the same name ${goQuote(statement.name)}, statement names must be unique`,
        statement.name,
      );
    }
    const core = validateStatementCore(statement, 'blob trust policy: ');
    const globalPolicy = statement.globalPolicy === true;
    if (globalPolicy) {
      if (global !== undefined) {
        throw invalidPolicy(
          'multiple blob trust policy statements have globalPolicy set to true. Only one trust policy statement can be marked as global policy',
          statement.name,
        );
      }
      global = statement.name;
    }
    names.add(statement.name);
    return Object.freeze({ ...core, globalPolicy });
  });
  return Object.freeze({ version: '1.0', statements: Object.freeze(statements) });
}

/**
 * The statement for a blob: the one named `name`, or without a name the globalPolicy
 * statement (notation-go GetApplicableTrustPolicy / GetGlobalTrustPolicy).
 */
export function selectBlobStatement(policy: BlobTrustPolicy, name?: string): BlobTrustPolicyStatement {
  if (name === undefined || name.trim() === '') {
    const global = policy.statements.find((s) => s.globalPolicy);
    if (global !== undefined) return global;
    throw new PortcullisError('ERR_POLICY_NO_MATCH', 'no global blob trust policy');
  }
  const named = policy.statements.find((s) => s.name === name);
  if (named !== undefined) return named;
  throw new PortcullisError('ERR_POLICY_NO_MATCH', `no applicable blob trust policy with name ${goQuote(name)}`, {
    context: { policy: name },
  });
}
