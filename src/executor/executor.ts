import { PortcullisError, toPortcullisError } from '../errors/index.js';
import type { ArtifactTarget } from '../oci/descriptor.js';
import { selectStatement } from '../policy/index.js';
import { formatResourceId, type PolicyDocument, type PolicySnapshot } from '../policyset/index.js';
import { ImageReference } from '../reference/index.js';
import { verifyArtifact, type ArtifactVerification } from '../verify/index.js';
import { CertificateCache } from '../x509/certificate.js';
import { Budget } from './budget.js';
import { ExecutorCaches } from './caches.js';
import { chooseCredential, chooseRequestCredential, type ChosenCredential } from './credentials.js';
import { ReferenceCache } from './references.js';
import { digestCacheKey, tagCacheKey } from './registry-access.js';
import { HostLimiter } from './limiter.js';
import { observeVerification } from './metrics.js';
import { resolveOptions, type ExecutorOptions, type ResolvedOptions } from './options.js';
import { RegistryAccess, type AccessContext } from './registry-access.js';
import { ReviewScope } from './review-scope.js';
import { SingleFlight } from './single-flight.js';
import { SnapshotHolder } from './snapshot.js';
import type { ImageCheckRequest, ImageDecision, ImageVerifier, PolicyVerdict, RequestCredentials } from './types.js';
import {
  describeVerdict,
  isUndecided,
  policyName,
  undecidedVerdict,
  verdictFromError,
  verdictFromInvalid,
  verdictFromVerification,
} from './verdicts.js';

/**
 * The verification engine behind the webhook: one image in, one decision out.
 *
 * 1. Read the policy snapshot once; parse the image reference.
 * 2. Collect the documents that apply: the valid documents of the namespace whose trust policy
 *    has a statement for the repository (a document without one does not apply to the image),
 *    plus every invalid policy that blocks the namespace (each rejects with its reason).
 * 3. No document applies: allowed, not enforced (or denied with `denyUnmatchedNamespaces`).
 * 4. Resolve the tag or digest once (a digest to the descriptor the registry holds for it, so
 *    the payload's media type and size are checked as for a tag), then evaluate every applicable
 *    document on its own, concurrently, sharing registry fetches and caches.
 * 5. Combine: denied when any `deny` document rejects; when a `deny` document could not be
 *    evaluated (registry unreachable, timeout, deadline) the failure policy decides and says so;
 *    `warn` and `dryrun` documents never deny.
 */

type Applicable = { readonly doc: PolicyDocument; readonly statement: string };
type Outcome =
  | { readonly verdict: PolicyVerdict }
  | { readonly doc: PolicyDocument; readonly statement: string; readonly error: PortcullisError };

export class Executor implements ImageVerifier {
  readonly #o: ResolvedOptions;
  readonly #snapshot = new SnapshotHolder();
  readonly #caches: ExecutorCaches;
  readonly #flights = new SingleFlight();
  readonly #limiter: HostLimiter;
  readonly #access: RegistryAccess;
  readonly #certificateCache: CertificateCache;
  readonly #references = new ReferenceCache();
  /** Per snapshot: namespace → image → what to evaluate. */
  readonly #plans = new WeakMap<PolicySnapshot, Map<string, Map<string, Plan>>>();
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

