import { PortcullisError } from '../../errors/index.js';
import type { VerifiedEnvelope } from '../../envelope/index.js';
import type { Certificate } from '../../x509/index.js';
import type { RevocationChecker, RevocationResult } from '../types.js';

/**
 * Revocation (trust-store-trust-policy.md, "Certificate Revocation Evaluation"). The core only
 * asks the injected checker; `error` is undefined when the chain is good or not revokable.
 * For notary.x509 the signing time is unauthenticated, so it is not used (revoked means revoked).
 * `detail` says, certificate by certificate, what the status is and which source answered.
 */
export async function checkRevocation(
  envelope: VerifiedEnvelope,
  checker: RevocationChecker,
  at: Date,
): Promise<{ readonly error: PortcullisError | undefined; readonly detail: string }> {
  const chain = envelope.unsigned.certificateChain;
  const signingTime =
    envelope.signed.signingScheme === 'notary.x509.signingAuthority' ? envelope.signed.authenticSigningTime : undefined;
  const result = await checker.check(
    chain,
    signingTime === undefined ? { verificationTime: at } : { signingTime, verificationTime: at },
  );
  const detail = describeRevocation(chain, result);
  if (result.status === 'good' || result.status === 'nonRevokable') return { error: undefined, detail };
  const index = result.certificates.findIndex((c) => c.status === result.status);
  const cert = chain[index] ?? chain[0];
  const entry = result.certificates[index];
  const who = index === 0 ? 'signing certificate' : 'certificate';
  if (result.status === 'revoked') {
    const when = entry?.revokedAt === undefined ? '' : ` at ${entry.revokedAt.toISOString()}`;
    const why = entry?.reason === undefined ? '' : ` (reason: ${entry.reason})`;
    const by = entry?.answeredBy === undefined ? '' : `, according to ${entry.answeredBy}`;
    return {
      error: new PortcullisError(
        'ERR_CERT_REVOKED',
        `${who} with subject "${cert?.subject ?? '?'}" is revoked${when}${why}${by}`,
      ),
      detail,
    };
  }
  const causes = entry?.detail === undefined ? '' : `: ${entry.detail}`;
  return {
    error: new PortcullisError(
      'ERR_REVOCATION_UNKNOWN',
      `${who} with subject "${cert?.subject ?? '?'}" revocation status is unknown${causes}`,
    ),
    detail,
  };
}

/** One clause per certificate: `"CN=leaf": good (preloaded CRL /…/ca.crl)`. */
export function describeRevocation(chain: readonly Certificate[], result: RevocationResult): string {
  return result.certificates
    .map((c, i) => {
      const by = c.answeredBy === undefined ? '' : ` (${c.answeredBy})`;
      return `"${chain[i]?.subject ?? '?'}": ${c.status}${by}`;
    })
    .join('; ');
}
