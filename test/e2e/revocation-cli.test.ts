import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { CaDatabase, OcspResponder } from '../helpers/ocsp-responder.js';
import { EXT, Pki, type Issued } from '../helpers/pki.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { pushImage } from '../helpers/registry/seed.js';

const DAY = 86_400_000;

/** `portcullis verify` checks revocation against a real `openssl ocsp` responder on loopback. */
describe('revocation through portcullis verify', () => {
  const pki = new Pki();
  const signer = new ConfigDir();
  const verifier = new ConfigDir();
  let registry: ReferrersRegistry;
  let responder: OcspResponder;
  let db: CaDatabase;
  let leaf: Issued;
  let image: string;

  beforeAll(async () => {
    const root = pki.issue({
      subject: '/C=US/ST=WA/O=Revocation/CN=Revocation Root',
      key: 'ec-256',
      extensions: EXT.root,
      notBefore: new Date(Date.now() - DAY),
    });
    const intermediate = pki.issue({
      subject: '/C=US/ST=WA/O=Revocation/CN=Revocation Intermediate',
      key: 'ec-256',
      issuer: root,
      extensions: EXT.intermediate,
      notBefore: new Date(Date.now() - DAY),
    });
    db = new CaDatabase(pki, intermediate);
    responder = await OcspResponder.start(db);
    leaf = pki.issue({
      subject: '/C=US/ST=WA/O=Revocation/CN=Revocation Signer',
      key: 'ec-256',
      issuer: intermediate,
      extensions: [...EXT.codeSigningLeaf, `authorityInfoAccess=OCSP;URI:${responder.url}`],
      notBefore: new Date(Date.now() - DAY),
    });
    db.add(leaf);
    // A signing key kept the way notation keeps keys: key file, chain file, signingkeys.json.
    signer.signingKey(leaf.keyPem, leaf.certPem + intermediate.certPem + root.certPem, 'rev');
    verifier
      .policy({
        version: '1.0',
        trustPolicies: [
          {
            name: 'strict',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:rev'],
            trustedIdentities: ['*'],
          },
        ],
      })
      .storeBytes('ca', 'rev', 'root.crt', root.certPem);
    registry = await ReferrersRegistry.start();
    const client = new RegistryClient();
    await pushImage(client, { registry: registry.host, repository: 'app' }, 'v1');
    await client.close();
    image = `${registry.host}/app:v1`;
    expect((await cli(['sign', '--config-dir', signer.path, image])).status).toBe(0);
  });

  afterAll(async () => {
    await responder?.stop();
    await registry?.stop();
    pki.cleanup();
    signer.cleanup();
    verifier.cleanup();
  });

  it('passes while the responder says good', async () => {
    const r = await cli(['verify', '--config-dir', verifier.path, image, '--output', 'json']);
    expect(r.json()).toMatchObject({ verified: true });
  });

  it('fails under strict once the leaf is revoked, saying when and why', async () => {
    db.revoke(leaf, { at: new Date(Date.now() - 60_000), reason: 'keyCompromise' });
    const r = await cli(['verify', '--config-dir', verifier.path, image, '--output', 'json']);
    expect(r.status).toBe(1);
    expect(r.json()).toMatchObject({ verified: false, failedCheck: 'revocation', code: 'ERR_CERT_REVOKED' });
    expect(r.json<{ message: string }>().message).toContain('keyCompromise');
  });

  it('in offline mode the status is unknown, which strict rejects', async () => {
    const r = await cli([
      'verify',
      '--config-dir',
      verifier.path,
      '--revocation',
      'offline',
      image,
      '--output',
      'json',
    ]);
    expect(r.json()).toMatchObject({ verified: false, failedCheck: 'revocation', code: 'ERR_REVOCATION_UNKNOWN' });
  });
});
