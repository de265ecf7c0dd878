import { LRUCache } from 'lru-cache';
import { type Descriptor, parseManifest } from '../oci/index.js';
import { parseDigest, type DigestAlgorithm } from '../util/index.js';
import { repositoryScope } from './auth/authenticator.js';
import { checkSize, readCapped, readVerified, statusError } from './body.js';
import { contentLength, contentType, hashWith, isDigest, type RegistryConnection } from './connection.js';
import { operationError, printable, type Operation } from './operation.js';
import { discard, header } from './transport.js';
import {
  DEFAULT_RESOLVE_CACHE_SIZE,
  MANIFEST_ACCEPT,
  type CallOptions,
  type FetchedManifest,
  type ManifestRef,
  type PushedManifest,
  type RepositoryRef,
} from './types.js';

/** Manifests: resolving tags and digests to descriptors, fetching and pushing (distribution-spec). */
export class ManifestStore {
  readonly #c: RegistryConnection;
  /** Digests resolved (content-addressed, so never stale), bounded; none when resolveCacheSize is 0. */
  readonly #resolved: LRUCache<string, Descriptor> | undefined;

  constructor(connection: RegistryConnection) {
    this.#c = connection;
    const max = connection.options.resolveCacheSize ?? DEFAULT_RESOLVE_CACHE_SIZE;
    this.#resolved = max > 0 ? new LRUCache({ max }) : undefined;
  }

  /**
   * The descriptor of a tag or digest, with one HEAD (Docker Hub does not count HEADs against
   * pull limits). Falls back to a GET only when the HEAD lacks the digest, type or length.
   * A `tag@digest` reference is checked: the tag must point to the digest.
   */
  async resolve(ref: ManifestRef, call?: CallOptions): Promise<Descriptor> {
    const byTag = ref.tag !== undefined && (ref.digest === undefined || this.#c.options.verifyTagDigest !== false);
    const target = byTag ? (ref.tag as string) : (ref.digest ?? 'latest');
    const cacheKey = ref.digest === undefined ? undefined : `${ref.registry}/${ref.repository}@${ref.digest}`;
    const cached = byTag || cacheKey === undefined ? undefined : this.#resolved?.get(cacheKey);
    if (cached !== undefined) return cached;
    using op = this.#c.op(
      ref,
      `resolve ${ref.digest === undefined ? `tag ${target}` : byTag ? `${ref.tag}@${ref.digest}` : ref.digest}`,
      call,
      ref.digest,
    );
    if (ref.digest !== undefined && parseDigest(ref.digest) === undefined) {
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(ref.digest)}" is not a supported digest`);
    }
    const response = await this.#c.send(op, [repositoryScope(ref.repository)], {
      method: 'HEAD',
      url: this.#c.url(ref, `manifests/${target}`),
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
    this.#resolved?.set(`${ref.registry}/${ref.repository}@${descriptor.digest}`, descriptor);
    return descriptor;
  }

  /**
   * Manifest bytes by descriptor (verified against digest and size) or by tag/digest string
   * (verified against the digest, or the registry's Docker-Content-Digest for a tag). Capped.
   */
  async fetchManifest(repo: RepositoryRef, target: Descriptor | string, call?: CallOptions): Promise<FetchedManifest> {
    if (typeof target !== 'string') {
      using op = this.#c.op(repo, `manifest ${target.digest}`, call, target.digest);
      checkSize(op, target, this.#c.maxManifestBytes, 'manifest');
      const accept = MANIFEST_ACCEPT.includes(target.mediaType)
        ? MANIFEST_ACCEPT
        : `${target.mediaType}, ${MANIFEST_ACCEPT}`;
      const response = await this.#c.send(op, [repositoryScope(repo.repository)], {
        method: 'GET',
        url: this.#c.url(repo, `manifests/${target.digest}`),
        headers: { accept },
      });
      if (response.status !== 200) throw await statusError(op, response, `manifest ${target.digest} not found`);
      const bytes = await readVerified(op, response, target, this.#c.maxManifestBytes, 'manifest', this.#c.bodies);
      return { descriptor: target, bytes };
    }
    using op = this.#c.op(repo, `manifest ${target}`, call, isDigest(target) ? target : undefined);
    const algorithm = isDigest(target) ? parseDigest(target)?.algorithm : 'sha256';
    if (algorithm === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(target)}" is not a supported digest`);
    return await this.#getManifest(op, repo, target, algorithm); // awaited: the operation ends after it
  }

  async #getManifest(
    op: Operation,
    repo: RepositoryRef,
    target: string,
    algorithm: DigestAlgorithm,
  ): Promise<FetchedManifest> {
    const response = await this.#c.send(op, [repositoryScope(repo.repository)], {
      method: 'GET',
      url: this.#c.url(repo, `manifests/${target}`),
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (response.status !== 200) throw await statusError(op, response, `manifest ${target} not found`);
    const bytes = await readCapped(op, response, this.#c.maxManifestBytes, 'manifest', this.#c.bodies);
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
    using op = this.#c.op(repo, `push manifest ${reference}`, call);
    const algorithm = isDigest(reference) ? parseDigest(reference)?.algorithm : 'sha256';
    if (algorithm === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(reference)}" is not a supported digest`);
    if (!isDigest(reference) && !/^[\w][\w.-]{0,127}$/.test(reference))
      throw operationError(op, 'ERR_REF_INVALID', `"${printable(reference)}" is not a valid tag`);
    if (bytes.length > this.#c.maxManifestBytes)
      throw operationError(
        op,
        'ERR_SIZE_LIMIT',
        `manifest is ${bytes.length} bytes, over the ${this.#c.maxManifestBytes}-byte cap`,
      );
    const digest = hashWith(bytes, algorithm);
    if (isDigest(reference) && digest !== reference)
      throw operationError(op, 'ERR_DIGEST_MISMATCH', `manifest content hashes to ${digest}, not ${reference}`);
    const response = await this.#c.send(op, [repositoryScope(repo.repository, true)], {
      method: 'PUT',
      url: this.#c.url(repo, `manifests/${reference}`),
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
}
