import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/oci/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import type { CaDatabase } from '../helpers/ocsp-responder.js';
import { Pki, codeSigningChain, type Issued } from '../helpers/pki.js';
import { DistributionRegistry } from '../helpers/registry/distribution.js';
import { imageIndex } from '../helpers/registry/oci-fixtures.js';
import { pushImage, pushReferrer } from '../helpers/registry/seed.js';
import { TestWebhook } from '../helpers/webhook.js';
import { crlChain } from '../helpers/crl-chain.js';
import { clusterTrustStore, writePolicyList } from '../helpers/policy-list.js';

const NOWHERE = 'http://127.0.0.1:9';
const SPDX = 'application/spdx+json';
const PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/s390x'] as const;

/**
 * Multi-platform images and required signed attestations, end to end against Debian's
 * docker-registry (referrers by the tag schema): real three-platform indexes signed each way
 * with `portcullis sign`, SBOMs attached and signed (or not), through `portcullis verify`, the
 * admission webhook and the Gatekeeper provider. Revocation answers from supplied CRLs (offline).
 */
describe('multi-platform images and required signed artifacts against docker-registry', () => {
  const pki = new Pki();
  const verifier = new ConfigDir();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-multiplatform-'));
  const crls = join(dir, 'revocation');
  let registry: DistributionRegistry;
  let client: RegistryClient;
  let caDb: CaDatabase;
  let rootDb: CaDatabase;
  let rootPem: string;
  let good: { leaf: Issued; chainPem: string };
  let revoked: { leaf: Issued; chainPem: string };
  let untrusted: { leaf: Issued; chainPem: string };
  /** Per repository: the index, its platform manifests by platform. */
  const images: Record<string, { index: Descriptor; platforms: Record<string, Descriptor> }> = {};
  const single: Record<string, Descriptor> = {};

  const ref = (repo: string, d: Descriptor, tag?: string) =>
    `${registry.host}/${repo}${tag === undefined ? '' : `:${tag}`}@${d.digest}`;

  async function sign(reference: string, signer: { leaf: Issued; chainPem: string }): Promise<void> {
    const config = new ConfigDir().signingKey(signer.leaf.keyPem, signer.chainPem);
    const r = await cli(['sign', '--config-dir', config.path, '--plain-http', reference]);
    expect(r.status, r.stderr).toBe(0);
    config.cleanup();
  }

  /** Pushes a three-platform index under `v1` (each platform manifest under its own tag too). */
  async function pushIndex(repo: string): Promise<void> {
    const platforms: Record<string, Descriptor> = {};
    const entries: Descriptor[] = [];
    for (const platform of PLATFORMS) {
      const [os, architecture] = platform.split('/') as [string, string];
      const d = await pushImage(
        client,
        { registry: registry.host, repository: repo },
        `v1-${architecture}`,
        `${repo}/${platform}`,
      );
      platforms[platform] = d;
      entries.push({ ...d, platform: { os, architecture } } as Descriptor);
    }
    const index = imageIndex(entries);
    const pushed = await client.pushManifest(
      { registry: registry.host, repository: repo },
      'v1',
      index.bytes,
      index.mediaType,
    );
    images[repo] = { index: pushed.descriptor, platforms };
  }

  beforeAll(async () => {
    registry = await DistributionRegistry.start();
    client = new RegistryClient({ plainHttp: () => true });
    const chain = crlChain(pki, 'Acme', NOWHERE);
    const { root } = chain;
    ({ rootDb, caDb } = chain);
    const leaf = (cn: string) => {
      const issued = chain.leaf(cn);
      return { leaf: issued, chainPem: chain.chainPem(issued) };
    };
    good = leaf('Acme Signer');
    revoked = leaf('Acme Revoked Signer');
    caDb.revoke(revoked.leaf, { reason: 'keyCompromise' });
    const other = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Stranger' });
    untrusted = {
      leaf: other.leaf,
      chainPem: other.leaf.certPem + other.intermediate.certPem + other.root.certPem,
    };
    rootPem = root.certPem;
    for (const [kind, db] of [
      ['ca.crl', caDb],
      ['root.crl', rootDb],
    ] as const) {
      mkdirSync(join(crls, 'crl'), { recursive: true });
      writeFileSync(join(crls, 'crl', kind), await db.gencrl());
    }
    mkdirSync(join(verifier.path, 'revocation'), { recursive: true });
    for (const f of ['ca.crl', 'root.crl']) {
      mkdirSync(join(verifier.path, 'revocation', 'crl'), { recursive: true });
      writeFileSync(join(verifier.path, 'revocation', 'crl', f), readFileSync(join(crls, 'crl', f)));
    }

    // Signed each way.
    await pushIndex('mp/index-signed');
    await sign(ref('mp/index-signed', images['mp/index-signed']!.index), good);
    await pushIndex('mp/platforms-signed');
    for (const d of Object.values(images['mp/platforms-signed']!.platforms))
      await sign(ref('mp/platforms-signed', d), good);
    await pushIndex('mp/one-unsigned');
    await sign(ref('mp/one-unsigned', images['mp/one-unsigned']!.index), good);
    for (const p of ['linux/amd64', 'linux/arm64'])
      await sign(ref('mp/one-unsigned', images['mp/one-unsigned']!.platforms[p]!), good);

    // Single images with an SBOM: signed, unsigned, signed by an untrusted key, by a revoked certificate; none.
    for (const name of ['good', 'unsigned', 'untrusted', 'revoked', 'none']) {
      const repo = `att/${name}`;
      const d = await pushImage(client, { registry: registry.host, repository: repo }, 'v1', repo);
      single[name] = d;
      await sign(ref(repo, d), good);
      if (name === 'none') continue;
      const sbom = await pushReferrer(
        client,
        { registry: registry.host, repository: repo },
        d,
        SPDX,
        `{"spdxVersion":"SPDX-2.3","name":"${name}"}`,
      );
      const signer = { good, untrusted, revoked }[name as 'good' | 'untrusted' | 'revoked'];
      if (signer !== undefined) await sign(ref(repo, sbom), signer);
    }

    // A signed SBOM of another image of the repository, listed in this image's referrers index by
    // whoever may push (the tag schema's index is a tag like any other).
    {
      const repo = { registry: registry.host, repository: 'att/foreign' };
      const mine = await pushImage(client, repo, 'v1', 'att/foreign');
      const theirs = await pushImage(client, repo, 'other', 'att/foreign-other');
      single.foreign = mine;
      await sign(ref('att/foreign', mine), good);
      const sbom = await pushReferrer(client, repo, theirs, SPDX, '{"spdxVersion":"SPDX-2.3","name":"other"}');
      await sign(ref('att/foreign', sbom), good);
      await client.addReferrer(repo, mine, sbom);
    }

    verifier
      .policy({
        version: '1.0',
        trustPolicies: [
          {
            name: 'images',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:acme'],
            trustedIdentities: ['*'],
          },
          {
            name: 'sbom-signers',
            registryScopes: ['sbom.invalid/none'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:acme'],
            trustedIdentities: [
              'x509.subject: C=US, ST=WA, O=Acme, CN=Acme Signer',
              'x509.subject: C=US, ST=WA, O=Acme, CN=Acme Revoked Signer',
            ],
          },
        ],
      })
      .storeBytes('ca', 'acme', 'root.crt', rootPem);
  });

  afterAll(async () => {
    await client?.close();
    await registry?.stop();
    pki.cleanup();
    verifier.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  interface Report {
    verified: boolean;
    code: string | null;
    message: string;
    decidedBy?: { role: string; digest: string; platform?: string; tag?: string }[];
    requiredArtifacts?: { artifactType: string; passed: boolean; code: string | null; reason: string }[];
  }
  const verify = async (reference: string, extra: string[] = []) => {
    const r = await cli([
      'verify',
      '--config-dir',
      verifier.path,
      '--plain-http',
      '--revocation',
      'offline',
      reference,
      '-o',
      'json',
      ...extra,
    ]);
    return { status: r.status, ...r.json<Report>() };
  };

  describe('portcullis verify', () => {
    it('platforms: index — the signed index decides', async () => {
      const { index } = images['mp/index-signed']!;
      const r = await verify(`${registry.host}/mp/index-signed:v1`, ['--platforms', 'index']);
      expect(r).toMatchObject({ status: 0, verified: true });
      expect(r.decidedBy).toEqual([expect.objectContaining({ role: 'index', digest: index.digest })]);
      expect(r.message).toContain(`decided by the signature`);
      expect(r.message).toContain(`of the image index ${index.digest}`);
    });

    it('platforms: index — an unsigned index with every platform manifest signed is denied', async () => {
      const r = await verify(`${registry.host}/mp/platforms-signed:v1`, ['--platforms', 'index']);
      expect(r).toMatchObject({ status: 1, verified: false, code: 'ERR_NO_SIGNATURE' });
    });

    it('platforms: all, and the default — every platform manifest signed admits, each deciding', async () => {
      for (const mode of [['--platforms', 'all'], []]) {
        const r = await verify(`${registry.host}/mp/platforms-signed:v1`, mode);
        expect(r, mode.join(' ')).toMatchObject({ status: 0, verified: true });
        expect(r.decidedBy?.map((d) => d.platform)).toEqual([...PLATFORMS]);
      }
    });

    it('platforms: all — one unsigned platform manifest denies, naming it; the default admits by the index', async () => {
      const all = await verify(`${registry.host}/mp/one-unsigned:v1`, ['--platforms', 'all']);
      expect(all).toMatchObject({ status: 1, code: 'ERR_PLATFORM_UNVERIFIED' });
      expect(all.message).toContain(`linux/s390x (${images['mp/one-unsigned']!.platforms['linux/s390x']!.digest})`);
      const def = await verify(`${registry.host}/mp/one-unsigned:v1`);
      expect(def).toMatchObject({ status: 0, verified: true });
      expect(def.decidedBy?.[0]?.role).toBe('index');
    });

    it('repo:tag@platform-digest is admitted through the tag’s signed index; the bare digest is judged by its own signatures', async () => {
      const { index, platforms } = images['mp/index-signed']!;
      const arm64 = platforms['linux/arm64']!;
      const viaTag = await verify(ref('mp/index-signed', arm64, 'v1'));
      expect(viaTag).toMatchObject({ status: 0, verified: true });
      expect(viaTag.decidedBy).toEqual([expect.objectContaining({ role: 'index', digest: index.digest, tag: 'v1' })]);
      const bare = await verify(ref('mp/index-signed', arm64));
      expect(bare).toMatchObject({ status: 1, code: 'ERR_NO_SIGNATURE' });
      // The tag of another image's index does not list it.
      const elsewhere = await verify(ref('mp/index-signed', arm64, 'v1-amd64'));
      expect(elsewhere).toMatchObject({ status: 1, code: 'ERR_NO_SIGNATURE' });
    });

    it('verify -v says which manifest’s signature decided and how each platform manifest fared', async () => {
      const r = await cli([
        'verify',
        '-v',
        '--config-dir',
        verifier.path,
        '--plain-http',
        '--revocation',
        'offline',
        '--platforms',
        'all',
        `${registry.host}/mp/one-unsigned:v1`,
      ]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('platforms: all');
      expect(r.stderr).toMatch(/platform linux\/amd64 sha256:[0-9a-f]{64}: verified \(signature sha256:/);
      expect(r.stderr).toMatch(/platform linux\/s390x sha256:[0-9a-f]{64}: not verified: no signature/);
    });

    it('inspect lists the platform manifests’ own signatures and says whose signature decides under the trust policy', async () => {
      const { platforms } = images['mp/platforms-signed']!;
      const r = await cli([
        'inspect',
        '--config-dir',
        verifier.path,
        '--plain-http',
        '--revocation',
        'offline',
        `${registry.host}/mp/platforms-signed:v1`,
        '-o',
        'json',
      ]);
      expect(r.status, r.stderr).toBe(0);
      const json = r.json<{
        signatures: unknown[];
        platforms: { platform: string; digest: string; signatures: string[] }[];
        decision: { verified: boolean; decidedBy: { role: string }[]; message: string };
      }>();
      expect(json.signatures).toEqual([]);
      expect(json.platforms.map((p) => [p.platform, p.digest, p.signatures.length])).toEqual(
        PLATFORMS.map((p) => [p, platforms[p]!.digest, 1]),
      );
      expect(json.decision).toMatchObject({ verified: true });
      expect(json.decision.decidedBy.map((d) => d.role)).toEqual(['platform', 'platform', 'platform']);
      const arm64 = images['mp/index-signed']!.platforms['linux/arm64']!;
      const text = await cli([
        'inspect',
        '--config-dir',
        verifier.path,
        '--plain-http',
        ref('mp/index-signed', arm64, 'v1'),
      ]);
      expect(text.stdout).toContain(`has no associated signature`);
      expect(text.stdout).toContain(
        `tag v1 names ${images['mp/index-signed']!.index.digest}, an image index that lists this digest`,
      );
      expect(text.stdout).toMatch(
        /trust decision \(platforms: any-of-index-or-all\): verified, decided by the signature sha256:[0-9a-f]{64} of the image index/,
      );
    });

    const requireSbom = ['--require-artifact', SPDX, '--artifact-policy', 'sbom-signers'];

    it('--require-artifact: the signed SBOM passes, and the report says why', async () => {
      const r = await verify(ref('att/good', single.good!), requireSbom);
      expect(r).toMatchObject({ status: 0, verified: true });
      expect(r.requiredArtifacts).toEqual([
        expect.objectContaining({ artifactType: SPDX, passed: true, code: null, trustPolicy: 'sbom-signers' }),
      ]);
    });

    it.each([
      ['none', 'ERR_ATTESTATION_MISSING', `no artifact of type ${SPDX}`],
      ['foreign', 'ERR_ATTESTATION_MISSING', 'none is a manifest of that type whose subject is the image'],
      ['unsigned', 'ERR_ATTESTATION_UNSIGNED', 'is not signed'],
      ['untrusted', 'ERR_ATTESTATION_REJECTED', 'ERR_CHAIN_UNTRUSTED'],
      ['revoked', 'ERR_ATTESTATION_REJECTED', 'ERR_CERT_REVOKED'],
    ])('--require-artifact: an SBOM %s fails with %s, naming it', async (name, code, words) => {
      const r = await verify(ref(`att/${name}`, single[name]!), requireSbom);
      expect(r).toMatchObject({ status: 1, verified: false, code });
      expect(r.message).toContain(`required artifact ${SPDX}`);
      expect(r.message).toContain(words);
      expect(r.requiredArtifacts?.[0]).toMatchObject({ artifactType: SPDX, passed: false, code });
    });
  });

  describe('the webhook and the Gatekeeper provider, from spec.statementOptions', () => {
    let webhook: TestWebhook;

    beforeAll(async () => {
      const statement = {
        name: 'images',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: ['ca:acme'],
        trustedIdentities: ['*'],
      };
      const sbomSigners = { ...statement, name: 'sbom-signers', registryScopes: ['sbom.invalid/none'] };
      const policy = (namespace: string, options: Record<string, unknown>) => ({
        apiVersion: 'portcullis.dev/v1alpha1',
        kind: 'TrustPolicy',
        metadata: { name: 'images', namespace },
        spec: {
          version: '1.0',
          trustPolicies: [statement, sbomSigners],
          statementOptions: [{ statement: 'images', ...options }],
        },
      });
      const policies = writePolicyList(
        join(dir, 'policies'),
        [
          clusterTrustStore('acme', rootPem),
          policy('by-index', { platforms: 'index' }),
          policy('by-all', { platforms: 'all' }),
          policy('by-default', {}),
          policy('sbom', { requiredArtifacts: [{ artifactType: SPDX, trustPolicy: 'sbom-signers' }] }),
        ],
        'policies.json',
      );
      webhook = await TestWebhook.start({
        policies,
        devCertDir: join(dir, 'cert'),
        plainHttp: [registry.host],
        verification: { revocationMaterial: crls },
      });
    });

    afterAll(async () => {
      await webhook?.stop();
    });

    const review = (image: string, namespace: string) => webhook.review(image, namespace);
    const provider = (keys: string[]) => webhook.provider(keys);

    it.each([
      ['by-index', 'mp/index-signed', true],
      ['by-index', 'mp/platforms-signed', false],
      ['by-all', 'mp/platforms-signed', true],
      ['by-all', 'mp/one-unsigned', false],
      ['by-all', 'mp/index-signed', false],
      ['by-default', 'mp/index-signed', true],
      ['by-default', 'mp/platforms-signed', true],
      ['by-default', 'mp/one-unsigned', true],
    ])('namespace %s: %s:v1 allowed=%s', async (namespace, repo, allowed) => {
      const r = await review(`${registry.host}/${repo}:v1`, namespace);
      expect(r.allowed, r.status?.message).toBe(allowed);
    });

    it('denials name the cause: the unsigned index, the platform manifest', async () => {
      expect((await review(`${registry.host}/mp/platforms-signed:v1`, 'by-index')).status?.message).toContain(
        'ERR_NO_SIGNATURE',
      );
      const all = (await review(`${registry.host}/mp/one-unsigned:v1`, 'by-all')).status?.message;
      expect(all).toContain('ERR_PLATFORM_UNVERIFIED');
      expect(all).toContain('linux/s390x');
    });

    it('a pod naming repo:tag@platform-digest is admitted through the signed index; the bare digest is not', async () => {
      const arm64 = images['mp/index-signed']!.platforms['linux/arm64']!;
      expect((await review(ref('mp/index-signed', arm64, 'v1'), 'by-default')).allowed).toBe(true);
      const bare = await review(ref('mp/index-signed', arm64), 'by-default');
      expect(bare.allowed).toBe(false);
      expect(bare.status?.message).toContain('ERR_NO_SIGNATURE');
      // Asked again: the tag form's cached verdict does not leak to the bare digest, nor back.
      expect((await review(ref('mp/index-signed', arm64, 'v1'), 'by-default')).allowed).toBe(true);
      expect((await review(ref('mp/index-signed', arm64), 'by-default')).allowed).toBe(false);
    });

    it('required SBOM: the signed one is admitted; missing, unsigned, untrusted and revoked ones are denied, named', async () => {
      expect((await review(ref('att/good', single.good!), 'sbom')).allowed).toBe(true);
      for (const [name, code] of [
        ['none', 'ERR_ATTESTATION_MISSING'],
        ['unsigned', 'ERR_ATTESTATION_UNSIGNED'],
        ['untrusted', 'ERR_ATTESTATION_REJECTED'],
        ['revoked', 'ERR_ATTESTATION_REJECTED'],
      ] as const) {
        const r = await review(ref(`att/${name}`, single[name]!), 'sbom');
        expect(r.allowed, name).toBe(false);
        expect(r.status?.message, name).toContain(code);
        expect(r.status?.message, name).toContain(`required artifact ${SPDX}`);
      }
    });

    it('the Gatekeeper provider answers the same way', async () => {
      const arm64 = images['mp/index-signed']!.platforms['linux/arm64']!;
      const items = await provider([
        `[by-all]${registry.host}/mp/one-unsigned:v1`,
        `[by-default]${ref('mp/index-signed', arm64, 'v1')}`,
        `[sbom]${ref('att/good', single.good!)}`,
        `[sbom]${ref('att/unsigned', single.unsigned!)}`,
      ]);
      expect(items[0]?.error).toContain('ERR_PLATFORM_UNVERIFIED');
      expect(items[1]?.error).toBeUndefined();
      expect(items[2]?.error).toBeUndefined();
      expect(items[3]?.error).toContain('ERR_ATTESTATION_UNSIGNED');
    });
  });
});
