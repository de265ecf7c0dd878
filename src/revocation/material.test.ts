import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrlServer } from '../../test/helpers/crl-server.js';
import { CaDatabase, ocspResponseFor } from '../../test/helpers/ocsp-responder.js';
import { EXT, Pki, type Issued } from '../../test/helpers/pki.js';
import { parseCertificate, type Certificate } from '../x509/certificate.js';
import { OnlineRevocationChecker, type DetailedRevocationResult } from './checker.js';
import type { FetchInit, RevocationFetcher } from './fetcher.js';
import { HttpRevocationFetcher } from './http-fetcher.js';
import { RevocationMaterialDirectory, loadRevocationMaterial } from './material-files.js';
import { RevocationMaterial } from './material.js';

const DAY = 86_400_000;

/** Counts what the checker asks the network for, and fetches it for real. */
class CountingFetcher implements RevocationFetcher {
  readonly urls: string[] = [];
  readonly #inner = new HttpRevocationFetcher();
  fetch(url: string, init: FetchInit): Promise<Uint8Array> {
    this.urls.push(url);
    return this.#inner.fetch(url, init);
  }
}

const pem = (der: Uint8Array) =>
  `-----BEGIN X509 CRL-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')}\n-----END X509 CRL-----\n`;

/**
 * Operator-supplied CRLs and OCSP responses (air-gapped revocation), judged exactly as fetched
 * ones: real CRLs from `openssl ca -gencrl`, real responses from `openssl ocsp`.
 */
