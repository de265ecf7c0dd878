import { NAMESPACE_NAME_LABEL } from './resources.js';
import { formatResourceId, type LabelSelector, type PolicySnapshot } from './types.js';

/**
 * Which policy resources cover a namespace, and why each does or does not — what `portcullis
 * explain` prints first. It reads the snapshot's own answer (`documentsFor`, `invalidFor`: the
 * lists the executor decides from) and only adds the words; a test keeps the two in step.
 */
export interface Coverage {
  /** `TrustPolicy team-a/prod`. */
  readonly policy: string;
  readonly kind: 'TrustPolicy' | 'ClusterTrustPolicy' | 'Invalid';
  readonly applies: boolean;
  /** Why, in one line. */
  readonly why: string;
  /** For an invalid resource: its code and reason. */
  readonly invalid?: { readonly code: string; readonly reason: string };
}

function formatSelector(selector: LabelSelector): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`);
  }
  return parts.length === 0 ? '{} (every namespace)' : parts.join(',');
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function coverage(snapshot: PolicySnapshot, namespace: string): Coverage[] {
  const applying = new Set(snapshot.documentsFor(namespace));
  const blocking = new Set(snapshot.invalidFor(namespace));
  const labels = snapshot.namespaceLabels.get(namespace) ?? { [NAMESPACE_NAME_LABEL]: namespace };
  const out: Coverage[] = [];
  for (const doc of snapshot.documents) {
    const policy = formatResourceId(doc.id);
    const applies = applying.has(doc);
    let why: string;
    if (doc.id.kind === 'TrustPolicy') {
      why = applies
        ? `a TrustPolicy of namespace ${namespace}`
        : `a TrustPolicy of namespace ${doc.id.namespace ?? ''}`;
    } else if (doc.namespaceSelector === undefined) {
      why = 'a ClusterTrustPolicy without namespaceSelector: every namespace';
    } else {
      const selector = formatSelector(doc.namespaceSelector);
      why = applies
        ? `namespaceSelector ${selector} matches the namespace labels ${formatLabels(labels)}`
        : `namespaceSelector ${selector} does not match the namespace labels ${formatLabels(labels)}`;
    }
    out.push({ policy, kind: doc.id.kind, applies, why });
  }
  for (const entry of snapshot.invalid) {
    if (entry.blocks === undefined) continue;
    const applies = blocking.has(entry);
    const scope = entry.blocks;
    const why = applies
      ? scope.kind === 'all'
        ? 'invalid, and its scope cannot be known: it blocks every namespace until fixed'
        : scope.kind === 'namespace'
          ? `invalid, in namespace ${namespace}: it blocks the namespace until fixed`
          : `invalid; its namespaceSelector ${formatSelector(scope.selector)} matches: it blocks the namespace until fixed`
      : scope.kind === 'namespace'
        ? `invalid, in namespace ${scope.namespace}`
        : `invalid; its namespaceSelector does not match`;
    out.push({
      policy: formatResourceId(entry.id),
      kind: 'Invalid',
      applies,
      why,
      invalid: { code: entry.code, reason: entry.reason },
    });
  }
  return out;
}
