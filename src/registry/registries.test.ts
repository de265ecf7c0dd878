import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeSigningChain, Pki, type CodeSigningChain } from '../../test/helpers/pki.js';
import { DistributionRegistry } from '../../test/helpers/registry/distribution.js';
import { ReferrersRegistry } from '../../test/helpers/registry/referrers-registry.js';
import { signArtifact } from '../../test/helpers/signed.js';
import type { Descriptor } from '../oci/descriptor.js';
import { MEDIA_TYPE } from '../oci/media-types.js';
import { parseManifest, toSignatureManifest } from '../oci/manifest.js';
import { loadTrustPolicy } from '../policy/index.js';
import { parseReference } from '../reference/index.js';
import { buildSignatureManifest, EMPTY_CONFIG } from '../signing/signature-manifest.js';
import { digestOf } from '../util/digest.js';
import { verifyArtifact } from '../verify/index.js';
import { parseCertificate } from '../x509/certificate.js';
import { StaticCredentials } from './auth/credentials.js';
import { RegistryClient, type RepositoryRef } from './client.js';
import type { RequestInfo } from './transport.js';
import { rejected as caught } from '../../test/helpers/errors.js';

// The client against the real distribution 2.8 (no Referrers API: tag schema) and against the
// in-memory ReferrersRegistry (OCI 1.1 Referrers API, pagination, fault injection).

const SBOM = 'application/spdx+json';
const encoder = new TextEncoder();

function descriptorOf(bytes: Uint8Array, mediaType: string): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.length };
}

interface Pushed {
  image: Descriptor;
  signatures: Descriptor[];
  others: Descriptor[];
}

/**
 * Pushes an image (config, layer, manifest tagged v1) and referrers of it: `signatures` real
 * Notary signatures and `others` SBOM-like artifacts. Uses the tag schema when the registry
 * does not process subjects, exactly as notation does.
 */
async function pushImageWithReferrers(
  client: RegistryClient,
  repo: RepositoryRef,
  chain: CodeSigningChain,
  counts: { signatures: number; others: number },
  seed = 'app',
): Promise<Pushed> {
  const config = encoder.encode(JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));
  const layer = encoder.encode(`layer of ${seed}`);
  const configDesc = descriptorOf(config, 'application/vnd.oci.image.config.v1+json');
  const layerDesc = descriptorOf(layer, 'application/vnd.oci.image.layer.v1.tar');
  await client.pushBlob(repo, config, configDesc);
  await client.pushBlob(repo, layer, layerDesc, { chunkSize: 4 }); // chunked upload
  const imageBytes = encoder.encode(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config: configDesc, layers: [layerDesc] }),
  );
  const { descriptor: image } = await client.pushManifest(repo, 'v1', imageBytes, MEDIA_TYPE.ociManifest);
  const emptyBytes = encoder.encode('{}');
  await client.pushBlob(repo, emptyBytes, descriptorOf(emptyBytes, MEDIA_TYPE.ociEmpty));

  const pushReferrer = async (manifestBytes: Uint8Array, artifactType: string): Promise<Descriptor> => {
    const pushed = await client.pushManifest(repo, digestOf(manifestBytes), manifestBytes, MEDIA_TYPE.ociManifest);
    const annotations = parseManifest(manifestBytes).annotations;
    const descriptor: Descriptor = {
      ...pushed.descriptor,
      artifactType,
      ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
    };
    if (!pushed.subjectProcessed) await client.addReferrer(repo, image, descriptor);
    return descriptor;
  };

  const signatures: Descriptor[] = [];
  for (let i = 0; i < counts.signatures; i++) {
    const { envelope, mediaType } = signArtifact({
      keyPem: chain.leaf.keyPem,
      chainDer: chain.chainDer,
      artifact: image,
      signingTime: new Date(Date.now() - 60_000 - i * 1000),
    });
    const built = buildSignatureManifest({
      subject: image,
      envelope,
      envelopeMediaType: mediaType,
      thumbprints: [],
      signingTime: new Date(Date.now() - 60_000),
    });
    await client.pushBlob(repo, envelope, built.envelopeDescriptor);
    signatures.push(await pushReferrer(built.manifest, MEDIA_TYPE.notarySignature));
  }
  const others: Descriptor[] = [];
  for (let i = 0; i < counts.others; i++) {
    const sbom = encoder.encode(`{"sbom":${i}}`);
    const sbomDesc = descriptorOf(sbom, SBOM);
    await client.pushBlob(repo, sbom, sbomDesc);
    const bytes = encoder.encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.ociManifest,
        artifactType: SBOM,
        config: { mediaType: MEDIA_TYPE.ociEmpty, digest: EMPTY_CONFIG.digest, size: 2 },
        layers: [sbomDesc],
        subject: image,
        annotations: { n: String(i) },
      }),
    );
    others.push(await pushReferrer(bytes, SBOM));
  }
  return { image, signatures, others };
}

