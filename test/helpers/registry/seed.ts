import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Descriptor } from '../../../src/oci/descriptor.js';
import { signEnvelope } from '../../../src/envelope/index.js';
import { parseManifest } from '../../../src/oci/manifest.js';
import { MEDIA_TYPE } from '../../../src/oci/media-types.js';
import { EMPTY_CONFIG, buildSignatureManifest } from '../../../src/signing/signature-manifest.js';
import { parseCertificateFile } from '../../../src/x509/certificate.js';
import type { RegistryClient, RepositoryRef } from '../../../src/registry/index.js';
import { EMPTY, MEDIA, blob, imageIndex, imageManifest } from './oci-fixtures.js';

/** Seeds registries through Portcullis' own client, the way a build pipeline would push. */

/** Pushes a small single-platform image (config + one layer) under `tag`. */
export async function pushImage(
  client: RegistryClient,
  repo: RepositoryRef,
  tag: string,
  seed = tag,
): Promise<Descriptor> {
  const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));
  const layer = blob(`layer of ${seed}`);
  await client.pushBlob(repo, config.bytes, config.descriptor(MEDIA.imageConfig));
  await client.pushBlob(repo, layer.bytes, layer.descriptor(MEDIA.layer));
  const m = imageManifest({ config: config.descriptor(MEDIA.imageConfig), layers: [layer.descriptor(MEDIA.layer)] });
  return (await client.pushManifest(repo, tag, m.bytes, m.mediaType)).descriptor;
}

/** Pushes a two-platform image index (amd64, arm64) under `tag`. */
export async function pushMultiArchImage(
  client: RegistryClient,
  repo: RepositoryRef,
  tag: string,
): Promise<Descriptor> {
  const platforms: Descriptor[] = [];
  for (const architecture of ['amd64', 'arm64']) {
    const d = await pushImage(client, repo, `${tag}-${architecture}`, `${tag}/${architecture}`);
    platforms.push({ ...d, platform: { architecture, os: 'linux' } } as Descriptor);
  }
  const index = imageIndex(platforms);
  return (await client.pushManifest(repo, tag, index.bytes, index.mediaType)).descriptor;
}

/**
 * Pushes an artifact that refers to `subject` (an SBOM, say): empty config, one layer, the
 * subject; updates the tag-schema index when the registry does not index subjects itself.
 */
export async function pushReferrer(
  client: RegistryClient,
  repo: RepositoryRef,
  subject: Descriptor,
  artifactType: string,
  content: string,
): Promise<Descriptor> {
  const layer = blob(content);
  await client.pushBlob(repo, EMPTY.bytes, EMPTY.descriptor(MEDIA.empty));
  await client.pushBlob(repo, layer.bytes, layer.descriptor(artifactType));
  const m = imageManifest({
    artifactType,
    config: EMPTY.descriptor(MEDIA.empty),
    layers: [layer.descriptor(artifactType)],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  });
  const pushed = await client.pushManifest(repo, m.digest, m.bytes, m.mediaType);
  const descriptor = { ...pushed.descriptor, artifactType };
  if (!pushed.subjectProcessed) await client.addReferrer(repo, subject, descriptor);
  return descriptor;
}

/**
 * Pushes an OCI image layout as notation's e2e suite does (oras ExtendedCopy of tag `v1` and
 * its predecessors): every manifest listed in index.json and its blobs; the image under its
 * tag, signature manifests by digest, and the referrers tag-schema index under its tag when
 * the layout has one (pushed last: distribution checks that listed manifests exist).
 */
export async function pushLayout(client: RegistryClient, repo: RepositoryRef, layoutDir: string): Promise<void> {
  const read = (digest: string): Uint8Array =>
    new Uint8Array(readFileSync(join(layoutDir, 'blobs', ...digest.split(':'))));
  const index = parseManifest(new Uint8Array(readFileSync(join(layoutDir, 'index.json'))));
  const ordered = [...index.manifests].sort((a, b) => rank(a) - rank(b));
  for (const d of ordered) {
    const bytes = read(d.digest);
    const m = parseManifest(bytes);
    for (const b of [...(m.config === undefined ? [] : [m.config]), ...m.layers])
      await client.pushBlob(repo, read(b.digest), b);
    const tag = d.annotations?.['org.opencontainers.image.ref.name'];
    await client.pushManifest(repo, tag ?? d.digest, bytes, d.mediaType);
  }
}

// Images first, then signatures (by digest), then the tag-schema index that lists them.
function rank(d: Descriptor): number {
  if (d.mediaType === MEDIA.index) return 2;
  return d.annotations?.['org.opencontainers.image.ref.name'] === undefined ? 1 : 0;
}

/**
 * Signs `payload` — any bytes, such as a Notary payload with the wrong media type or size —
 * with the key and certificate a `cert generate-test` made, and pushes it as a Notary signature
 * of `subject` (what a hostile or broken signer could push).
 */
export async function pushCraftedSignature(
  client: RegistryClient,
  repo: RepositoryRef,
  subject: Descriptor,
  signer: { readonly keyPem: string; readonly certPem: string },
  payload: Uint8Array,
): Promise<Descriptor> {
  const envelope = signEnvelope(
    'jws',
    { payload, signingTime: new Date(Date.now() - 60_000), signingAgent: 'portcullis-test' },
    {
      privateKey: createPrivateKey(signer.keyPem),
      certificateChain: parseCertificateFile(new TextEncoder().encode(signer.certPem)),
    },
  );
  const built = buildSignatureManifest({
    subject,
    envelope,
    envelopeMediaType: MEDIA_TYPE.jws,
    thumbprints: [],
    signingTime: new Date(),
  });
  await client.pushBlob(repo, Buffer.from(EMPTY_CONFIG.data, 'base64'), EMPTY_CONFIG);
  await client.pushBlob(repo, envelope, built.envelopeDescriptor);
  const pushed = await client.pushManifest(repo, built.descriptor.digest, built.manifest, MEDIA_TYPE.ociManifest);
  if (!pushed.subjectProcessed) await client.addReferrer(repo, subject, built.descriptor);
  return built.descriptor;
}
