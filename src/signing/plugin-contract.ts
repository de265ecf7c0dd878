import { parsePayload, type SignatureAlgorithm } from '../envelope/index.js';
import { bytesEqual } from '../x509/index.js';

// What the plugin contract fixes (specs/plugin-extensibility.md), apart from running the plugin.

export interface KeySpec {
  readonly algorithm: SignatureAlgorithm;
  readonly signingAlgorithm: string;
  readonly hashAlgorithm: string;
}

/** The plugin contract's key specs, signing algorithms and hash names, per Notary algorithm. */
const KEY_SPECS: Readonly<Record<string, KeySpec>> = {
  'RSA-2048': { algorithm: 'PS256', signingAlgorithm: 'RSASSA-PSS-SHA-256', hashAlgorithm: 'SHA-256' },
  'RSA-3072': { algorithm: 'PS384', signingAlgorithm: 'RSASSA-PSS-SHA-384', hashAlgorithm: 'SHA-384' },
  'RSA-4096': { algorithm: 'PS512', signingAlgorithm: 'RSASSA-PSS-SHA-512', hashAlgorithm: 'SHA-512' },
  'EC-256': { algorithm: 'ES256', signingAlgorithm: 'ECDSA-SHA-256', hashAlgorithm: 'SHA-256' },
  'EC-384': { algorithm: 'ES384', signingAlgorithm: 'ECDSA-SHA-384', hashAlgorithm: 'SHA-384' },
  'EC-521': { algorithm: 'ES512', signingAlgorithm: 'ECDSA-SHA-512', hashAlgorithm: 'SHA-512' },
};

/** The contract's key spec named `value`, if it is one. */
export function keySpecOf(value: unknown): KeySpec | undefined {
  return typeof value === 'string' && Object.hasOwn(KEY_SPECS, value) ? KEY_SPECS[value] : undefined;
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/**
 * An envelope plugin may add annotations to the target artifact, nothing else
 * (plugin-extensibility.md generate-envelope): same mediaType, digest and size, and every
 * annotation asked for present with the same value.
 */
export function checkPayloadKept(
  requested: Uint8Array,
  returned: Uint8Array,
  fail: (message: string, cause?: unknown) => Error,
): void {
  if (bytesEqual(requested, returned)) return;
  let want;
  let got;
  try {
    want = parsePayload(requested).targetArtifact;
    got = parsePayload(returned).targetArtifact;
  } catch (cause) {
    throw fail('the envelope payload is not the requested one', cause);
  }
  const wantAnnotations = want.annotations ?? {};
  const gotAnnotations = got.annotations ?? {};
  const same =
    want.mediaType === got.mediaType &&
    want.digest === got.digest &&
    want.size === got.size &&
    want.artifactType === got.artifactType &&
    Object.entries(wantAnnotations).every(([k, v]) => gotAnnotations[k] === v);
  if (!same) throw fail('the envelope payload does not describe the requested artifact');
}
