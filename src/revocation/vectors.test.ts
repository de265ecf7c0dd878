import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { vector } from '../../test/helpers/vectors.js';
import { parseCertificateFile, type Certificate } from '../x509/certificate.js';
import { OnlineRevocationChecker } from './checker.js';
import { freshestCrlOf, lookupCertificate, parseCrl, validateCrl } from './crl.js';
import { RevocationFetchError, type FetchInit, type RevocationFetcher } from './fetcher.js';

const e2e = (file: string) => new Uint8Array(readFileSync(vector('notation/e2e/crl', file)));
const core = (file: string) => new Uint8Array(readFileSync(vector('notation-core-go/crl', file)));

/** Serves fixed bytes by URL; anything else is unreachable (like localhost.test in the e2e setup). */
class MapFetcher implements RevocationFetcher {
  readonly requests: string[] = [];
  constructor(readonly files: Record<string, Uint8Array>) {}
  async fetch(url: string, _init: FetchInit): Promise<Uint8Array> {
    this.requests.push(url);
    const body = this.files[url];
    if (body === undefined) throw new RevocationFetchError(url, 'network', 'getaddrinfo ENOTFOUND');
    return body;
  }
}

describe('§D notation e2e CRL fixture (certchain_with_crl.pem)', () => {
  const [leaf, intermediate, root] = parseCertificateFile(e2e('certchain_with_crl.pem')) as [
    Certificate,
    Certificate,
    Certificate,
  ];
  const now = new Date();

  it('the chain carries the CRL and OCSP locations the fixture describes', () => {
    expect(leaf.serialNumber.toLowerCase()).toBe('1000');
    expect(leaf.crlUrls).toEqual(['http://localhost:10086/leaf.crl']);
    expect(intermediate.crlUrls).toEqual(['http://localhost:10086/intermediate.crl']);
    expect(intermediate.ocspUrls).toEqual(['http://localhost.test/ocsp']);
    expect(root.selfIssued).toBe(true);
  });

  it('D1 unit: (leaf, intermediate, leaf.crl) → good; (intermediate, root, intermediate.crl) → good', () => {
    const crl = parseCrl(e2e('leaf.crl'));
    expect(crl.nextUpdate?.toISOString()).toBe('2124-10-18T05:30:52.000Z');
    expect(validateCrl(crl, intermediate, now)).toEqual({ ok: true });
    expect(lookupCertificate(leaf, crl).status).toBe('good');
    const interCrl = parseCrl(e2e('intermediate.crl'));
    expect(validateCrl(interCrl, root, now)).toEqual({ ok: true });
    expect(lookupCertificate(intermediate, interCrl).status).toBe('good');
  });

  it('D2 unit: (leaf, intermediate, leaf_revoked.crl) → revoked at 2024-11-11T05:30:52Z', () => {
    const crl = parseCrl(e2e('leaf_revoked.crl'));
    expect(validateCrl(crl, intermediate, now)).toEqual({ ok: true });
    expect(lookupCertificate(leaf, crl)).toMatchObject({
      status: 'revoked',
      revokedAt: new Date('2024-11-11T05:30:52Z'),
    });
  });

  it('D3 unit: leaf_expired.crl (nextUpdate 2023-12-25) never gives an answer', () => {
    const crl = parseCrl(e2e('leaf_expired.crl'));
    expect(crl.nextUpdate?.toISOString()).toBe('2023-12-25T08:15:42.000Z');
    const result = validateCrl(crl, intermediate, now);
    expect(result.ok).toBe(false);
    // It was made by an earlier run's intermediate (another key: its AKI differs), so the signature fails first.
    expect(!result.ok && result.reason).toContain('CRL is not signed by');
    // A CRL past its nextUpdate is "expired" (validated with a key it does verify with: use the D1 CRL at a later
    // time).
    const late = validateCrl(parseCrl(e2e('leaf.crl')), intermediate, new Date('2125-01-01T00:00:00Z'));
    expect(late).toMatchObject({ ok: false, expired: true });
  });

  it('D1 through the checker: intermediate OCSP unreachable → CRL fallback; the chain is good', async () => {
    const fetcher = new MapFetcher({
      'http://localhost:10086/leaf.crl': e2e('leaf.crl'),
      'http://localhost:10086/intermediate.crl': e2e('intermediate.crl'),
    });
    const result = await new OnlineRevocationChecker({ fetcher }).check([leaf, intermediate, root], {
      verificationTime: now,
    });
    expect(result.status).toBe('good');
    expect(result.certificates.map((c) => [c.status, c.source])).toEqual([
      ['good', 'crl'],
      ['good', 'crl'],
      ['nonRevokable', undefined],
    ]);
    expect(fetcher.requests).toContain('http://localhost.test/ocsp');
  });

  it('D2 through the checker: revoked', async () => {
    const fetcher = new MapFetcher({
      'http://localhost:10086/leaf.crl': e2e('leaf_revoked.crl'),
      'http://localhost:10086/intermediate.crl': e2e('intermediate.crl'),
    });
    const result = await new OnlineRevocationChecker({ fetcher }).check([leaf, intermediate, root], {
      verificationTime: now,
    });
    expect(result.status).toBe('revoked');
    expect(result.certificates[0]).toMatchObject({
      status: 'revoked',
      revokedAt: new Date('2024-11-11T05:30:52Z'),
      source: 'crl',
    });
  });

  it('D3 through the checker: only the expired CRL obtainable → unknown (not good)', async () => {
    const fetcher = new MapFetcher({
      'http://localhost:10086/leaf.crl': e2e('leaf_expired.crl'),
      'http://localhost:10086/intermediate.crl': e2e('intermediate.crl'),
    });
    const result = await new OnlineRevocationChecker({ fetcher }).check([leaf, intermediate, root], {
      verificationTime: now,
    });
    expect(result.status).toBe('unknown');
    expect(result.certificates[0]?.detail).toContain('http://localhost:10086/leaf.crl');
  });
});

