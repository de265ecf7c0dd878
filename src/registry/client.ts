import { type Descriptor, MEDIA_TYPE } from '../oci/index.js';
import { BlobStore } from './blobs.js';
import { RegistryConnection } from './connection.js';
import { ManifestStore } from './manifests.js';
import { ReferrerStore } from './referrer-store.js';
import { referrerPages } from './referrers.js';
import { listTags } from './tags.js';
import type {
  CallOptions,
  FetchedManifest,
  ManifestRef,
  PushedManifest,
  ReferrersCursor,
  ReferrersPage,
  RegistryClientOptions,
  RegistryReader,
  RepositoryRef,
  SignatureSource,
} from './types.js';
import type { UploadOptions } from './upload.js';
import { BlobUploads } from './uploads.js';

export { DEFAULT_BLOB_MAX_BYTES, DEFAULT_TIMEOUT_MS, MANIFEST_ACCEPT } from './types.js';
export type {
  CallOptions,
  FetchedManifest,
  ManifestRef,
  PushedManifest,
  ReferrersCursor,
  ReferrersPage,
  RegistryClientOptions,
  RegistryReader,
  RepositoryRef,
} from './types.js';

/**
 * A client for OCI distribution registries, in layers: transport (pools, TLS, deadline,
 * retries, redirects) ← auth (challenges, tokens) ← repository operations, split by concern as
 * oras-go splits its repository: manifests.ts, blobs.ts, uploads.ts, referrer-store.ts, tags.ts,
 * over one RegistryConnection (connection.ts). This class only composes them.
 * Built for the admission round-trip budget: verifying an image costs four requests once auth
 * is settled (the manifest HEAD for its descriptor, referrers, signature manifest, envelope
 * blob); a digest's HEAD answer is kept, so a repeat of a digest-pinned image costs three.
 * Nothing on the read path issues a HEAD before a GET or checks a blob exists.
 */
export class RegistryClient implements RegistryReader {
  readonly #connection: RegistryConnection;
  readonly #manifests: ManifestStore;
  readonly #blobs: BlobStore;
  readonly #uploads: BlobUploads;
  readonly #referrers: ReferrerStore;

  constructor(options: RegistryClientOptions = {}) {
    this.#connection = new RegistryConnection(options);
    this.#manifests = new ManifestStore(this.#connection);
    this.#blobs = new BlobStore(this.#connection);
    this.#uploads = new BlobUploads(this.#connection, this.#blobs);
    this.#referrers = new ReferrerStore(this.#connection);
  }

  /** Registry origins with an open connection pool (bounded by `maxPools`). */
  get poolCount(): number {
    return this.#connection.transport.poolCount;
  }

  /**
   * The descriptor of a tag or digest, with one HEAD (Docker Hub does not count HEADs against
   * pull limits). Falls back to a GET only when the HEAD lacks the digest, type or length.
   * A `tag@digest` reference is checked: the tag must point to the digest.
   */
  resolve(ref: ManifestRef, call?: CallOptions): Promise<Descriptor> {
    return this.#manifests.resolve(ref, call);
  }

  /**
   * Manifest bytes by descriptor (verified against digest and size) or by tag/digest string
   * (verified against the digest, or the registry's Docker-Content-Digest for a tag). Capped.
   */
  fetchManifest(repo: RepositoryRef, target: Descriptor | string, call?: CallOptions): Promise<FetchedManifest> {
    return this.#manifests.fetchManifest(repo, target, call);
  }

  /** Pushes a manifest under a tag or its digest (`subjectProcessed`: the registry answered OCI-Subject). */
  pushManifest(
    repo: RepositoryRef,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    call?: CallOptions,
  ): Promise<PushedManifest> {
    return this.#manifests.pushManifest(repo, reference, bytes, mediaType, call);
  }

