import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pki, type Issued } from '../../test/helpers/pki.js';
import { parseCertificate, parseCertificateFile, type Certificate } from './certificate.js';
import { checkChainCoversInterval, checkChainValidAt, formatRfc1123Z, isValidAt } from './validity.js';
import { caught } from '../../test/helpers/errors.js';

const VECTORS = path.resolve(import.meta.dirname, '../../../shared/vectors');

describe('RFC 1123Z formatting (Go time.RFC1123Z)', () => {
  it('formats UTC times with +0000', () => {
    expect(formatRfc1123Z(new Date('2023-06-27T06:10:00Z'))).toBe('Tue, 27 Jun 2023 06:10:00 +0000');
    expect(formatRfc1123Z(new Date('2099-09-18T11:54:34.999Z'))).toBe('Fri, 18 Sep 2099 11:54:34 +0000');
    expect(formatRfc1123Z(new Date('0999-01-02T03:04:05Z'))).toBe('Wed, 02 Jan 0999 03:04:05 +0000');
  });

  it('renders a time in the offset it was written with', () => {
    const at = new Date('2023-06-27T14:07:26+08:00');
    expect(formatRfc1123Z(at, 480)).toBe('Tue, 27 Jun 2023 14:07:26 +0800');
    expect(formatRfc1123Z(at, -330)).toBe('Tue, 27 Jun 2023 00:37:26 -0530');
  });
});

describe('certificate validity at a time', () => {
  const pki = new Pki();
  afterAll(() => pki.cleanup());
  const notBefore = new Date('2024-01-01T00:00:00Z');
  const notAfter = new Date('2024-02-01T00:00:00Z');
  let root: Issued;
  let chain: Certificate[];
  beforeAll(() => {
    root = pki.issue({
      subject: '/CN=Validity Root',
      extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign'],
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2030-01-01T00:00:00Z'),
    });
    const leaf = pki.issue({
      subject: '/O=Acme/CN=Validity Leaf',
      issuer: root,
      extensions: ['keyUsage=critical,digitalSignature'],
      notBefore,
      notAfter,
    });
    chain = [parseCertificate(leaf.certDer), parseCertificate(root.certDer)];
  });

  it('treats notBefore and notAfter as inclusive, as Go does', () => {
    const leaf = chain[0] as Certificate;
    expect(isValidAt(leaf, notBefore)).toBe(true);
    expect(isValidAt(leaf, notAfter)).toBe(true);
    expect(isValidAt(leaf, new Date(notAfter.getTime() + 1))).toBe(false);
    expect(isValidAt(leaf, new Date(notBefore.getTime() - 1))).toBe(false);
    expect(() => checkChainValidAt(chain, notAfter, 'verification')).not.toThrow();
    expect(() => checkChainValidAt(chain, notBefore, 'authenticSigningTime')).not.toThrow();
  });

  it('rejects a verification time one millisecond after notAfter', () => {
    expectFailure(
      () => checkChainValidAt(chain, new Date(notAfter.getTime() + 1), 'verification'),
      'ERR_CERT_NOT_VALID_AT_TIME',
      'verification time is after certificate "CN=Validity Leaf,O=Acme" validity period, it was expired at "Thu, 01 Feb 2024 00:00:00 +0000"',
    );
  });

  it('rejects a verification time one millisecond before notBefore', () => {
    expectFailure(
      () => checkChainValidAt(chain, new Date(notBefore.getTime() - 1), 'verification'),
      'ERR_CERT_NOT_VALID_AT_TIME',
      'verification time is before certificate "CN=Validity Leaf,O=Acme" validity period, it will be valid from "Mon, 01 Jan 2024 00:00:00 +0000"',
    );
  });

  it('checks every certificate of the chain, not only the leaf', () => {
    expectFailure(
      () => checkChainValidAt([chain[1] as Certificate], new Date('2031-01-01T00:00:00Z'), 'verification'),
      'ERR_CERT_NOT_VALID_AT_TIME',
      'verification time is after certificate "CN=Validity Root" validity period, it was expired at "Tue, 01 Jan 2030 00:00:00 +0000"',
    );
  });

  it('rejects an authentic signing time outside the validity period, printing it in its offset', () => {
    const signed = new Date('2024-02-01T08:00:01+08:00');
    expectFailure(
      () => checkChainValidAt(chain, signed, 'authenticSigningTime', 480),
      'ERR_CERT_NOT_VALID_AT_TIME',
      'certificate "CN=Validity Leaf,O=Acme" was not valid when the digital signature was produced at "Thu, 01 Feb 2024 08:00:01 +0800"',
    );
  });

  it('requires a timestamp interval to lie within every certificate (inclusive bounds)', () => {
    expect(() => checkChainCoversInterval(chain, notBefore, notAfter)).not.toThrow();
    expectFailure(
      () => checkChainCoversInterval(chain, notBefore, new Date(notAfter.getTime() + 1000)),
      'ERR_TIMESTAMP_OUTSIDE_VALIDITY',
      'timestamp can be after certificate "CN=Validity Leaf,O=Acme" validity period, it was expired at "Thu, 01 Feb 2024 00:00:00 +0000"',
    );
  });
});

describe('certificate validity: notation vectors', () => {
  it('reports the expired e2e certificate as notation does (A4-1)', () => {
    const [expired] = parseCertificateFile(readFileSync(path.join(VECTORS, 'notation/e2e/localkeys/expired_e2e.crt')));
    expectFailure(
      () => checkChainValidAt([expired as Certificate], new Date('2024-01-01T00:00:00Z'), 'verification'),
      'ERR_CERT_NOT_VALID_AT_TIME',
      'verification time is after certificate "O=Internet Widgits Pty Ltd,ST=Some-State,C=AU" validity period, it was expired at "Tue, 27 Jun 2023 06:10:00 +0000"',
    );
  });

  it('reports a timestamp before the signing certificate was valid (B16-8)', () => {
    const envelope = JSON.parse(
      readFileSync(path.join(VECTORS, 'notation-go/timestamp/sigEnv/timestampBeforeNotBefore.sig'), 'utf8'),
    ) as {
      header: { x5c: string[] };
    };
    const chain = envelope.header.x5c.map((b64) => parseCertificate(new Uint8Array(Buffer.from(b64, 'base64'))));
    const genTime = new Date('2024-06-19T09:30:14Z');
    expectFailure(
      () => checkChainCoversInterval(chain, genTime, genTime),
      'ERR_TIMESTAMP_OUTSIDE_VALIDITY',
      'timestamp can be before certificate "CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US" validity period, it will be valid from "Fri, 18 Sep 2099 11:54:34 +0000"',
    );
  });
});

function expectFailure(fn: () => unknown, code: string, message: string): void {
  expect(caught(fn)).toMatchObject({ code, message });
}