function trustPolicy() {
  return loadTrustPolicy(
    JSON.stringify({
      version: '1.0',
      trustPolicies: [
        {
          name: 'all',
          registryScopes: ['*'],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:test'],
          trustedIdentities: ['*'],
        },
      ],
    }),
  );
}

/** Full verification through the verify core with the registry as the SignatureSource. */
async function verifyThroughRegistry(client: RegistryClient, reference: string, chain: CodeSigningChain) {
  const ref = parseReference(reference);
  const artifact = await client.resolve(ref);
  const roots = [parseCertificate(chain.root.certDer)];
  return verifyArtifact(
    { reference, repository: ref.name, artifact },
    {
      policy: trustPolicy(),
      trustStores: { get: (type, name) => (type === 'ca' && name === 'test' ? roots : undefined) },
      source: client.signatureSource(ref),
      at: new Date(),
    },
  );
}

let pki: Pki;
let chain: CodeSigningChain;
beforeAll(() => {
  pki = new Pki();
  chain = codeSigningChain(pki, { leafKey: 'ec-256' });
});
afterAll(() => pki.cleanup());

describe('RegistryClient against distribution 2.8 (plain HTTP, no auth)', () => {
  let registry: DistributionRegistry;
  let requests: RequestInfo[];
  let client: RegistryClient;
  let pushed: Pushed;
  const repo = (): RepositoryRef => ({ registry: registry.host, repository: 'team/app' });

  beforeAll(async () => {
    registry = await DistributionRegistry.start();
    requests = [];
    client = new RegistryClient({ onRequest: (i) => requests.push(i) });
    pushed = await pushImageWithReferrers(client, repo(), chain, { signatures: 2, others: 1 });
  });
  afterAll(async () => {
    await client.close();
    await registry.stop();
  });

  it('resolves, fetches and verifies what it pushed', async () => {
    const ref = parseReference(`${registry.host}/team/app:v1`);
    expect(await client.resolve(ref)).toEqual(pushed.image);
    const { bytes, descriptor } = await client.fetchManifest(repo(), 'v1');
    expect(descriptor).toEqual(pushed.image);
    expect(parseManifest(bytes).layers).toHaveLength(1);
    const layer = parseManifest(bytes).layers[0] as Descriptor;
    expect(Buffer.from(await client.fetchBlob(repo(), layer)).toString()).toBe('layer of app');
    expect(await client.blobExists(repo(), layer)).toBe(true);
    expect(await client.blobExists(repo(), { ...layer, digest: `sha256:${'0'.repeat(64)}` })).toBe(false);
    expect(await client.tags(repo())).toEqual(expect.arrayContaining(['v1', `sha256-${pushed.image.digest.slice(7)}`]));
  });

  it('lists referrers through the tag schema (the API answers 404), remembering it per registry', async () => {
    const fresh = new RegistryClient({ onRequest: (i) => requests.push(i) });
    try {
      requests.length = 0;
      const signatures = await fresh.listReferrers(repo(), pushed.image, { artifactType: MEDIA_TYPE.notarySignature });
      expect(signatures).toEqual(pushed.signatures);
      expect(requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{64}/, 'HEX')} ${r.status}`)).toEqual([
        `GET /v2/team/app/referrers/sha256:HEX?artifactType=${encodeURIComponent(MEDIA_TYPE.notarySignature)} 404`,
        'GET /v2/team/app/manifests/sha256-HEX 200',
      ]);
      requests.length = 0;
      expect(await fresh.listReferrers(repo(), pushed.image)).toEqual([...pushed.signatures, ...pushed.others]);
      expect(requests).toHaveLength(1);
      // No referrers: an absent tag-schema tag is an empty list.
      expect(await fresh.listReferrers(repo(), pushed.signatures[0] as Descriptor)).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it('verifies a digest-pinned image in 3 requests and a tag in 4 (tag schema known)', async () => {
    const fresh = new RegistryClient({ onRequest: (i) => requests.push(i) });
    try {
      await fresh.listReferrers(repo(), pushed.image); // the registry's referrers support is learned
      requests.length = 0;
      const first = await verifyThroughRegistry(fresh, `${registry.host}/team/app@${pushed.image.digest}`, chain);
      expect(first.verified).toBe(true);
      // resolve() (the HEAD) is needed once per digest for its media type and size.
      expect(requests.map((r) => `${r.method} ${r.path.split('/')[4]}`)).toEqual([
        'HEAD manifests',
        'GET manifests',
        'GET manifests',
        'GET blobs',
      ]);
      requests.length = 0;
      const pinned = await verifyThroughRegistry(fresh, `${registry.host}/team/app@${pushed.image.digest}`, chain);
      expect(pinned.verified).toBe(true);
      expect(requests.map((r) => `${r.method} ${r.path.split('/')[4]}`)).toEqual([
        'GET manifests',
        'GET manifests',
        'GET blobs',
      ]); // referrers tag, signature, envelope
      requests.length = 0;
      const tagged = await verifyThroughRegistry(fresh, `${registry.host}/team/app:v1`, chain);
      expect(tagged.verified).toBe(true);
      expect(requests.map((r) => r.method)).toEqual(['HEAD', 'GET', 'GET', 'GET']);
    } finally {
      await fresh.close();
    }
  });

  it('mounts a blob across repositories', async () => {
    const blob = encoder.encode('mount me');
    const desc = descriptorOf(blob, 'application/octet-stream');
    await client.pushBlob(repo(), blob, desc);
    expect(await client.mountBlob({ registry: registry.host, repository: 'other/app' }, 'team/app', desc)).toEqual({
      mounted: true,
    });
    expect(await client.blobExists({ registry: registry.host, repository: 'other/app' }, desc)).toBe(true);
  });

  it('streams a blob from one repository into another (openBlob → pushBlob)', async () => {
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    const desc = descriptorOf(big, 'application/octet-stream');
    await client.pushBlob(repo(), big, desc, { chunkSize: 64 * 1024 });
    await client.pushBlob({ registry: registry.host, repository: 'copy/app' }, client.openBlob(repo(), desc), desc);
    expect(
      Buffer.from(
        await client.fetchBlob({ registry: registry.host, repository: 'copy/app' }, desc, 1024 * 1024),
      ).equals(Buffer.from(big)),
    ).toBe(true);
  });

  it('maps registry errors: unknown manifest, a lying digest push', async () => {
    const missing = await caught(client.resolve(parseReference(`${registry.host}/team/app:nope`)));
    expect(missing.code).toBe('ERR_REGISTRY_NOT_FOUND');
    expect(missing.message).toContain(`registry ${registry.host}, repository team/app`);
    const bytes = encoder.encode('abc');
    const bad = await caught(
      client.pushBlob(
        repo(),
        (async function* () {
          yield encoder.encode('abd');
        })(),
        descriptorOf(bytes, 'application/octet-stream'),
      ),
    );
    expect(bad.code).toBe('ERR_DIGEST_MISMATCH');
  });
});

describe('RegistryClient against distribution 2.8 with TLS', () => {
  let registry: DistributionRegistry;
  beforeAll(async () => {
    registry = await DistributionRegistry.start({ tls: true });
  });
  afterAll(async () => registry.stop());

  it('connects with the CA from caFile, and fails with ERR_REGISTRY_TLS without it', async () => {
    const trusting = new RegistryClient({
      plainHttp: false,
      tls: { [registry.host]: { ca: readFileSync(registry.caFile as string) } },
    });
    const blind = new RegistryClient({ plainHttp: false });
    const plain = new RegistryClient();
    try {
      const repo = { registry: registry.host, repository: 'tls/app' };
      const blob = encoder.encode('over tls');
      const desc = descriptorOf(blob, 'application/octet-stream');
      await trusting.pushBlob(repo, blob, desc);
      expect(Buffer.from(await trusting.fetchBlob(repo, desc)).toString()).toBe('over tls');
      const untrusted = await caught(blind.fetchBlob(repo, desc));
      expect(untrusted.code).toBe('ERR_REGISTRY_TLS');
      expect(untrusted.message).toContain(registry.host);
      // Plain HTTP to a TLS port: the registry answers 400 to the cleartext request.
      const cleartext = await caught(plain.fetchBlob(repo, desc));
      expect(['ERR_REGISTRY_RESPONSE', 'ERR_REGISTRY_UNREACHABLE']).toContain(cleartext.code);
    } finally {
      await Promise.all([trusting.close(), blind.close(), plain.close()]);
    }
  });
});

describe('RegistryClient against distribution 2.8 with Basic auth', () => {
  let registry: DistributionRegistry;
  beforeAll(async () => {
    registry = await DistributionRegistry.start({ auth: 'basic' });
  });
  afterAll(async () => registry.stop());

  it('authenticates with the right password and reports the wrong one as ERR_REGISTRY_UNAUTHORIZED', async () => {
    const requests: RequestInfo[] = [];
    const good = new RegistryClient({
      credentials: new StaticCredentials({ [registry.host]: { username: 'alice', password: 'wonderland' } }),
      onRequest: (i) => requests.push(i),
    });
    const bad = new RegistryClient({
      credentials: new StaticCredentials({ [registry.host]: { username: 'alice', password: 'looking-glass' } }),
    });
    const anonymous = new RegistryClient();
    try {
      const repo = { registry: registry.host, repository: 'basic/app' };
      const blob = encoder.encode('basic');
      const desc = descriptorOf(blob, 'application/octet-stream');
      await good.pushBlob(repo, blob, desc);
      expect(requests[0]?.status).toBe(401); // the one challenge
      requests.length = 0;
      expect(Buffer.from(await good.fetchBlob(repo, desc)).toString()).toBe('basic');
      expect(requests.map((r) => r.status)).toEqual([200]); // pre-emptive from then on
      const wrong = await caught(bad.fetchBlob(repo, desc));
      expect(wrong.code).toBe('ERR_REGISTRY_UNAUTHORIZED');
      expect(wrong.message).toContain(`the credentials configured for ${registry.host} were rejected`);
      expect(wrong.message).not.toContain('looking-glass');
      expect((await caught(anonymous.fetchBlob(repo, desc))).code).toBe('ERR_REGISTRY_UNAUTHORIZED');
    } finally {
      await Promise.all([good.close(), bad.close(), anonymous.close()]);
    }
  });
});

describe('RegistryClient against distribution 2.8 with token auth', () => {
  let registry: DistributionRegistry;
  beforeAll(async () => {
    registry = await DistributionRegistry.start({ auth: 'token' });
  });
  afterAll(async () => registry.stop());

  it('fetches one token per repository scope and caches it until it expires', async () => {
    let now = 1_000_000;
    const tokenServer = registry.tokenServer as NonNullable<DistributionRegistry['tokenServer']>;
    const requests: RequestInfo[] = [];
    const client = new RegistryClient({
      credentials: new StaticCredentials({ [registry.host]: { username: 'alice', password: 'wonderland' } }),
      now: () => now,
      onRequest: (i) => requests.push(i),
    });
    const bad = new RegistryClient({
      credentials: new StaticCredentials({ [registry.host]: { username: 'alice', password: 'nope' } }),
    });
    try {
      const repo = { registry: registry.host, repository: 'token/app' };
      const pushed = await pushImageWithReferrers(client, repo, chain, { signatures: 1, others: 0 });
      const afterPush = tokenServer.requests;
      expect(afterPush).toBeGreaterThanOrEqual(1);
      // Reading needs a pull-only scope: one more token, then none.
      requests.length = 0;
      const before = tokenServer.requests;
      const first = await verifyThroughRegistry(client, `${registry.host}/token/app@${pushed.image.digest}`, chain);
      expect(first.verified).toBe(true);
      expect(tokenServer.requests - before).toBe(1);
      requests.length = 0;
      const second = await verifyThroughRegistry(client, `${registry.host}/token/app@${pushed.image.digest}`, chain);
      expect(second.verified).toBe(true);
      expect(tokenServer.requests - before).toBe(1); // cached
      expect(requests).toHaveLength(3); // referrers tag + signature manifest + envelope: no 401, no token, no HEAD
      // The token server's tokens live 300 s; past that (minus the margin) a new one is fetched.
      now += 291_000;
      await client.resolve(parseReference(`${registry.host}/token/app:v1`));
      expect(tokenServer.requests - before).toBe(2);
      const wrong = await caught(bad.resolve(parseReference(`${registry.host}/token/app:v1`)));
      expect(wrong.code).toBe('ERR_REGISTRY_UNAUTHORIZED');
      expect(wrong.message).toContain('refused the credentials of user "alice"');
    } finally {
      await Promise.all([client.close(), bad.close()]);
    }
  });
});

describe('RegistryClient against the Referrers API registry', () => {
  let api: ReferrersRegistry;
  let tagOnly: ReferrersRegistry;
  let unfiltered: ReferrersRegistry;
  let requests: RequestInfo[];
  let client: RegistryClient;
  const pushedOn = new Map<string, Pushed>();

  beforeAll(async () => {
    [api, tagOnly, unfiltered] = await Promise.all([
      ReferrersRegistry.start({ pageSize: 2 }),
      ReferrersRegistry.start({ referrersApi: false }),
      ReferrersRegistry.start({ pageSize: 3, applyArtifactTypeFilter: false }),
    ]);
    requests = [];
    client = new RegistryClient({ onRequest: (i) => requests.push(i) });
    for (const registry of [api, tagOnly, unfiltered]) {
      pushedOn.set(
        registry.host,
        await pushImageWithReferrers(client, { registry: registry.host, repository: 'library/app' }, chain, {
          signatures: 3,
          others: 2,
        }),
      );
    }
  });
  afterAll(async () => {
    await client.close();
    await Promise.all([api.stop(), tagOnly.stop(), unfiltered.stop()]);
  });

  it('lists through the API with the filter and pagination', async () => {
    const repo = { registry: api.host, repository: 'library/app' };
    const pushed = pushedOn.get(api.host) as Pushed;
    api.resetLog();
    const signatures = await client.listReferrers(repo, pushed.image, { artifactType: MEDIA_TYPE.notarySignature });
    expect(signatures).toEqual(pushed.signatures);
    // 3 signatures at 2 per page: 2 pages, the filter sent to the registry.
    expect(api.log.map((e) => e.path.includes('/referrers/'))).toEqual([true, true]);
    expect(api.log[0]?.query).toContain('artifactType=');
    expect(await client.listReferrers(repo, pushed.image)).toEqual([...pushed.signatures, ...pushed.others]);
    // The tag-schema index was never written: the registry processed every subject.
    expect(api.log.some((e) => e.method === 'PUT')).toBe(false);
  });

  it('filters client-side when the registry ignores the filter', async () => {
    const pushed = pushedOn.get(unfiltered.host) as Pushed;
    const signatures = await client.listReferrers(
      { registry: unfiltered.host, repository: 'library/app' },
      pushed.image,
      { artifactType: MEDIA_TYPE.notarySignature },
    );
    expect(signatures).toEqual(pushed.signatures);
  });

  it('falls back to the tag schema and gives the same descriptors as the API', async () => {
    const onApi = pushedOn.get(api.host) as Pushed;
    const onTag = pushedOn.get(tagOnly.host) as Pushed;
    // Same pushes (same bytes except signing times): compare shapes, and the tag schema's own listing.
    const viaTag = await client.listReferrers({ registry: tagOnly.host, repository: 'library/app' }, onTag.image, {
      artifactType: MEDIA_TYPE.notarySignature,
    });
    expect(viaTag).toEqual(onTag.signatures);
    const viaApi = await client.listReferrers({ registry: api.host, repository: 'library/app' }, onApi.image, {
      artifactType: MEDIA_TYPE.notarySignature,
    });
    const shape = (d: Descriptor) => ({
      ...d,
      digest: 'x',
      size: 0,
      annotations: Object.keys(d.annotations ?? {}).sort(),
    });
    expect(viaTag.map(shape)).toEqual(viaApi.map(shape));
    // deterministic SBOMs: identical
    expect(onApi.others.map((d) => d.digest)).toEqual(onTag.others.map((d) => d.digest));
    const othersViaTag = await client.listReferrers(
      { registry: tagOnly.host, repository: 'library/app' },
      onTag.image,
      { artifactType: SBOM },
    );
    const othersViaApi = await client.listReferrers({ registry: api.host, repository: 'library/app' }, onApi.image, {
      artifactType: SBOM,
    });
    expect(othersViaTag).toEqual(othersViaApi);
  });

  it('verifies a digest-pinned image in 3 requests and a tag in 4 (API and tag schema)', async () => {
    for (const registry of [api, tagOnly]) {
      const repo = { registry: registry.host, repository: 'budget/app' };
      const pushed = await pushImageWithReferrers(client, repo, chain, { signatures: 1, others: 1 }, 'budget');
      const fresh = new RegistryClient({ onRequest: (i) => requests.push(i) });
      try {
        // First contact: the registry's referrers support is learned (the tag-schema registry
        // costs one extra 404 once).
        requests.length = 0;
        expect(
          (await verifyThroughRegistry(fresh, `${registry.host}/budget/app@${pushed.image.digest}`, chain)).verified,
        ).toBe(true);
        expect(requests).toHaveLength(registry === api ? 4 : 5);
        // Digest-pinned: list referrers, signature manifest, envelope blob. No HEAD.
        registry.resetLog();
        requests.length = 0;
        expect(
          (await verifyThroughRegistry(fresh, `${registry.host}/budget/app@${pushed.image.digest}`, chain)).verified,
        ).toBe(true);
        expect(requests).toHaveLength(3);
        expect(registry.log.map((e) => `${e.method} ${e.path.split('/')[4]}`)).toEqual([
          registry === api ? 'GET referrers' : 'GET manifests',
          'GET manifests',
          'GET blobs',
        ]);
        // A tag: the HEAD, then the same three.
        requests.length = 0;
        expect((await verifyThroughRegistry(fresh, `${registry.host}/budget/app:v1`, chain)).verified).toBe(true);
        expect(requests.map((r) => r.method)).toEqual(['HEAD', 'GET', 'GET', 'GET']);
      } finally {
        await fresh.close();
      }
    }
  });

  it('honours a 429 Retry-After on the referrers call and follows a blob redirect', async () => {
    const pushed = pushedOn.get(api.host) as Pushed;
    const repo = { registry: api.host, repository: 'library/app' };
    api.fail({ match: (_m, path) => path.includes('/referrers/'), status: 429, retryAfter: '1', times: 1 });
    api.resetLog();
    const signatures = await client.listReferrers(repo, pushed.image, { artifactType: MEDIA_TYPE.notarySignature });
    expect(signatures).toEqual(pushed.signatures);
    expect(api.log.map((e) => e.status)).toEqual([429, 200, 200]);
    const manifest = toSignatureManifest(
      parseManifest((await client.fetchManifest(repo, pushed.signatures[0] as Descriptor)).bytes),
    );
    api.fail({ match: (method, path) => method === 'GET' && path.includes('/blobs/'), status: 307, times: 1 });
    api.resetLog();
    const envelope = await client.fetchBlob(repo, manifest.envelope);
    expect(envelope.length).toBe(manifest.envelope.size);
    expect(api.log.map((e) => `${e.path.split('/')[1]} ${e.status}`)).toEqual(['v2 307', 'blobdata 200']);
    api.clearFaults();
  });

  it('refuses a referrers list that never ends', async () => {
    const pushed = pushedOn.get(api.host) as Pushed;
    const capped = new RegistryClient({ maxReferrerPages: 1 });
    try {
      const error = await caught(capped.listReferrers({ registry: api.host, repository: 'library/app' }, pushed.image));
      expect(error.code).toBe('ERR_REGISTRY_RESPONSE');
      expect(error.message).toContain('more than 1 pages');
    } finally {
      await capped.close();
    }
  });

  it('uses Basic auth on a protected registry', async () => {
    const locked = await ReferrersRegistry.start({ basicAuth: { alice: 'wonderland' } });
    const c = new RegistryClient({
      credentials: new StaticCredentials({ [locked.host]: { username: 'alice', password: 'wonderland' } }),
    });
    try {
      const pushed = await pushImageWithReferrers(c, { registry: locked.host, repository: 'app' }, chain, {
        signatures: 1,
        others: 0,
      });
      locked.resetLog();
      const verified = await verifyThroughRegistry(c, `${locked.host}/app@${pushed.image.digest}`, chain);
      expect(verified.verified).toBe(true);
      expect(locked.log.map((e) => e.status)).toEqual([200, 200, 200, 200]);
    } finally {
      await c.close();
      await locked.stop();
    }
  });
});
