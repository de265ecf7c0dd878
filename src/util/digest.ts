import { createHash } from 'node:crypto';

export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** `sha256:<hex>` of the bytes. */
export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Splits and checks an OCI digest string; returns undefined when it is not well formed. */
export function parseDigest(digest: string): { algorithm: DigestAlgorithm; hex: string } | undefined {
  const match = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(digest);
  if (match === null) return undefined;
  const algorithm = match[1] as DigestAlgorithm;
  const hex = match[2] as string;
  if (hex.length !== HEX_LENGTH[algorithm]) return undefined;
  return { algorithm, hex };
}

/** True when the bytes hash to the given digest (with the digest's own algorithm). */
export function matchesDigest(bytes: Uint8Array, digest: string): boolean {
  const parsed = parseDigest(digest);
  if (parsed === undefined) return false;
  return createHash(parsed.algorithm).update(bytes).digest('hex') === parsed.hex;
}
