import { PortcullisError } from '../errors/index.js';
import type { KeyInfo } from './certificate.js';

/** The six signature algorithms the Notary spec allows, by their JWS names (envelope re-exports it). */
export type SignatureAlgorithm = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/**
 * Notary signature-algorithm selection (signature-specification.md, "Algorithm Selection"):
 * the algorithm is derived from the signing key and nothing else. Only these six key
 * specs exist; any other size (RSA 1024/8192, P-224) is rejected, as notation does.
 */
const BY_KEY: Record<string, SignatureAlgorithm> = {
  'RSA-2048': 'PS256',
  'RSA-3072': 'PS384',
  'RSA-4096': 'PS512',
  'EC-256': 'ES256',
  'EC-384': 'ES384',
  'EC-521': 'ES512',
};

export type HashName = 'sha256' | 'sha384' | 'sha512';

export const HASH_OF: Record<SignatureAlgorithm, HashName> = {
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

/** The key spec string notation uses (`RSA-2048`, `EC-256`, …). */
export function keySpecName(key: KeyInfo): string {
  return `${key.type}-${key.size}`;
}

export function isSupportedKey(key: KeyInfo): boolean {
  return Object.hasOwn(BY_KEY, keySpecName(key));
}

/** The signature algorithm a key implies. Throws ERR_CERT_REQUIREMENTS for unsupported keys. */
export function signatureAlgorithmForKey(key: KeyInfo, subject?: string): SignatureAlgorithm {
  const alg = BY_KEY[keySpecName(key)];
  if (alg !== undefined) return alg;
  const who = subject === undefined ? '' : `certificate with subject "${subject}": `;
  const what =
    key.type === 'RSA'
      ? `rsa key size ${key.size} bits is not supported`
      : key.type === 'EC'
        ? `ecdsa key size ${key.size} bits is not supported`
        : `key type ${key.nodeType} is not supported`;
  throw new PortcullisError('ERR_CERT_REQUIREMENTS', `${who}${what}`);
}
