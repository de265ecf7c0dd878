import { createHash } from 'node:crypto';
import { PortcullisError } from '../errors/index.js';
import type { Descriptor } from '../oci/descriptor.js';
import { parseManifest, MAX_MANIFEST_BYTES } from '../oci/manifest.js';
import { MEDIA_TYPE } from '../oci/media-types.js';
import { digestOf, parseDigest, type DigestAlgorithm } from '../util/digest.js';
import { Authenticator, repositoryScope } from './auth/authenticator.js';
import { ANONYMOUS, type CredentialProvider } from './auth/credentials.js';
import {
  checkSize,
  describeErrors,
  readCapped,
  readErrorBody,
  readVerified,
  statusError,
  streamVerified,
} from './body.js';
import { abortError, operationError, printable, startOperation, type Operation } from './operation.js';
import { ProbeGate } from './probe-gate.js';
import { filterReferrers, nextLink, referrersIndex, referrersTag } from './referrers.js';
import {
  discard,
  header,
  Transport,
  type HttpRequest,
  type HttpResponse,
  type RequestBody,
  type TransportOptions,
} from './transport.js';
import { uploadBlob, type UploadOptions } from './upload.js';
import { parseStrictJson } from '../util/strict-json.js';

/**
 * A client for OCI distribution registries, in layers: transport (pools, TLS, deadline,
 * retries, redirects) ← auth (challenges, tokens) ← repository operations (this class).
 * Built for the admission round-trip budget: verifying an image costs four requests once auth
 * is settled (the manifest HEAD for its descriptor, referrers, signature manifest, envelope
 * blob); a digest's HEAD answer is kept, so a repeat of a digest-pinned image costs three.
 * Nothing on the read path issues a HEAD before a GET or checks a blob exists.
 */

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

/** The verify core's SignatureSource, structurally. */
export interface RegistrySignatureSource {
  listSignatures(artifact: { readonly digest: string }): Promise<readonly Descriptor[]>;
  fetchManifest(descriptor: Descriptor): Promise<Uint8Array>;
  fetchBlob(descriptor: Descriptor): Promise<Uint8Array>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_BLOB_MAX_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_REFERRER_PAGES = 16;
const DEFAULT_MAX_TAG_PAGES = 64;
const DEFAULT_RESOLVE_CACHE_SIZE = 1024;

/** Every manifest type Portcullis reads, so a registry never converts one on the way out. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPE.ociManifest,
  MEDIA_TYPE.ociIndex,
  MEDIA_TYPE.dockerManifest,
  MEDIA_TYPE.dockerManifestList,
].join(', ');

function contentType(response: HttpResponse): string | undefined {
  const value = header(response.headers, 'content-type')?.split(';')[0]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function contentLength(response: HttpResponse): number | undefined {
  const value = header(response.headers, 'content-length');
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

function isDigest(reference: string): boolean {
  return reference.includes(':');
}

function hashWith(bytes: Uint8Array, algorithm: DigestAlgorithm): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

function replayable(body: RequestBody | undefined): boolean {
  return body === undefined || body instanceof Uint8Array;
}

export class RegistryClient {
  readonly #options: RegistryClientOptions;
  readonly #transport: Transport;
  readonly #auth: Authenticator;
  readonly #referrersSupport = new Map<string, 'api' | 'tag-schema'>();
  readonly #referrersProbe = new ProbeGate();
  readonly #resolved = new Map<string, Descriptor>();

  constructor(options: RegistryClientOptions = {}) {
    this.#options = options;
    this.#transport = new Transport(options);
    this.#auth = new Authenticator({
      transport: this.#transport,
      credentials: options.credentials ?? ANONYMOUS,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
  }

  /** Registry origins with an open connection pool (bounded by `maxPools`). */
  get poolCount(): number {
    return this.#transport.poolCount;
  }