describe('revocation from operator-supplied material', () => {
  const pki = new Pki();
  let server: CrlServer;
  let root: Issued;
  let ca: Issued;
  let db: CaDatabase;
  let impostor: CaDatabase;
  let n = 0;

  beforeAll(async () => {
    server = await CrlServer.start();
    root = pki.issue({
      subject: '/C=US/O=Preloaded/CN=Root',
      key: 'ec-256',
      extensions: EXT.root,
      notBefore: new Date(Date.now() - 2 * DAY),
    });
    ca = pki.issue({
      subject: '/C=US/O=Preloaded/CN=Issuing CA',
      key: 'ec-256',
      issuer: root,
      extensions: EXT.intermediate,
      notBefore: new Date(Date.now() - 2 * DAY),
    });
    db = new CaDatabase(pki, ca);
    // Another CA with the very same name: its CRLs must not count for certificates of `ca`.
    impostor = new CaDatabase(
      pki,
      pki.issue({
        subject: '/C=US/O=Preloaded/CN=Issuing CA',
        key: 'ec-256',
        extensions: EXT.root,
        notBefore: new Date(Date.now() - 2 * DAY),
      }),
    );
  });
  afterAll(async () => {
    await server.stop();
    pki.cleanup();
  });

  function leaf(extra: string[] = [`crlDistributionPoints=URI:${server?.url('/ca.crl')}`]): Issued {
    const cert = pki.issue({
      subject: `/C=US/O=Preloaded/CN=Leaf ${++n}`,
      key: 'ec-256',
      issuer: ca,
      extensions: [...EXT.codeSigningLeaf, ...extra],
      notBefore: new Date(Date.now() - DAY),
    });
    db.add(cert);
    impostor.add(cert);
    return cert;
  }
  const chain = (cert: Issued): Certificate[] => [cert, ca, root].map((c) => parseCertificate(c.certDer));
  const check = (
    cert: Issued,
    material: RevocationMaterial,
    opts: { mode?: 'online' | 'offline'; fetcher?: RevocationFetcher; at?: Date } = {},
  ): Promise<DetailedRevocationResult> =>
    new OnlineRevocationChecker({
      fetcher: opts.fetcher ?? new CountingFetcher(),
      mode: opts.mode ?? 'offline',
      material,
    }).check(chain(cert), { verificationTime: opts.at ?? new Date() });
  const crls = (...items: [string, Uint8Array][]) =>
    new RevocationMaterial({ crls: items.map(([origin, bytes]) => ({ origin, bytes })) });

  it('answers offline from a supplied CRL, naming it as the source', async () => {
    const cert = leaf();
    const r = await check(cert, crls(['/cfg/revocation/crl/ca.crl', await db.gencrl()]));
    expect(r.status).toBe('good');
    expect(r.certificates[0]).toMatchObject({ status: 'good', answeredBy: 'preloaded CRL /cfg/revocation/crl/ca.crl' });
  });

  it('reports a revocation listed in a supplied PEM CRL', async () => {
    const cert = leaf();
    db.revoke(cert, { reason: 'keyCompromise' });
    const r = await check(cert, crls(['ca.pem', new TextEncoder().encode(pem(await db.gencrl()))]));
    expect(r.certificates[0]).toMatchObject({
      status: 'revoked',
      reason: 'keyCompromise',
      answeredBy: 'preloaded CRL ca.pem',
    });
  });

  it('is used before any fetch when online too', async () => {
    const cert = leaf();
    const fetcher = new CountingFetcher();
    const r = await check(cert, crls(['ca.crl', await db.gencrl()]), { mode: 'online', fetcher });
    expect(r.status).toBe('good');
    expect(fetcher.urls).toEqual([]);
  });

  it('gives unknown for a stale CRL, as a fetched one would, and says why', async () => {
    const cert = leaf();
    const stale = await db.gencrl({
      lastUpdate: new Date(Date.now() - 3 * DAY),
      nextUpdate: new Date(Date.now() - DAY),
    });
    const r = await check(cert, crls(['old.crl', stale]));
    expect(r.certificates[0]?.status).toBe('unknown');
    expect(r.certificates[0]?.detail).toContain('preloaded CRL old.crl: expired CRL');
  });

  it('online, a stale supplied CRL gives way to the distribution point', async () => {
    const cert = leaf();
    server.serve('/ca.crl', await db.gencrl());
    const fetcher = new CountingFetcher();
    const stale = await db.gencrl({
      lastUpdate: new Date(Date.now() - 3 * DAY),
      nextUpdate: new Date(Date.now() - DAY),
    });
    const r = await check(cert, crls(['old.crl', stale]), { mode: 'online', fetcher });
    expect(r.certificates[0]).toMatchObject({ status: 'good', answeredBy: `CRL ${server.url('/ca.crl')}` });
    expect(fetcher.urls).toEqual([server.url('/ca.crl')]);
  });

  it('ignores a CRL of another CA with the same name (its signature does not verify)', async () => {
    const cert = leaf();
    const r = await check(cert, crls(['impostor.crl', await impostor.gencrl()]));
    expect(r.certificates[0]?.status).toBe('unknown');
    expect(r.certificates[0]?.detail).toContain('preloaded CRL impostor.crl: CRL is not signed by');
  });

  it('applies a supplied delta CRL the base points to; without it there is no answer', async () => {
    const cert = leaf();
    const deltaUrl = server.url('/ca-delta.crl');
    const base = await db.gencrl({ crlNumber: 10, extensions: [`freshestCRL=URI:${deltaUrl}`] });
    db.revoke(cert, { reason: 'superseded' });
    const delta = await db.gencrl({ crlNumber: 11, extensions: ['2.5.29.27=critical,ASN1:INTEGER:10'] });
    db.reinstate(cert);
    const withDelta = await check(cert, crls(['base.crl', base], ['delta.crl', delta]));
    expect(withDelta.certificates[0]).toMatchObject({
      status: 'revoked',
      reason: 'superseded',
      answeredBy: 'preloaded CRL base.crl with preloaded delta CRL delta.crl',
    });
    const without = await check(cert, crls(['base.crl', base]));
    expect(without.certificates[0]?.status).toBe('unknown');
    expect(without.certificates[0]?.detail).toContain('points to a delta CRL that could not be obtained');
  });

  it('does not use a partitioned CRL for a certificate outside its distribution point', async () => {
    const cert = leaf([`crlDistributionPoints=URI:${server.url('/part-a.crl')}`]);
    const partB = await db.gencrl({
      extensions: [`issuingDistributionPoint=critical,@idp`, '[idp]', `fullname=URI:${server.url('/part-b.crl')}`],
    });
    const r = await check(cert, crls(['part-b.crl', partB]));
    expect(r.certificates[0]?.status).toBe('unknown');
    expect(r.certificates[0]?.detail).toBe('offline mode: no cached CRL from ' + server.url('/part-a.crl'));
  });

  it('answers from a supplied OCSP response; a stale one gives unknown', async () => {
    const good = leaf(['authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp']);
    const revoked = leaf(['authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp']);
    db.revoke(revoked, { reason: 'cessationOfOperation' });
    const material = new RevocationMaterial({
      ocspResponses: [
        { origin: 'good.ocsp', bytes: await ocspResponseFor(db, good) },
        { origin: 'revoked.ocsp', bytes: await ocspResponseFor(db, revoked) },
      ],
    });
    expect((await check(good, material)).certificates[0]).toMatchObject({
      status: 'good',
      answeredBy: 'preloaded OCSP response good.ocsp',
    });
    expect((await check(revoked, material)).certificates[0]).toMatchObject({
      status: 'revoked',
      reason: 'cessationOfOperation',
    });
    const later = await check(good, material, { at: new Date(Date.now() + 3 * DAY) });
    expect(later.certificates[0]?.status).toBe('unknown');
    expect(later.certificates[0]?.detail).toContain('preloaded OCSP response good.ocsp: stale OCSP response');
  });

  it('reports revoked when one supplied OCSP response says revoked and an older one still says good', async () => {
    // An operator who drops each day's responses into the directory keeps yesterday's "good"
    // (still current) beside today's "revoked": the file read first must not decide.
    const cert = leaf(['authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp']);
    const before = await ocspResponseFor(db, cert, { ndays: 7 });
    db.revoke(cert, { reason: 'keyCompromise' });
    const after = await ocspResponseFor(db, cert, { ndays: 7 });
    const material = new RevocationMaterial({
      ocspResponses: [
        { origin: 'ocsp/2026-12-01.der', bytes: before },
        { origin: 'ocsp/2026-12-05.der', bytes: after },
      ],
    });
    expect((await check(cert, material)).certificates[0]).toMatchObject({
      status: 'revoked',
      reason: 'keyCompromise',
      answeredBy: 'preloaded OCSP response ocsp/2026-12-05.der',
    });
  });

  it('reports revoked when a supplied CRL says revoked and a supplied OCSP response (from another source) says good', async () => {
    // notation asks OCSP first and stops at its "good"; supplied material is all at hand, so a
    // current "good" from before the revocation (a file in the directory) must not hide a current
    // CRL listing it (from a ConfigMap named by revocationMaterialRefs). Revoked wins.
    const cert = leaf([
      'authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp',
      `crlDistributionPoints=URI:${server.url('/ca.crl')}`,
    ]);
    const good = await ocspResponseFor(db, cert, { ndays: 7 });
    db.revoke(cert, { reason: 'keyCompromise' });
    const material = RevocationMaterial.union([
      new RevocationMaterial({ ocspResponses: [{ origin: '/material/ocsp/leaf.der', bytes: good }] }),
      crls(['ConfigMap portcullis/crls key ca.crl', await db.gencrl()]),
    ]);
    for (const mode of ['offline', 'online'] as const) {
      const fetcher = new CountingFetcher();
      const r = await check(cert, material, { mode, fetcher });
      expect(r.status).toBe('revoked');
      expect(r.certificates[0]).toMatchObject({
        status: 'revoked',
        reason: 'keyCompromise',
        answeredBy: 'preloaded CRL ConfigMap portcullis/crls key ca.crl',
      });
      expect(fetcher.urls).toEqual([]);
    }
    // Without the CRL the same OCSP response still answers good: only a valid "revoked" overrules it.
    const alone = await check(cert, new RevocationMaterial({ ocspResponses: [{ origin: 'leaf.der', bytes: good }] }));
    expect(alone.certificates[0]).toMatchObject({ status: 'good', answeredBy: 'preloaded OCSP response leaf.der' });
  });

  it('does not let a supplied CRL of another CA with the same name overrule a supplied OCSP "good"', async () => {
    const cert = leaf([
      'authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp',
      `crlDistributionPoints=URI:${server.url('/ca.crl')}`,
    ]);
    const good = await ocspResponseFor(db, cert, { ndays: 7 });
    impostor.revoke(cert, { reason: 'keyCompromise' });
    const material = RevocationMaterial.union([
      new RevocationMaterial({ ocspResponses: [{ origin: 'leaf.der', bytes: good }] }),
      crls(['impostor.crl', await impostor.gencrl()]),
    ]);
    const r = await check(cert, material);
    expect(r.certificates[0]).toMatchObject({ status: 'good', answeredBy: 'preloaded OCSP response leaf.der' });
  });

  it('takes no "good" from a supplied OCSP response without nextUpdate, which is current only when made', async () => {
    // RFC 6960 §2.4: no nextUpdate means newer information is always available. Fetched, that is
    // the answer of the moment; supplied as a file, it may be months old and the certificate
    // revoked since.
    const cert = leaf(['authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp']);
    const material = new RevocationMaterial({
      ocspResponses: [{ origin: 'no-next-update.der', bytes: await ocspResponseFor(db, cert, { ndays: 0 }) }],
    });
    const later = await check(cert, material, { at: new Date(Date.now() + 30 * DAY) });
    expect(later.certificates[0]?.status).toBe('unknown');
    expect(later.certificates[0]?.detail).toContain('preloaded OCSP response no-next-update.der');
    expect(later.certificates[0]?.detail).toContain('no nextUpdate');
  });

  it('lists files it cannot read instead of failing', () => {
    const material = new RevocationMaterial({
      crls: [{ origin: 'junk.crl', bytes: new TextEncoder().encode('not a crl') }],
      ocspResponses: [{ origin: 'junk.ocsp', bytes: new Uint8Array([1, 2, 3]) }],
    });
    expect(material.empty).toBe(true);
    expect(material.problems).toHaveLength(2);
    expect(material.problems[0]).toContain('junk.crl: malformed CRL');
  });

  describe('from a directory (<dir>/crl, <dir>/ocsp)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-material-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads CRLs and responses, skips dot-names, and re-reads when a file changes', async () => {
      const cert = leaf();
      mkdirSync(join(dir, 'crl', '..data'), { recursive: true });
      writeFileSync(join(dir, 'crl', 'ca.crl'), await db.gencrl());
      writeFileSync(join(dir, 'crl', '.hidden'), 'ignored');
      let loads = 0;
      const watched = new RevocationMaterialDirectory(dir, () => loads++);
      const first = await watched.refresh();
      expect(first.size).toEqual({ crls: 1, ocspResponses: 0 });
      expect(first.problems).toEqual([]);
      expect((await check(cert, watched.current())).status).toBe('good');
      await watched.refresh();
      expect(loads).toBe(1);
      db.revoke(cert);
      writeFileSync(join(dir, 'crl', 'ca.crl'), new TextEncoder().encode(pem(await db.gencrl())));
      await watched.refresh();
      expect(loads).toBe(2);
      expect((await check(cert, watched.current())).status).toBe('revoked');
    });

    it('is empty for a directory that does not exist', async () => {
      const material = await loadRevocationMaterial(join(dir, 'nowhere'));
      expect(material.empty).toBe(true);
      expect(material.problems).toEqual([]);
    });
  });
});
