import { PortcullisError, toPortcullisError } from '../../errors/index.js';
import type { VerifiedEnvelope } from '../../envelope/index.js';
import type { StatementCore } from '../../policy/index.js';
import { parseTimestampToken, verifyTimestamp } from '../../timestamp/index.js';
import {
  type Certificate,
  type CertificateCache,
  checkChainCoversInterval,
  checkChainValidAt,
  validateCertificateChain,
} from '../../x509/index.js';
import type { RevocationChecker, TrustStores } from '../types.js';
import { storeCertificates } from './authenticity.js';

export interface TimestampEvidence {
  readonly genTime: Date;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface AuthenticTimestampOutcome {
  readonly error?: PortcullisError;
  readonly timestamp?: TimestampEvidence;
  /** The verified TSA chain (signer first), for its revocation check. */
  readonly tsaChain?: readonly Certificate[];
}

/**
 * Authentic timestamp (trust-store-trust-policy.md, "Validate Authentic Timestamp").
 * signingAuthority: every chain certificate valid at the signed authentic signing time.
 * notary.x509: when the policy lists a tsa store and verifyTimestamp demands it, an RFC 3161
 * countersignature whose interval lies inside every chain certificate's validity; otherwise the
 * whole chain must be valid at the verification time.
 */
export function checkAuthenticTimestamp(
  envelope: VerifiedEnvelope,
  statement: StatementCore,
  stores: TrustStores,
  at: Date,
  cache?: CertificateCache,
): AuthenticTimestampOutcome {
  const chain = envelope.unsigned.certificateChain;
  try {
    if (envelope.signed.signingScheme === 'notary.x509.signingAuthority') {
      const when = envelope.signed.authenticSigningTime;
      if (when === undefined) {
        return { error: new PortcullisError('ERR_ENVELOPE_HEADER_INVALID', 'authentic signing time is missing') };
      }
      checkChainValidAt(chain, when, 'authenticSigningTime');
      return {};
    }

    const hasTsaStore = statement.trustStores.some((s) => s.type === 'tsa');
    const anyExpiredNow = chain.some((c) => at.getTime() > c.notAfter.getTime());
    const required = hasTsaStore && (statement.verifyTimestamp === 'always' || anyExpiredNow);
    if (!required) {
      checkChainValidAt(chain, at, 'verification');
      return {};
    }

    const tokenBytes = envelope.unsigned.timestampSignature;
    if (tokenBytes === undefined) {
      return {
        error: new PortcullisError(
          'ERR_TIMESTAMP_MISSING',
          'no timestamp countersignature was found in the signature envelope',
        ),
      };
    }
    const token = parseTimestampToken(tokenBytes, cache);
    const trustedRoots = storeCertificates(statement, stores, 'tsa');
    const verified = verifyTimestamp(token, {
      signature: envelope.signature,
      trustedRoots,
      ...(cache === undefined ? {} : { certificateCache: cache }),
    });
    validateCertificateChain(verified.tsaChain, 'timestamping', cache);
    const { notBefore, notAfter } = verified.interval;
    checkChainCoversInterval(chain, notBefore, notAfter);
    return { timestamp: { genTime: verified.genTime, notBefore, notAfter }, tsaChain: verified.tsaChain };
  } catch (error) {
    if (error instanceof PortcullisError && error.code === 'ERR_TRUSTSTORE_NOT_FOUND') throw error;
    return { error: toPortcullisError(error, 'ERR_TIMESTAMP_INVALID') };
  }
}

/**
 * Revocation of the TSA chain, run whenever a timestamp was verified (notation-go verifier:
 * "timestamping certificate … is revoked / revocation status is unknown"). It belongs to the
 * authenticTimestamp check, not to revocation. No signing time is given: revoked means revoked.
 */
export async function checkTimestampRevocation(
  tsaChain: readonly Certificate[],
  checker: RevocationChecker,
  at: Date,
): Promise<PortcullisError | undefined> {
  const result = await checker.check(tsaChain, { verificationTime: at });
  if (result.status === 'good' || result.status === 'nonRevokable') return undefined;
  const index = Math.max(
    0,
    result.certificates.findIndex((c) => c.status === result.status),
  );
  const subject = tsaChain[index]?.subject ?? '?';
  const entry = result.certificates[index];
  if (result.status === 'revoked') {
    const when = entry?.revokedAt === undefined ? '' : ` at ${entry.revokedAt.toISOString()}`;
    const why = entry?.reason === undefined ? '' : ` (reason: ${entry.reason})`;
    return new PortcullisError(
      'ERR_CERT_REVOKED',
      `timestamping certificate with subject "${subject}" is revoked${when}${why}`,
    );
  }
  const detail = entry?.detail === undefined ? '' : `: ${entry.detail}`;
  return new PortcullisError(
    'ERR_REVOCATION_UNKNOWN',
    `timestamping certificate with subject "${subject}" revocation status is unknown${detail}`,
  );
}
