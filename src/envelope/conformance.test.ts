import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBase64Url } from '../util/base64.js';
import { signEnvelopeWith } from './index.js';

/**
 * notation-core-go conformance vectors (INDEX.md C1): given the same inputs, the signer must
 * produce the same protected header and payload bytes as notation (JWS) and the same
 * COSE_Sign1_Tagged encoding once the (randomised) signature is substituted (COSE).
 */
const VECTORS = path.resolve(import.meta.dirname, '../../../shared/vectors/notation-core-go/conformance');
const load = <T>(name: string): T => JSON.parse(readFileSync(path.join(VECTORS, name), 'utf8')) as T;

describe('JWS conformance (C1)', () => {
  const vector = load<{ payload: string; protected: string; signature: string }>('jws-conformance.json');

  it("reproduces notation's protected header and payload byte for byte", () => {
    const envelope = signEnvelopeWith(
      'jws',
      {
        payload: new TextEncoder().encode('{"key":"hello JWS"}'),
        signingScheme: 'notary.x509',
        signingTime: new Date('2022-08-29T13:50:00Z'),
        expiry: new Date('2099-08-30T13:50:00Z'),
        signingAgent: 'NotationConformanceTest/1.0.0',
        extendedAttributes: [
          { key: 'signedCritKey1', value: 'signedCritValue1', critical: true },
          { key: 'signedKey1', value: 'signedValue1', critical: false },
          { key: 'signedKey2', value: 'signedValue1', critical: false },
          { key: 'signedKey3', value: 'signedValue1', critical: false },
          { key: 'signedKey4', value: 'signedValue1', critical: false },
        ],
      },
      'ES256',
      [],
      () => decodeBase64Url(vector.signature),
    );
    const produced = JSON.parse(Buffer.from(envelope).toString('utf8')) as Record<string, unknown>;
    expect(produced['protected']).toBe(vector.protected);
    expect(produced['payload']).toBe(vector.payload);
    expect(produced['header']).toEqual({ x5c: [], 'io.cncf.notary.signingAgent': 'NotationConformanceTest/1.0.0' });
  });
});

describe('COSE conformance (C1)', () => {
  const vector = load<{
    signingTime: number;
    expiry: number;
    payload: string;
    protectedHeaders: { cborHex: string };
    expectedOutput: { cborHex: string };
  }>('cose-conformance.json');
  const expected = Buffer.from(vector.expectedOutput.cborHex, 'hex');
  // The signature is the last item: bstr of 384 bytes (RSA-3072), head 0x59 0x01 0x80.
  const signature = new Uint8Array(expected.subarray(expected.length - 384));

  it("reproduces notation's COSE_Sign1_Tagged encoding byte for byte", () => {
    const envelope = signEnvelopeWith(
      'cose',
      {
        payload: new Uint8Array(Buffer.from(vector.payload, 'hex')),
        signingScheme: 'notary.x509',
        signingTime: new Date(vector.signingTime * 1000),
        expiry: new Date(vector.expiry * 1000),
        signingAgent: 'NotationConformanceTest/1.0.0',
        extendedAttributes: [
          { key: 'signedCritKey1', value: 'signedCritValue1', critical: true },
          { key: 'signedKey1', value: 'signedValue1', critical: false },
        ],
      },
      'PS384',
      [],
      () => signature,
    );
    expect(Buffer.from(envelope).toString('hex').toUpperCase()).toBe(vector.expectedOutput.cborHex);
    const protectedHex = vector.protectedHeaders.cborHex;
    expect(Buffer.from(envelope).toString('hex').toUpperCase()).toContain(protectedHex);
  });
});