describe('§C5 Freshest CRL (delta CRL) extension parsing', () => {
  const cert = (file: string) => parseCertificateFile(core(file))[0] as Certificate;

  it('certificateWithDeltaCRL.cer: exactly one URL starting http://localhost:80', () => {
    const p = freshestCrlOf(cert('certificateWithDeltaCRL.cer'));
    expect(p?.error).toBeUndefined();
    expect(p?.urls).toHaveLength(1);
    expect(p?.urls[0]).toMatch(/^http:\/\/localhost:80/);
  });

  it.each([
    'certificateWithZeroDeltaCRLURL.cer',
    'certificateWithNonURIDeltaCRL.cer',
    'certificateWithIncompleteFreshestCRL2.cer',
  ])('%s: the extension parses, with no URL', (file) => {
    const p = freshestCrlOf(cert(file));
    expect(p).toEqual({ urls: [] });
  });

  it('certificateWithIncompleteFreshestCRL.cer: the extension is invalid', () => {
    expect(freshestCrlOf(cert('certificateWithIncompleteFreshestCRL.cer'))?.error).toMatch(
      /invalid Freshest CRL extension/,
    );
  });

  it('certificateWith2DeltaCRL.cer: two URLs; when both fail the delta cannot be obtained', () => {
    expect(freshestCrlOf(cert('certificateWith2DeltaCRL.cer'))?.urls).toHaveLength(2);
  });

  it('crlWithMultipleFreshestCRLs.crl: a base CRL with two Freshest CRL URLs; delta.crl is a delta on base 4', () => {
    const base = parseCrl(core('crlWithMultipleFreshestCRLs.crl'));
    expect(base.crlNumber).toBe(5n);
    expect(base.deltaBase).toBeUndefined();
    expect(base.freshest?.urls).toHaveLength(2);
    const delta = parseCrl(core('delta.crl'));
    expect(delta.deltaBase).toBe(4n);
    expect(delta.crlNumber).toBe(5n);
  });

  it('garbage where a (delta) CRL should be → malformed CRL', () => {
    expect(() => parseCrl(new TextEncoder().encode('<html>not a crl</html>'))).toThrow(/malformed CRL/);
  });
});
