import { type Descriptor, MEDIA_TYPE } from '../oci/index.js';
import type { ImageReference } from '../reference/index.js';
import type { CallOptions, ChosenCredential, RegistryReader, RepositoryRef } from '../registry/index.js';
import { PortcullisError } from '../errors/index.js';
import type { ReferrerLister, SignatureSource } from '../verify/index.js';
import type { Budget } from './budget.js';
import type { ExecutorCaches } from './caches.js';
import type { HostLimiter } from './limiter.js';
import { ReferrerListing } from './referrer-listing.js';
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

/** One listing: whose referrers, of which type, its cache key per credential identity, its label. */
interface WhichListing {
  readonly repo: RepositoryRef;
  readonly digest: string;
  readonly artifactType: string;
  key(identity: string): string;
  readonly what: string;
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
    this.#prefetchSignatures({ registry: ref.registry, repository: ref.repository }, ref.digest, ctx).catch(
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
      signaturePages: (artifact) => this.#signaturePages(repo, artifact.digest, ctx),
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

  /** The Notary signatures of a digest, every page, through the cache. */
  async #listSignatures(repo: RepositoryRef, digest: string, ctx: AccessContext): Promise<readonly Descriptor[]> {
    return this.#whole(this.#signatureListing(repo, digest), ctx);
  }

  /**
   * The Notary signatures of a digest a page at a time, through the cache: the verification
   * reads the next page only when it needs another candidate, so a signature that passes on the
   * first page spares the registry the rest. A cached listing is continued where it stopped.
   */
  async *#signaturePages(
    repo: RepositoryRef,
    digest: string,
    ctx: AccessContext,
  ): AsyncGenerator<readonly Descriptor[]> {
    const which = this.#signatureListing(repo, digest);
    const listing = await this.#firstPage(which, ctx);
    let read = 0;
    for (;;) {
      if (read < listing.descriptors.length) {
        const page = listing.descriptors.slice(read);
        read = listing.descriptors.length;
        yield page;
      } else if (listing.complete) {
        return;
      } else {
        await this.#nextPage(which, listing, ctx);
      }
    }
  }

  /** The first page of a digest's signature listing, cached: the pre-fetch (not counted as a cache lookup). */
  #prefetchSignatures(repo: RepositoryRef, digest: string, ctx: AccessContext): Promise<ReferrerListing> {
    return this.#firstPage(this.#signatureListing(repo, digest), ctx, false);
  }

  #signatureListing(repo: RepositoryRef, digest: string): WhichListing {
    const name = `${repo.registry}/${repo.repository}`;
    return {
      repo,
      digest,
      artifactType: MEDIA_TYPE.notarySignature,
      key: (identity) => `${identity}\u0000${name}@${digest}`,
      what: `listing the signatures of ${name}@${digest}`,
    };
  }

  /** Referrers of one artifact type (required signed artifacts), every page, cached as signature listings are. */
  async #referrersOfType(
    repo: RepositoryRef,
    subject: Descriptor,
    artifactType: string,
    ctx: AccessContext,
  ): Promise<readonly Descriptor[]> {
    const name = `${repo.registry}/${repo.repository}`;
    // Every page: the candidates are tried newest first by their listed dates, so any page may
    // hold the one tried first (verify/attestations.ts).
    return this.#whole(
      {
        repo,
        digest: subject.digest,
        artifactType,
        key: (identity) => `${identity}\u0000${name}@${subject.digest}\u0000${artifactType}`,
        what: `listing the ${artifactType} artifacts of ${name}@${subject.digest}`,
      },
      ctx,
    );
  }

  /** Every page of a listing: the cached pages, and the rest fetched. */
  async #whole(which: WhichListing, ctx: AccessContext): Promise<readonly Descriptor[]> {
    const listing = await this.#firstPage(which, ctx);
    while (!listing.complete) await this.#nextPage(which, listing, ctx);
    return listing.descriptors;
  }

  /**
   * The cached listing (`counted`: a lookup the cache metrics see), or a new one with its first
   * page (one shared fetch per key), cached: an incomplete listing is cached as what it is, and
   * continued by whoever needs more.
   */
  async #firstPage(which: WhichListing, ctx: AccessContext, counted = true): Promise<ReferrerListing> {
    const key = which.key(ctx.credential.identity);
    const cached = counted
      ? this.#d.caches.lookup('referrers', this.#d.caches.referrers, key)
      : this.#d.caches.referrers.get(key);
    if (cached !== undefined) return cached;
    return this.#shared(`referrers\u0000${key}`, ctx, which.what, async () => {
      const { repo, digest, artifactType } = which;
      const registry = this.#d.registry;
      const listing = new ReferrerListing();
      if (registry.listReferrersPage === undefined) {
        const list = await this.#call(repo.registry, ctx, which.what, (call) =>
          registry.listReferrers(repo, { digest }, { artifactType }, call),
        );
        listing.append(1, { descriptors: list });
      } else {
        const lister = registry.listReferrersPage.bind(registry);
        const page = await this.#call(repo.registry, ctx, which.what, (call) =>
          lister(repo, { digest }, { artifactType }, undefined, call),
        );
        listing.append(1, page);
      }
      this.#remember(key, listing, ctx);
      return listing;
    });
  }

  /**
   * The listing's next page, fetched (shared by the readers that need it at once: same listing
   * key and cursor, so a reader of an expired listing never adds its page to a newer one) and added.
   */
  async #nextPage(which: WhichListing, listing: ReferrerListing, ctx: AccessContext): Promise<void> {
    const cursor = listing.next;
    const registry = this.#d.registry;
    if (cursor === undefined || registry.listReferrersPage === undefined) return;
    const lister = registry.listReferrersPage.bind(registry);
    const key = which.key(ctx.credential.identity);
    const number = listing.pages + 1;
    const what = `${which.what} (page ${number})`;
    const { repo, digest, artifactType } = which;
    const page = await this.#shared(`referrers page ${number}\u0000${key}\u0000${cursor.url}`, ctx, what, () =>
      this.#call(repo.registry, ctx, what, (call) => lister(repo, { digest }, { artifactType }, cursor, call)),
    );
    listing.append(number, page);
    // A listing found empty only at its end is a negative answer: its own lifetime, not cached in a dry run.
    if (listing.complete && listing.descriptors.length === 0 && this.#d.caches.referrers.peek(key) === listing)
      this.#remember(key, listing, ctx);
  }

  /** Caches a listing: an empty complete one for the negative TTL (not in a dry run), others for the referrers TTL. */
  #remember(key: string, listing: ReferrerListing, ctx: AccessContext): void {
    const empty = listing.complete && listing.descriptors.length === 0;
    const ttl = empty ? this.#d.emptyReferrersTtlMs : this.#d.referrersTtlMs;
    if (ttl > 0 && !(empty && ctx.dryRun === true)) this.#d.caches.referrers.set(key, listing, { ttl });
    else this.#d.caches.referrers.delete(key);
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
