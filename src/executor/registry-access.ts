import { type Descriptor, MEDIA_TYPE } from '../oci/index.js';
import type { ImageReference } from '../reference/index.js';
import type { CallOptions, ChosenCredential, RegistryReader, RepositoryRef } from '../registry/index.js';
import { PortcullisError } from '../errors/index.js';
import type { ReferrerLister, SignatureSource } from '../verify/index.js';
import type { Budget } from './budget.js';
import type { ExecutorCaches } from './caches.js';
import type { HostLimiter } from './limiter.js';
import type { ReviewScope } from './review-scope.js';
import type { SharedWork } from './single-flight.js';

/**
 * Every registry read of the executor goes through here: cache first, then one shared fetch
 * per object (single flight), inside the per-registry concurrency limit, with the check's
 * remaining time as the call's timeout and the chosen credential passed per call.
 */

export interface AccessContext {
  readonly budget: Budget;
  readonly credential: ChosenCredential;
  /** A dry run: an empty referrer list (a negative answer) is not cached. */
  readonly dryRun?: boolean;
  /** An explanation was asked for: verify afresh (no cached verdict) and keep every check's result. */
  readonly explain?: boolean;
  /** The image string being checked and the share of its review, when it has one. */
  readonly image?: string;
  readonly review?: ReviewScope;
}

export interface RegistryAccessDeps {
  readonly registry: RegistryReader;
  readonly caches: ExecutorCaches;
  readonly limiter: HostLimiter;
  readonly flights: SharedWork;
  /** How long a tag's resolution is reused: the longest a moved tag is still judged by its old digest (0 = never). */
  readonly tagTtlMs: number;
  readonly referrersTtlMs: number;
  /** TTL of an empty referrer list (0 = not cached). */
  readonly emptyReferrersTtlMs: number;
}

/** The tag cache key: credential identity and `registry/repository:tag` (`latest` when none is written). */
export function tagCacheKey(identity: string, ref: ImageReference): string {
  return `${identity}\u0000${ref.name}:${ref.tag ?? 'latest'}`;
}

/** The digest cache key: credential identity and `registry/repository@digest`. */
export function digestCacheKey(identity: string, ref: ImageReference & { readonly digest: string }): string {
  return `${identity}\u0000${ref.name}@${ref.digest}`;
}

export class RegistryAccess {
  readonly #d: RegistryAccessDeps;

  constructor(deps: RegistryAccessDeps) {
    this.#d = deps;
  }

