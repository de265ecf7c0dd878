import { PortcullisError, toPortcullisError } from '../errors/index.js';
import type { ArtifactTarget } from '../oci/index.js';
import type { PolicySnapshot } from '../policyset/index.js';
import { ImageReference } from '../reference/index.js';
import { chooseCredential, chooseRequestCredential, type ChosenCredential } from '../registry/index.js';
import { verifyImage, type ArtifactVerification, type ImageVerification } from '../verify/index.js';
import { statementRequirements } from '../policyset/index.js';
import { CertificateCache } from '../x509/index.js';
import { Budget } from './budget.js';
import { ExecutorCaches } from './caches.js';
import { combine, outcomeOfError, unmatched, type Outcome } from './decisions.js';
import { HostLimiter } from './limiter.js';
import { observeVerification } from './metrics.js';
import { resolveOptions, type ExecutorOptions, type ResolvedOptions } from './options.js';
import { applicableDocuments, Plan, PlanCache, type Applicable } from './plan.js';
import { ReferenceCache } from './references.js';
import { RegistryAccess, type AccessContext } from './registry-access.js';
import { decideReview } from './review.js';
import { ReviewScope } from './review-scope.js';
import { SharedWork } from './single-flight.js';
import { SnapshotHolder } from './snapshot.js';
import type {
  ImageCheckRequest,
  ImageDecision,
  ImageVerifier,
  PolicyVerdict,
  RequestCredentials,
  ReviewDecisions,
  ReviewRequest,
} from './types.js';
import { policyName, undecidedDecision, verdictFromInvalid, verdictFromVerification } from './verdicts.js';

/**
 * The verification engine behind the webhook: the images of a review in, their decisions out,
 * each image by one walk (`#walk`) that answers at once when the caches have every step and
 * continues asynchronously from the first step they lack:
 *
 * 1. Plan (per snapshot, namespace and image, memoised): read the policy snapshot once; parse
 *    the image reference; collect the documents that apply — the valid documents of the
 *    namespace whose trust policy has a statement for the repository, with that statement
 *    chosen once and carried into verification — plus every invalid policy that blocks the
 *    namespace. No document applies: allowed, not enforced (or denied with
 *    `denyUnmatchedNamespaces`).
 * 2. The credential: the pod's pull secrets, the default provider, or anonymous.
 * 3. The target: the tag or digest resolved once (a digest to the descriptor the registry holds
 *    for it, so the payload's media type and size are checked as for a tag).
 * 4. A verdict per applicable document, each on its own, concurrently, sharing registry
 *    fetches (single flight) and caches.
 * 5. Combine (decisions.ts). The review (review.ts) races what is left against its deadline,
 *    and the failure policy decides what is undecided: the executor owns both.
 */
export class Executor implements ImageVerifier {
  readonly #o: ResolvedOptions;
  readonly #snapshot = new SnapshotHolder();
  readonly #caches: ExecutorCaches;
  readonly #flights = new SharedWork();
  readonly #limiter: HostLimiter;
  readonly #access: RegistryAccess;
  readonly #certificateCache: CertificateCache;
  readonly #references = new ReferenceCache();
  readonly #plans = new PlanCache();
  /** Each review's share of the registries, by the review's token (gone with the review). */
  readonly #reviews = new WeakMap<object, ReviewScope>();

