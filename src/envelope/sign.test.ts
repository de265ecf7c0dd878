import { createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeSigningChain, Pki } from '../../test/helpers/pki.js';
import { parseCertificate } from '../x509/certificate.js';
import { signPrimitive } from './algorithms.js';
import { parseEnvelope, prepareEnvelope, type SigningKey } from './index.js';

const payload = new TextEncoder().encode('{"targetArtifact":{"mediaType":"m","digest":"sha256:00","size":1}}');

describe('two-step signing (remote signers and timestamping)', () => {
  const pki = new Pki();
  let key: SigningKey;

  beforeAll(() => {
    const chain = codeSigningChain(pki, { leafKey: 'ec-384' });
    key = {
      privateKey: createPrivateKey(chain.leaf.keyPem),
      certificateChain: chain.chainDer.map((d) => parseCertificate(d)),
    };
  });
  afterAll(() => pki.cleanup());

  for (const [format, mediaType] of [
    ['jws', 'application/jose+json'],
    ['cose', 'application/cose'],
  ] as const) {
    it(`${format}: attaches a timestamp token obtained over the primitive signature`, () => {
      const prepared = prepareEnvelope(
        format,
        { payload, signingTime: new Date('2024-05-01T10:00:00Z') },
        key.certificateChain,
      );
      expect(prepared.algorithm).toBe('ES384');
      const signature = signPrimitive(prepared.algorithm, key.privateKey, prepared.signingInput);
      const token = new Uint8Array([0x30, 0x00]);
      const env = parseEnvelope(mediaType, prepared.finish(signature, token));
      expect(env.signature).toEqual(signature);
      expect(env.unsigned.timestampSignature).toEqual(token);
    });
  }

  it('refuses an empty certificate chain', () => {
    expect(() => prepareEnvelope('jws', { payload, signingTime: new Date(0) }, [])).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_INVALID' }),
    );
  });

  it('refuses an extended attribute that collides with a Notary header', () => {
    const request = {
      payload,
      signingTime: new Date(0),
      extendedAttributes: [{ key: 'io.cncf.notary.expiry', value: 'x', critical: false }],
    };
    expect(() => prepareEnvelope('cose', request, key.certificateChain)).toThrow(
      expect.objectContaining({ code: 'ERR_INPUT_INVALID' }),
    );
  });
});
