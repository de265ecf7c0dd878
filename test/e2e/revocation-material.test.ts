import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import type { CaDatabase } from '../helpers/ocsp-responder.js';
import { ocspResponseFor } from '../helpers/ocsp-responder.js';
import { Pki, type Issued } from '../helpers/pki.js';
import { DistributionRegistry } from '../helpers/registry/distribution.js';
import { pushImage } from '../helpers/registry/seed.js';
import { TestWebhook } from '../helpers/webhook.js';
import { crlChain } from '../helpers/crl-chain.js';
import { clusterTrustPolicy, clusterTrustStore, writePolicyList } from '../helpers/policy-list.js';

const DAY = 86_400_000;
// Where the certificates say their CRLs and OCSP responder are: nothing listens there, as in an
// air-gapped cluster that cannot reach the CA.
const NOWHERE = 'http://127.0.0.1:9';
/** The one statement, in the CLI's trust policy and in the webhook's ClusterTrustPolicy alike. */
const STRICT = {
  name: 'strict',
  registryScopes: ['*'],
  signatureVerification: { level: 'strict' },
  trustStores: ['ca:airgap'],
  trustedIdentities: ['*'],
};

/**
 * Air-gapped revocation: CRLs and OCSP responses the operator copied into <config-dir>/revocation
 * (CLI) or a mounted directory (webhook `verification.revocationMaterial`) answer revocation with
 * no network, checked like fetched ones, against images signed in the real registry.
 */
