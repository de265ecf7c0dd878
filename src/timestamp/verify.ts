import { createHash } from 'node:crypto';
import { PortcullisError } from '../errors/index.js';
import { EKU, bytesEqual, type Certificate, type CertificateCache } from '../x509/index.js';
import { OID } from './oids.js';
import { verifySignerInfo } from './signer-info.js';
import type { TimestampToken, TstInfo } from './token.js';
import { buildTsaChain } from './tsa-chain.js';

export interface VerifyTimestampOptions {
  /** The bytes the message imprint covers: the primitive signature of the Notary envelope. */
  readonly signature: Uint8Array;
  /** Certificates of the policy's `tsa` trust stores. */
  readonly trustedRoots: readonly Certificate[];
  /** Remembers TSA certificate issuance (path building) across tokens; see buildTsaChain. */
  readonly certificateCache?: CertificateCache;
}

export interface TimestampVerification {
  readonly genTime: Date;
  readonly accuracyMs: number;
  /** [genTime − accuracy, genTime + accuracy]: when the signature existed, as far as is proven. */
  readonly interval: { readonly notBefore: Date; readonly notAfter: Date };
  /** Signer leaf first, ending in the trusted certificate. */
  readonly tsaChain: readonly Certificate[];
  readonly signer: Certificate;
}

/**
 * The accuracy to apply around genTime: TSTInfo.accuracy when present; otherwise 1 s under the
 * RFC 3628 baseline policy (0.4.0.2023.1.1, which requires at least that accuracy); otherwise 0.
 */
export function accuracyMsOf(info: TstInfo): number {
  if (info.accuracy !== undefined) {
    const { seconds, millis, micros } = info.accuracy;
    // Rounded up so the interval never claims more precision than the TSA gave.
    return seconds * 1000 + millis + Math.ceil(micros / 1000);
  }
  return info.policy === OID.baselineTimestampPolicy ? 1000 : 0;
}

/**
 * Verifies an RFC 3161 timestamp countersignature of a Notary signature:
 * 1. the message imprint is the hash of `signature` (E2, B16-6);
 * 2. some SignerInfo verifies (RFC 5652 §5.6; one good SignerInfo suffices, E4/E21);
 * 3. the TSA chain leads to a trusted certificate, every certificate valid at genTime;
 * 4. the TSA certificate may be used for timestamping (EKU id-kp-timeStamping, RFC 3161 §2.3).
 * Throws ERR_TIMESTAMP_INVALID or ERR_TIMESTAMP_UNTRUSTED. No revocation checking here.
 */
export function verifyTimestamp(token: TimestampToken, options: VerifyTimestampOptions): TimestampVerification {
  const { info } = token;
  const imprint = info.messageImprint;
  const hashed = createHash(imprint.hashAlgorithm).update(options.signature).digest();
  if (!bytesEqual(hashed, imprint.hashedMessage)) {
    throw new PortcullisError(
      'ERR_TIMESTAMP_INVALID',
      'invalid TSTInfo: mismatched message (the timestamp does not cover this signature)',
    );
  }

  let signer: Certificate | undefined;
  const failures: PortcullisError[] = [];
  for (const si of token.signerInfos) {
    try {
      signer = verifySignerInfo(token, si);
      break;
    } catch (error) {
      if (!(error instanceof PortcullisError)) throw error;
      failures.push(error);
    }
  }
  if (signer === undefined) {
    const first = failures[0];
    if (failures.length === 1 && first !== undefined) throw first;
    throw new PortcullisError(
      'ERR_TIMESTAMP_INVALID',
      `no SignerInfo of the timestamp token verifies: ${failures.map((f) => f.message).join('; ')}`,
      { cause: first },
    );
  }

  const tsaChain = buildTsaChain(
    signer,
    token.certificates,
    options.trustedRoots,
    info.genTime,
    options.certificateCache,
  );

  const eku = signer.extendedKeyUsage?.oids ?? [];
  if (!eku.includes(EKU.timeStamping)) {
    throw new PortcullisError(
      'ERR_TIMESTAMP_INVALID',
      `TSA certificate "${signer.subject}" does not have the timeStamping extended key usage`,
    );
  }

  const accuracyMs = accuracyMsOf(info);
  const genMs = info.genTime.getTime();
  return {
    genTime: new Date(genMs),
    accuracyMs,
    interval: { notBefore: new Date(genMs - accuracyMs), notAfter: new Date(genMs + accuracyMs) },
    tsaChain,
    signer,
  };
}
