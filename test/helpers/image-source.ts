import type { Descriptor } from '../../src/oci/descriptor.js';
import { MEDIA_TYPE } from '../../src/oci/media-types.js';
import { buildSignatureManifest } from '../../src/signing/signature-manifest.js';
import { digestOf } from '../../src/util/digest.js';
import type { ReferrerLister, SignatureSource } from '../../src/verify/index.js';
import { makeArtifact, signArtifact } from './signed.js';
import type { CodeSigningChain } from './pki.js';

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

/**
 * An in-memory registry repository for the core: manifests and blobs by digest, referrers by
 * subject (signatures and other artifacts), so indexes, platform manifests and attached
 * artifacts each have their own signatures.
 */
export class MemoryImageSource implements SignatureSource, ReferrerLister {
  readonly #content = new Map<string, Uint8Array>();
  readonly #referrers = new Map<string, Descriptor[]>();
  listCalls = 0;

  put(bytes: Uint8Array, mediaType: string, extra: Partial<Descriptor> = {}): Descriptor {
    const d: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.length, ...extra };
    this.#content.set(d.digest, bytes);
    return d;
  }

  /** A platform manifest (distinct content per seed). */
  manifest(seed: string): Descriptor {
    const { bytes } = makeArtifact(seed);
    return this.put(bytes, MEDIA_TYPE.ociManifest);
  }

  /** An index listing the given manifests with platforms (`linux/amd64`), plus optional raw entries. */
  index(platforms: readonly { descriptor: Descriptor; platform?: string }[], extraEntries: unknown[] = []): Descriptor {
    const manifests = [
      ...platforms.map(({ descriptor, platform }) => {
        const [os, architecture, variant] = (platform ?? '').split('/');
        return {
          mediaType: descriptor.mediaType,
          digest: descriptor.digest,
          size: descriptor.size,
          ...(platform === undefined ? {} : { platform: { os, architecture, ...(variant ? { variant } : {}) } }),
        };
      }),
      ...extraEntries,
    ];
    return this.put(enc({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests }), MEDIA_TYPE.ociIndex);
  }

  /** Signs `subject` with `chain` and attaches the signature. */
  sign(subject: Descriptor, chain: CodeSigningChain): Descriptor {
    const { envelope, mediaType } = signArtifact({
      keyPem: chain.leaf.keyPem,
      chainDer: chain.chainDer,
      artifact: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    });
    const built = buildSignatureManifest({
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      envelope,
      envelopeMediaType: mediaType,
      thumbprints: [],
      signingTime: new Date(0),
      shape: 'artifactType',
    });
    this.#content.set(built.envelopeDescriptor.digest, envelope);
    const d = this.put(built.manifest, MEDIA_TYPE.ociManifest, { artifactType: MEDIA_TYPE.notarySignature });
    this.#attach(subject, d);
    return d;
  }

  /** Attaches an artifact of `artifactType` (e.g. an SBOM) to `subject`; `created` sets the annotation. */
  attach(subject: Descriptor, artifactType: string, created?: string, seed = 'sbom'): Descriptor {
    const annotations = created === undefined ? undefined : { 'org.opencontainers.image.created': created };
    const bytes = enc({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociManifest,
      artifactType,
      config: { mediaType: MEDIA_TYPE.ociEmpty, digest: digestOf(enc({})), size: 2 },
      layers: [{ mediaType: artifactType, digest: digestOf(enc({ seed })), size: 10 }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      ...(annotations === undefined ? {} : { annotations }),
    });
    const d = this.put(bytes, MEDIA_TYPE.ociManifest, {
      artifactType,
      ...(annotations === undefined ? {} : { annotations }),
    });
    this.#attach(subject, d);
    return d;
  }

  /** Lists `d` as a referrer of `subject` whatever its own subject (a hostile registry, an edited referrers index). */
  list(subject: Descriptor, d: Descriptor): void {
    this.#attach(subject, d);
  }

  #attach(subject: Descriptor, d: Descriptor): void {
    const list = this.#referrers.get(subject.digest) ?? [];
    list.push(d);
    this.#referrers.set(subject.digest, list);
  }

  async listSignatures(artifact: { readonly digest: string }): Promise<readonly Descriptor[]> {
    this.listCalls++;
    return (this.#referrers.get(artifact.digest) ?? []).filter((d) => d.artifactType === MEDIA_TYPE.notarySignature);
  }

  async listReferrers(subject: Descriptor, artifactType: string): Promise<readonly Descriptor[]> {
    return (this.#referrers.get(subject.digest) ?? []).filter((d) => d.artifactType === artifactType);
  }

  async fetchManifest(d: Descriptor): Promise<Uint8Array> {
    return this.fetchBlob(d);
  }

  async fetchBlob(d: Descriptor): Promise<Uint8Array> {
    const b = this.#content.get(d.digest);
    if (b === undefined) throw new Error(`no content ${d.digest}`);
    return b;
  }
}