describe('revocation from operator-supplied files', () => {
  const pki = new Pki();
  const verifier = new ConfigDir();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-material-e2e-'));
  let registry: DistributionRegistry;
  let rootDb: CaDatabase;
  let caDb: CaDatabase;
  let good: Issued;
  let revoked: Issued;
  let ocspOnly: Issued;
  const images: Record<'good' | 'revoked' | 'ocspOnly', string> = { good: '', revoked: '', ocspOnly: '' };

  async function signWith(leaf: Issued, ca: Issued, root: Issued, name: keyof typeof images): Promise<void> {
    const signer = new ConfigDir().signingKey(leaf.keyPem, leaf.certPem + ca.certPem + root.certPem);
    const client = new RegistryClient({ plainHttp: () => true });
    const subject = await pushImage(
      client,
      { registry: registry.host, repository: `airgap/${name.toLowerCase()}` },
      'v1',
      name,
    );
    await client.close();
    images[name] = `${registry.host}/airgap/${name.toLowerCase()}@${subject.digest}`;
    expect((await cli(['sign', '--config-dir', signer.path, '--plain-http', images[name]])).status).toBe(0);
    signer.cleanup();
  }

  const material = (
    kind: 'crl' | 'ocsp',
    name: string,
    bytes: Uint8Array,
    base = join(verifier.path, 'revocation'),
  ) => {
    mkdirSync(join(base, kind), { recursive: true });
    writeFileSync(join(base, kind, name), bytes);
  };
  const clearMaterial = () => rmSync(join(verifier.path, 'revocation'), { recursive: true, force: true });

  beforeAll(async () => {
    registry = await DistributionRegistry.start();
    const chain = crlChain(pki, 'Airgap', NOWHERE);
    const { root, ca, leaf } = chain;
    ({ rootDb, caDb } = chain);
    good = leaf('Good Signer');
    revoked = leaf('Revoked Signer');
    ocspOnly = leaf('OCSP Signer', `authorityInfoAccess=OCSP;URI:${NOWHERE}/ocsp`);
    caDb.revoke(revoked, { reason: 'keyCompromise' });
    await signWith(good, ca, root, 'good');
    await signWith(revoked, ca, root, 'revoked');
    await signWith(ocspOnly, ca, root, 'ocspOnly');
    verifier.policy({ version: '1.0', trustPolicies: [STRICT] }).storeBytes('ca', 'airgap', 'root.crt', root.certPem);
  });

  afterAll(async () => {
    await registry?.stop();
    pki.cleanup();
    verifier.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('portcullis verify --revocation offline', () => {
    const verify = async (image: keyof typeof images, extra: string[] = []) => {
      const r = await cli([
        'verify',
        '--config-dir',
        verifier.path,
        '--plain-http',
        '--revocation',
        'offline',
        images[image],
        '-o',
        'json',
        ...extra,
      ]);
      return {
        status: r.status,
        stderr: r.stderr,
        ...r.json<{ verified: boolean; code: string | null; message: string }>(),
      };
    };

    it('without supplied files, the status is unknown and strict rejects', async () => {
      clearMaterial();
      expect(await verify('good')).toMatchObject({ status: 1, verified: false, code: 'ERR_REVOCATION_UNKNOWN' });
    });

    it('with the CA and root CRLs supplied, verifies with no network', async () => {
      clearMaterial();
      material('crl', 'ca.crl', await caDb.gencrl());
      material('crl', 'root.crl', await rootDb.gencrl());
      expect(await verify('good')).toMatchObject({ status: 0, verified: true });
      const r = await cli([
        'verify',
        '-v',
        '--config-dir',
        verifier.path,
        '--plain-http',
        '--revocation',
        'offline',
        images.good,
      ]);
      expect(r.stderr).toContain(`(preloaded CRL ${join(verifier.path, 'revocation', 'crl', 'ca.crl')})`);
    });

    it('a certificate the supplied CRL lists is revoked, naming the file', async () => {
      const r = await verify('revoked');
      expect(r).toMatchObject({ status: 1, code: 'ERR_CERT_REVOKED' });
      expect(r.message).toContain('keyCompromise');
      expect(r.message).toContain('according to preloaded CRL');
    });

    it('a stale supplied CRL means unknown', async () => {
      clearMaterial();
      material(
        'crl',
        'ca.crl',
        await caDb.gencrl({ lastUpdate: new Date(Date.now() - 3 * DAY), nextUpdate: new Date(Date.now() - DAY) }),
      );
      material('crl', 'root.crl', await rootDb.gencrl());
      const r = await verify('good');
      expect(r).toMatchObject({ status: 1, code: 'ERR_REVOCATION_UNKNOWN' });
      expect(r.message).toContain('expired CRL');
    });

    it('a supplied OCSP response answers too', async () => {
      clearMaterial();
      material('ocsp', 'signer.der', await ocspResponseFor(caDb, ocspOnly));
      material('crl', 'root.crl', await rootDb.gencrl());
      expect(await verify('ocspOnly')).toMatchObject({ status: 0, verified: true });
    });

    it('a file that is not a CRL is a warning, not a crash', async () => {
      material('crl', 'junk.crl', new TextEncoder().encode('junk'));
      const r = await verify('ocspOnly');
      expect(r).toMatchObject({ status: 0, verified: true });
      expect(r.stderr).toContain('warning: revocation material');
      expect(r.stderr).toContain('junk.crl: malformed CRL');
    });

    it('inspect --revocation offline says which source answered for each certificate', async () => {
      clearMaterial();
      material('crl', 'ca.crl', await caDb.gencrl());
      const r = await cli([
        'inspect',
        '--config-dir',
        verifier.path,
        '--plain-http',
        '--revocation',
        'offline',
        images.good,
        '-o',
        'json',
      ]);
      expect(r.status).toBe(0);
      const certs = r.json<{ signatures: { certificates: { revocation: Record<string, string> }[] }[] }>().signatures[0]
        ?.certificates;
      expect(certs?.[0]?.revocation).toMatchObject({
        status: 'good',
        answeredBy: `preloaded CRL ${join(verifier.path, 'revocation', 'crl', 'ca.crl')}`,
      });
      // No root CRL supplied and none reachable: the CA certificate's status is unknown, and says so.
      expect(certs?.[1]?.revocation).toMatchObject({ status: 'unknown' });
      expect(certs?.[2]?.revocation).toMatchObject({ status: 'nonRevokable' });
      const text = await cli([
        'inspect',
        '--config-dir',
        verifier.path,
        '--plain-http',
        '--revocation',
        'offline',
        images.good,
      ]);
      expect(text.stdout).toContain('revocation: good by preloaded CRL');
    });
  });

  describe('the webhook with verification.revocationMaterial (files mounted in the pod)', () => {
    let webhook: TestWebhook;

    beforeAll(async () => {
      const mounted = join(dir, 'revocation');
      material('crl', 'ca.crl', await caDb.gencrl(), mounted);
      material('crl', 'root.crl', await rootDb.gencrl(), mounted);
      const policies = join(dir, 'policies');
      mkdirSync(policies);
      const rootPem = readFileSync(join(verifier.path, 'truststore/x509/ca/airgap/root.crt'), 'utf8').replace(
        /^/gm,
        '      ',
      );
      writeFileSync(
        join(policies, 'policy.yaml'),
        `apiVersion: v1
kind: Namespace
metadata: { name: apps, labels: { portcullis.dev/enforce: "true" } }
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustStore
metadata: { name: airgap }
spec:
  type: ca
  certificates: |
${rootPem}
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustPolicy
metadata: { name: airgap }
spec:
  enforcementAction: deny
  namespaceSelector: { matchLabels: { portcullis.dev/enforce: "true" } }
  version: "1.0"
  trustPolicies:
    - name: strict
      registryScopes: ["*"]
      signatureVerification: { level: strict }
      trustStores: ["ca:airgap"]
      trustedIdentities: ["*"]
`,
      );
      webhook = await TestWebhook.start({
        policies,
        devCertDir: join(dir, 'cert'),
        plainHttp: [registry.host],
        verification: { revocationMaterial: mounted },
      });
    });
    afterAll(async () => {
      await webhook?.stop();
    });

    const review = (image: string) => webhook.review(image, 'apps');

    it('admits an image whose chain the mounted CRLs vouch for, offline', async () => {
      expect(await review(images.good)).toMatchObject({ allowed: true });
    });

    it('denies an image whose signer the mounted CRL revokes', async () => {
      const r = await review(images.revoked);
      expect(r.allowed).toBe(false);
      expect(r.status?.message).toContain('ERR_CERT_REVOKED');
    });

    it("admits a signer that names only an OCSP responder: the CA's complete CRL covers every certificate it issued", async () => {
      expect(await review(images.ocspOnly)).toMatchObject({ allowed: true });
    });
  });

  describe('the webhook with verification.revocationMaterialRefs (a ConfigMap and a Secret beside the policies)', () => {
    let webhook: TestWebhook;
    const policies = join(dir, 'policies-refs');

    const write = async (caCrl: Uint8Array | undefined) => {
      const rootPem = readFileSync(join(verifier.path, 'truststore/x509/ca/airgap/root.crt'), 'utf8');
      const pem = (der: Uint8Array) =>
        `-----BEGIN X509 CRL-----\n${Buffer.from(der)
          .toString('base64')
          .replace(/(.{64})/g, '$1\n')}\n-----END X509 CRL-----\n`;
      const items: unknown[] = [
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'apps', labels: { 'portcullis.dev/enforce': 'true' } },
        },
        clusterTrustStore('airgap', rootPem),
        clusterTrustPolicy('airgap', {
          namespaceSelector: { matchLabels: { 'portcullis.dev/enforce': 'true' } },
          version: '1.0',
          trustPolicies: [STRICT],
        }),
        // The root's CRL as binary data of a Secret; the CA's as PEM text of a ConfigMap.
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'root-crl', namespace: 'portcullis' },
          data: { 'root.crl': Buffer.from(await rootDb.gencrl()).toString('base64') },
        },
      ];
      if (caCrl !== undefined)
        items.push({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'crls', namespace: 'portcullis' },
          data: { 'ca.crl': pem(caCrl), 'README.txt': 'not material' },
        });
      writePolicyList(policies, items);
    };

    beforeAll(async () => {
      await write(await caDb.gencrl());
      webhook = await TestWebhook.start({
        policies,
        devCertDir: join(dir, 'cert-refs'),
        plainHttp: [registry.host],
        verification: { revocationMaterialRefs: ['ConfigMap/portcullis/crls', 'Secret/portcullis/root-crl'] },
        // Verdicts are not cached here, so a change of the material shows at the next review.
        cache: { verdictTtlSeconds: 0, negativeVerdictTtlSeconds: 0 },
      });
    });
    afterAll(async () => {
      await webhook?.stop();
    });

    const review = (image: string) => webhook.review(image, 'apps');

    it('admits an image the referenced CRLs vouch for, offline', async () => {
      const r = await review(images.good);
      expect(r.allowed, r.status?.message).toBe(true);
    });

    it('denies an image whose signer the ConfigMap CRL revokes, naming the ConfigMap key', async () => {
      const r = await review(images.revoked);
      expect(r.allowed).toBe(false);
      expect(r.status?.message).toContain('ERR_CERT_REVOKED');
      expect(r.status?.message).toContain('preloaded CRL ConfigMap portcullis/crls key ca.crl');
    });

    it('re-reads the objects when they change: without the ConfigMap the status is unknown again', async () => {
      await write(undefined);
      const deadline = Date.now() + 10_000;
      let r = await review(images.good);
      while (r.allowed && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        r = await review(images.good);
      }
      expect(r.allowed).toBe(false);
      expect(r.status?.message).toContain('ERR_REVOCATION_UNKNOWN');
    });
  });
});
