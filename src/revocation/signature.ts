import { constants, verify, type KeyObject } from 'node:crypto';
import type { AlgorithmIdentifier } from '@peculiar/asn1-x509';

/**
 * Verifies the signature of an OCSP response or CRL (signed data, RFC 5280 §5.1.1.2 /
 * RFC 6960 §4.2.1) with node:crypto. RSA PKCS#1 v1.5, ECDSA and Ed25519 with SHA-1 or SHA-2.
 * SHA-1 is accepted here, unlike for certificates, because notation-core-go (Go's
 * `CheckSignature`) accepts it for OCSP responses and CRLs and many responders still use it;
 * RSASSA-PSS signed responses are not supported (reported as an unsupported algorithm).
 */

const ALGORITHMS: Readonly<Record<string, { kind: 'rsa' | 'ecdsa' | 'eddsa'; hash: string | null }>> = {
  '1.2.840.113549.1.1.5': { kind: 'rsa', hash: 'sha1' },
  '1.2.840.113549.1.1.11': { kind: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { kind: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { kind: 'rsa', hash: 'sha512' },
  '1.2.840.10045.4.1': { kind: 'ecdsa', hash: 'sha1' },
  '1.2.840.10045.4.3.2': { kind: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { kind: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { kind: 'ecdsa', hash: 'sha512' },
  '1.3.101.112': { kind: 'eddsa', hash: null },
};

export type SignatureCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export function verifySignedData(
  data: Uint8Array,
  algorithm: AlgorithmIdentifier,
  signature: Uint8Array,
  key: KeyObject,
): SignatureCheck {
  const alg = ALGORITHMS[algorithm.algorithm];
  if (alg === undefined) return { ok: false, reason: `unsupported signature algorithm ${algorithm.algorithm}` };
  const keyType = key.asymmetricKeyType;
  const expected = alg.kind === 'rsa' ? 'rsa' : alg.kind === 'ecdsa' ? 'ec' : 'ed25519';
  if (keyType !== expected)
    return { ok: false, reason: `signature algorithm ${algorithm.algorithm} does not match the ${keyType ?? '?'} key` };
  try {
    const ok =
      alg.kind === 'rsa'
        ? verify(alg.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature)
        : alg.kind === 'ecdsa'
          ? verify(alg.hash, data, { key, dsaEncoding: 'der' }, signature)
          : verify(null, data, key, signature);
    return ok ? { ok: true } : { ok: false, reason: 'signature does not verify' };
  } catch (error) {
    return { ok: false, reason: `signature does not verify: ${(error as Error).message}` };
  }
}
