import { constants, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { PortcullisError } from '../errors/index.js';
import { HASH_OF, type HashName } from '../x509/index.js';
import type { SignatureAlgorithm } from './types.js';

/**
 * The six Notary signature algorithms (signature-specification.md "Signature Algorithm
 * Requirements"; notary-spec-digest §6): their JWS names, COSE labels (RFC 9053 / RFC 8230) and
 * the node:crypto parameters. RSASSA-PSS uses MGF1 with the same hash; Go signs with salt length =
 * hash length and verifies with automatic salt length, and so do we. ECDSA signatures are the
 * raw r||s form (RFC 7518 §3.4, RFC 9053 §2.1), not DER.
 */
interface AlgorithmInfo {
  readonly cose: number;
  readonly hash: HashName;
  readonly kind: 'rsa-pss' | 'ecdsa';
  /** Byte length of r and of s for ECDSA (the raw signature is twice this). */
  readonly ecFieldBytes: number;
}

const ALGORITHMS: Readonly<Record<SignatureAlgorithm, AlgorithmInfo>> = {
  PS256: { cose: -37, hash: HASH_OF.PS256, kind: 'rsa-pss', ecFieldBytes: 0 },
  PS384: { cose: -38, hash: HASH_OF.PS384, kind: 'rsa-pss', ecFieldBytes: 0 },
  PS512: { cose: -39, hash: HASH_OF.PS512, kind: 'rsa-pss', ecFieldBytes: 0 },
  ES256: { cose: -7, hash: HASH_OF.ES256, kind: 'ecdsa', ecFieldBytes: 32 },
  ES384: { cose: -35, hash: HASH_OF.ES384, kind: 'ecdsa', ecFieldBytes: 48 },
  ES512: { cose: -36, hash: HASH_OF.ES512, kind: 'ecdsa', ecFieldBytes: 66 },
};

const HASH_BYTES: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

export function isSignatureAlgorithm(name: unknown): name is SignatureAlgorithm {
  return typeof name === 'string' && Object.hasOwn(ALGORITHMS, name);
}

export function coseLabelOf(algorithm: SignatureAlgorithm): number {
  return ALGORITHMS[algorithm].cose;
}

/** The algorithm for a COSE alg label, or undefined when it is not one of the six. */
export function algorithmFromCoseLabel(label: unknown): SignatureAlgorithm | undefined {
  for (const [name, info] of Object.entries(ALGORITHMS) as [SignatureAlgorithm, AlgorithmInfo][]) {
    if (info.cose === label) return name;
  }
  return undefined;
}

/** True when `signature` is a valid `algorithm` signature of `data` under `key`. Never throws. */
export function verifyPrimitive(
  algorithm: SignatureAlgorithm,
  key: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const info = ALGORITHMS[algorithm];
  try {
    if (info.kind === 'ecdsa') {
      // ieee-p1363 would also accept other lengths for some inputs; the raw form has exactly one.
      if (signature.length !== 2 * info.ecFieldBytes) return false;
      return nodeVerify(info.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    return nodeVerify(
      info.hash,
      data,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
      signature,
    );
  } catch {
    return false;
  }
}

/** Produces an `algorithm` signature of `data`. Throws ERR_KEY_INVALID when the key cannot. */
export function signPrimitive(algorithm: SignatureAlgorithm, key: KeyObject, data: Uint8Array): Uint8Array {
  const info = ALGORITHMS[algorithm];
  try {
    const signature =
      info.kind === 'ecdsa'
        ? nodeSign(info.hash, data, { key, dsaEncoding: 'ieee-p1363' })
        : nodeSign(info.hash, data, {
            key,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: HASH_BYTES[info.hash],
          });
    return new Uint8Array(signature);
  } catch (cause) {
    throw new PortcullisError('ERR_KEY_INVALID', `cannot sign with ${algorithm}: ${(cause as Error).message}`, {
      cause,
    });
  }
}