  get #maxManifestBytes(): number {
    return this.#options.maxManifestBytes ?? MAX_MANIFEST_BYTES;
  }

  #op(repo: RepositoryRef, what: string, call: CallOptions | undefined, digest?: string): Operation {
    checkRepository(repo);
    return startOperation({
      registry: repo.registry,
      repository: repo.repository,
      what,
      timeoutMs: call?.timeoutMs ?? this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: call?.signal,
      digest,
      credentials: call?.credentials,
    });
  }

  #url(repo: RepositoryRef, path: string): URL {
    return new URL(`/v2/${repo.repository}/${path}`, this.#transport.baseUrl(repo.registry));
  }

  /**
   * One request through the auth layer: credentials pre-emptively once the registry's scheme
   * is known; otherwise anonymously, then once more answering the 401 challenge.
   */
  async #send(op: Operation, scopes: readonly string[], request: HttpRequest): Promise<HttpResponse> {
    const registryOrigin = this.#transport.baseUrl(op.registry).origin;
    const withAuth = (authorization: string | undefined): HttpRequest =>
      authorization === undefined || request.url.origin !== registryOrigin
        ? request
        : { ...request, headers: { ...request.headers, authorization } };
    const contacted = await this.#auth.firstContact(op);
    let response: HttpResponse;
    let learned: { scopes: string[] } | undefined;
    try {
      response = await this.#transport.send(op, withAuth(await this.#auth.authorization(op, scopes)));
      if (response.status === 401) learned = this.#auth.learn(op, response.headers['www-authenticate']);
      else this.#auth.answered(op);
    } finally {
      contacted(); // what the answer taught is remembered: requests waiting for it go
    }
    if (response.status !== 401) return response;
    if (learned === undefined) throw await statusError(op, response);
    await discard(response);
    if (!replayable(request.body)) {
      throw operationError(
        op,
        'ERR_REGISTRY_UNAUTHORIZED',
        'the registry asked for authentication in the middle of a streamed upload',
      );
    }
    const authorization = await this.#auth.authorization(op, scopes, true, learned.scopes);
    if (authorization === undefined) {
      throw operationError(
        op,
        'ERR_REGISTRY_UNAUTHORIZED',
        `authentication required and no credentials are configured for ${op.registry}`,
      );
    }
    response = await this.#transport.send(op, withAuth(authorization));
    if (response.status === 401) {
      const detail = describeErrors(await readErrorBody(response));
      const who = (await this.#auth.hasCredentials(op))
        ? `the credentials configured for ${op.registry} were rejected`
        : `anonymous access was refused; configure credentials for ${op.registry}`;
      throw operationError(op, 'ERR_REGISTRY_UNAUTHORIZED', `${who} (401)${detail}`);
    }
    return response;
  }

  // --- manifests --------------------------------------------------------------------------

  /**
   * The descriptor of a tag or digest, with one HEAD (Docker Hub does not count HEADs against
   * pull limits). Falls back to a GET only when the HEAD lacks the digest, type or length.
   * A `tag@digest` reference is checked: the tag must point to the digest.
   */
  async resolve(ref: ManifestRef, call?: CallOptions): Promise<Descriptor> {
    const byTag = ref.tag !== undefined && (ref.digest === undefined || this.#options.verifyTagDigest !== false);
    const target = byTag ? (ref.tag as string) : (ref.digest ?? 'latest');
    const cacheKey = ref.digest === undefined ? undefined : `${ref.registry}/${ref.repository}@${ref.digest}`;
    const cached = byTag || cacheKey === undefined ? undefined : this.#resolved.get(cacheKey);
    if (cached !== undefined) return cached;
    const op = this.#op(
      ref,
      `resolve ${ref.digest === undefined ? `tag ${target}` : byTag ? `${ref.tag}@${ref.digest}` : ref.digest}`,
      call,
      ref.digest,
    );
    if (ref.digest !== undefined && parseDigest(ref.digest) === undefined) {
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(ref.digest)}" is not a supported digest`);
    }
    const response = await this.#send(op, [repositoryScope(ref.repository)], {
      method: 'HEAD',
      url: this.#url(ref, `manifests/${target}`),
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (response.status !== 200) throw await statusError(op, response, `manifest ${target} not found`);
    await discard(response);
    const digest = header(response.headers, 'docker-content-digest');
    const mediaType = contentType(response);
    const size = contentLength(response);
    const wantAlgorithm = ref.digest === undefined ? 'sha256' : (parseDigest(ref.digest)?.algorithm ?? 'sha256');
    let descriptor: Descriptor;
    if (
      digest !== undefined &&
      parseDigest(digest)?.algorithm === wantAlgorithm &&
      mediaType !== undefined &&
      size !== undefined
    ) {
      descriptor = { mediaType, digest, size };
    } else {
      const fetched = await this.#getManifest(op, ref, target, wantAlgorithm);
      descriptor = fetched.descriptor;
    }
    if (ref.digest !== undefined && descriptor.digest !== ref.digest) {
      if (byTag) {
        throw operationError(
          op,
          'ERR_REF_DIGEST_MISMATCH',
          `tag ${ref.tag} points to ${descriptor.digest}, but the reference pins ${ref.digest}`,
        );
      }
      throw operationError(op, 'ERR_DIGEST_MISMATCH', `the registry answers ${descriptor.digest} for ${ref.digest}`);
    }
    this.#remember(`${ref.registry}/${ref.repository}@${descriptor.digest}`, descriptor);
    return descriptor;
  }

  #remember(key: string, descriptor: Descriptor): void {
    const max = this.#options.resolveCacheSize ?? DEFAULT_RESOLVE_CACHE_SIZE;
    if (max <= 0) return;
    this.#resolved.delete(key);
    this.#resolved.set(key, descriptor);
    while (this.#resolved.size > max) this.#resolved.delete(this.#resolved.keys().next().value as string);
  }

  /**
   * Manifest bytes by descriptor (verified against digest and size) or by tag/digest string
   * (verified against the digest, or the registry's Docker-Content-Digest for a tag). Capped.
   */
  async fetchManifest(repo: RepositoryRef, target: Descriptor | string, call?: CallOptions): Promise<FetchedManifest> {
    if (typeof target !== 'string') {
      const op = this.#op(repo, `manifest ${target.digest}`, call, target.digest);
      checkSize(op, target, this.#maxManifestBytes, 'manifest');
      const accept = MANIFEST_ACCEPT.includes(target.mediaType)
        ? MANIFEST_ACCEPT
        : `${target.mediaType}, ${MANIFEST_ACCEPT}`;
      const response = await this.#send(op, [repositoryScope(repo.repository)], {
        method: 'GET',
        url: this.#url(repo, `manifests/${target.digest}`),
        headers: { accept },
      });
      if (response.status !== 200) throw await statusError(op, response, `manifest ${target.digest} not found`);
      const bytes = await readVerified(op, response, target, this.#maxManifestBytes, 'manifest');
      return { descriptor: target, bytes };
    }
    const op = this.#op(repo, `manifest ${target}`, call, isDigest(target) ? target : undefined);
    const algorithm = isDigest(target) ? parseDigest(target)?.algorithm : 'sha256';
    if (algorithm === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(target)}" is not a supported digest`);
    return this.#getManifest(op, repo, target, algorithm);
  }

  async #getManifest(
    op: Operation,
    repo: RepositoryRef,
    target: string,
    algorithm: DigestAlgorithm,
  ): Promise<FetchedManifest> {
    const response = await this.#send(op, [repositoryScope(repo.repository)], {
      method: 'GET',
      url: this.#url(repo, `manifests/${target}`),
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (response.status !== 200) throw await statusError(op, response, `manifest ${target} not found`);
    const bytes = await readCapped(op, response, this.#maxManifestBytes, 'manifest');
    const digest = hashWith(bytes, algorithm);
    const claimed = isDigest(target) ? target : header(response.headers, 'docker-content-digest');
    if (claimed !== undefined && parseDigest(claimed)?.algorithm === algorithm && claimed !== digest) {
      throw operationError(
        op,
        'ERR_DIGEST_MISMATCH',
        `manifest ${target}: content hashes to ${digest}, the registry says ${printable(claimed)}`,
      );
    }
    // The digest of a tag is the hash of these bytes: they must be a manifest, or a broken
    // registry or proxy answering an error page with 200 would name a digest of its own making
    // (found by the soak test: "null" resolved a tag, and the signed image was denied).
    let parsed: ReturnType<typeof parseManifest>;
    try {
      parsed = parseManifest(bytes);
    } catch (cause) {
      throw operationError(
        op,
        'ERR_REGISTRY_RESPONSE',
        `the answer for manifest ${target} is not an image manifest or index: ${cause instanceof Error ? printable(cause.message) : 'unreadable'}`,
        cause,
      );
    }
    let mediaType = contentType(response);
    if (mediaType === undefined || !MANIFEST_ACCEPT.split(', ').includes(mediaType))
      mediaType = parsed.mediaType ?? mediaType;
    if (mediaType === undefined)
      throw operationError(
        op,
        'ERR_REGISTRY_RESPONSE',
        `manifest ${target} has no media type (no Content-Type, no mediaType field)`,
      );
    return { descriptor: { mediaType, digest, size: bytes.length }, bytes };
  }

  /**
   * Pushes a manifest under a tag or its digest. `subjectProcessed` is true when the registry
   * answered OCI-Subject (it indexes the subject for the Referrers API itself).
   */
  async pushManifest(
    repo: RepositoryRef,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    call?: CallOptions,
  ): Promise<PushedManifest> {
    const op = this.#op(repo, `push manifest ${reference}`, call);
    const algorithm = isDigest(reference) ? parseDigest(reference)?.algorithm : 'sha256';
    if (algorithm === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(reference)}" is not a supported digest`);
    if (!isDigest(reference) && !/^[\w][\w.-]{0,127}$/.test(reference))
      throw operationError(op, 'ERR_REF_INVALID', `"${printable(reference)}" is not a valid tag`);
    if (bytes.length > this.#maxManifestBytes)
      throw operationError(
        op,
        'ERR_SIZE_LIMIT',
        `manifest is ${bytes.length} bytes, over the ${this.#maxManifestBytes}-byte cap`,
      );
    const digest = hashWith(bytes, algorithm);
    if (isDigest(reference) && digest !== reference)
      throw operationError(op, 'ERR_DIGEST_MISMATCH', `manifest content hashes to ${digest}, not ${reference}`);
    const response = await this.#send(op, [repositoryScope(repo.repository, true)], {
      method: 'PUT',
      url: this.#url(repo, `manifests/${reference}`),
      headers: { 'content-type': mediaType },
      body: bytes,
    });
    if (response.status !== 201 && response.status !== 200) throw await statusError(op, response);
    await discard(response);
    const answered = header(response.headers, 'docker-content-digest');
    if (answered !== undefined && parseDigest(answered)?.algorithm === algorithm && answered !== digest) {
      throw operationError(
        op,
        'ERR_REGISTRY_RESPONSE',
        `the registry stored the manifest as ${printable(answered)}, its content hashes to ${digest}`,
      );
    }
    const subject = header(response.headers, 'oci-subject');
    return {
      descriptor: { mediaType, digest, size: bytes.length },
      subjectProcessed: subject !== undefined && subject !== '',
    };
  }

  // --- blobs ------------------------------------------------------------------------------

  /** Blob bytes, streamed through the digest check and the cap (default the client's blob cap). */
  async fetchBlob(
    repo: RepositoryRef,
    descriptor: Descriptor,
    maxBytes?: number,
    call?: CallOptions,
  ): Promise<Uint8Array> {
    const op = this.#op(repo, `blob ${descriptor.digest}`, call, descriptor.digest);
    const cap = maxBytes ?? this.#options.maxBlobBytes ?? DEFAULT_BLOB_MAX_BYTES;
    checkSize(op, descriptor, cap, 'blob');
    const response = await this.#getBlob(op, repo, descriptor);
    return readVerified(op, response, descriptor, cap, 'blob');
  }

  /**
   * A blob as a stream (for copying large layers): no cap beyond the descriptor's size, the
   * digest checked as it streams; the final step throws ERR_DIGEST_MISMATCH on bad content.
   * The request is sent when iteration starts. Give a longer `timeoutMs` for large blobs.
   */
  openBlob(repo: RepositoryRef, descriptor: Descriptor, call?: CallOptions): AsyncIterable<Uint8Array> {
    const open = async (): Promise<{ op: Operation; response: HttpResponse }> => {
      const op = this.#op(repo, `blob ${descriptor.digest}`, call, descriptor.digest);
      return { op, response: await this.#getBlob(op, repo, descriptor) };
    };
    return {
      async *[Symbol.asyncIterator]() {
        const { op, response } = await open();
        yield* streamVerified(op, response, descriptor);
      },
    };
  }

  async #getBlob(op: Operation, repo: RepositoryRef, descriptor: Descriptor): Promise<HttpResponse> {
    if (parseDigest(descriptor.digest) === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(descriptor.digest)}" is not a supported digest`);
    const response = await this.#send(op, [repositoryScope(repo.repository)], {
      method: 'GET',
      url: this.#url(repo, `blobs/${descriptor.digest}`),
      followRedirects: true,
    });
    if (response.status !== 200) throw await statusError(op, response, `blob ${descriptor.digest} not found`);
    return response;
  }

  /** Whether the repository has the blob (HEAD; write path only). */
  async blobExists(repo: RepositoryRef, descriptor: Descriptor, call?: CallOptions): Promise<boolean> {
    const op = this.#op(repo, `check blob ${descriptor.digest}`, call, descriptor.digest);
    const response = await this.#send(op, [repositoryScope(repo.repository)], {
      method: 'HEAD',
      url: this.#url(repo, `blobs/${descriptor.digest}`),
      followRedirects: true,
    });
    await discard(response);
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await statusError(op, response);
  }

  /**
   * Uploads a blob: monolithic (POST, then PUT ?digest=) or, with `chunkSize`, chunked
   * (PATCH with Content-Range per chunk, then PUT ?digest=). Content may be bytes or a stream.
   */
  async pushBlob(
    repo: RepositoryRef,
    content: Uint8Array | AsyncIterable<Uint8Array>,
    descriptor: Descriptor,
    options: UploadOptions & CallOptions = {},
  ): Promise<Descriptor> {
    const op = this.#op(repo, `push blob ${descriptor.digest}`, options, descriptor.digest);
    if (parseDigest(descriptor.digest) === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(descriptor.digest)}" is not a supported digest`);
    if (content instanceof Uint8Array) {
      if (
        content.length !== descriptor.size ||
        digestOf(content, parseDigest(descriptor.digest)?.algorithm) !== descriptor.digest
      ) {
        throw operationError(
          op,
          'ERR_DIGEST_MISMATCH',
          `the content to push does not match ${descriptor.digest} (${content.length} bytes, descriptor says ${descriptor.size})`,
        );
      }
    }
    const scopes = [repositoryScope(repo.repository, true)];
    const start = await this.#send(op, scopes, {
      method: 'POST',
      url: this.#url(repo, 'blobs/uploads/'),
      headers: { 'content-length': '0' },
    });
    if (start.status !== 202) throw await statusError(op, start);
    await discard(start);
    const location = this.#location(op, start, this.#url(repo, 'blobs/uploads/'));
    await uploadBlob(op, (request) => this.#send(op, scopes, request), location, content, descriptor, options);
    return descriptor;
  }

  /**
   * Mounts a blob from another repository of the same registry (201). When the registry
   * answers 202 instead (no mount), uploads it: streamed from `fromRepository`.
   */
  async mountBlob(
    repo: RepositoryRef,
    fromRepository: string,
    descriptor: Descriptor,
    call?: CallOptions,
  ): Promise<{ mounted: boolean }> {
    const op = this.#op(repo, `mount blob ${descriptor.digest} from ${fromRepository}`, call, descriptor.digest);
    checkRepository({ registry: repo.registry, repository: fromRepository });
    if (parseDigest(descriptor.digest) === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(descriptor.digest)}" is not a supported digest`);
    const scopes = [repositoryScope(repo.repository, true), repositoryScope(fromRepository)];
    const url = this.#url(
      repo,
      `blobs/uploads/?mount=${encodeURIComponent(descriptor.digest)}&from=${encodeURIComponent(fromRepository)}`,
    );
    const response = await this.#send(op, scopes, { method: 'POST', url, headers: { 'content-length': '0' } });
    if (response.status === 201) {
      await discard(response);
      return { mounted: true };
    }
    if (response.status !== 202) throw await statusError(op, response);
    await discard(response);
    const location = this.#location(op, response, url);
    const content = this.openBlob({ registry: repo.registry, repository: fromRepository }, descriptor, call);
    await uploadBlob(op, (request) => this.#send(op, scopes, request), location, content, descriptor, {});
    return { mounted: false };
  }

  #location(op: Operation, response: HttpResponse, base: URL): URL {
    const location = header(response.headers, 'location');
    if (location === undefined || location === '')
      throw operationError(op, 'ERR_REGISTRY_RESPONSE', `upload answer ${response.status} has no Location header`);
    try {
      return new URL(location, base);
    } catch (cause) {
      throw operationError(op, 'ERR_REGISTRY_RESPONSE', `upload Location "${printable(location)}" is not a URL`, cause);
    }
  }

  // --- referrers --------------------------------------------------------------------------

  /**
   * The referrers of `subject`, filtered on `artifactType` (client-side too: a registry may
   * ignore the filter). Uses the Referrers API, or the referrers tag schema when the registry
   * answers 404 there; which one works is remembered per registry, so later calls cost one
   * request (plus pages).
   */
  async listReferrers(
    repo: RepositoryRef,
    subject: { readonly digest: string },
    filter: { artifactType?: string } = {},
    call?: CallOptions,
  ): Promise<Descriptor[]> {
    const op = this.#op(repo, `referrers of ${subject.digest}`, call, subject.digest);
    if (parseDigest(subject.digest) === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(subject.digest)}" is not a supported digest`);
    const mode = this.#options.referrers ?? 'auto';
    // Until the registry's answer is known, one listing asks the Referrers API and the others
    // wait for it: a registry without the API would otherwise answer a burst with 404s first.
    let probed = (): void => undefined;
    if (mode === 'auto') {
      try {
        probed = await this.#referrersProbe.enter(
          repo.registry,
          () => this.#referrersSupport.has(repo.registry),
          op.signal,
        );
      } catch (cause) {
        throw abortError(op, cause);
      }
    }
    try {
      const known = mode === 'auto' ? this.#referrersSupport.get(repo.registry) : mode;
      if (known !== 'tag-schema') {
        const viaApi = await this.#referrersApi(op, repo, subject, filter.artifactType, mode === 'api');
        probed();
        if (viaApi !== undefined) return filterReferrers(viaApi, filter.artifactType);
      }
      probed();
      return filterReferrers(await this.#referrersFromTag(op, repo, subject), filter.artifactType);
    } finally {
      probed();
    }
  }

  async #referrersApi(
    op: Operation,
    repo: RepositoryRef,
    subject: { readonly digest: string },
    artifactType: string | undefined,
    required: boolean,
  ): Promise<Descriptor[] | undefined> {
    const query = artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(artifactType)}`;
    let url = this.#url(repo, `referrers/${subject.digest}${query}`);
    const out: Descriptor[] = [];
    const maxPages = this.#options.maxReferrerPages ?? DEFAULT_MAX_REFERRER_PAGES;
    for (let page = 1; ; page++) {
      const response = await this.#send(op, [repositoryScope(repo.repository)], {
        method: 'GET',
        url,
        headers: { accept: MEDIA_TYPE.ociIndex },
      });
      if (response.status === 404 && page === 1 && !required) {
        const errors = await readErrorBody(response);
        // NAME_UNKNOWN: the repository is missing, which says nothing about API support.
        if (!errors.some((e) => e.code === 'NAME_UNKNOWN')) this.#referrersSupport.set(repo.registry, 'tag-schema');
        return undefined;
      }
      if (response.status !== 200) throw await statusError(op, response, `referrers of ${subject.digest} not found`);
      this.#referrersSupport.set(repo.registry, 'api');
      const bytes = await readCapped(op, response, this.#maxManifestBytes, 'referrers list');
      out.push(...this.#indexManifests(op, bytes, 'referrers list'));
      const next = nextLink(response.headers.link);
      if (next === undefined) return out;
      if (page >= maxPages)
        throw operationError(op, 'ERR_REGISTRY_RESPONSE', `the referrers list has more than ${maxPages} pages`);
      let nextUrl: URL;
      try {
        nextUrl = new URL(next, url);
      } catch (cause) {
        throw operationError(op, 'ERR_REGISTRY_RESPONSE', `referrers Link "${printable(next)}" is not a URL`, cause);
      }
      if (nextUrl.origin !== url.origin)
        throw operationError(
          op,
          'ERR_REGISTRY_RESPONSE',
          `referrers Link points to another origin (${printable(nextUrl.origin)})`,
        );
      url = nextUrl;
    }
  }

  async #referrersFromTag(
    op: Operation,
    repo: RepositoryRef,
    subject: { readonly digest: string },
  ): Promise<Descriptor[]> {
    const tag = referrersTag(subject.digest) as string;
    const response = await this.#send(op, [repositoryScope(repo.repository)], {
      method: 'GET',
      url: this.#url(repo, `manifests/${tag}`),
      headers: { accept: MEDIA_TYPE.ociIndex },
    });
    if (response.status === 404) {
      await discard(response);
      return [];
    }
    if (response.status !== 200) throw await statusError(op, response);
    const bytes = await readCapped(op, response, this.#maxManifestBytes, 'referrers tag index');
    return this.#indexManifests(op, bytes, `referrers tag ${tag}`);
  }

  #indexManifests(op: Operation, bytes: Uint8Array, what: string): Descriptor[] {
    try {
      return [...parseManifest(bytes).manifests];
    } catch (cause) {
      throw operationError(
        op,
        'ERR_REGISTRY_RESPONSE',
        `${what} is not a valid image index: ${cause instanceof Error ? cause.message : String(cause)}`,
        cause,
      );
    }
  }

  /**
   * Adds `descriptor` (with its artifactType and annotations) to the referrers tag-schema
   * index of `subject`, creating the index if needed. For registries that did not process a
   * pushed manifest's subject, as notation and oras do. Not atomic: concurrent writers of
   * the same subject can lose an entry (the tag schema has no compare-and-swap).
   */
  async addReferrer(
    repo: RepositoryRef,
    subject: Descriptor,
    descriptor: Descriptor,
    call?: CallOptions,
  ): Promise<{ updated: boolean; index?: Descriptor }> {
    const op = this.#op(repo, `add referrer ${descriptor.digest} of ${subject.digest}`, call, subject.digest);
    const tag = referrersTag(subject.digest);
    if (tag === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(subject.digest)}" is not a supported digest`);
    const scopes = [repositoryScope(repo.repository, true)];
    const response = await this.#send(op, scopes, {
      method: 'GET',
      url: this.#url(repo, `manifests/${tag}`),
      headers: { accept: MEDIA_TYPE.ociIndex },
    });
    let current: Descriptor[] = [];
    if (response.status === 200) {
      current = this.#indexManifests(
        op,
        await readCapped(op, response, this.#maxManifestBytes, 'referrers tag index'),
        `referrers tag ${tag}`,
      );
    } else if (response.status === 404) {
      await discard(response);
    } else {
      throw await statusError(op, response);
    }
    if (current.some((d) => d.digest === descriptor.digest)) return { updated: false };
    const bytes = referrersIndex([...current, descriptor]);
    const put = await this.#send(op, scopes, {
      method: 'PUT',
      url: this.#url(repo, `manifests/${tag}`),
      headers: { 'content-type': MEDIA_TYPE.ociIndex },
      body: bytes,
    });
    if (put.status !== 201 && put.status !== 200) throw await statusError(op, put);
    await discard(put);
    return { updated: true, index: { mediaType: MEDIA_TYPE.ociIndex, digest: digestOf(bytes), size: bytes.length } };
  }

  // --- tags -------------------------------------------------------------------------------

  /** Every tag of the repository (paginated with Link, capped pages). */
  async tags(repo: RepositoryRef, call?: CallOptions): Promise<string[]> {
    const op = this.#op(repo, 'list tags', call);
    let url = this.#url(repo, 'tags/list');
    const out: string[] = [];
    const maxPages = this.#options.maxTagPages ?? DEFAULT_MAX_TAG_PAGES;
    for (let page = 1; ; page++) {
      const response = await this.#send(op, [repositoryScope(repo.repository)], {
        method: 'GET',
        url,
        headers: { accept: 'application/json' },
      });
      if (response.status !== 200) throw await statusError(op, response, `repository ${repo.repository} not found`);
      const bytes = await readCapped(op, response, this.#maxManifestBytes, 'tag list');
      let doc: unknown;
      try {
        doc = parseStrictJson(bytes, { maxBytes: this.#maxManifestBytes, what: 'tag list' });
      } catch (cause) {
        throw operationError(op, 'ERR_REGISTRY_RESPONSE', `tag list is not JSON: ${(cause as Error).message}`, cause);
      }
      const tags = (doc as { tags?: unknown } | null)?.tags;
      if (tags !== null && tags !== undefined && (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string'))) {
        throw operationError(op, 'ERR_REGISTRY_RESPONSE', 'tag list "tags" is not an array of strings');
      }
      out.push(...((tags ?? []) as string[]));
      const next = nextLink(response.headers.link);
      if (next === undefined) return out;
      if (page >= maxPages)
        throw operationError(op, 'ERR_REGISTRY_RESPONSE', `the tag list has more than ${maxPages} pages`);
      const nextUrl = new URL(next, url);
      if (nextUrl.origin !== url.origin)
        throw operationError(
          op,
          'ERR_REGISTRY_RESPONSE',
          `tag list Link points to another origin (${printable(nextUrl.origin)})`,
        );
      url = nextUrl;
    }
  }

  // --- verification source ----------------------------------------------------------------

  /**
   * The verify core's SignatureSource for a repository: Notary signatures via listReferrers,
   * manifests and envelope blobs fetched verified and capped.
   */
  signatureSource(repo: RepositoryRef, call?: CallOptions): RegistrySignatureSource {
    return {
      listSignatures: (artifact) =>
        this.listReferrers(repo, artifact, { artifactType: MEDIA_TYPE.notarySignature }, call),
      fetchManifest: async (descriptor) => (await this.fetchManifest(repo, descriptor, call)).bytes,
      fetchBlob: (descriptor) => this.fetchBlob(repo, descriptor, undefined, call),
    };
  }

  /** Closes every connection. The client cannot be used afterwards. */
  async close(): Promise<void> {
    await this.#transport.close();
  }
}

/** Repository names come from parsed references, but the client is also an API: check them. */
function checkRepository(repo: RepositoryRef): void {
  const ok = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/.test(
    repo.repository,
  );
  if (!ok || repo.registry === '' || /[/\s@]/.test(repo.registry)) {
    throw new PortcullisError(
      'ERR_REF_INVALID',
      `invalid repository "${printable(repo.registry, 100)}/${printable(repo.repository, 200)}"`,
    );
  }
}
