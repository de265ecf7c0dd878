import { createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrlServer } from '../../test/helpers/crl-server.js';
import { CaDatabase, OcspResponder } from '../../test/helpers/ocsp-responder.js';
import { EXT, Pki, type Issued } from '../../test/helpers/pki.js';
import { makeArtifact, payloadFor, signArtifact } from '../../test/helpers/signed.js';
import { TestTsa } from '../../test/helpers/tsa.js';
import { signPrimitive } from '../envelope/algorithms.js';
import { prepareEnvelope } from '../envelope/index.js';
import { MEDIA_TYPE } from '../oci/media-types.js';
import { loadTrustPolicy } from '../policy/index.js';
import type { TrustPolicyStatement } from '../policy/types.js';
import { verifySignature } from '../verify/signature.js';
import type { SignatureVerification, TrustStores } from '../verify/types.js';
import { parseCertificate, type Certificate } from '../x509/certificate.js';
import { HASH_OF } from '../x509/key-spec.js';
import { OnlineRevocationChecker } from './checker.js';
import { HttpRevocationFetcher } from './http-fetcher.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const artifact = makeArtifact('revocation-e2e').descriptor;

function statement(signatureVerification: Record<string, unknown>, trustStores = ['ca:test']): TrustPolicyStatement {
  return loadTrustPolicy(
    JSON.stringify({
      version: '1.0',
      trustPolicies: [
        { name: 'rev', registryScopes: ['*'], signatureVerification, trustStores, trustedIdentities: ['*'] },
      ],
    }),
  ).statements[0] as TrustPolicyStatement;
}

const statuses = (r: SignatureVerification) => Object.fromEntries(r.checks.map((c) => [c.check, c.status]));

