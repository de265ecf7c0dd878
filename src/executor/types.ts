import type { EnforcementAction } from '../policyset/index.js';
import type { RequestCredentials } from '../registry/index.js';
import type { ArtifactVerification, AttestationResult, DecidingSignature } from '../verify/index.js';

export type { RequestCredentials };

/** What decides an image no verdict could be reached for (registry down, deadline): deny (`fail`) or allow. */
export type FailurePolicy = 'fail' | 'ignore';

/**
 * The seam between the HTTP edge (AdmissionReview, Gatekeeper) and the verification engine.
 * The edge turns wire formats into ImageCheckRequests and decisions back into responses; it
 * knows nothing of registries, caches or Notary.
 */

export interface ImageCheckRequest {
  /** The image string as written in the pod spec. */
  readonly image: string;
  readonly namespace: string;
  readonly credentials?: readonly RequestCredentials[];
  /** Absolute deadline (epoch ms) by which an answer is needed. */
  readonly deadline: number;
  /** A dry-run AdmissionReview: decide as usual but cause no side effects beyond caching. */
  readonly dryRun?: boolean;
  /**
   * `portcullis explain`: decide as for the webhook, by the same walk, but verify afresh (no
   * cached verdict answers) and keep each verification's every check in `PolicyVerdict.verification`.
   */
  readonly explain?: boolean;
  /**
   * Names of the pod's `spec.imagePullSecrets` (same namespace), until the executor resolves them into `credentials`.
   */
  readonly pullSecretNames?: readonly string[];
  /** The pod's service account (default `default`): its imagePullSecrets apply when the pod lists none. */
  readonly serviceAccountName?: string;
  /**
   * One object per review (any object; only its identity counts): the images checked with the
   * same token share the review's limits — registries contacted, images fetched, registry
   * requests in flight (registries.maxHostsPerReview etc.). Without one, an image has no share.
   */
  readonly review?: object;
}

/**
 * The verdict of one policy document on one image. Only documents that apply to the image have
 * one: a document whose trust policy has no statement for the image's repository (no exact
 * registry scope, no `*`) does not apply and leaves no verdict (docs/policies.md, "Which
 * documents apply to an image"). An invalid policy blocking the namespace has a verdict that
 * rejects (no `statement`), with the invalid resource's code and reason.
 */
export interface PolicyVerdict {
  /** `TrustPolicy team-a/prod` or `ClusterTrustPolicy baseline`. */
  readonly policy: string;
  readonly enforcementAction: EnforcementAction;
  readonly verified: boolean;
  /** The trust policy statement that applied. */
  readonly statement?: string;
  /** The statement's level is `skip`: admitted without looking at signatures (so nothing was verified). */
  readonly skipped?: true;
  readonly failedCheck: string | null;
  readonly code: string | null;
  readonly message: string;
  readonly warnings: readonly string[];
  /** Whose signatures decided (the manifest's own, its index's, every platform manifest's), when verified. */
  readonly decidedBy?: readonly DecidingSignature[];
  /** Every required signed artifact of the statement and why it passed or failed. */
  readonly requiredArtifacts?: readonly AttestationResult[];
  /** With `explain` only: the verification behind the verdict (every signature, every check). */
  readonly verification?: ArtifactVerification;
}

export interface ImageDecision {
  readonly image: string;
  /**
   * The reference as Portcullis reads it — registry in its canonical spelling, Docker Hub names
   * and `library/` folded (src/reference) — when that differs from `image`. Policies were chosen
   * and caches keyed by this form.
   */
  readonly canonical?: string;
  /** The resolved digest, when resolution succeeded. */
  readonly digest?: string;
  /** `registry/repository@digest`, for the mutating webhook. */
  readonly pinned?: string;
  readonly allowed: boolean;
  /** One per applicable document (ClusterTrustPolicies, then TrustPolicies), then one per blocking invalid policy. */
  readonly verdicts: readonly PolicyVerdict[];
  /**
   * Checks set to `log` that failed on the accepted signature of a `deny` or `warn` document,
   * each prefixed with the policy and statement. Warn-mode rejections are NOT here: the HTTP side
   * renders them from `verdicts`; `dryrun` documents contribute nothing (only logged).
   */
  readonly warnings: readonly string[];
  /** Set when no verdict could be reached (registry down, deadline): the failure policy decided. */
  readonly error?: {
    readonly code: string;
    readonly message: string;
    readonly failurePolicyApplied: FailurePolicy;
  };
  /** A one-line, actionable reason when not allowed. */
  readonly reason?: string;
}

/** The images of one request of the edge (an AdmissionReview, or one namespace of a Gatekeeper request). */
export interface ReviewRequest {
  /** The image strings as written (repeats are decided once). */
  readonly images: readonly string[];
  readonly namespace: string;
  /** Absolute deadline (epoch ms) by which the decisions are needed. */
  readonly deadline: number;
  /** The request's whole time budget, ms (deadline minus arrival): what a timeout message names. */
  readonly budgetMs?: number;
  readonly dryRun?: boolean;
  /** See ImageCheckRequest.explain. */
  readonly explain?: boolean;
  readonly credentials?: readonly RequestCredentials[];
  readonly pullSecretNames?: readonly string[];
  readonly serviceAccountName?: string;
  /** The share this review's images count against (ImageCheckRequest.review); default one of its own. */
  readonly review?: object;
}

/** One decision per distinct image of a review. */
export type ReviewDecisions = ReadonlyMap<string, ImageDecision>;

export interface ImageVerifier {
  /**
   * Decides every image of a review: at once when the caches answer for all of them (a warm
   * review: no promise, no timer), else a promise that resolves by the review's deadline. Never
   * throws or rejects: what could not be decided is decided by the failure policy, and says so.
   */
  decide(review: ReviewRequest): ReviewDecisions | Promise<ReviewDecisions>;
  /** Whether the first policy snapshot is loaded (for /readyz). */
  ready(): boolean;
}
