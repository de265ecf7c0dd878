import type { PortcullisError } from '../errors/index.js';
import type { PolicyDocument } from '../policyset/index.js';
import type { ImageReference } from '../reference/index.js';
import type { Applicable } from './plan.js';
import type { FailurePolicy, ImageDecision, PolicyVerdict } from './types.js';
import { describeVerdict, isUndecided, undecidedDecision, undecidedVerdict, verdictFromError } from './verdicts.js';

/**
 * From verdicts to the image's decision: denied when any `deny` document rejects; when a `deny`
 * document could not be evaluated (registry unreachable, timeout, deadline) the failure policy
 * decides and says so; `warn` and `dryrun` documents never deny.
 */

/** One applicable document's result: a verdict, or the error that kept it from one. */
export type Outcome =
  | { readonly verdict: PolicyVerdict }
  | { readonly doc: PolicyDocument; readonly statement: string; readonly error: PortcullisError };

export function outcomeOfError(a: Applicable, error: PortcullisError, identity: string | undefined): Outcome {
  return isUndecided(error)
    ? { doc: a.doc, statement: a.statement.name, error }
    : { verdict: verdictFromError(a.doc, a.statement.name, error, identity) };
}

export function combine(
  image: string,
  ref: ImageReference,
  digest: string | undefined,
  outcomes: readonly Outcome[],
  blocking: readonly PolicyVerdict[],
  failurePolicy: FailurePolicy,
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
  if (undecided.length > 0) return undecidedDecision(base, undecided[0] as PortcullisError, failurePolicy);
  return { ...base, allowed: true };
}

/** An image no document applies to: allowed, not enforced (or denied with `denyUnmatchedNamespaces`). */
export function unmatched(
  image: string,
  ref: ImageReference | undefined,
  namespace: string,
  documentCount: number,
  denyUnmatchedNamespaces: boolean,
): ImageDecision {
  const canonical = ref === undefined || ref.reference === image ? {} : { canonical: ref.reference };
  if (!denyUnmatchedNamespaces) return { image, ...canonical, allowed: true, verdicts: [], warnings: [] };
  const ns = JSON.stringify(namespace);
  const reason =
    documentCount === 0
      ? `no trust policy covers namespace ${ns}, and Portcullis is configured to deny images no policy covers (denyUnmatchedNamespaces) [ERR_POLICY_NOT_FOUND]`
      : `none of the ${documentCount} trust policies covering namespace ${ns} has a statement for ${ref?.name ?? JSON.stringify(image)} (registryScopes), and Portcullis is configured to deny images no policy covers (denyUnmatchedNamespaces) [ERR_POLICY_NO_MATCH]`;
  return { image, ...canonical, allowed: false, verdicts: [], warnings: [], reason };
}
