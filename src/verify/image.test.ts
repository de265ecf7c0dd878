import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryImageSource } from '../../test/helpers/image-source.js';
import { Pki, codeSigningChain, type CodeSigningChain } from '../../test/helpers/pki.js';
import type { Descriptor } from '../oci/descriptor.js';
import { loadTrustPolicy, type ImageRequirements, type PlatformsMode } from '../policy/index.js';
import { CertificateCache, parseCertificate } from '../x509/certificate.js';
import { verifyImage, type ImageVerification, type ImageVerificationRequest } from './image.js';
import type { RevocationChecker } from './types.js';

const REPO = 'registry.test/app';

describe('multi-platform images and required artifacts', () => {
  const pki = new Pki();
  let trusted: CodeSigningChain;
  let untrusted: CodeSigningChain;
  let sbomSigner: CodeSigningChain;

  beforeAll(() => {
    trusted = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Trusted' });
    untrusted = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Untrusted' });
    sbomSigner = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Sbom' });
  });
  afterAll(() => pki.cleanup());

  const policy = () =>
    loadTrustPolicy(
      JSON.stringify({
        version: '1.0',
        trustPolicies: [
          {
            name: 'images',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:images'],
            trustedIdentities: ['*'],
          },
          {
            name: 'sbom',
            registryScopes: ['registry.test/other'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:sbom'],
            trustedIdentities: ['*'],
          },
        ],
      }),
    );

  async function verify(
    source: MemoryImageSource,
    artifact: Descriptor,
    opts: {
      platforms?: PlatformsMode;
      tag?: { name: string; target: Descriptor | undefined };
      required?: ImageRequirements['requiredArtifacts'];
      revocation?: RevocationChecker;
      at?: Date;
    } = {},
  ): Promise<ImageVerification> {
    const stores = new Map([
      ['ca:images', [parseCertificate(trusted.root.certDer)]],
      ['ca:sbom', [parseCertificate(sbomSigner.root.certDer)]],
    ]);
    const tag = opts.tag;
    const request: ImageVerificationRequest = {
      reference: `${REPO}${tag === undefined ? '' : `:${tag.name}`}@${artifact.digest}`,
      repository: REPO,
      artifact: { mediaType: artifact.mediaType, digest: artifact.digest, size: artifact.size },
      requirements: { platforms: opts.platforms ?? 'any-of-index-or-all', requiredArtifacts: opts.required ?? [] },
      ...(tag === undefined ? {} : { tag: { name: tag.name, resolve: async () => tag.target } }),
    };
    return verifyImage(request, {
      policy: policy(),
      trustStores: { get: (type, name) => stores.get(`${type}:${name}`) },
      source,
      at: opts.at ?? new Date(),
      certificateCache: new CertificateCache(),
      ...(opts.revocation === undefined ? {} : { revocation: opts.revocation }),
    });
  }

  /** An index of three platform manifests (and a BuildKit attestation manifest). */
  function image(source: MemoryImageSource) {
    const amd64 = source.manifest('amd64');
    const arm64 = source.manifest('arm64');
    const s390x = source.manifest('s390x');
    const provenance = source.manifest('provenance');
    const index = source.index(
      [
        { descriptor: amd64, platform: 'linux/amd64' },
        { descriptor: arm64, platform: 'linux/arm64/v8' },
        { descriptor: s390x, platform: 'linux/s390x' },
      ],
      [
        {
          mediaType: provenance.mediaType,
          digest: provenance.digest,
          size: provenance.size,
          platform: { os: 'unknown', architecture: 'unknown' },
          annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
        },
      ],
    );
    return { index, amd64, arm64, s390x };
  }

  describe('an index named by the reference', () => {
    it('platforms: index — a signed index admits; its signature decides', async () => {
      const source = new MemoryImageSource();
      const { index } = image(source);
      const sig = source.sign(index, trusted);
      const result = await verify(source, index, { platforms: 'index' });
      expect(result.verified).toBe(true);
      expect(result.decidedBy).toEqual([{ role: 'index', digest: index.digest, signature: sig.digest }]);
    });

    it('platforms: index — an unsigned index is denied even when every platform manifest is signed', async () => {
      const source = new MemoryImageSource();
      const { index, amd64, arm64, s390x } = image(source);
      for (const m of [amd64, arm64, s390x]) source.sign(m, trusted);
      const result = await verify(source, index, { platforms: 'index' });
      expect(result.verified).toBe(false);
      expect(result.error?.code).toBe('ERR_NO_SIGNATURE');
      expect(result.index?.platforms).toEqual([]);
    });

    it('platforms: all — every platform manifest signed admits, each deciding; attestation manifests are not platforms', async () => {
      const source = new MemoryImageSource();
      const { index, amd64, arm64, s390x } = image(source);
      const sigs = [amd64, arm64, s390x].map((m) => source.sign(m, trusted));
      const result = await verify(source, index, { platforms: 'all' });
      expect(result.verified).toBe(true);
      expect(result.decidedBy).toEqual([
        { role: 'platform', digest: amd64.digest, platform: 'linux/amd64', signature: sigs[0]?.digest },
        { role: 'platform', digest: arm64.digest, platform: 'linux/arm64/v8', signature: sigs[1]?.digest },
        { role: 'platform', digest: s390x.digest, platform: 'linux/s390x', signature: sigs[2]?.digest },
      ]);
      expect(result.index?.verified).toBeNull();
    });

    it('platforms: all — one unsigned platform manifest denies, naming it, even with a signed index', async () => {
      const source = new MemoryImageSource();
      const { index, amd64, arm64 } = image(source);
      source.sign(index, trusted);
      source.sign(amd64, trusted);
      source.sign(arm64, trusted);
      const result = await verify(source, index, { platforms: 'all' });
      expect(result.verified).toBe(false);
      expect(result.error?.code).toBe('ERR_PLATFORM_UNVERIFIED');
      expect(result.error?.message).toContain('linux/s390x');
      expect(result.error?.message).toContain('[ERR_NO_SIGNATURE]');
      expect(result.index?.platforms.map((p) => p.verified)).toEqual([true, true, false]);
    });

    it('platforms: all — a platform manifest signed by an untrusted key denies', async () => {
      const source = new MemoryImageSource();
      const { index, amd64, arm64, s390x } = image(source);
      source.sign(amd64, trusted);
      source.sign(arm64, untrusted);
      source.sign(s390x, trusted);
      const result = await verify(source, index, { platforms: 'all' });
      expect(result.verified).toBe(false);
      expect(result.error?.message).toContain('linux/arm64/v8');
      // The first failure ends the walk: s390x is not checked.
      expect(result.index?.platforms.map((p) => p.verified)).toEqual([true, false, null]);
    });

    it('default — a signed index admits without looking at the platform manifests', async () => {
      const source = new MemoryImageSource();
      const { index } = image(source);
      source.sign(index, trusted);
      const result = await verify(source, index);
      expect(result.verified).toBe(true);
      expect(result.decidedBy.map((d) => d.role)).toEqual(['index']);
      expect(source.listCalls).toBe(1);
    });

    it('default — an unsigned index with every platform manifest signed admits, decided by the platform manifests', async () => {
      const source = new MemoryImageSource();
      const { index, amd64, arm64, s390x } = image(source);
      for (const m of [amd64, arm64, s390x]) source.sign(m, trusted);
      const result = await verify(source, index);
      expect(result.verified).toBe(true);
      expect(result.decidedBy.map((d) => d.role)).toEqual(['platform', 'platform', 'platform']);
      expect(result.index?.verified).toBe(false);
    });

    it('default — neither path verifying denies, saying both', async () => {
      const source = new MemoryImageSource();
      const { index, amd64 } = image(source);
      source.sign(index, untrusted);
      source.sign(amd64, trusted);
      const result = await verify(source, index);
      expect(result.verified).toBe(false);
      expect(result.error?.code).toBe('ERR_CHAIN_UNTRUSTED');
      expect(result.error?.message).toContain('nor did every platform manifest verify: linux/arm64/v8');
    });

    it('default — both paths failing for the same reason name its code once (the message is followed by it)', async () => {
      const source = new MemoryImageSource();
      const { index, amd64 } = image(source);
      source.sign(amd64, trusted);
      const result = await verify(source, index);
      expect(result.error?.code).toBe('ERR_NO_SIGNATURE');
      expect(result.error?.message).toContain('nor did every platform manifest verify: linux/arm64/v8');
      expect(result.error?.message).not.toContain('[ERR_NO_SIGNATURE]');
    });

    it('platforms: all — an entry for a real platform is checked even when annotated as an attestation manifest', async () => {
      const source = new MemoryImageSource();
      const amd64 = source.manifest('amd64');
      const disguised = source.manifest('disguised');
      source.sign(amd64, trusted);
      const index = source.index(
        [{ descriptor: amd64, platform: 'linux/amd64' }],
        [
          {
            mediaType: disguised.mediaType,
            digest: disguised.digest,
            size: disguised.size,
            platform: { os: 'linux', architecture: 'arm64' },
            annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
          },
        ],
      );
      const result = await verify(source, index, { platforms: 'all' });
      expect(result.verified).toBe(false);
      expect(result.error?.message).toContain(`linux/arm64 (${disguised.digest})`);
    });

    it('platforms: all — an entry naming no platform (any node may pull it) must verify too', async () => {
      const source = new MemoryImageSource();
      const amd64 = source.manifest('amd64');
      const bare = source.manifest('no-platform');
      source.sign(amd64, trusted);
      const index = source.index([{ descriptor: amd64, platform: 'linux/amd64' }, { descriptor: bare }]);
      const result = await verify(source, index, { platforms: 'all' });
      expect(result.verified).toBe(false);
      expect(result.error?.message).toContain(bare.digest);
    });

    it('an index listing no platform manifest cannot satisfy all', async () => {
      const source = new MemoryImageSource();
      const index = source.index([]);
      await expect(verify(source, index, { platforms: 'all' })).rejects.toMatchObject({ code: 'ERR_INDEX_INVALID' });
    });

    it('an index whose bytes are not its digest is refused', async () => {
      const source = new MemoryImageSource();
      const { index } = image(source);
      const forged = { ...index, size: index.size + 1 };
      await expect(verify(source, forged, { platforms: 'all' })).rejects.toMatchObject({
        code: 'ERR_DIGEST_MISMATCH',
      });
    });
  });

  describe('a platform manifest named by digest', () => {
    it('repo:tag@digest — the tag’s signed index that lists the digest admits it; the index decides', async () => {
      const source = new MemoryImageSource();
      const { index, arm64 } = image(source);
      const sig = source.sign(index, trusted);
      const result = await verify(source, arm64, { tag: { name: 'v1', target: index } });
      expect(result.verified).toBe(true);
      expect(result.artifact.digest).toBe(arm64.digest);
      expect(result.decidedBy).toEqual([{ role: 'index', digest: index.digest, tag: 'v1', signature: sig.digest }]);
    });

    it('a bare platform-manifest digest is judged by its own signatures (the index’s do not count)', async () => {
      const source = new MemoryImageSource();
      const { index, arm64 } = image(source);
      source.sign(index, trusted);
      const result = await verify(source, arm64);
      expect(result.verified).toBe(false);
      expect(result.error?.code).toBe('ERR_NO_SIGNATURE');
    });

    it('repo:tag@digest — an index that does not list the digest vouches for nothing', async () => {
      const source = new MemoryImageSource();
      const { index } = image(source);
      const stranger = source.manifest('not-listed');
      source.sign(index, trusted);
      const result = await verify(source, stranger, { tag: { name: 'v1', target: index } });
      expect(result.verified).toBe(false);
      expect(result.index).toMatchObject({ listed: false, verified: null });
    });

    it('repo:tag@digest — platforms: all ignores the index signature', async () => {
      const source = new MemoryImageSource();
      const { index, arm64 } = image(source);
      source.sign(index, trusted);
      const result = await verify(source, arm64, { platforms: 'all', tag: { name: 'v1', target: index } });
      expect(result.verified).toBe(false);
      expect(result.error?.code).toBe('ERR_NO_SIGNATURE');
    });

    it('repo:tag@digest — a manifest signed itself is admitted by its own signature, the tag unresolved', async () => {
      const source = new MemoryImageSource();
      const { index, arm64 } = image(source);
      const sig = source.sign(arm64, trusted);
      const ok = await verify(source, arm64, { platforms: 'index', tag: { name: 'v1', target: index } });
      expect(ok.verified).toBe(true);
      expect(ok.decidedBy).toEqual([{ role: 'manifest', digest: arm64.digest, signature: sig.digest }]);
      // Its own signature answered first: the tag was not even resolved.
      expect(ok.index).toBeUndefined();
    });

    it('repo:tag@digest — neither signed: the denial names both', async () => {
      const source = new MemoryImageSource();
      const { index, arm64 } = image(source);
      const result = await verify(source, arm64, { tag: { name: 'v1', target: index } });
      expect(result.verified).toBe(false);
      expect(result.error?.message).toContain(`nor do the signatures of the index tag v1 names (${index.digest})`);
    });

    it('repo:tag@digest — a tag that no longer exists leaves the manifest’s own signatures', async () => {
      const source = new MemoryImageSource();
      const { arm64 } = image(source);
      source.sign(arm64, trusted);
      const result = await verify(source, arm64, { tag: { name: 'gone', target: undefined } });
      expect(result.verified).toBe(true);
      expect(result.decidedBy[0]?.role).toBe('manifest');
    });
  });

  describe('required signed artifacts', () => {
    const SPDX = 'application/spdx+json';
    const CDX = 'application/vnd.cyclonedx+json';

    function signedImage(source: MemoryImageSource): Descriptor {
      const m = source.manifest('single');
      source.sign(m, trusted);
      return m;
    }

    it('a signed SBOM passing the named statement passes; the result says which and why', async () => {
      const source = new MemoryImageSource();
      const m = signedImage(source);
      const sbom = source.attach(m, SPDX);
      const sig = source.sign(sbom, sbomSigner);
      const result = await verify(source, m, { required: [{ artifactType: SPDX, trustPolicy: 'sbom' }] });
      expect(result.verified).toBe(true);
      expect(result.attestations).toEqual([
        expect.objectContaining({
          artifactType: SPDX,
          trustPolicy: 'sbom',
          passed: true,
          code: null,
          artifact: sbom.digest,
          signature: sig.digest,
        }),
      ]);
    });

    it('a missing SBOM fails with ERR_ATTESTATION_MISSING, naming the type', async () => {
      const source = new MemoryImageSource();
      const m = signedImage(source);
      const result = await verify(source, m, { required: [{ artifactType: SPDX, trustPolicy: 'sbom' }] });
      expect(result.verified).toBe(false);
      expect(result.error?.code).toBe('ERR_ATTESTATION_MISSING');
      expect(result.error?.message).toContain(`required artifact ${SPDX}: no artifact of type ${SPDX}`);
    });

    it('an unsigned SBOM fails with ERR_ATTESTATION_UNSIGNED', async () => {
      const source = new MemoryImageSource();
      const m = signedImage(source);
      const sbom = source.attach(m, SPDX);
      const result = await verify(source, m, { required: [{ artifactType: SPDX, trustPolicy: 'sbom' }] });
      expect(result.error?.code).toBe('ERR_ATTESTATION_UNSIGNED');
      expect(result.error?.message).toContain(`${sbom.digest} is not signed`);
    });

    it('an SBOM signed by a key the named statement does not trust fails (even if the image statement trusts it)', async () => {
      const source = new MemoryImageSource();
      const m = signedImage(source);
      source.sign(source.attach(m, SPDX), trusted);
      const result = await verify(source, m, { required: [{ artifactType: SPDX, trustPolicy: 'sbom' }] });
      expect(result.error?.code).toBe('ERR_ATTESTATION_REJECTED');
      expect(result.error?.message).toContain('trust policy statement "sbom"');
      expect(result.error?.message).toContain('[ERR_CHAIN_UNTRUSTED]');
    });

    it('an SBOM signed by a revoked certificate fails', async () => {
      const source = new MemoryImageSource();
      const m = signedImage(source);
      source.sign(source.attach(m, SPDX), sbomSigner);
      const sbomLeaf = parseCertificate(sbomSigner.leaf.certDer).sha256;
      const revocation: RevocationChecker = {
        check: async (chain) => ({
          status: chain[0]?.sha256 === sbomLeaf ? 'revoked' : 'good',
          certificates: chain.map((c) =>
            c.sha256 === sbomLeaf ? { status: 'revoked', revokedAt: new Date(0) } : { status: 'good' },
          ),
        }),
      };
      const result = await verify(source, m, { required: [{ artifactType: SPDX, trustPolicy: 'sbom' }], revocation });
      expect(result.error?.code).toBe('ERR_ATTESTATION_REJECTED');
      expect(result.error?.message).toContain('revocation check failed');
    });

    it('a platform manifest admitted through its tag’s index: a missing SBOM names both places looked', async () => {
      const source = new MemoryImageSource();
      const { index, arm64 } = image(source);
      source.sign(index, trusted);
      const result = await verify(source, arm64, {
        tag: { name: 'v1', target: index },
        required: [{ artifactType: SPDX, trustPolicy: 'sbom' }],
      });
      expect(result.error?.code).toBe('ERR_ATTESTATION_MISSING');
      expect(result.error?.message).toContain(
        `is attached to ${REPO}:v1@${arm64.digest} nor to the image index ${index.digest} that admitted it`,
      );
    });

    it('a signed SBOM of another image, listed as a referrer of this one, does not count', async () => {
      const source = new MemoryImageSource();
      const m = signedImage(source);
      const other = source.manifest('other');
      const foreign = source.attach(other, SPDX);
      source.sign(foreign, sbomSigner);
      source.list(m, foreign);
      const result = await verify(source, m, { required: [{ artifactType: SPDX, trustPolicy: 'sbom' }] });
      expect(result.error?.code).toBe('ERR_ATTESTATION_MISSING');
      expect(result.error?.message).toContain(
        'the registry lists 1, but none is a manifest of that type whose subject is the image',
      );
    });

    it('a signed artifact of another type, listed under the required type, does not count', async () => {
      const source = new MemoryImageSource();
      const m = signedImage(source);
      const report = source.attach(m, 'application/sarif+json');
      source.sign(report, sbomSigner);
      source.list(m, { ...report, artifactType: SPDX });
      const result = await verify(source, m, { required: [{ artifactType: SPDX, trustPolicy: 'sbom' }] });
      expect(result.error?.code).toBe('ERR_ATTESTATION_MISSING');
    });

    it('without a named statement the image’s own statement judges the artifact', async () => {
      const source = new MemoryImageSource();
      const m = signedImage(source);
      source.sign(source.attach(m, SPDX), trusted);
      const result = await verify(source, m, { required: [{ artifactType: SPDX }] });
      expect(result.verified).toBe(true);
      expect(result.attestations[0]?.trustPolicy).toBe('images');
    });

    it('every required type is reported; the first failing one is named', async () => {
      const source = new MemoryImageSource();
      const m = signedImage(source);
      source.sign(source.attach(m, SPDX), sbomSigner);
      const result = await verify(source, m, {
        required: [{ artifactType: SPDX, trustPolicy: 'sbom' }, { artifactType: CDX }],
      });
      expect(result.attestations.map((a) => [a.artifactType, a.passed, a.code])).toEqual([
        [SPDX, true, null],
        [CDX, false, 'ERR_ATTESTATION_MISSING'],
      ]);
      expect(result.error?.message).toContain(CDX);
    });

    it('one good SBOM among bad ones passes', async () => {
      const source = new MemoryImageSource();
      const m = signedImage(source);
      source.attach(m, SPDX, undefined, 'unsigned');
      source.sign(source.attach(m, SPDX, undefined, 'untrusted'), untrusted);
      source.sign(source.attach(m, SPDX, undefined, 'good'), sbomSigner);
      const result = await verify(source, m, { required: [{ artifactType: SPDX, trustPolicy: 'sbom' }] });
      expect(result.verified).toBe(true);
      expect(result.attestations[0]?.found).toBe(3);
    });

    describe('maxAge', () => {
      const DAY = 86_400_000;
      const at = new Date();
      const day = (n: number) => new Date(at.getTime() + n * DAY).toISOString();
      const required = [{ artifactType: SPDX, trustPolicy: 'sbom', maxAge: '30d', maxAgeMs: 30 * 86_400_000 }];

      it('a fresh one passes and bounds the verdict', async () => {
        const source = new MemoryImageSource();
        const m = signedImage(source);
        source.sign(source.attach(m, SPDX, day(-12)), sbomSigner);
        const result = await verify(source, m, { required, at });
        expect(result.verified).toBe(true);
        expect(result.validUntil?.toISOString()).toBe(day(18));
      });

      it.each([
        ['too old', -31, 'more than 30d ago'],
        ['in the future', 1, 'in the future'],
        ['not a date', 'last tuesday', 'not an RFC 3339 date'],
        ['absent', undefined, 'has no org.opencontainers.image.created annotation'],
      ])('one %s fails with ERR_ATTESTATION_STALE', async (_, created, words) => {
        const source = new MemoryImageSource();
        const m = signedImage(source);
        source.sign(source.attach(m, SPDX, typeof created === 'number' ? day(created) : created), sbomSigner);
        const result = await verify(source, m, { required, at });
        expect(result.error?.code).toBe('ERR_ATTESTATION_STALE');
        expect(result.error?.message).toContain(words);
      });
    });

    it('are looked for on the index that admitted a platform manifest through its tag', async () => {
      const source = new MemoryImageSource();
      const { index, amd64 } = image(source);
      source.sign(index, trusted);
      source.sign(source.attach(index, SPDX), sbomSigner);
      const result = await verify(source, amd64, {
        tag: { name: 'v1', target: index },
        required: [{ artifactType: SPDX, trustPolicy: 'sbom' }],
      });
      expect(result.verified).toBe(true);
    });

    it('are not checked when the image itself fails', async () => {
      const source = new MemoryImageSource();
      const m = source.manifest('unsigned');
      const result = await verify(source, m, { required: [{ artifactType: SPDX }] });
      expect(result.error?.code).toBe('ERR_NO_SIGNATURE');
      expect(result.attestations).toEqual([]);
    });
  });
});
