import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrlServer } from '../../test/helpers/crl-server.js';
import { CaDatabase, OcspResponder } from '../../test/helpers/ocsp-responder.js';
import { EXT, Pki, type Issued } from '../../test/helpers/pki.js';
import { parseCertificate, type Certificate } from '../x509/certificate.js';
import { OnlineRevocationChecker, RevocationCache, type OnlineRevocationCheckerOptions } from './checker.js';
import { HttpRevocationFetcher } from './http-fetcher.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * The revocation checker against real peers on 127.0.0.1: a CA made with openssl, `openssl ocsp`
 * answering behind a small HTTP front, and CRLs made with `openssl ca -gencrl` served over HTTP.
 */
describe('OnlineRevocationChecker with openssl OCSP responders and CRLs', () => {
  const pki = new Pki();
  const fetcher = new HttpRevocationFetcher();
  let crls: CrlServer;
  let root: Issued;
  let intermediate: Issued;
  let rootDb: CaDatabase;
  let interDb: CaDatabase;
  let rootOcsp: OcspResponder;
  let interOcsp: OcspResponder;
  let downOcsp: OcspResponder;
  let slowOcsp: OcspResponder;
  const responders: OcspResponder[] = [];
  let n = 0;

  const parse = (...issued: Issued[]): Certificate[] => issued.map((i) => parseCertificate(i.certDer));
  const checker = (opts: Partial<OnlineRevocationCheckerOptions> = {}) =>
    new OnlineRevocationChecker({ fetcher, ...opts });
  const now = () => ({ verificationTime: new Date() });

  function aia(ocsp: OcspResponder | undefined, crlPath: string | undefined): string[] {
    return [
      ...(ocsp === undefined ? [] : [`authorityInfoAccess=OCSP;URI:${ocsp.url}`]),
      ...(crlPath === undefined ? [] : [`crlDistributionPoints=URI:${crls.url(crlPath)}`]),
    ];
  }

  /** A fresh code-signing leaf under `issuer`, registered in `db` unless add is false. */
  function leaf(
    opts: {
      issuer?: Issued;
      db?: CaDatabase;
      ocsp?: OcspResponder;
      crl?: string;
      add?: boolean;
      extra?: string[];
    } = {},
  ): Issued {
    const issuer = opts.issuer ?? intermediate;
    const cert = pki.issue({
      subject: `/C=US/O=Revocation Test/CN=Leaf ${++n}`,
      key: 'ec-256',
      issuer,
      extensions: [...EXT.codeSigningLeaf, ...aia(opts.ocsp, opts.crl), ...(opts.extra ?? [])],
      notBefore: new Date(Date.now() - DAY),
    });
    if (opts.add !== false) (opts.db ?? interDb).add(cert);
    return cert;
  }

  async function refreshInterCrl(): Promise<void> {
    crls.serve('/inter.crl', await interDb.gencrl());
  }

  beforeAll(async () => {
    crls = await CrlServer.start();
    root = pki.issue({
      subject: '/C=US/O=Revocation Test/CN=Root',
      key: 'ec-256',
      extensions: EXT.root,
      notBefore: new Date(Date.now() - 2 * DAY),
    });
    rootDb = new CaDatabase(pki, root);
    rootOcsp = await OcspResponder.start(rootDb);
    intermediate = pki.issue({
      subject: '/C=US/O=Revocation Test/CN=Intermediate',
      key: 'ec-256',
      issuer: root,
      extensions: [...EXT.intermediate, ...aia(rootOcsp, '/root.crl')],
      notBefore: new Date(Date.now() - 2 * DAY),
    });
    rootDb.add(intermediate);
    interDb = new CaDatabase(pki, intermediate);
    interOcsp = await OcspResponder.start(interDb);
    downOcsp = await OcspResponder.start(interDb);
    downOcsp.mode = 'down';
    slowOcsp = await OcspResponder.start(interDb);
    slowOcsp.delayMs = 1500;
    responders.push(rootOcsp, interOcsp, downOcsp, slowOcsp);
    crls.serve('/root.crl', await rootDb.gencrl());
    await refreshInterCrl();
  });

  afterAll(async () => {
    await Promise.all([...responders.map((r) => r.stop()), crls?.stop()]);
    pki.cleanup();
  });

  it('a good chain: every certificate but the root is good by OCSP; the root is not revocation-checked', async () => {
    const l = leaf({ ocsp: interOcsp, crl: '/inter.crl' });
    const result = await checker().check(parse(l, intermediate, root), now());
    expect(result.status).toBe('good');
    expect(result.certificates.map((c) => [c.status, c.source])).toEqual([
      ['good', 'ocsp'],
      ['good', 'ocsp'],
      ['nonRevokable', undefined],
    ]);
    expect(result.certificates[0]?.url).toBe(interOcsp.url);
  });

  it('a revoked leaf: revoked, with the time and reason from the OCSP responder', async () => {
    const l = leaf({ ocsp: interOcsp, crl: '/inter.crl' });
    const revokedAt = new Date(Math.floor((Date.now() - 10 * 60_000) / 1000) * 1000);
    interDb.revoke(l, { at: revokedAt, reason: 'keyCompromise' });
    const result = await checker().check(parse(l, intermediate, root), now());
    expect(result.status).toBe('revoked');
    expect(result.certificates[0]).toMatchObject({
      status: 'revoked',
      source: 'ocsp',
      reason: 'keyCompromise',
      revokedAt,
    });
    expect(result.certificates[0]?.detail).toContain(`revoked at ${revokedAt.toISOString()}, reason keyCompromise`);
    expect(result.certificates[1]?.status).toBe('good');
  });

  it('a revoked intermediate: the whole chain is revoked', async () => {
    const inter2 = pki.issue({
      subject: '/C=US/O=Revocation Test/CN=Intermediate 2',
      key: 'ec-256',
      issuer: root,
      extensions: [...EXT.intermediate, ...aia(rootOcsp, '/root.crl')],
      notBefore: new Date(Date.now() - DAY),
    });
    rootDb.add(inter2).revoke(inter2, { reason: 'cACompromise' });
    const db2 = new CaDatabase(pki, inter2);
    const ocsp2 = await OcspResponder.start(db2);
    responders.push(ocsp2);
    const l = leaf({ issuer: inter2, db: db2, ocsp: ocsp2 });
    const result = await checker().check(parse(l, inter2, root), now());
    expect(result.status).toBe('revoked');
    expect(result.certificates.map((c) => c.status)).toEqual(['good', 'revoked', 'nonRevokable']);
    expect(result.certificates[1]?.reason).toBe('cACompromise');
  });

  it('unknown status: openssl answers unknown for a certificate not in its index; without a CRL the result is unknown', async () => {
    const l = leaf({ ocsp: interOcsp, add: false });
    const result = await checker().check(parse(l, intermediate, root), now());
    expect(result.status).toBe('unknown');
    expect(result.certificates[0]?.detail).toBe(`OCSP responder ${interOcsp.url} answered status unknown`);
  });

  it('unknown OCSP status falls back to the CRL', async () => {
    const l = leaf({ ocsp: interOcsp, crl: '/inter.crl', add: false });
    const result = await checker().check(parse(l, intermediate, root), now());
    expect(result.status).toBe('good');
    expect(result.certificates[0]).toMatchObject({ status: 'good', source: 'crl', url: crls.url('/inter.crl') });
  });

  it('responder down: the CRL answers (good, and revoked once listed); with no CRL the result is unknown and names the URL', async () => {
    const l = leaf({ ocsp: downOcsp, crl: '/inter.crl' });
    let result = await checker().check(parse(l, intermediate, root), now());
    expect(result.certificates[0]).toMatchObject({ status: 'good', source: 'crl' });

    interDb.revoke(l, { reason: 'superseded' });
    await refreshInterCrl();
    result = await checker().check(parse(l, intermediate, root), now());
    expect(result.certificates[0]).toMatchObject({ status: 'revoked', source: 'crl', reason: 'superseded' });

    const noCrl = leaf({ ocsp: downOcsp });
    result = await checker().check(parse(noCrl, intermediate), now());
    expect(result.status).toBe('unknown');
    expect(result.certificates[0]?.detail).toContain(`OCSP responder ${downOcsp.url} unreachable`);
  });

  it('never falls back to the CRL after OCSP said revoked', async () => {
    const l = leaf({ ocsp: interOcsp, crl: '/never.crl' });
    interDb.revoke(l, { reason: 'keyCompromise' });
    crls.resetHits();
    const result = await checker().check(parse(l, intermediate, root), now());
    expect(result.certificates[0]).toMatchObject({ status: 'revoked', source: 'ocsp' });
    expect(crls.hits('/never.crl')).toBe(0);
  });

  it('a responder slower than the deadline gives unknown within the deadline', async () => {
    const l = leaf({ ocsp: slowOcsp });
    const started = performance.now();
    const result = await checker({ ocspTimeoutMs: 300 }).check(parse(l, intermediate, root), now());
    const elapsed = performance.now() - started;
    expect(result.status).toBe('unknown');
    expect(result.certificates[0]?.detail).toMatch(
      new RegExp(`OCSP responder ${slowOcsp.url} unreachable: no complete answer within 300 ms`),
    );
    expect(elapsed).toBeLessThan(1000);
  });

  it('a stale OCSP response (nextUpdate passed) is not used', async () => {
    const l = leaf({ ocsp: interOcsp });
    interOcsp.nmin = 1;
    try {
      const result = await checker().check(parse(l, intermediate, root), {
        verificationTime: new Date(Date.now() + 10 * 60_000),
      });
      expect(result.status).toBe('unknown');
      expect(result.certificates[0]?.detail).toContain('stale OCSP response');
    } finally {
      interOcsp.nmin = undefined;
    }
  });

  it('a stale CRL (nextUpdate in the past) gives unknown, not good', async () => {
    crls.serve(
      '/stale.crl',
      await interDb.gencrl({ lastUpdate: new Date(Date.now() - 2 * DAY), nextUpdate: new Date(Date.now() - DAY) }),
    );
    const l = leaf({ crl: '/stale.crl' });
    const result = await checker().check(parse(l, intermediate, root), now());
    expect(result.status).toBe('unknown');
    expect(result.certificates[0]?.detail).toContain('expired CRL');
  });

  it('a CRL signed by another CA is not used', async () => {
    crls.serve('/foreign.crl', await rootDb.gencrl());
    const l = leaf({ crl: '/foreign.crl' });
    const result = await checker().check(parse(l, intermediate, root), now());
    expect(result.status).toBe('unknown');
    expect(result.certificates[0]?.detail).toContain('CRL issuer does not match');
  });

  it('a CRL with an unsupported critical extension is not used', async () => {
    crls.serve('/critical.crl', await interDb.gencrl({ extensions: ['1.2.3.4.5=critical,ASN1:NULL'] }));
    const l = leaf({ crl: '/critical.crl' });
    const result = await checker().check(parse(l, intermediate, root), now());
    expect(result.status).toBe('unknown');
    expect(result.certificates[0]?.detail).toContain('unsupported critical extension(s) 1.2.3.4.5');
  });

  it('a delegated OCSP responder certificate (EKU OCSPSigning, issued by the CA) is accepted; one without the EKU is not', async () => {
    const delegate = pki.issue({
      subject: '/C=US/O=Revocation Test/CN=OCSP Responder',
      key: 'ec-256',
      issuer: intermediate,
      extensions: [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=OCSPSigning',
        'noCheck=ignored',
      ],
      notBefore: new Date(Date.now() - DAY),
    });
    const delegated = await OcspResponder.start(interDb, { signer: delegate });
    const impostor = pki.issue({
      subject: '/C=US/O=Revocation Test/CN=Not A Responder',
      key: 'ec-256',
      issuer: intermediate,
      extensions: EXT.codeSigningLeaf,
      notBefore: new Date(Date.now() - DAY),
    });
    const bad = await OcspResponder.start(interDb, { signer: impostor });
    responders.push(delegated, bad);
    const good = await checker().check(parse(leaf({ ocsp: delegated }), intermediate), now());
    expect(good.certificates[0], good.certificates[0]?.detail).toMatchObject({ status: 'good', source: 'ocsp' });
    const refused = await checker().check(parse(leaf({ ocsp: bad }), intermediate), now());
    expect(refused.status).toBe('unknown');
    expect(refused.certificates[0]?.detail).toContain('lacks extended key usage id-kp-OCSPSigning');
  });

  it('sends a nonce when asked, and openssl echoes it', async () => {
    const l = leaf({ ocsp: interOcsp });
    const before = interOcsp.bodies.length;
    const result = await checker({ ocspNonce: true }).check(parse(l, intermediate, root), now());
    expect(result.status).toBe('good');
    const body = interOcsp.bodies[before] as Uint8Array;
    // id-pkix-ocsp-nonce 1.3.6.1.5.5.7.48.1.2 in the request.
    expect(Buffer.from(body).includes(Buffer.from('06092b0601050507300102', 'hex'))).toBe(true);
  });

  it('a certificate with neither OCSP nor CRL locations is not revokable (and passes)', async () => {
    const l = leaf();
    const result = await checker().check(parse(l, intermediate, root), now());
    expect(result.status).toBe('good');
    expect(result.certificates[0]).toMatchObject({ status: 'nonRevokable', detail: 'no OCSP or CRL location' });
    const selfSigned = pki.issue({ subject: '/CN=Self Signed', key: 'ec-256', extensions: EXT.selfSignedLeaf });
    expect((await checker().check(parse(selfSigned), now())).status).toBe('nonRevokable');
  });

  describe('delta CRLs', () => {
    it('applies the delta CRL named by the base CRL (Freshest CRL), including removeFromCRL', async () => {
      const db = new CaDatabase(pki, intermediate);
      const held = leaf({ db, crl: '/dbase.crl' });
      const later = leaf({ db, crl: '/dbase.crl' });
      const never = leaf({ db, crl: '/dbase.crl' });
      db.revoke(held, { reason: 'certificateHold' });
      const freshest = `freshestCRL=URI:${crls.url('/delta.crl')}`;
      crls.serve('/dbase.crl', await db.gencrl({ crlNumber: 16, extensions: [freshest] }));
      crls.remove('/delta.crl');

      // The base alone must not be used when the delta cannot be had.
      let result = await checker().check(parse(never, intermediate), now());
      expect(result.status).toBe('unknown');
      expect(result.certificates[0]?.detail).toContain('points to a delta CRL that could not be obtained');

      db.revoke(later, { reason: 'affiliationChanged' }).revoke(held, { reason: 'removeFromCRL' });
      crls.serve('/delta.crl', await db.gencrl({ crlNumber: 17, extensions: ['2.5.29.27=critical,ASN1:INTEGER:16'] }));
      const c = checker();
      result = await c.check(parse(never, intermediate), now());
      expect(result.certificates[0]).toMatchObject({ status: 'good', source: 'crl' });
      result = await c.check(parse(later, intermediate), now());
      expect(result.certificates[0]).toMatchObject({ status: 'revoked', reason: 'affiliationChanged' });
      expect(result.certificates[0]?.detail).toContain('listed in the delta CRL');
      result = await c.check(parse(held, intermediate), now());
      expect(result.certificates[0]?.status).toBe('good');
    });

    it('a certificate on hold in the base CRL is revoked', async () => {
      const db = new CaDatabase(pki, intermediate);
      const held = leaf({ db, crl: '/hold.crl' });
      db.revoke(held, { reason: 'certificateHold' });
      crls.serve('/hold.crl', await db.gencrl());
      const result = await checker().check(parse(held, intermediate), now());
      expect(result.certificates[0]).toMatchObject({ status: 'revoked', reason: 'certificateHold' });
    });

    it('refuses a delta CRL built on a newer base than the complete CRL', async () => {
      const db = new CaDatabase(pki, intermediate);
      const l = leaf({ db, crl: '/oldbase.crl' });
      crls.serve(
        '/oldbase.crl',
        await db.gencrl({ crlNumber: 5, extensions: [`freshestCRL=URI:${crls.url('/newdelta.crl')}`] }),
      );
      crls.serve('/newdelta.crl', await db.gencrl({ crlNumber: 9, extensions: ['2.5.29.27=critical,ASN1:INTEGER:8'] }));
      const result = await checker().check(parse(l, intermediate, root), now());
      expect(result.status).toBe('unknown');
      expect(result.certificates[0]?.detail).toContain(
        "base CRL number 5 is older than the delta CRL's base CRL number 8",
      );
    });
  });

  describe('signing time (signingAuthority scheme)', () => {
    it('a revocation after the authentic signing time does not invalidate; one before does', async () => {
      const l = leaf({ ocsp: interOcsp });
      const revokedAt = new Date(Date.now() - HOUR);
      interDb.revoke(l, { at: revokedAt, reason: 'keyCompromise' });
      const c = checker();
      const before = await c.check(parse(l, intermediate, root), {
        signingTime: new Date(Date.now() - 2 * HOUR),
        verificationTime: new Date(),
      });
      expect(before.status).toBe('good');
      expect(before.certificates[0]?.detail).toContain('after the authentic signing time');
      const after = await c.check(parse(l, intermediate, root), {
        signingTime: new Date(),
        verificationTime: new Date(),
      });
      expect(after.status).toBe('revoked');
    });

    it('the CRL invalidity date, when earlier than the revocation, decides', async () => {
      const db = new CaDatabase(pki, intermediate);
      const l = leaf({ db, crl: '/invalidity.crl' });
      db.revoke(l, { at: new Date(Date.now() - 60_000), compromiseTime: new Date(Date.now() - 3 * HOUR) });
      crls.serve('/invalidity.crl', await db.gencrl());
      const result = await checker().check(parse(l, intermediate, root), {
        signingTime: new Date(Date.now() - 2 * HOUR),
        verificationTime: new Date(),
      });
      expect(result.status).toBe('revoked');
      expect(result.certificates[0]).toMatchObject({ reason: 'keyCompromise' });
      expect(result.certificates[0]?.invalidityDate).toBeInstanceOf(Date);
    });
  });

  describe('cache and single flight', () => {
    it('a second check makes no request; concurrent checks share one request per URL', async () => {
      const l = leaf({ ocsp: interOcsp, crl: '/inter.crl' });
      const c = checker();
      const chain = parse(l, intermediate, root);
      const [inter0, root0] = [interOcsp.requests, rootOcsp.requests];
      const results = await Promise.all(Array.from({ length: 8 }, () => c.check(chain, now())));
      expect(results.every((r) => r.status === 'good')).toBe(true);
      expect(interOcsp.requests - inter0).toBe(1);
      expect(rootOcsp.requests - root0).toBe(1);
      await c.check(chain, now());
      expect(interOcsp.requests - inter0).toBe(1);
      expect(rootOcsp.requests - root0).toBe(1);
      expect(c.stats.cacheHits).toBeGreaterThanOrEqual(2);
    });

    it('CRLs are cached per URL until nextUpdate; the injected clock expires them', async () => {
      const db = new CaDatabase(pki, intermediate);
      const l = leaf({ db, crl: '/cached.crl' });
      crls.serve('/cached.crl', await db.gencrl({ hours: 1 }));
      let clock = Date.now();
      const c = checker({ now: () => clock });
      crls.resetHits();
      await Promise.all([c.check(parse(l, intermediate, root), now()), c.check(parse(l, intermediate), now())]);
      await c.check(parse(l, intermediate, root), now());
      expect(crls.hits('/cached.crl')).toBe(1);
      clock += 2 * HOUR;
      crls.serve('/cached.crl', await db.gencrl({ hours: 4 }));
      await c.check(parse(l, intermediate, root), now());
      expect(crls.hits('/cached.crl')).toBe(2);
    });

    it('the byte budget evicts least recently used answers', async () => {
      const cache = new RevocationCache(1, Date.now);
      const c = checker({ cache });
      const l = leaf({ ocsp: interOcsp });
      const before = interOcsp.requests;
      await c.check(parse(l, intermediate, root), now());
      await c.check(parse(l, intermediate, root), now());
      expect(interOcsp.requests - before).toBe(2);
      expect(cache.bytes).toBe(0);
    });
  });

  describe('offline mode', () => {
    it('makes no request: revokable certificates are unknown, except what the cache holds', async () => {
      const l = leaf({ ocsp: interOcsp, crl: '/inter.crl' });
      const chain = parse(l, intermediate, root);
      const [inter0, root0] = [interOcsp.requests, rootOcsp.requests];
      crls.resetHits();
      const cache = new RevocationCache();
      const offline = checker({ mode: 'offline', cache });
      let result = await offline.check(chain, now());
      expect(result.status).toBe('unknown');
      expect(result.certificates.map((x) => x.status)).toEqual(['unknown', 'unknown', 'nonRevokable']);
      expect(result.certificates[0]?.detail).toContain('offline mode: no cached OCSP response');
      expect(offline.stats.fetches).toBe(0);
      expect([interOcsp.requests - inter0, rootOcsp.requests - root0, crls.hits('/inter.crl')]).toEqual([0, 0, 0]);

      await checker({ cache }).check(chain, now());
      result = await offline.check(chain, now());
      expect(result.status).toBe('good');
      expect(offline.stats.fetches).toBe(0);
    });
  });
});