  /** Blob bytes, streamed through the digest check and the cap (default the client's blob cap). */
  fetchBlob(repo: RepositoryRef, descriptor: Descriptor, maxBytes?: number, call?: CallOptions): Promise<Uint8Array> {
    return this.#blobs.fetchBlob(repo, descriptor, maxBytes, call);
  }

  /** A blob as a stream, its digest checked as it streams (blobs.ts). */
  openBlob(repo: RepositoryRef, descriptor: Descriptor, call?: CallOptions): AsyncIterable<Uint8Array> {
    return this.#blobs.openBlob(repo, descriptor, call);
  }

  /** Whether the repository has the blob (HEAD; write path only). */
  blobExists(repo: RepositoryRef, descriptor: Descriptor, call?: CallOptions): Promise<boolean> {
    return this.#blobs.blobExists(repo, descriptor, call);
  }

  /** Uploads a blob, monolithic or (with `chunkSize`) chunked; content may be bytes or a stream. */
  pushBlob(
    repo: RepositoryRef,
    content: Uint8Array | AsyncIterable<Uint8Array>,
    descriptor: Descriptor,
    options: UploadOptions & CallOptions = {},
  ): Promise<Descriptor> {
    return this.#uploads.pushBlob(repo, content, descriptor, options);
  }

  /** Mounts a blob from another repository of the same registry, else uploads it from there. */
  mountBlob(
    repo: RepositoryRef,
    fromRepository: string,
    descriptor: Descriptor,
    call?: CallOptions,
  ): Promise<{ mounted: boolean }> {
    return this.#uploads.mountBlob(repo, fromRepository, descriptor, call);
  }

  /** The referrers of `subject`, filtered on `artifactType` (Referrers API or tag schema). */
  listReferrers(
    repo: RepositoryRef,
    subject: { readonly digest: string },
    filter: { artifactType?: string } = {},
    call?: CallOptions,
  ): Promise<Descriptor[]> {
    return this.#referrers.listReferrers(repo, subject, filter, call);
  }

  /** One page of `listReferrers` (the first when `cursor` is undefined), to stop once a reader has enough. */
  listReferrersPage(
    repo: RepositoryRef,
    subject: { readonly digest: string },
    filter: { artifactType?: string },
    cursor: ReferrersCursor | undefined,
    call?: CallOptions,
  ): Promise<ReferrersPage> {
    return this.#referrers.listReferrersPage(repo, subject, filter, cursor, call);
  }

  /** Adds `descriptor` to the referrers tag-schema index of `subject` (not atomic). */
  addReferrer(
    repo: RepositoryRef,
    subject: Descriptor,
    descriptor: Descriptor,
    call?: CallOptions,
  ): Promise<{ updated: boolean; index?: Descriptor }> {
    return this.#referrers.addReferrer(repo, subject, descriptor, call);
  }

  /** Every tag of the repository (paginated with Link, capped pages). */
  tags(repo: RepositoryRef, call?: CallOptions): Promise<string[]> {
    return listTags(this.#connection, repo, call);
  }

  /**
   * The verify core's SignatureSource for a repository: Notary signatures via listReferrers
   * (page by page, as the verification asks for more), manifests and envelope blobs fetched
   * verified and capped.
   */
  signatureSource(repo: RepositoryRef, call?: CallOptions): SignatureSource {
    const filter = { artifactType: MEDIA_TYPE.notarySignature };
    return {
      listSignatures: (artifact) => this.listReferrers(repo, artifact, filter, call),
      signaturePages: (artifact) =>
        referrerPages((cursor) => this.listReferrersPage(repo, artifact, filter, cursor, call)),
      fetchManifest: async (descriptor) => (await this.fetchManifest(repo, descriptor, call)).bytes,
      fetchBlob: (descriptor) => this.fetchBlob(repo, descriptor, undefined, call),
    };
  }

  /** Closes every connection. The client cannot be used afterwards. */
  async close(): Promise<void> {
    await this.#connection.transport.close();
  }
}
