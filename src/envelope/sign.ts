import { createPublicKey, type KeyObject } from 'node:crypto';
import { PortcullisError } from '../errors/index.js';
import { bytesEqual, type Certificate, signatureAlgorithmForKey } from '../x509/index.js';
import { signPrimitive } from './algorithms.js';
import { prepareCose } from './cose/sign.js';
import { prepareJws } from './jws/sign.js';
import type { PreparedEnvelope } from './request.js';
import type { SignatureAlgorithm, SignRequest } from './types.js';

export type EnvelopeFormat = 'jws' | 'cose';

/** A private key and its certificate chain (leaf first). */
export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly certificateChain: readonly Certificate[];
}

/** Signs `signingInput` and returns the primitive signature (raw r||s for ECDSA). */
export type RawSigner = (signingInput: Uint8Array) => Uint8Array;

/**
 * Prepares an envelope whose algorithm is derived from the leaf certificate's key
 * (signature-specification.md "Algorithm Selection"; never chosen by the caller). Use this
 * two-step form for remote signers and for RFC 3161 timestamping of the signature.
 */
export function prepareEnvelope(
  format: EnvelopeFormat,
  request: SignRequest,
  certificateChain: readonly Certificate[],
): PreparedEnvelope & { readonly algorithm: SignatureAlgorithm } {
  const leaf = certificateChain[0];
  if (leaf === undefined) throw new PortcullisError('ERR_KEY_INVALID', 'the signing certificate chain is empty');
  const algorithm = signatureAlgorithmForKey(leaf.key, leaf.subject);
  const ders = certificateChain.map((c) => c.der);
  const prepared = format === 'jws' ? prepareJws(request, algorithm, ders) : prepareCose(request, algorithm, ders);
  return { algorithm, signingInput: prepared.signingInput, finish: prepared.finish };
}

/**
 * Lower-level signing with an explicit algorithm, certificate DERs and a raw signature function:
 * reproduces notation's bytes without a private key (C1 conformance) and serves external signers.
 */
export function signEnvelopeWith(
  format: EnvelopeFormat,
  request: SignRequest,
  algorithm: SignatureAlgorithm,
  certificateChain: readonly Uint8Array[],
  sign: RawSigner,
): Uint8Array {
  const prepared =
    format === 'jws'
      ? prepareJws(request, algorithm, certificateChain)
      : prepareCose(request, algorithm, certificateChain);
  return prepared.finish(sign(prepared.signingInput));
}

/** Signs a Notary envelope with a local key. The key must belong to the leaf certificate. */
export function signEnvelope(format: EnvelopeFormat, request: SignRequest, key: SigningKey): Uint8Array {
  const prepared = prepareEnvelope(format, request, key.certificateChain);
  const leaf = key.certificateChain[0]!;
  if (!keyMatches(key.privateKey, leaf.publicKey)) {
    throw new PortcullisError(
      'ERR_KEY_INVALID',
      `the private key does not belong to the certificate "${leaf.subject}"`,
    );
  }
  return prepared.finish(signPrimitive(prepared.algorithm, key.privateKey, prepared.signingInput));
}

/** Whether a private key belongs to a public key (same SubjectPublicKeyInfo). */
export function keyMatches(privateKey: KeyObject, publicKey: KeyObject): boolean {
  try {
    const a = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    const b = publicKey.export({ type: 'spki', format: 'der' });
    return bytesEqual(a, b);
  } catch {
    return false;
  }
}
