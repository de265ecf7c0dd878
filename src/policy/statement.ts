import { goQuote } from './go-format.js';
import { invalidPolicy } from './invalid.js';
import { resolveVerification } from './signature-verification.js';
import { parseTrustedIdentities } from './trusted-identities.js';
import { parseTrustStores } from './trust-stores.js';
import type { SignatureVerificationDocument, StatementCore } from './types.js';

export interface StatementCoreDocument {
  readonly name: string;
  readonly signatureVerification: SignatureVerificationDocument;
  readonly trustStores?: readonly string[];
  readonly trustedIdentities?: readonly string[];
}

/**
 * The statement rules shared by OCI and blob policies (spec "Trust Policy Constraints";
 * notation-go validatePolicyCore): a name; a valid signatureVerification; a skip statement
 * lists no trust stores or identities, any other statement lists both. `prefix` is the
 * document kind notation puts in front (`oci trust policy: `, `blob trust policy: `).
 */
export function validateStatementCore(doc: StatementCoreDocument, prefix: string): StatementCore {
  const name = doc.name;
  const invalid = (message: string) => invalidPolicy(`${prefix}${message}`, name === '' ? undefined : name);
  if (name === '') throw invalid('a trust policy statement is missing a name, every statement requires a name');
  const quoted = goQuote(name);

  const verification = resolveVerification(doc.signatureVerification);
  if (!verification.ok)
    throw invalid(`trust policy statement ${quoted} has invalid signatureVerification: ${verification.message}`);
  const { level, customized, actions, verifyTimestamp } = verification.value;

  const trustStores = doc.trustStores ?? [];
  const trustedIdentities = doc.trustedIdentities ?? [];
  if (level === 'skip') {
    if (trustStores.length > 0 || trustedIdentities.length > 0) {
      throw invalid(
        `trust policy statement ${quoted} is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped`,
      );
    }
    return {
      name,
      level,
      customized,
      actions,
      verifyTimestamp,
      trustStores: [],
      trustedIdentities: [],
      anyIdentity: false,
      x509Identities: [],
      otherIdentities: [],
    };
  }
  if (trustStores.length === 0 || trustedIdentities.length === 0) {
    throw invalid(
      `trust policy statement ${quoted} is either missing trust stores or trusted identities, both must be specified`,
    );
  }
  const stores = parseTrustStores(name, trustStores);
  if (!stores.ok) throw invalid(stores.message);
  const identities = parseTrustedIdentities(name, trustedIdentities);
  if (!identities.ok) throw invalid(identities.message);
  return {
    name,
    level,
    customized,
    actions,
    verifyTimestamp,
    trustStores: stores.stores,
    trustedIdentities: [...trustedIdentities],
    ...identities.value,
  };
}
