import type { ArtifactTarget } from '../oci/index.js';
import { findStatement, type TrustPolicyStatement } from '../policy/index.js';
import { formatResourceId, type PolicyDocument, type PolicySnapshot } from '../policyset/index.js';
import type { ImageReference } from '../reference/index.js';
import { digestCacheKey, tagCacheKey } from './registry-access.js';
import type { ImageDecision, PolicyVerdict } from './types.js';

/** A document that applies to an image, with the statement chosen for it (carried into verification). */
export interface Applicable {
  readonly doc: PolicyDocument;
  readonly statement: TrustPolicyStatement;
}

/**
 * The documents that apply to an image: those whose trust policy has a statement for its
 * repository (exact registry scope, else `*`); the statement is chosen here, once, and
 * verification uses it as chosen.
 */
export function applicableDocuments(documents: readonly PolicyDocument[], ref: ImageReference): Applicable[] {
  const applicable: Applicable[] = [];
  for (const doc of documents) {
    const statement = findStatement(doc.policy, ref.name);
    if (statement !== undefined) applicable.push({ doc, statement });
  }
  return applicable;
}

/** What one image in one namespace is checked against under one snapshot, and the cache keys of its last lookups. */
export class Plan {
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
    const key =
      ref.digest === undefined
        ? tagCacheKey(identity, ref)
        : digestCacheKey(identity, ref as ImageReference & { readonly digest: string });
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
 * Plans kept per snapshot (immutable, so a plan never goes stale; a new snapshot starts afresh),
 * then namespace, then image string; bounded (1024 namespaces of 1024 images, cleared when full).
 */
export class PlanCache {
  readonly #plans = new WeakMap<PolicySnapshot, Map<string, Map<string, Plan>>>();

  get(snapshot: PolicySnapshot, namespace: string, image: string): Plan | undefined {
    return this.#plans.get(snapshot)?.get(namespace)?.get(image);
  }

  set(snapshot: PolicySnapshot, namespace: string, image: string, plan: Plan): void {
    if (image.length > 512) return;
    let plans = this.#plans.get(snapshot);
    if (plans === undefined) {
      plans = new Map();
      this.#plans.set(snapshot, plans);
    }
    let forNamespace = plans.get(namespace);
    if (forNamespace === undefined) {
      if (plans.size >= 1024) plans.clear();
      forNamespace = new Map();
      plans.set(namespace, forNamespace);
    }
    if (forNamespace.size >= 1024) forNamespace.clear();
    forNamespace.set(image, plan);
  }
}

/**
 * The verdict cache key: credential identity, `registry/repository[:tag]@digest`, document
 * id#generation, snapshot revision. A digest names one manifest, so its media type and size
 * (which the verdict checked against the payload) come with it.
 */
export function verdictCacheKey(
  identity: string,
  ref: ImageReference,
  target: ArtifactTarget,
  doc: PolicyDocument,
  revision: number,
): string {
  // `name:tag@digest` keeps its tag: the tag's index may have vouched for the digest, which a
  // bare digest (judged by its own signatures) must not inherit from the cache.
  const tag = ref.tag !== undefined && ref.digest !== undefined ? `:${ref.tag}` : '';
  return `${identity}\u0000${ref.name}${tag}@${target.digest}\u0000${documentKey(doc)}\u0000r${revision}`;
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