  /**
   * One registry call: within the review's share (registries, images, requests in flight), then
   * limited per host, given the remaining budget and the chosen credential.
   */
  async #call<T>(
    registry: string,
    ctx: AccessContext,
    what: string,
    work: (call: CallOptions) => Promise<T>,
  ): Promise<T> {
    // Reviews take turns at a busy registry (the review is the limiter's owner).
    const perHost = (): Promise<T> =>
      this.#d.limiter.run(
        registry,
        ctx.budget,
        what,
        () => {
          const timeoutMs = ctx.budget.callTimeout(what);
          return work({
            timeoutMs,
            ...(ctx.credential.provider === undefined ? {} : { credentials: ctx.credential.provider }),
          });
        },
        ctx.review,
      );
    const review = ctx.review;
    if (review === undefined) return perHost();
    review.admit(registry, ctx.image ?? '');
    // The review's slot is taken first: a check waiting for its review's share holds no registry slot.
    return review.run(ctx.budget, what, perHost);
  }

  /** Shared work, each caller waiting no longer than its own deadline. */
  #shared<T>(key: string, ctx: AccessContext, what: string, work: () => Promise<T>): Promise<T> {
    return this.#d.flights.shared(key, ctx.budget, what, work);
  }

  /** What the tag or digest cache holds for a reference (`key`: tagCacheKey or digestCacheKey), counted. */
  cachedTarget(ref: ImageReference, key: string): Descriptor | undefined {
    return ref.digest === undefined
      ? this.#d.caches.lookup('tag', this.#d.caches.tags, key)
      : this.#d.caches.lookup('digest', this.#d.caches.digests, key);
  }

  /** What `cachedTarget` did not have: fetched (one shared fetch per key) and cached. */
  fetchTarget(ref: ImageReference, key: string, ctx: AccessContext): Promise<Descriptor> {
    return ref.digest === undefined
      ? this.#fetchTag(ref, key, ctx)
      : this.#fetchDigest(ref as ImageReference & { readonly digest: string }, key, ctx);
  }

  /** Tag → descriptor with one HEAD, cached per credential identity for the tag TTL. */
  #fetchTag(ref: ImageReference, key: string, ctx: AccessContext): Promise<Descriptor> {
    const tag = ref.tag ?? 'latest';
    const what = `resolving ${ref.name}:${tag}`;
    return this.#shared(`tag\u0000${key}`, ctx, what, async () => {
      const descriptor = await this.#call(ref.registry, ctx, what, (call) =>
        this.#d.registry.resolve({ registry: ref.registry, repository: ref.repository, tag }, call),
      );
      if (this.#d.tagTtlMs > 0) this.#d.caches.tags.set(key, descriptor);
      return descriptor;
    });
  }

  /**
   * The descriptor the registry holds for a digest-pinned reference, with one HEAD (the tag of a
   * `name:tag@digest` is ignored, as the runtime ignores it). Immutable, so cached without TTL
   * per credential identity: a warm check makes no request.
   */
  #fetchDigest(
    ref: ImageReference & { readonly digest: string },
    key: string,
    ctx: AccessContext,
  ): Promise<Descriptor> {
    // The descriptor's HEAD and the signature listing of a digest do not depend on each other:
    // list at once, so a new digest-pinned image costs three round trips in sequence, not four.
    // The verification then finds the listing in flight (single flight) or cached.
    this.#listSignatures({ registry: ref.registry, repository: ref.repository }, ref.digest, ctx, false).catch(
      () => undefined, // the verification asks again and meets the failure itself
    );
    const what = `resolving ${ref.name}@${ref.digest}`;
    return this.#shared(`digest\u0000${key}`, ctx, what, async () => {
      const descriptor = await this.#call(ref.registry, ctx, what, (call) =>
        this.#d.registry.resolve({ registry: ref.registry, repository: ref.repository, digest: ref.digest }, call),
      );
      this.#d.caches.digests.set(key, descriptor);
      return descriptor;
    });
  }

  /** The verify core's SignatureSource for one repository, through the caches. */
  signatureSource(repo: RepositoryRef, ctx: AccessContext): SignatureSource & ReferrerLister {
    const name = `${repo.registry}/${repo.repository}`;
    return {
      listSignatures: (artifact) => this.#listSignatures(repo, artifact.digest, ctx),
      fetchManifest: (descriptor) =>
        this.#content(repo, descriptor, ctx, `fetching signature manifest ${descriptor.digest} from ${name}`, (call) =>
          this.#d.registry.fetchManifest(repo, descriptor, call).then((m) => m.bytes),
        ),
      fetchBlob: (descriptor) =>
        this.#content(repo, descriptor, ctx, `fetching signature envelope ${descriptor.digest} from ${name}`, (call) =>
          this.#d.registry.fetchBlob(repo, descriptor, undefined, call),
        ),
      listReferrers: (subject, artifactType) => this.#referrersOfType(repo, subject, artifactType, ctx),
    };
  }

  /** The Notary signatures of a digest, through the cache (`counted`: a lookup the cache metrics see). */
  async #listSignatures(
    repo: RepositoryRef,
    digest: string,
    ctx: AccessContext,
    counted = true,
  ): Promise<readonly Descriptor[]> {
    const name = `${repo.registry}/${repo.repository}`;
    const key = `${ctx.credential.identity}\u0000${name}@${digest}`;
    const cached = counted
      ? this.#d.caches.lookup('referrers', this.#d.caches.referrers, key)
      : this.#d.caches.referrers.get(key);
    if (cached !== undefined) return cached;
    const what = `listing the signatures of ${name}@${digest}`;
    return this.#shared(`referrers\u0000${key}`, ctx, what, async () => {
      const list = await this.#call(repo.registry, ctx, what, (call) =>
        this.#d.registry.listReferrers(repo, { digest }, { artifactType: MEDIA_TYPE.notarySignature }, call),
      );
      const frozen = Object.freeze([...list]);
      const ttl = frozen.length === 0 ? this.#d.emptyReferrersTtlMs : this.#d.referrersTtlMs;
      if (ttl > 0 && !(frozen.length === 0 && ctx.dryRun === true)) this.#d.caches.referrers.set(key, frozen, { ttl });
      return frozen;
    });
  }

  /** Referrers of one artifact type (required signed artifacts), cached as signature lists are. */
  async #referrersOfType(
    repo: RepositoryRef,
    subject: Descriptor,
    artifactType: string,
    ctx: AccessContext,
  ): Promise<readonly Descriptor[]> {
    const name = `${repo.registry}/${repo.repository}`;
    const key = `${ctx.credential.identity}\u0000${name}@${subject.digest}\u0000${artifactType}`;
    const cached = this.#d.caches.lookup('referrers', this.#d.caches.referrers, key);
    if (cached !== undefined) return cached;
    const what = `listing the ${artifactType} artifacts of ${name}@${subject.digest}`;
    return this.#shared(`referrers\u0000${key}`, ctx, what, async () => {
      const list = await this.#call(repo.registry, ctx, what, (call) =>
        this.#d.registry.listReferrers(repo, { digest: subject.digest }, { artifactType }, call),
      );
      const frozen = Object.freeze([...list]);
      const ttl = frozen.length === 0 ? this.#d.emptyReferrersTtlMs : this.#d.referrersTtlMs;
      if (ttl > 0 && !(frozen.length === 0 && ctx.dryRun === true)) this.#d.caches.referrers.set(key, frozen, { ttl });
      return frozen;
    });
  }

  /**
   * The tag of a `name:tag@digest` reference, resolved (cached as tags are); undefined when the
   * registry has no such tag. Asked only when the digest is a platform manifest whose index may vouch for it.
   */
  async resolveTagOf(ref: ImageReference, ctx: AccessContext): Promise<Descriptor | undefined> {
    const key = tagCacheKey(ctx.credential.identity, ref);
    const cached = this.#d.caches.lookup('tag', this.#d.caches.tags, key);
    if (cached !== undefined) return cached;
    try {
      return await this.#fetchTag(ref, key, ctx);
    } catch (error) {
      if (error instanceof PortcullisError && error.code === 'ERR_REGISTRY_NOT_FOUND') return undefined;
      throw error;
    }
  }

  async #content(
    repo: RepositoryRef,
    descriptor: Descriptor,
    ctx: AccessContext,
    what: string,
    fetch: (call: CallOptions) => Promise<Uint8Array>,
  ): Promise<Uint8Array> {
    const key = descriptor.digest;
    const cached = this.#d.caches.lookup('content', this.#d.caches.content, key);
    if (cached !== undefined) return cached;
    return this.#shared(`content\u0000${key}`, ctx, what, async () => {
      const bytes = await this.#call(repo.registry, ctx, what, fetch);
      this.#d.caches.content.set(key, bytes);
      return bytes;
    });
  }
}