  constructor(options: ExecutorOptions) {
    this.#o = resolveOptions(options);
    this.#caches = new ExecutorCaches(this.#o);
    this.#limiter = new HostLimiter(this.#o.maxConcurrentPerRegistry);
    this.#certificateCache = this.#o.certificateCache ?? new CertificateCache();
    this.#access = new RegistryAccess({
      registry: this.#o.registry,
      caches: this.#caches,
      limiter: this.#limiter,
      flights: this.#flights,
      tagTtlMs: this.#o.tagCacheTtlMs,
      referrersTtlMs: this.#o.referrersCacheTtlMs,
      emptyReferrersTtlMs: Math.min(this.#o.negativeVerdictTtlMs, this.#o.referrersCacheTtlMs),
    });
  }

  /** Installs a new policy snapshot (atomically: checks already running keep theirs). */
  setSnapshot(snapshot: PolicySnapshot): void {
    this.#snapshot.set(snapshot);
  }

  /** The snapshot in force, if any. */
  get snapshot(): PolicySnapshot | undefined {
    return this.#snapshot.get();
  }

  ready(): boolean {
    return this.#snapshot.ready;
  }

  /** Drops every cache (e.g. after rotating registry credentials). */
  clearCaches(): void {
    this.#caches.clear();
  }

  decide(review: ReviewRequest): ReviewDecisions | Promise<ReviewDecisions> {
    return decideReview(review, this.#walk, this.#o.failurePolicy, this.#o.now);
  }

  /** One image (the CLI and tests): `decide` of a review of one. */
  async check(request: ImageCheckRequest): Promise<ImageDecision> {
    const decisions = await this.decide({ ...request, images: [request.image] });
    return decisions.get(request.image) as ImageDecision;
  }

  readonly #walk = (request: ImageCheckRequest): ImageDecision | Promise<ImageDecision> => {
    const plan = this.#plan(request);
    if (!(plan instanceof Plan)) return plan;
    const credential = this.#credentialAtOnce(plan.ref.registry, request);
    return credential === undefined ? this.#choosingCredential(plan, request) : this.#target(plan, request, credential);
  };

  /** Step 1: an immediate decision, or the (memoised) plan. */
  #plan(request: ImageCheckRequest): ImageDecision | Plan {
    const snapshot = this.#snapshot.get();
    if (snapshot === undefined) {
      return this.#undecided(
        request.image,
        new PortcullisError('ERR_INTERNAL', 'no policy snapshot is loaded yet (Portcullis is not ready)'),
      );
    }
    const known = this.#plans.get(snapshot, request.namespace, request.image);
    if (known !== undefined) return known;
    const made = this.#makePlan(snapshot, request);
    if (made instanceof Plan) this.#plans.set(snapshot, request.namespace, request.image, made);
    return made;
  }

  #makePlan(snapshot: PolicySnapshot, request: ImageCheckRequest): ImageDecision | Plan {
    const { image, namespace } = request;
    const documents = snapshot.documentsFor(namespace);
    const invalid = snapshot.invalidFor(namespace);
    const deny = this.#o.denyUnmatchedNamespaces;
    // A namespace no document covers is not enforced: the image string is not even read, so an
    // empty or unparsable one is no reason to deny (docs/policies.md).
    if (documents.length === 0 && invalid.length === 0) return unmatched(image, undefined, namespace, 0, deny);
    const ref = this.#references.parse(image);
    if (!(ref instanceof ImageReference)) {
      const reason =
        image === '' ? `no image is named, so nothing can be verified [${ref.code}]` : `${ref.message} [${ref.code}]`;
      return { image, allowed: false, verdicts: [], warnings: [], reason };
    }
    const blocking = invalid.length === 0 ? NO_VERDICTS : invalid.map(verdictFromInvalid);
    const applicable = applicableDocuments(documents, ref);
    if (applicable.length === 0 && blocking.length === 0)
      return unmatched(image, ref, namespace, documents.length, deny);
    if (applicable.length === 0) return combine(image, ref, undefined, [], blocking, this.#o.failurePolicy);
    return new Plan(ref, applicable, blocking, snapshot.revision);
  }

  /** Step 2 at once: the credential, when choosing it needs no lookup (no pull secrets to read, no helper to ask). */
  #credentialAtOnce(host: string, request: ImageCheckRequest): ChosenCredential | undefined {
    if ((request.pullSecretNames?.length ?? 0) > 0 || this.#o.pullSecrets?.resolvesWithoutNames === true)
      return undefined;
    const fromRequest =
      request.credentials === undefined ? undefined : chooseRequestCredential(host, request.credentials);
    if (fromRequest !== undefined) return fromRequest;
    return this.#o.defaultCredentials === undefined ? ANONYMOUS : undefined;
  }

  /** Step 2 with a lookup (pull secrets, a credential helper), within the deadline; then on. */
  async #choosingCredential(plan: Plan, request: ImageCheckRequest): Promise<ImageDecision> {
    const budget = this.#budget(request);
    let credential: ChosenCredential;
    try {
      credential = await budget.race(
        this.#credentialFor(plan.ref.registry, request),
        `choosing the registry credentials for ${plan.ref.registry}`,
      );
    } catch (thrown) {
      return this.#failed(plan, request, thrown, undefined);
    }
    return this.#target(plan, request, credential, this.#context(request, credential, budget));
  }

  async #credentialFor(host: string, request: ImageCheckRequest): Promise<ChosenCredential> {
    const list: RequestCredentials[] = [...(request.credentials ?? [])];
    const names = request.pullSecretNames ?? [];
    const resolver = this.#o.pullSecrets;
    if (resolver !== undefined && (names.length > 0 || resolver.resolvesWithoutNames === true)) {
      try {
        const options =
          request.serviceAccountName === undefined ? {} : { serviceAccountName: request.serviceAccountName };
        list.push(...(await resolver.resolve(request.namespace, names, options)));
      } catch {
        // As the kubelet: pull secrets that cannot be read are skipped; the default credential applies.
      }
    }
    return chooseCredential(host, list, this.#o.defaultCredentials);
  }

  /** Step 3: the cached target, or one shared resolution. */
  #target(
    plan: Plan,
    request: ImageCheckRequest,
    credential: ChosenCredential,
    ctx?: AccessContext,
  ): ImageDecision | Promise<ImageDecision> {
    const key = plan.resolutionKey(credential.identity);
    const cached = this.#access.cachedTarget(plan.ref, key);
    if (cached !== undefined) return this.#verdicts(plan, request, credential, cached, ctx);
    return this.#resolving(plan, request, key, ctx ?? this.#context(request, credential));
  }

  async #resolving(plan: Plan, request: ImageCheckRequest, key: string, ctx: AccessContext): Promise<ImageDecision> {
    let target: ArtifactTarget;
    try {
      target = await this.#access.fetchTarget(plan.ref, key, ctx);
    } catch (thrown) {
      return this.#failed(plan, request, thrown, ctx.credential.identity);
    }
    return this.#verdicts(plan, request, ctx.credential, target, ctx);
  }

  /** Step 4 and 5: a verdict per applicable document (cached, or one shared verification), combined. */
  #verdicts(
    plan: Plan,
    request: ImageCheckRequest,
    credential: ChosenCredential,
    target: ArtifactTarget,
    ctx: AccessContext | undefined,
  ): ImageDecision | Promise<ImageDecision> {
    const keys = plan.verdictKeys(credential.identity, target);
    const { applicable } = plan;
    const outcomes: (Outcome | Promise<Outcome>)[] = [];
    let waiting = false;
    for (let i = 0; i < applicable.length; i++) {
      const key = keys[i] as string;
      const cached = request.explain === true ? undefined : this.#caches.lookup('verdict', this.#caches.verdicts, key);
      if (cached !== undefined) outcomes.push(cached);
      else {
        ctx ??= this.#context(request, credential);
        outcomes.push(this.#evaluate(applicable[i] as Applicable, plan, target, ctx, key));
        waiting = true;
      }
    }
    if (waiting) return Promise.all(outcomes).then((all) => this.#combine(plan, request.image, target.digest, all));
    // Every verdict cached: the same verdict objects make the same decision (decisions are immutable).
    const verdicts = (outcomes as { readonly verdict: PolicyVerdict }[]).map((o) => o.verdict);
    const last = plan.lastDecision(request.image, target.digest, verdicts);
    if (last !== undefined) return last;
    const decision = this.#combine(plan, request.image, target.digest, outcomes as Outcome[]);
    plan.rememberDecision(request.image, target.digest, verdicts, decision);
    return decision;
  }

  /** One document on one image, shared by every check of the same verdict key (single flight). */
  async #evaluate(
    a: Applicable,
    plan: Plan,
    target: ArtifactTarget,
    ctx: AccessContext,
    key: string,
  ): Promise<Outcome> {
    const ref = plan.ref;
    try {
      // An explanation shares no flight with a review: it must see the verification itself.
      const verdict = await this.#flights.shared(
        `${ctx.explain === true ? 'explain' : 'verify'}\u0000${key}`,
        ctx.budget,
        `verifying ${ref.name}@${target.digest} against ${policyName(a.doc)}`,
        () => this.#verify(a, ref, target, ctx, key),
      );
      return { verdict };
    } catch (thrown) {
      return outcomeOfError(a, toPortcullisError(thrown, 'ERR_INTERNAL'), ctx.credential.identity);
    }
  }

  async #verify(
    a: Applicable,
    ref: ImageReference,
    target: ArtifactTarget,
    ctx: AccessContext,
    key: string,
  ): Promise<PolicyVerdict> {
    const repo = { registry: ref.registry, repository: ref.repository };
    // `name:tag@digest`: the digest is what runs; the tag's index may vouch for it (asked only when it matters).
    const tag =
      ref.tag === undefined || ref.digest === undefined
        ? undefined
        : { name: ref.tag, resolve: () => this.#access.resolveTagOf(ref, ctx) };
    const result = await verifyImage(
      {
        reference: `${ref.name}@${target.digest}`,
        repository: ref.name,
        artifact: target,
        requirements: statementRequirements(a.doc.statementOptions, a.statement.name),
        ...(tag === undefined ? {} : { tag }),
      },
      {
        policy: a.doc.policy,
        statement: a.statement,
        trustStores: a.doc.trustStores,
        source: this.#access.signatureSource(repo, ctx),
        at: new Date(this.#o.now()),
        maxSignatureAttempts: this.#o.maxSignatureAttempts,
        certificateCache: this.#certificateCache,
        ...(this.#o.revocation === undefined ? {} : { revocation: this.#o.revocation }),
        ...(this.#o.verificationPlugins === undefined ? {} : { plugins: this.#o.verificationPlugins }),
      },
    );
    observeVerification(this.#o.metrics, result);
    // Throws when a verification plugin gave no answer: the failure policy decides (#evaluate), nothing cached.
    const verdict = verdictFromVerification(a.doc, result);
    const ttl = result.verified
      ? this.#positiveTtl(result)
      : isDefinitiveFailure(result) && ctx.dryRun !== true
        ? this.#o.negativeVerdictTtlMs
        : 0;
    if (ttl > 0) this.#caches.verdicts.set(key, { verdict }, { ttl });
    return ctx.explain === true ? { ...verdict, verification: result } : verdict;
  }

  /**
   * The verdict TTL, never beyond the expiry of a deciding signature (the index's, each platform
   * manifest's, each required artifact's) or of a certificate of its chain, nor beyond the moment a
   * required artifact gets older than its maxAge.
   */
  #positiveTtl(result: ImageVerification): number {
    let ttl = this.#o.verdictCacheTtlMs;
    const now = this.#o.now();
    for (const part of result.parts) {
      const details = part.signatures.find((s) => s.signature === part.signature)?.details;
      if (details === undefined) continue;
      for (const t of [details.expiry, ...details.certificateChain.map((c) => c.notAfter)]) {
        if (t !== undefined) ttl = Math.min(ttl, t.getTime() - now);
      }
    }
    if (result.validUntil !== undefined) ttl = Math.min(ttl, result.validUntil.getTime() - now);
    return Math.floor(ttl);
  }

  #budget(request: ImageCheckRequest): Budget {
    return new Budget(request.deadline, this.#o.now, this.#o.deadlineMarginMs, this.#o.minCallBudgetMs);
  }

  /**
   * What the registry steps need: the check's budget, its credential, its review's share. Made only off the warm path.
   */
  #context(request: ImageCheckRequest, credential: ChosenCredential, budget = this.#budget(request)): AccessContext {
    const ctx: { -readonly [K in keyof AccessContext]: AccessContext[K] } = {
      budget,
      credential,
      image: request.image,
    };
    if (request.dryRun === true) ctx.dryRun = true;
    if (request.explain === true) ctx.explain = true;
    const token = request.review;
    if (token !== undefined) {
      let review = this.#reviews.get(token);
      if (review === undefined) {
        review = new ReviewScope(this.#o.reviewLimits);
        this.#reviews.set(token, review);
      }
      ctx.review = review;
    }
    return ctx;
  }

  /** Choosing the credential or resolving the target failed: every applicable document gets that error. */
  #failed(plan: Plan, request: ImageCheckRequest, thrown: unknown, identity: string | undefined): ImageDecision {
    const error = toPortcullisError(thrown, 'ERR_INTERNAL');
    const outcomes = plan.applicable.map((a) => outcomeOfError(a, error, identity));
    return this.#combine(plan, request.image, undefined, outcomes);
  }

  #combine(plan: Plan, image: string, digest: string | undefined, outcomes: readonly Outcome[]): ImageDecision {
    return combine(image, plan.ref, digest, outcomes, plan.blocking, this.#o.failurePolicy);
  }

  #undecided(image: string, error: PortcullisError): ImageDecision {
    return undecidedDecision({ image, verdicts: [], warnings: [] }, error, this.#o.failurePolicy);
  }
}

const NO_VERDICTS: readonly PolicyVerdict[] = Object.freeze([]);
const ANONYMOUS: ChosenCredential = Object.freeze({ identity: 'anonymous', provider: undefined });

/**
 * Failures worth remembering for the short negative TTL: no signature, or every signature
 * rejected. Not revocation failures (an unreachable OCSP responder or CRL is not definitive),
 * and not a signature the registry served bytes for that do not match their digest (a broken
 * registry or proxy for a moment, not the signer's doing; found by the soak test).
 */
function isDefinitiveFailure(result: ImageVerification): boolean {
  const parts: readonly ArtifactVerification[] = result.parts.length === 0 ? [result] : result.parts;
  return (
    !result.verified &&
    result.failedCheck !== 'revocation' &&
    // A required artifact or platform manifest rejected on revocation is no more definitive.
    !parts.some((p) => p.failedCheck === 'revocation') &&
    !parts.some((p) => p.signatures.some((s) => s.failure?.error.code === 'ERR_DIGEST_MISMATCH'))
  );
}
