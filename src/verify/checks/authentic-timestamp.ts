import { PortcullisError, toPortcullisError } from '../../errors/index.js';
import type { VerifiedEnvelope } from '../../envelope/types.js';
import type { TrustPolicyStatement } from '../../policy/types.js';
import { parseTimestampToken, verifyTimestamp } from '../../timestamp/index.js';
import type { CertificateCache } from '../../x509/certificate.js';
import { checkChainCoversInterval, checkChainValidAt, validateCertificateChain } from '../../x509/index.js';
import type { TrustStores } from '../types.js';
import { storeCertificates } from './authenticity.js';

export interface TimestampEvidence {
  readonly genTime: Date;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface AuthenticTimestampOutcome {
  readonly error?: PortcullisError;
  readonly timestamp?: TimestampEvidence;
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
  statement: TrustPolicyStatement,
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
      return { error: new PortcullisError('ERR_TIMESTAMP_MISSING', 'no timestamp countersignature was found in the signature envelope') };
    }
    const token = parseTimestampToken(tokenBytes, cache);
    const trustedRoots = storeCertificates(statement, stores, 'tsa');
    const verified = verifyTimestamp(token, { signature: envelope.signature, trustedRoots });
    validateCertificateChain(verified.tsaChain, 'timestamping');
    const { notBefore, notAfter } = verified.interval;
    checkChainCoversInterval(chain, notBefore, notAfter);
    return { timestamp: { genTime: verified.genTime, notBefore, notAfter } };
  } catch (error) {
    if (error instanceof PortcullisError && error.code === 'ERR_TRUSTSTORE_NOT_FOUND') throw error;
    return { error: toPortcullisError(error, 'ERR_TIMESTAMP_INVALID') };
  }
}
