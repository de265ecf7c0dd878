import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestTsa } from '../../test/helpers/tsa.js';
import { parseCertificate, type Certificate } from '../x509/certificate.js';
import { bigintFromInteger, integerFromBigint } from './integer.js';
import { buildTimestampRequest, parseTimestampResponse } from './request.js';
import { parseTimestampToken } from './token.js';
import { verifyTimestamp } from './verify.js';
import { caught as failure } from '../../test/helpers/errors.js';

describe('timestamp request and response', () => {
  let tsa: TestTsa;
  let root: Certificate;
  const signature = new Uint8Array(randomBytes(96));

  beforeAll(() => {
    tsa = new TestTsa({ key: 'ec-256', name: 'Request TSA' });
    root = parseCertificate(tsa.rootDer);
  });
  afterAll(() => tsa.cleanup());

  /** `openssl ts -query -in <file> -text` of a request we built. */
  function opensslText(request: Uint8Array): string {
    const file = tsa.pki.file(`req-${Math.random().toString(36).slice(2)}.tsq`);
    writeFileSync(file, request);
    return tsa.pki.openssl(['ts', '-query', '-in', file, '-text']).toString();
  }

  it('builds a version 1 request with the chosen hash, the nonce and certReq that openssl reads back', () => {
    const nonce = 0x8f00_1234_5678_9abcn; // top bit set: encoded with a leading zero octet
    const request = buildTimestampRequest({ message: signature, hash: 'sha384', nonce });
    const text = opensslText(request);
    expect(text).toMatch(/Version: 1/);
    expect(text).toMatch(/Hash Algorithm: sha384/);
    expect(text).toMatch(/Nonce: 0x8F00123456789ABC/);
    expect(text).toMatch(/Certificate required: yes/);
    expect(text).toMatch(/Policy OID: unspecified/);
  });

  it('gets a token from openssl ts -reply that verifies against the signature and carries the nonce', () => {
    for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
      const nonce = BigInt(`0x${randomBytes(8).toString('hex')}`) | 1n;
      const response = tsa.reply(buildTimestampRequest({ message: signature, hash, nonce }));
      const token = parseTimestampToken(parseTimestampResponse(response));
      expect(token.info.nonce).toBe(nonce);
      expect(token.info.messageImprint.hashAlgorithm).toBe(hash);
      const result = verifyTimestamp(token, { signature, trustedRoots: [root] });
      expect(result.tsaChain.at(-1)).toBe(root);
    }
  });

  it('asks for no certificates when certReq is false', () => {
    const response = tsa.reply(buildTimestampRequest({ message: signature, hash: 'sha256', certReq: false }));
    const token = parseTimestampToken(parseTimestampResponse(response));
    expect(token.certificates).toHaveLength(0);
    expect(opensslText(buildTimestampRequest({ message: signature, hash: 'sha256', certReq: false }))).toMatch(
      /Certificate required: no/,
    );
  });

  it('requests a policy when given one', () => {
    const request = buildTimestampRequest({ message: signature, hash: 'sha256', policy: '1.2.3.4.5.6' });
    // The system openssl.cnf names 1.2.3.4.5.6 `tsa_policy2`, and openssl prints it by that name.
    expect(opensslText(request)).toMatch(/Policy OID: (1\.2\.3\.4\.5\.6|tsa_policy2)/);
    const token = parseTimestampToken(parseTimestampResponse(tsa.reply(request)));
    expect(token.info.policy).toBe('1.2.3.4.5.6');
  });

  it('turns a rejection into ERR_TIMESTAMP_INVALID with the status text', () => {
    // The TSA does not accept this policy: openssl answers status rejection, unacceptedPolicy.
    const request = buildTimestampRequest({ message: signature, hash: 'sha256', policy: '1.9.9.9' });
    const error = failure(() => parseTimestampResponse(tsa.reply(request)));
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toMatch(/status rejection \(2\)/);
    expect(error.message).toMatch(/Requested policy is not supported/);
    expect(error.message).toMatch(/unacceptedPolicy/);
  });

  it('rejects a response that is not a TimeStampResp', () => {
    expect(failure(() => parseTimestampResponse(new Uint8Array([1, 2, 3]))).code).toBe('ERR_TIMESTAMP_INVALID');
  });

  it('refuses a non-positive nonce', () => {
    expect(failure(() => buildTimestampRequest({ message: signature, hash: 'sha256', nonce: 0n })).code).toBe(
      'ERR_INPUT_INVALID',
    );
  });
});

describe('DER integers', () => {
  it('round-trips positive values with and without the sign octet', () => {
    for (const value of [1n, 0x7fn, 0x80n, 0xffffn, 2n ** 159n + 12345n]) {
      const bytes = integerFromBigint(value);
      expect(bytes[0]! & 0x80).toBe(0);
      expect(bigintFromInteger(bytes)).toBe(value);
    }
    expect(Buffer.from(integerFromBigint(0x80n)).toString('hex')).toBe('0080');
  });

  it('reads negative two’s complement values', () => {
    expect(bigintFromInteger(new Uint8Array([0xff]))).toBe(-1n);
  });
});
