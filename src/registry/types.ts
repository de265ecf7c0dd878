import { type Descriptor, MEDIA_TYPE, type SignatureSource } from '../oci/index.js';
import type { CredentialProvider } from './auth/credentials.js';
import type { TransportOptions } from './transport.js';
import type { BodyBudget, BodyBudgetOptions } from './body-budget.js';

/** The registry client's options, references and results (client.ts composes the stores). */

export interface RegistryClientOptions extends TransportOptions {
  /** If unset, every registry is accessed anonymously. */
  readonly credentials?: CredentialProvider;
  /** Deadline of one operation (all its round trips, token requests included). If unset, 10 s. */
  readonly timeoutMs?: number;
  /** Manifest (and referrers index, tag list) cap. If unset, 4 MiB. */
  readonly maxManifestBytes?: number;
  /** Blob (signature envelope) cap for fetchBlob. If unset, 4 MiB. */
  readonly maxBlobBytes?: number;
  /** Referrers API pages followed before giving up (a misbehaving registry). If unset, 16. */
  readonly maxReferrerPages?: number;
  /** Tag list pages followed. If unset, 64. */
  readonly maxTagPages?: number;
  /**
   * How referrers are listed: `auto` (the Referrers API; the tag schema when the API answers
   * 404, remembered per registry), `api` or `tag-schema`. If unset, `auto`.
   */
  readonly referrers?: 'auto' | 'api' | 'tag-schema';
  /** For `name:tag@digest`, check that the tag points to the digest. If unset, true. */
  readonly verifyTagDigest?: boolean;
  /**
   * Digest references resolved (repository + digest → descriptor) kept for later resolves:
   * content-addressed, so never stale, and a repeat verification of a digest-pinned image
   * then costs no HEAD. If unset, 1024 entries; 0 disables it. Tags are never cached.
   */
  readonly resolveCacheSize?: number;
  /** Clock for the caches (token expiry). If unset, Date.now. */
  readonly now?: () => number;
  /**
   * Bytes buffered from response bodies at once, across every request of the client (one client
   * serves the whole webhook): a BodyBudget to share, or its options. If unset, 64 MiB, waiting
   * at most 2 s for room (body-budget.ts).
   */
  readonly bodyBudget?: BodyBudget | BodyBudgetOptions;
}

/** A repository in a registry; an ImageReference is one. */
export interface RepositoryRef {
  readonly registry: string;
  readonly repository: string;
}

/** What resolve() accepts: a repository with a tag and/or digest (an ImageReference). */
export interface ManifestRef extends RepositoryRef {
  readonly tag?: string | undefined;
  readonly digest?: string | undefined;
}

export interface CallOptions {
  /** Cancels the operation. */
  readonly signal?: AbortSignal;
  /** Deadline of this operation instead of the client's. */
  readonly timeoutMs?: number;
  /**
   * Credentials for this operation instead of the client's: one client (one connection pool
   * per registry) can serve many tenants, each with its own pull secret. Tokens are cached per
   * credential identity, so one tenant's token never serves another.
   */
  readonly credentials?: CredentialProvider;
}

export interface FetchedManifest {
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
}

export interface PushedManifest {
  readonly descriptor: Descriptor;
  /** The registry processed the manifest's subject (OCI-Subject header): no tag-schema update needed. */
  readonly subjectProcessed: boolean;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_BLOB_MAX_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_REFERRER_PAGES = 16;
export const DEFAULT_MAX_TAG_PAGES = 64;
export const DEFAULT_RESOLVE_CACHE_SIZE = 1024;

/** Every manifest type Portcullis reads, so a registry never converts one on the way out. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPE.ociManifest,
  MEDIA_TYPE.ociIndex,
  MEDIA_TYPE.dockerManifest,
  MEDIA_TYPE.dockerManifestList,
].join(', ');

/**
 * Where the next page of a Referrers API listing is: made by `listReferrersPage` from the
 * page's `Link` header (same origin, checked), handed back to it unchanged. Opaque to callers.
 */
export interface ReferrersCursor {
  readonly url: string;
  /** The number of the page it leads to (2 for the second): the page cap counts them. */
  readonly page: number;
}

/** One page of referrers, filtered on the artifact type; `next` absent on the last page. */
export interface ReferrersPage {
  readonly descriptors: Descriptor[];
  readonly next?: ReferrersCursor;
}

/**
 * What reading signatures needs of a registry (the executor's view of it): resolve a reference,
 * list referrers, fetch manifests and blobs. RegistryClient implements it; tests may too.
 */
export interface RegistryReader {
  resolve(ref: ManifestRef, call?: CallOptions): Promise<Descriptor>;
  listReferrers(
    repo: RepositoryRef,
    subject: { readonly digest: string },
    filter?: { artifactType?: string },
    call?: CallOptions,
  ): Promise<Descriptor[]>;
  /**
   * One page of `listReferrers` (the first when `cursor` is undefined; the tag schema has one),
   * so a reader can stop once it has what it needs. Optional: a reader without it is listed whole.
   */
  listReferrersPage?(
    repo: RepositoryRef,
    subject: { readonly digest: string },
    filter: { artifactType?: string },
    cursor: ReferrersCursor | undefined,
    call?: CallOptions,
  ): Promise<ReferrersPage>;
  fetchManifest(repo: RepositoryRef, target: Descriptor | string, call?: CallOptions): Promise<FetchedManifest>;
  fetchBlob(repo: RepositoryRef, descriptor: Descriptor, maxBytes?: number, call?: CallOptions): Promise<Uint8Array>;
}

export type { SignatureSource };