  async check(request: ImageCheckRequest): Promise<ImageDecision> {
    try {
      return await this.#check(request);
    } catch (thrown) {
      // A bug, not a verdict: still an answer, under the failure policy.
      return this.#undecided(
        { image: request.image, verdicts: [], warnings: [] },
        toPortcullisError(thrown, 'ERR_INTERNAL', 'unexpected error while checking the image'),
      );
    }
  }

  decided(request: ImageCheckRequest): ImageDecision | undefined {
    try {
      return this.#decided(request);
    } catch {
      return undefined; // `check` meets the same problem and answers it
    }
  }

  /**
   * The warm path of `#check` without waiting: the same steps and the same decision, when the
   * credential needs no lookup and the tag and every verdict are cached. Cache lookups are
   * counted only when it answers (otherwise `check` runs and counts them).
   */
  #decided(request: ImageCheckRequest): ImageDecision | undefined {
    const plan = this.#plan(request);
    // What no document applies to (or an invalid reference) is decided without credentials.
    if ('decision' in plan) return plan.decision;
    if ((request.pullSecretNames?.length ?? 0) > 0 || this.#o.pullSecrets?.resolvesWithoutNames === true)
      return undefined;
    const { ref, applicable, blocking } = plan;
    const fromRequest =
      request.credentials === undefined ? undefined : chooseRequestCredential(ref.registry, request.credentials);
    if (fromRequest === undefined && this.#o.defaultCredentials !== undefined) return undefined;
    const identity = fromRequest?.identity ?? 'anonymous';
    // A digest-pinned reference needs its descriptor too (media type and size), cached by digest.
    const pinned = ref.digest !== undefined;
    const target = (pinned ? this.#caches.digests : this.#caches.tags).get(plan.resolutionKey(identity));
    if (target === undefined) return undefined;
    const keys = plan.verdictKeys(identity, target);
    const verdicts: PolicyVerdict[] = [];
    for (let i = 0; i < applicable.length; i++) {
      const cached = this.#caches.verdicts.get(keys[i] as string);
      if (cached === undefined) return undefined;
      verdicts.push(cached.verdict);
    }
    this.#caches.count(pinned ? 'digest' : 'tag', true);
    for (let i = 0; i < verdicts.length; i++) this.#caches.count('verdict', true);
    // The same cached verdicts make the same decision: reuse the last one (decisions are immutable).
    const last = plan.lastDecision(request.image, target.digest, verdicts);
    if (last !== undefined) return last;
    const decision = this.#combine(
      request.image,
      ref,
      target.digest,
      verdicts.map((verdict) => ({ verdict })),
      blocking,
    );
    plan.rememberDecision(request.image, target.digest, verdicts, decision);
    return decision;
  }

  /**
   * Steps 1-3: an immediate decision, or what to evaluate. What to evaluate depends only on the
   * snapshot (immutable), the namespace and the image string, so it is kept per snapshot
   * (bounded), with the cache keys of its last lookups.
   */
  #plan(request: ImageCheckRequest): { readonly decision: ImageDecision } | Plan {
    const snapshot = this.#snapshot.get();
    if (snapshot === undefined) {
      return {
        decision: this.#undecided(
          { image: request.image, verdicts: [], warnings: [] },
          new PortcullisError('ERR_INTERNAL', 'no policy snapshot is loaded yet (Portcullis is not ready)'),
        ),
      };
    }
    let plans = this.#plans.get(snapshot);
    if (plans === undefined) {
      plans = new Map();
      this.#plans.set(snapshot, plans);
    }
    let forNamespace = plans.get(request.namespace);
    const known = forNamespace?.get(request.image);
    if (known !== undefined) return known;
    const made = this.#makePlan(snapshot, request);
    if (!('decision' in made) && request.image.length <= 512) {
      if (forNamespace === undefined) {
        if (plans.size >= 1024) plans.clear();
        forNamespace = new Map();
        plans.set(request.namespace, forNamespace);
      }
      if (forNamespace.size >= 1024) forNamespace.clear();
      forNamespace.set(request.image, made);
    }
    return made;
  }

  #makePlan(snapshot: PolicySnapshot, request: ImageCheckRequest): { readonly decision: ImageDecision } | Plan {
    const { image, namespace } = request;
    const documents = snapshot.documentsFor(namespace);
    const invalid = snapshot.invalidFor(namespace);
    // A namespace no document covers is not enforced: the image string is not even read, so an
    // empty or unparsable one is no reason to deny (docs/policies.md).
    if (documents.length === 0 && invalid.length === 0)
      return { decision: this.#unmatched(image, undefined, namespace, 0) };
    const ref = this.#references.parse(image);
    if (!(ref instanceof ImageReference)) {
      const reason =
        image === '' ? `no image is named, so nothing can be verified [${ref.code}]` : `${ref.message} [${ref.code}]`;
      return { decision: { image, allowed: false, verdicts: [], warnings: [], reason } };
    }
    const blocking = invalid.length === 0 ? NO_VERDICTS : invalid.map(verdictFromInvalid);
    const applicable: Applicable[] = [];
    for (const doc of documents) {
      const statement = statementFor(doc, ref);
      if (statement !== undefined) applicable.push({ doc, statement });
    }
    if (applicable.length === 0 && blocking.length === 0)
      return { decision: this.#unmatched(image, ref, namespace, documents.length) };
    if (applicable.length === 0) return { decision: this.#combine(image, ref, undefined, [], blocking) };
    return new Plan(ref, applicable, blocking, snapshot.revision);
  }

  async #check(request: ImageCheckRequest): Promise<ImageDecision> {
    const plan = this.#plan(request);
    if ('decision' in plan) return plan.decision;
    const { ref, applicable, blocking, revision } = plan;
    const image = request.image;

    const budget = new Budget(request.deadline, this.#o.now, this.#o.deadlineMarginMs, this.#o.minCallBudgetMs);
    let target: ArtifactTarget;
    let ctx: AccessContext | undefined;
    try {
      // Only resolving pull secrets or asking a credential helper can take time: skip the deadline timer otherwise.
      const slow =
        (request.pullSecretNames?.length ?? 0) > 0 ||
        this.#o.defaultCredentials !== undefined ||
        this.#o.pullSecrets?.resolvesWithoutNames === true;
      const choosing = this.#credentialFor(ref.registry, request);
      const credential = slow
        ? await budget.race(choosing, `choosing the registry credentials for ${ref.registry}`)
        : await choosing;
      ctx = {
        budget,
        credential,
        image,
        ...(request.dryRun === true ? { dryRun: true } : {}),
        ...this.#reviewOf(request),
      };
      target = isPinned(ref) ? await this.#access.resolveDigest(ref, ctx) : await this.#access.resolveTag(ref, ctx);
    } catch (thrown) {
      const error = toPortcullisError(thrown, 'ERR_INTERNAL');
      return this.#combine(
        image,
        ref,
        undefined,
        applicable.map((a) => outcomeOfError(a, error, ctx?.credential.identity)),
        blocking,
      );
    }
    const access = ctx;
    const outcomes = await Promise.all(applicable.map((a) => this.#evaluate(a, ref, target, access, revision)));
    return this.#combine(image, ref, target.digest, outcomes, blocking);
  }

  #reviewOf(request: ImageCheckRequest): { review?: ReviewScope } {
    const token = request.review;
    if (token === undefined) return {};
    let review = this.#reviews.get(token);
    if (review === undefined) {
      review = new ReviewScope(this.#o.reviewLimits);
      this.#reviews.set(token, review);
    }
    return { review };
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

  /** One document on one image: cached verdict, else one shared verification per key. */
  async #evaluate(
    a: Applicable,
    ref: ImageReference,
    target: ArtifactTarget,
    ctx: AccessContext,
    revision: number,
  ): Promise<Outcome> {
    const key = verdictCacheKey(ctx.credential.identity, ref, target, a.doc, revision);
    const cached = this.#caches.lookup('verdict', this.#caches.verdicts, key);
    if (cached !== undefined) return { verdict: cached.verdict };
    try {
      const verdict = await this.#flights.shared(
        `verify\u0000${key}`,
        ctx.budget,
        `verifying ${ref.name}@${target.digest} against ${policyName(a.doc)}`,
        () => this.#verify(a.doc, ref, target, ctx, key),
      );
      return { verdict };
    } catch (thrown) {
      return outcomeOfError(a, toPortcullisError(thrown, 'ERR_INTERNAL'), ctx.credential.identity);
    }
  }

  async #verify(
    doc: PolicyDocument,
    ref: ImageReference,
    target: ArtifactTarget,
    ctx: AccessContext,
    key: string,
  ): Promise<PolicyVerdict> {
    const result = await verifyArtifact(
      { reference: `${ref.name}@${target.digest}`, repository: ref.name, artifact: target },
      {
        policy: doc.policy,
        trustStores: doc.trustStores,
        source: this.#access.signatureSource({ registry: ref.registry, repository: ref.repository }, ctx),
        at: new Date(this.#o.now()),
        maxSignatureAttempts: this.#o.maxSignatureAttempts,
        certificateCache: this.#certificateCache,
        ...(this.#o.revocation === undefined ? {} : { revocation: this.#o.revocation }),
        ...(this.#o.verificationPlugins === undefined ? {} : { plugins: this.#o.verificationPlugins }),
      },
    );
    observeVerification(this.#o.metrics, result);
    const verdict = verdictFromVerification(doc, result);
    const ttl = result.verified
      ? this.#positiveTtl(result)
      : isDefinitiveFailure(result) && ctx.dryRun !== true
        ? this.#o.negativeVerdictTtlMs
        : 0;
    if (ttl > 0) this.#caches.verdicts.set(key, { verdict }, { ttl });
    return verdict;
  }

  /** The verdict TTL, never beyond the expiry of the signature or of a certificate of its chain. */
  #positiveTtl(result: ArtifactVerification): number {
    let ttl = this.#o.verdictCacheTtlMs;
    const details = result.signatures.find((s) => s.signature === result.signature)?.details;
    if (details !== undefined) {
      const now = this.#o.now();
      for (const t of [details.expiry, ...details.certificateChain.map((c) => c.notAfter)]) {
        if (t !== undefined) ttl = Math.min(ttl, t.getTime() - now);
      }
    }
    return Math.floor(ttl);
  }

  #unmatched(image: string, ref: ImageReference | undefined, namespace: string, documentCount: number): ImageDecision {
    const canonical = ref === undefined || ref.reference === image ? {} : { canonical: ref.reference };
    if (!this.#o.denyUnmatchedNamespaces) return { image, ...canonical, allowed: true, verdicts: [], warnings: [] };
    const ns = JSON.stringify(namespace);
    const reason =
      documentCount === 0
        ? `no trust policy covers namespace ${ns}, and Portcullis is configured to deny images no policy covers (denyUnmatchedNamespaces) [ERR_POLICY_NOT_FOUND]`
        : `none of the ${documentCount} trust policies covering namespace ${ns} has a statement for ${ref?.name ?? JSON.stringify(image)} (registryScopes), and Portcullis is configured to deny images no policy covers (denyUnmatchedNamespaces) [ERR_POLICY_NO_MATCH]`;
    return { image, ...canonical, allowed: false, verdicts: [], warnings: [], reason };
  }

  #combine(
    image: string,
    ref: ImageReference,
    digest: string | undefined,
    outcomes: readonly Outcome[],
    blocking: readonly PolicyVerdict[],
  ): ImageDecision {
    const verdicts: PolicyVerdict[] = [];
    const undecided: PortcullisError[] = [];
    for (const o of outcomes) {
      if ('verdict' in o) verdicts.push(o.verdict);
      else if (o.doc.enforcementAction === 'deny') undecided.push(o.error);
      else verdicts.push(undecidedVerdict(o.doc, o.statement, o.error));
    }
    for (const v of blocking) verdicts.push(v);
    // Checks set to "log" of the signatures that passed; dryrun documents are only recorded.
    const warnings: string[] = [];
    let denying: PolicyVerdict[] | undefined;
    for (const v of verdicts) {
      if (v.verified) {
        if (v.enforcementAction !== 'dryrun') for (const w of v.warnings) warnings.push(w);
      } else if (v.enforcementAction === 'deny') (denying ??= []).push(v);
    }
    const canonical = ref.reference === image ? undefined : ref.reference;
    const base: Omit<ImageDecision, 'allowed'> = {
      image,
      ...(canonical === undefined ? {} : { canonical }),
      ...(digest === undefined ? {} : { digest, pinned: `${ref.name}@${digest}` }),
      verdicts,
      warnings,
    };
    if (denying !== undefined) return { ...base, allowed: false, reason: denying.map(describeVerdict).join('; and ') };
    if (undecided.length > 0) return this.#undecided(base, undecided[0] as PortcullisError);
    return { ...base, allowed: true };
  }

  /** No verdict could be reached: the failure policy decides, and the decision says so. */
  #undecided(base: Omit<ImageDecision, 'allowed'>, error: PortcullisError): ImageDecision {
    const policy = this.#o.failurePolicy;
    const message = error.message;
    return {
      ...base,
      allowed: policy === 'ignore',
      error: { code: error.code, message, failurePolicyApplied: policy },
      reason: `could not be verified: ${message} [${error.code}]; the failure policy "${policy}" ${policy === 'fail' ? 'denied' : 'allowed'} the image`,
    };
  }
}

const NO_VERDICTS: readonly PolicyVerdict[] = Object.freeze([]);

function isPinned(ref: ImageReference): ref is ImageReference & { readonly digest: string } {
  return ref.digest !== undefined;
}

/** What one image in one namespace is checked against under one snapshot, and the cache keys of its last lookups. */
class Plan {
  #resolution: { readonly identity: string; readonly key: string } | undefined;
  #verdicts: { readonly identity: string; readonly digest: string; readonly keys: readonly string[] } | undefined;
  #decision:
    | {
        readonly image: string;
        readonly digest: string;
        readonly verdicts: readonly PolicyVerdict[];
        readonly decision: ImageDecision;
      }
    | undefined;

  constructor(
    readonly ref: ImageReference,
    readonly applicable: readonly Applicable[],
    readonly blocking: readonly PolicyVerdict[],
    readonly revision: number,
  ) {}

  /** The key of the tag cache, or of the digest cache for a digest-pinned reference. */
  resolutionKey(identity: string): string {
    const last = this.#resolution;
    if (last !== undefined && last.identity === identity) return last.key;
    const ref = this.ref;
    const key = isPinned(ref) ? digestCacheKey(identity, ref) : tagCacheKey(identity, ref);
    this.#resolution = { identity, key };
    return key;
  }

  /** The decision last combined from exactly these verdict objects for this image and digest. */
  lastDecision(image: string, digest: string, verdicts: readonly PolicyVerdict[]): ImageDecision | undefined {
    const last = this.#decision;
    if (
      last === undefined ||
      last.image !== image ||
      last.digest !== digest ||
      last.verdicts.length !== verdicts.length
    )
      return undefined;
    for (let i = 0; i < verdicts.length; i++) if (last.verdicts[i] !== verdicts[i]) return undefined;
    return last.decision;
  }

  rememberDecision(image: string, digest: string, verdicts: readonly PolicyVerdict[], decision: ImageDecision): void {
    this.#decision = { image, digest, verdicts, decision };
  }

  /** The verdict cache key of each applicable document, in order. */
  verdictKeys(identity: string, target: ArtifactTarget): readonly string[] {
    const last = this.#verdicts;
    if (last !== undefined && last.identity === identity && last.digest === target.digest) return last.keys;
    const keys = this.applicable.map((a) => verdictCacheKey(identity, this.ref, target, a.doc, this.revision));
    this.#verdicts = { identity, digest: target.digest, keys };
    return keys;
  }
}

/**
 * The verdict cache key: credential identity, `registry/repository@digest`, document
 * id#generation, snapshot revision. A digest names one manifest, so its media type and size
 * (which the verdict checked against the payload) come with it.
 */
function verdictCacheKey(
  identity: string,
  ref: ImageReference,
  target: ArtifactTarget,
  doc: PolicyDocument,
  revision: number,
): string {
  return `${identity}\u0000${ref.name}@${target.digest}\u0000${documentKey(doc)}\u0000r${revision}`;
}

const documentKeys = new WeakMap<PolicyDocument, string>();
/** `Kind namespace/name#generation` of a document (documents are immutable: computed once). */
function documentKey(doc: PolicyDocument): string {
  let key = documentKeys.get(doc);
  if (key === undefined) {
    key = `${formatResourceId(doc.id)}#${doc.generation}`;
    documentKeys.set(doc, key);
  }
  return key;
}

/** The statement of a document that applies to the image, or undefined when none does (the document does not apply). */
function statementFor(doc: PolicyDocument, ref: ImageReference): string | undefined {
  try {
    return selectStatement(doc.policy, ref.name).name;
  } catch (thrown) {
    if (thrown instanceof PortcullisError && thrown.code === 'ERR_POLICY_NO_MATCH') return undefined;
    throw thrown;
  }
}

function outcomeOfError(a: Applicable, error: PortcullisError, identity: string | undefined): Outcome {
  return isUndecided(error)
    ? { doc: a.doc, statement: a.statement, error }
    : { verdict: verdictFromError(a.doc, a.statement, error, identity) };
}

/**
 * Failures worth remembering for the short negative TTL: no signature, or every signature
 * rejected. Not revocation failures (an unreachable OCSP responder or CRL is not definitive),
 * and not a signature the registry served bytes for that do not match their digest (a broken
 * registry or proxy for a moment, not the signer's doing; found by the soak test).
 */
function isDefinitiveFailure(result: ArtifactVerification): boolean {
  return (
    !result.verified &&
    result.failedCheck !== 'revocation' &&
    !result.signatures.some((s) => s.failure?.error.code === 'ERR_DIGEST_MISMATCH')
  );
}
