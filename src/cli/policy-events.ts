import type { ImageDecision, ImageVerifier, ReviewDecisions, ReviewRequest } from '../executor/index.js';
import type { EventRecorder, EventRegarding } from '../kube/index.js';
import { API_VERSION, formatResourceId, type PolicySnapshot } from '../policyset/index.js';

/**
 * Kubernetes Events on the policy resources (the recorder deduplicates and rate-limits): the
 * policy that denied an image, and a policy or store that is invalid. Events say what happened
 * to the policy; the pod's creator reads the denial itself, and an admin reads
 * `kubectl describe trustpolicy NAME` or `kubectl get events`.
 */

const OUR_KINDS = new Set(['TrustPolicy', 'ClusterTrustPolicy', 'TrustStore', 'ClusterTrustStore']);

/** `TrustPolicy team-a/prod` → the object reference; undefined for what is not one of our resources. */
export function regardingOf(policy: string): EventRegarding | undefined {
  const m = /^(\w+) (?:([a-z0-9][a-z0-9.-]*)\/)?([a-z0-9][a-z0-9.-]*)$/.exec(policy);
  if (m === null || !OUR_KINDS.has(m[1] as string)) return undefined;
  const kind = m[1] as string;
  const namespaced = kind === 'TrustPolicy' || kind === 'TrustStore';
  if (namespaced !== (m[2] !== undefined)) return undefined;
  return {
    apiVersion: API_VERSION,
    kind,
    name: m[3] as string,
    ...(m[2] === undefined ? {} : { namespace: m[2] }),
  };
}

function recordDenials(recorder: EventRecorder, review: ReviewRequest, decisions: ReviewDecisions): void {
  for (const decision of decisions.values()) {
    if (decision.allowed) continue;
    for (const v of decision.verdicts) {
      if (v.verified || v.enforcementAction !== 'deny') continue;
      const regarding = regardingOf(v.policy);
      if (regarding === undefined) continue;
      recorder.record({
        regarding,
        reason: 'ImageDenied',
        action: 'Deny',
        type: 'Warning',
        note: denialNote(review.namespace, decision, v.statement, v.message, v.code),
      });
    }
  }
}

function denialNote(
  namespace: string,
  decision: ImageDecision,
  statement: string | undefined,
  message: string,
  code: string | null,
): string {
  const image = decision.image.length > 200 ? `${decision.image.slice(0, 200)}…` : decision.image;
  const where = statement === undefined ? '' : ` (statement ${JSON.stringify(statement)})`;
  return `denied image ${JSON.stringify(image)} in namespace ${namespace}${where}: ${message}${code === null ? '' : ` [${code}]`}`;
}

/**
 * The webhook's verifier, recording an Event for each denying policy of each review that is
 * not a dry run. The decisions are those of the verifier, untouched.
 */
export function withDenialEvents(verifier: ImageVerifier, recorder: EventRecorder): ImageVerifier {
  return {
    ready: () => verifier.ready(),
    decide(review) {
      const decided = verifier.decide(review);
      if (review.dryRun === true || review.explain === true) return decided;
      if (decided instanceof Promise) {
        return decided.then((decisions) => {
          recordDenials(recorder, review, decisions);
          return decisions;
        });
      }
      recordDenials(recorder, review, decided);
      return decided;
    },
  };
}

/** An Event on each invalid policy or store of a new snapshot (repeats within the window are written once). */
export function recordInvalid(recorder: EventRecorder, snapshot: PolicySnapshot): void {
  for (const entry of snapshot.invalid) {
    const regarding = regardingOf(formatResourceId(entry.id));
    if (regarding === undefined) continue;
    recorder.record({
      regarding,
      reason: 'PolicyInvalid',
      action: 'Validate',
      type: 'Warning',
      note: `${entry.keptPrevious === true ? 'the change does not take effect (the last valid version stays in force)' : 'does not take effect'}: ${entry.reason} [${entry.code}]`,
    });
  }
}