/** verifySignature (the pure core) with the OnlineRevocationChecker, against openssl OCSP and CRL peers. */
describe('revocation through verifySignature', () => {
  const pki = new Pki();
  const checker = new OnlineRevocationChecker({ fetcher: new HttpRevocationFetcher() });
  let crls: CrlServer;
  let root: Issued;
  let intermediate: Issued;
  let db: CaDatabase;
  let ocsp: OcspResponder;
  let tsa: TestTsa;
  let tsaDb: CaDatabase;
  let stores: TrustStores;
  let n = 0;

  const newLeaf = (): Issued => {
    const leaf = pki.issue({
      subject: `/C=US/ST=WA/O=E2E/CN=Signer ${++n}`,
      key: 'ec-256',
      issuer: intermediate,
      extensions: [...EXT.codeSigningLeaf, `authorityInfoAccess=OCSP;URI:${ocsp.url}`],
      notBefore: new Date(Date.now() - DAY),
    });
    db.add(leaf);
    return leaf;
  };
  const chainOf = (leaf: Issued) => [leaf.certDer, intermediate.certDer, root.certDer];

  beforeAll(async () => {
    crls = await CrlServer.start();
    root = pki.issue({
      subject: '/C=US/ST=WA/O=E2E/CN=E2E Root',
      key: 'ec-256',
      extensions: EXT.root,
      notBefore: new Date(Date.now() - 2 * DAY),
    });
    intermediate = pki.issue({
      subject: '/C=US/ST=WA/O=E2E/CN=E2E Intermediate',
      key: 'ec-256',
      issuer: root,
      extensions: [...EXT.intermediate, `crlDistributionPoints=URI:${crls.url('/root.crl')}`],
      notBefore: new Date(Date.now() - 2 * DAY),
    });
    const rootDb = new CaDatabase(pki, root).add(intermediate);
    crls.serve('/root.crl', await rootDb.gencrl());
    db = new CaDatabase(pki, intermediate);
    ocsp = await OcspResponder.start(db);
    tsa = new TestTsa({
      pki,
      name: 'E2E TSA',
      leafExtensions: [...EXT.tsaLeaf, `crlDistributionPoints=URI:${crls.url('/tsa.crl')}`],
    });
    tsaDb = new CaDatabase(pki, tsa.root).add(tsa.leaf);
    crls.serve('/tsa.crl', await tsaDb.gencrl());
    const map = new Map<string, Certificate[]>([
      ['ca:test', [parseCertificate(root.certDer)]],
      ['signingAuthority:sa', [parseCertificate(root.certDer)]],
      ['tsa:tsa', [parseCertificate(tsa.rootDer)]],
    ]);
    stores = { get: (type, name) => map.get(`${type}:${name}`) };
  });
  afterAll(async () => {
    await Promise.all([ocsp?.stop(), crls?.stop()]);
    pki.cleanup();
  });

  const verify = (
    envelope: Uint8Array,
    s: TrustPolicyStatement,
    revocation = checker,
    mediaType: string = MEDIA_TYPE.jws,
  ) =>
    verifySignature(
      { signature: 'sha256:e2e', envelopeMediaType: mediaType, envelope, artifact },
      { statement: s, trustStores: stores, at: new Date(), revocation },
    );

  it('strict: a good chain passes revocation', async () => {
    const leaf = newLeaf();
    const { envelope } = signArtifact({ keyPem: leaf.keyPem, chainDer: chainOf(leaf), artifact });
    const r = await verify(envelope, statement({ level: 'strict' }));
    expect(r.passed).toBe(true);
    expect(statuses(r).revocation).toBe('passed');
  });

  it('strict: a revoked leaf fails with ERR_CERT_REVOKED (time and reason); permissive logs it; override skip skips it', async () => {
    const leaf = newLeaf();
    const revokedAt = new Date(Math.floor((Date.now() - 5 * 60_000) / 1000) * 1000);
    db.revoke(leaf, { at: revokedAt, reason: 'keyCompromise' });
    const { envelope } = signArtifact({ keyPem: leaf.keyPem, chainDer: chainOf(leaf), artifact });

    const strict = await verify(envelope, statement({ level: 'strict' }));
    expect(strict.passed).toBe(false);
    expect(strict.failure?.check).toBe('revocation');
    expect(strict.failure?.error.code).toBe('ERR_CERT_REVOKED');
    expect(strict.failure?.error.message).toContain(`is revoked at ${revokedAt.toISOString()} (reason: keyCompromise)`);

    const permissive = await verify(envelope, statement({ level: 'permissive' }));
    expect(permissive.passed).toBe(true);
    expect(permissive.checks.find((c) => c.check === 'revocation')).toMatchObject({
      status: 'logged',
      error: { code: 'ERR_CERT_REVOKED' },
    });

    const skipped = await verify(envelope, statement({ level: 'strict', override: { revocation: 'skip' } }));
    expect(skipped.passed).toBe(true);
    expect(statuses(skipped).revocation).toBe('skipped');
  });

  it('strict: an unreachable responder gives ERR_REVOCATION_UNKNOWN naming the URL', async () => {
    const leaf = newLeaf();
    const { envelope } = signArtifact({ keyPem: leaf.keyPem, chainDer: chainOf(leaf), artifact });
    const offline = new OnlineRevocationChecker({ fetcher: new HttpRevocationFetcher(), mode: 'offline' });
    const r = await verify(envelope, statement({ level: 'strict' }), offline);
    expect(r.failure?.error.code).toBe('ERR_REVOCATION_UNKNOWN');
    expect(r.failure?.error.message).toContain(`offline mode: no cached OCSP response from ${ocsp.url}`);
    expect(statuses(await verify(envelope, statement({ level: 'permissive' }), offline)).revocation).toBe('logged');
  });

  it('signingAuthority: a revocation after the authentic signing time does not invalidate; before it does', async () => {
    const leaf = newLeaf();
    db.revoke(leaf, { at: new Date(Date.now() - HOUR), reason: 'superseded' });
    const sa = statement({ level: 'strict' }, ['signingAuthority:sa']);
    const signedBefore = signArtifact({
      keyPem: leaf.keyPem,
      chainDer: chainOf(leaf),
      artifact,
      format: 'cose',
      scheme: 'notary.x509.signingAuthority',
      signingTime: new Date(Date.now() - 2 * HOUR),
    });
    const ok = await verify(signedBefore.envelope, sa, checker, signedBefore.mediaType);
    expect(ok.passed).toBe(true);
    expect(statuses(ok).revocation).toBe('passed');
    const signedAfter = signArtifact({
      keyPem: leaf.keyPem,
      chainDer: chainOf(leaf),
      artifact,
      format: 'cose',
      scheme: 'notary.x509.signingAuthority',
      signingTime: new Date(Date.now() - 30 * 60_000),
    });
    const bad = await verify(signedAfter.envelope, sa, checker, signedAfter.mediaType);
    expect(bad.failure).toMatchObject({ check: 'revocation', error: { code: 'ERR_CERT_REVOKED' } });
    // notary.x509: the signing time is not authentic, revoked means revoked.
    const x509 = signArtifact({
      keyPem: leaf.keyPem,
      chainDer: chainOf(leaf),
      artifact,
      signingTime: new Date(Date.now() - 2 * HOUR),
    });
    expect((await verify(x509.envelope, statement({ level: 'strict' }))).failure?.error.code).toBe('ERR_CERT_REVOKED');
  });

  describe('the timestamp authority chain', () => {
    const timestamped = (leaf: Issued): Uint8Array => {
      const certs = chainOf(leaf).map((d) => parseCertificate(d));
      const prepared = prepareEnvelope('jws', { payload: payloadFor(artifact), signingTime: new Date() }, certs);
      const signature = signPrimitive(prepared.algorithm, createPrivateKey(leaf.keyPem), prepared.signingInput);
      return prepared.finish(signature, tsa.timestamp(signature, HASH_OF[prepared.algorithm]));
    };
    const tsStatement = (level: string) => statement({ level, verifyTimestamp: 'always' }, ['ca:test', 'tsa:tsa']);

    it('is revocation-checked with the timestamp: good passes, revoked fails authenticTimestamp', async () => {
      const leaf = newLeaf();
      const envelope = timestamped(leaf);
      const fresh = () => new OnlineRevocationChecker({ fetcher: new HttpRevocationFetcher() });
      const good = await verify(envelope, tsStatement('strict'), fresh());
      expect(good.passed).toBe(true);
      expect(statuses(good)).toMatchObject({ authenticTimestamp: 'passed', revocation: 'passed' });

      tsaDb.revoke(tsa.leaf, { reason: 'keyCompromise' });
      crls.serve('/tsa.crl', await tsaDb.gencrl());
      try {
        const revoked = await verify(envelope, tsStatement('strict'), fresh());
        expect(revoked.failure?.check).toBe('authenticTimestamp');
        expect(revoked.failure?.error.code).toBe('ERR_CERT_REVOKED');
        expect(revoked.failure?.error.message).toMatch(
          /^timestamping certificate with subject "CN=E2E TSA Signer,O=E2E TSA,C=US" is revoked/,
        );
        // Under permissive, authenticTimestamp is logged.
        const permissive = await verify(envelope, tsStatement('permissive'), fresh());
        expect(permissive.passed).toBe(true);
        expect(statuses(permissive).authenticTimestamp).toBe('logged');
      } finally {
        tsaDb.reinstate(tsa.leaf);
        crls.serve('/tsa.crl', await tsaDb.gencrl());
      }
    });

    it('offline + strict: a timestamped signature fails authenticTimestamp with unknown TSA revocation', async () => {
      const leaf = newLeaf();
      const offline = new OnlineRevocationChecker({ fetcher: new HttpRevocationFetcher(), mode: 'offline' });
      const r = await verify(timestamped(leaf), tsStatement('strict'), offline);
      expect(r.failure?.check).toBe('authenticTimestamp');
      expect(r.failure?.error.code).toBe('ERR_REVOCATION_UNKNOWN');
      expect(r.failure?.error.message).toContain('timestamping certificate with subject');
    });
  });
});
