import { PortcullisError } from '../../errors/index.js';
import type { VerifiedEnvelope } from '../../envelope/index.js';
import type { RevocationChecker } from '../types.js';

/**
 * Revocation (trust-store-trust-policy.md, "Certificate Revocation Evaluation"). The core only
 * asks the injected checker; returns undefined when the chain is good or not revokable.
 * For notary.x509 the signing time is unauthenticated, so it is not used (revoked means revoked).
 */
export async function checkRevocation(
  envelope: VerifiedEnvelope,
  checker: RevocationChecker,
  at: Date,
): Promise<PortcullisError | undefined> {
  const chain = envelope.unsigned.certificateChain;
  const signingTime =
    envelope.signed.signingScheme === 'notary.x509.signingAuthority' ? envelope.signed.authenticSigningTime : undefined;
  const result = await checker.check(
    chain,
    signingTime === undefined ? { verificationTime: at } : { signingTime, verificationTime: at },
  );
  if (result.status === 'good' || result.status === 'nonRevokable') return undefined;
  const index = result.certificates.findIndex((c) => c.status === result.status);
  const cert = chain[index] ?? chain[0];
  const entry = result.certificates[index];
  const who = index === 0 ? 'signing certificate' : 'certificate';
  if (result.status === 'revoked') {
    const when = entry?.revokedAt === undefined ? '' : ` at ${entry.revokedAt.toISOString()}`;
    const why = entry?.reason === undefined ? '' : ` (reason: ${entry.reason})`;
    return new PortcullisError(
      'ERR_CERT_REVOKED',
      `${who} with subject "${cert?.subject ?? '?'}" is revoked${when}${why}`,
    );
  }
  const detail = entry?.detail === undefined ? '' : `: ${entry.detail}`;
  return new PortcullisError(
    'ERR_REVOCATION_UNKNOWN',
    `${who} with subject "${cert?.subject ?? '?'}" revocation status is unknown${detail}`,
  );
}
