import type { Descriptor } from '../../src/oci/descriptor.js';
import { MEDIA_TYPE } from '../../src/oci/media-types.js';
import { RegistryClient, type RepositoryRef } from '../../src/registry/index.js';
import { referrersIndex, referrersTag } from '../../src/registry/referrers.js';
import { buildSignatureManifest, EMPTY_CONFIG } from '../../src/signing/signature-manifest.js';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { signPrimitive } from '../../src/envelope/algorithms.js';
import { prepareEnvelope } from '../../src/envelope/sign.js';
import { parseCertificateFile, type Certificate } from '../../src/x509/certificate.js';
import { generateTestCertificate } from '../../src/signing/test-certificate.js';
import type { MemoryStore } from '../../test/helpers/registry/memory-store.js';
import { blob, imageManifest, MEDIA } from '../../test/helpers/registry/oci-fixtures.js';

/**
 * Seeds a registry with many small images and their Notary signatures, fast: signed in this
 * process (ECDSA P-256, JWS, as `portcullis sign` writes them), each image its own manifest over
 * blobs its repository shares, each signature pushed by digest. Into a real registry over HTTP
 * (docker-registry has no Referrers API: the tag-schema index is written once per image), or
 * straight into the in-process Referrers-API registry's store (100,000 images in seconds, where
 * docker-registry takes 40-70 images a second here).
 */

export interface BenchSigner {
  readonly key: KeyObject;
  readonly chain: readonly Certificate[];
  readonly certPem: string;
}

export async function benchSigner(name = 'bench'): Promise<BenchSigner> {
  const cert = await generateTestCertificate({
    name,
    keyType: 'ec',
    bits: 256,
    notBefore: new Date(Date.now() - 3_600_000),
    days: 30,
  });
  return {
    key: createPrivateKey(cert.keyPem),
    chain: parseCertificateFile(new TextEncoder().encode(cert.certPem)),
    certPem: cert.certPem,
  };
}

export interface SeededImage {
  /** `repository:tag` and `repository@digest`, without the registry host. */
  readonly tagged: string;
  readonly pinned: string;
  readonly signatures: number;
}

/** Where seeded content goes. */
interface Sink {
  blob(repo: RepositoryRef, bytes: Uint8Array, descriptor: Descriptor): Promise<void>;
  manifest(repo: RepositoryRef, reference: string, bytes: Uint8Array, mediaType: string): Promise<Descriptor>;
  /** Lists an image's signatures (the tag schema's index; nothing for a Referrers-API registry). */
  referrers(repo: RepositoryRef, subject: Descriptor, signatures: readonly Descriptor[]): Promise<void>;
  close(): Promise<void>;
}

function httpSink(concurrency: number): Sink {
  const client = new RegistryClient({ maxConnectionsPerHost: concurrency });
  return {
    blob: async (repo, bytes, descriptor) => void (await client.pushBlob(repo, bytes, descriptor)),
    manifest: async (repo, reference, bytes, mediaType) =>
      (await client.pushManifest(repo, reference, bytes, mediaType)).descriptor,
    referrers: async (repo, subject, signatures) => {
      if (signatures.length === 0) return;
      const tag = referrersTag(subject.digest) as string;
      await client.pushManifest(repo, tag, referrersIndex(signatures), MEDIA_TYPE.ociIndex);
    },
    close: () => client.close(),
  };
}

function storeSink(store: MemoryStore): Sink {
  return {
    blob: async (repo, bytes, descriptor) => void store.putBlob(repo.repository, descriptor.digest, bytes),
    manifest: async (repo, reference, bytes, mediaType) => {
      const stored = store.putManifest(repo.repository, reference, mediaType, bytes);
      return { mediaType, digest: stored.digest, size: bytes.length };
    },
    referrers: async () => undefined,
    close: async () => undefined,
  };
}

