import { PortcullisError } from '../../errors/index.js';
import type { VerifiedEnvelope } from '../../envelope/index.js';
import { matchTrustedIdentity, type StatementCore, type TrustStoreType } from '../../policy/index.js';
import { type Certificate, chainContainsTrustedCertificate } from '../../x509/index.js';
import type { TrustStores } from '../types.js';

/** The certificates of every store of `type` the statement lists (stores are merged). */
export function storeCertificates(statement: StatementCore, stores: TrustStores, type: TrustStoreType): Certificate[] {
  const certs: Certificate[] = [];
  for (const ref of statement.trustStores) {
    if (ref.type !== type) continue;
    const found = stores.get(ref.type, ref.name);
    if (found === undefined) {
      throw new PortcullisError(
        'ERR_TRUSTSTORE_NOT_FOUND',
        `the trust store "${ref.name}" of type "${ref.type}" does not exist`,
        {
          context: { policy: statement.name, subject: `${ref.type}:${ref.name}` },
        },
      );
    }
    certs.push(...found);
  }
  return certs;
}

/**
 * Authenticity (trust-store-trust-policy.md, "Validate Authenticity"): the chain must contain a
 * certificate of the stores matching the signing scheme (ca for notary.x509, signingAuthority for
 * the signing-authority scheme), byte-equal; then the leaf must match a trusted identity, unless a
 * verification plugin verifies the trusted identity.
 */
export function checkAuthenticity(
  envelope: VerifiedEnvelope,
  statement: StatementCore,
  stores: TrustStores,
  options: { readonly identityByPlugin?: boolean } = {},
): PortcullisError | undefined {
  const type: TrustStoreType = envelope.signed.signingScheme === 'notary.x509' ? 'ca' : 'signingAuthority';
  const trusted = storeCertificates(statement, stores, type);
  if (trusted.length === 0) {
    return new PortcullisError(
      'ERR_TRUSTSTORE_EMPTY_FOR_SCHEME',
      `no trusted certificates are found to verify authenticity: trust policy "${statement.name}" lists no "${type}" trust store for signing scheme ${envelope.signed.signingScheme}`,
    );
  }
  const chain = envelope.unsigned.certificateChain;
  if (chainContainsTrustedCertificate(chain, trusted) === undefined) {
    return new PortcullisError(
      'ERR_CHAIN_UNTRUSTED',
      `the signature's certificate chain does not contain any trusted certificate (signer "${chain[0]?.subject ?? '?'}", trust stores ${statement.trustStores
        .filter((s) => s.type === type)
        .map((s) => `${s.type}:${s.name}`)
        .join(', ')})`,
    );
  }
  // A plugin with SIGNATURE_VERIFIER.TRUSTED_IDENTITY checks the identities instead (its answer comes later).
  if (options.identityByPlugin === true) return undefined;
  try {
    matchTrustedIdentity(statement, (chain[0] as Certificate).subjectRdns);
  } catch (error) {
    if (error instanceof PortcullisError) return error;
    throw error;
  }
  return undefined;
}
