import { createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeSigningChain, Pki, type KeyAlg } from '../../test/helpers/pki.js';
import { parseCertificate } from '../x509/certificate.js';
import { parseEnvelope, parsePayload, signEnvelope, type SigningKey, type SignRequest } from './index.js';

const KEYS: readonly [KeyAlg, string][] = [
  ['rsa-2048', 'PS256'],
  ['rsa-3072', 'PS384'],
  ['rsa-4096', 'PS512'],
  ['ec-256', 'ES256'],
  ['ec-384', 'ES384'],
  ['ec-521', 'ES512'],
];
const FORMATS = [
  ['jws', 'application/jose+json'],
  ['cose', 'application/cose'],
] as const;
const SCHEMES = ['notary.x509', 'notary.x509.signingAuthority'] as const;

const payload = new TextEncoder().encode(
  JSON.stringify({
    targetArtifact: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9',
      size: 517,
      annotations: { build: '42' },
    },
  }),
);

describe('sign → parse round trips', () => {
  const pki = new Pki();
  const keys = new Map<KeyAlg, SigningKey>();

  beforeAll(() => {
    for (const [alg] of KEYS) {
      const chain = codeSigningChain(pki, { leafKey: alg, name: `RT ${alg}` });
      keys.set(alg, {
        privateKey: createPrivateKey(chain.leaf.keyPem),
        certificateChain: chain.chainDer.map((der) => parseCertificate(der)),
      });
    }
  });
  afterAll(() => pki.cleanup());

  for (const [keyAlg, algorithm] of KEYS) {
    for (const [format, mediaType] of FORMATS) {
      for (const scheme of SCHEMES) {
        it(`${format} ${scheme} with ${keyAlg} verifies as ${algorithm}`, () => {
          const key = keys.get(keyAlg)!;
          const request: SignRequest = {
            payload,
            signingScheme: scheme,
            signingTime: new Date('2024-05-01T10:00:00Z'),
            expiry: new Date('2034-05-01T10:00:00Z'),
            signingAgent: 'portcullis-test/1.0',
            extendedAttributes: [
              { key: 'com.example.build', value: 'nightly', critical: false },
              { key: 'com.example.must', value: 'understand', critical: true },
            ],
            timestampSignature: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]),
          };
          const env = parseEnvelope(mediaType, signEnvelope(format, request, key));
          expect(env.mediaType).toBe(mediaType);
          expect(env.algorithm).toBe(algorithm);
          expect(env.signed.signingScheme).toBe(scheme);
          if (scheme === 'notary.x509') {
            expect(env.signed.signingTime?.toISOString()).toBe('2024-05-01T10:00:00.000Z');
            expect(env.signed.authenticSigningTime).toBeUndefined();
          } else {
            expect(env.signed.authenticSigningTime?.toISOString()).toBe('2024-05-01T10:00:00.000Z');
            expect(env.signed.signingTime).toBeUndefined();
          }
          expect(env.signed.expiry?.toISOString()).toBe('2034-05-01T10:00:00.000Z');
          // Order follows the encoding (COSE maps are canonical, so not the request order).
          const attributes = [...env.signed.extendedAttributes].sort((a, b) => a.key.localeCompare(b.key));
          expect(attributes).toEqual([
            { key: 'com.example.build', value: 'nightly', critical: false },
            { key: 'com.example.must', value: 'understand', critical: true },
          ]);
          expect(env.unsigned.signingAgent).toBe('portcullis-test/1.0');
          expect(env.unsigned.timestampSignature).toEqual(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]));
          expect(env.unsigned.certificateChain.map((c) => c.sha256)).toEqual(key.certificateChain.map((c) => c.sha256));
          expect(parsePayload(env.payload).targetArtifact.annotations).toEqual({ build: '42' });
        });
      }
    }
  }

  it('refuses a private key that does not belong to the leaf certificate', () => {
    const rsa = keys.get('rsa-2048')!;
    const ec = keys.get('ec-256')!;
    const mismatched = { privateKey: ec.privateKey, certificateChain: rsa.certificateChain };
    expect(() => signEnvelope('jws', { payload, signingTime: new Date(0) }, mismatched)).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_INVALID' }),
    );
  });

  it('refuses an expiry that is not after the signing time', () => {
    const key = keys.get('ec-256')!;
    const at = new Date('2024-01-01T00:00:00Z');
    expect(() => signEnvelope('cose', { payload, signingTime: at, expiry: at }, key)).toThrow(
      expect.objectContaining({ code: 'ERR_INPUT_INVALID' }),
    );
  });
});