export interface SeedOptions {
  /** The registry host the images are named with. */
  readonly registry: string;
  /** A Referrers-API registry's store to write into; otherwise pushed to `registry` over HTTP. */
  readonly store?: MemoryStore;
  readonly count: number;
  /** Signatures of image `i` (0: unsigned), or one number for all. */
  readonly signatures: number | ((index: number) => number);
  /** Repository of image `i`. */
  readonly repository: (index: number) => string;
  /** Makes these images distinct from those of another seeding into the same repositories. */
  readonly prefix: string;
  readonly signer: BenchSigner;
  /** Images pushed at once. Default 32. */
  readonly concurrency?: number;
}

/** Pushes `count` images (image `i` tagged `<prefix>-<i>`), signed as asked. */
export async function seedImages(o: SeedOptions): Promise<SeededImage[]> {
  const sink = o.store === undefined ? httpSink(o.concurrency ?? 32) : storeSink(o.store);
  const bases = new Map<string, Promise<{ config: Descriptor; layer: Descriptor }>>();
  const baseOf = (repo: RepositoryRef): Promise<{ config: Descriptor; layer: Descriptor }> => {
    let base = bases.get(repo.repository);
    if (base === undefined) {
      base = (async () => {
        const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', repository: repo.repository }));
        const layer = blob(`the layer of ${repo.repository}`);
        await sink.blob(repo, config.bytes, config.descriptor(MEDIA.imageConfig));
        await sink.blob(repo, layer.bytes, layer.descriptor(MEDIA.layer));
        await sink.blob(repo, Buffer.from(EMPTY_CONFIG.data, 'base64'), EMPTY_CONFIG);
        return { config: config.descriptor(MEDIA.imageConfig), layer: layer.descriptor(MEDIA.layer) };
      })();
      bases.set(repo.repository, base);
    }
    return base;
  };
  const out: SeededImage[] = new Array<SeededImage>(o.count);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < o.count; i = next++) {
      const repo: RepositoryRef = { registry: o.registry, repository: o.repository(i) };
      const { config, layer } = await baseOf(repo);
      const tag = `${o.prefix}-${i}`;
      const m = imageManifest({ config, layers: [layer], annotations: { 'dev.portcullis.bench.image': tag } });
      const subject = await sink.manifest(repo, tag, m.bytes, m.mediaType);
      const count = typeof o.signatures === 'number' ? o.signatures : o.signatures(i);
      const listed: Descriptor[] = [];
      for (let s = 0; s < count; s++) listed.push(await pushSignature(sink, repo, subject, o.signer, s));
      await sink.referrers(repo, subject, listed);
      out[i] = {
        tagged: `${repo.repository}:${tag}`,
        pinned: `${repo.repository}@${subject.digest}`,
        signatures: count,
      };
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency ?? 32 }, worker));
  } finally {
    await sink.close();
  }
  return out;
}

async function pushSignature(
  sink: Sink,
  repo: RepositoryRef,
  subject: Descriptor,
  signer: BenchSigner,
  n: number,
): Promise<Descriptor> {
  // Signing times a second apart make each signature of an image distinct.
  const signingTime = new Date(Date.now() - 60_000 - n * 1000);
  const target = { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
  // The envelope as LocalKeySigner makes it, without its checks of the chain and of the finished
  // envelope (a bench seeds 100,000 of them; the verifier checks them all anyway).
  const prepared = prepareEnvelope(
    'jws',
    {
      payload: new TextEncoder().encode(JSON.stringify({ targetArtifact: target })),
      signingTime,
      signingAgent: 'portcullis-bench',
    },
    signer.chain,
  );
  const envelope = prepared.finish(signPrimitive(prepared.algorithm, signer.key, prepared.signingInput));
  const built = buildSignatureManifest({
    subject,
    envelope,
    envelopeMediaType: MEDIA_TYPE.jws,
    thumbprints: signer.chain.map((c) => c.sha256),
    signingTime,
  });
  await sink.blob(repo, envelope, built.envelopeDescriptor);
  await sink.manifest(repo, built.descriptor.digest, built.manifest, MEDIA_TYPE.ociManifest);
  return built.descriptor;
}
