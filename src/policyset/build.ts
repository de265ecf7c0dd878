import { type ErrorCode } from '../errors/index.js';
import { type Certificate, type CertificateCache } from '../x509/index.js';
import {
  NAMESPACE_NAME_LABEL,
  parseResource,
  type PolicyResource,
  type Resource,
  type StoreResource,
} from './resources.js';
import {
  formatResourceId,
  type InvalidResource,
  type PolicyDocument,
  type PolicySnapshot,
  type ResolvedTrustStores,
  type ResourceId,
  type TrustStoreType,
} from './types.js';
import {
  keyOf,
  storeKey,
  applyPrevious,
  compare,
  invalidFromResource,
  resolveStore,
  resolveRef,
  makeSnapshot,
  sourceOf,
  type StoreState,
  type DataState,
} from './build-steps.js';

/**
 * Builds the immutable PolicySnapshot from resource objects. Pure: Secrets, ConfigMaps and
 * Namespaces come in as resources like the portcullis.dev ones, so a directory of manifests and
 * the Kubernetes API produce the same snapshot from the same objects.
 */
export interface BuildSnapshotInput {
  readonly resources: readonly unknown[];
  readonly revision: number;
  readonly certificateCache?: CertificateCache;
  /** Namespace of namespaced resources without metadata.namespace (kubectl's default: `default`). */
  readonly defaultNamespace?: string;
  /** `origins[i]` says where `resources[i]` came from (a file), for messages. */
  readonly origins?: readonly (string | undefined)[];
  /** Problems the source found before parsing (unreadable or oversized files); listed in `invalid` as given. */
  readonly sourceErrors?: readonly InvalidResource[];
  /**
   * The snapshot in force before this one. With it, a change that makes a resource invalid
   * changes nothing: a policy that was valid keeps its last valid version in force, one that
   * blocked keeps blocking, and a new invalid policy has no effect (it is only reported). Without
   * it (the first snapshot) an invalid policy blocks the namespaces it would cover — at start-up
   * nobody knows what it enforced before, and failing closed is the safe answer.
   */
  readonly previous?: PolicySnapshot;
}

export function buildSnapshot(input: BuildSnapshotInput): PolicySnapshot {
  const defaultNamespace = input.defaultNamespace ?? 'default';
  const invalid: InvalidResource[] = [...(input.sourceErrors ?? [])];

  // 1. Parse every object; the same resource defined twice with different content is invalid
  //    (kubectl would silently keep the last one; an ambiguous policy must not take effect).
  const parsed = new Map<
    string,
    {
      resource: Resource | undefined;
      fingerprint: string;
      count: number;
      conflict: boolean;
      source?: string;
      invalid?: InvalidResource;
    }
  >();
  const duplicateSources = new Map<string, string[]>();
  input.resources.forEach((object, i) => {
    const source = input.origins?.[i];
    const outcome = parseResource(object, { defaultNamespace, ...(source === undefined ? {} : { source }) });
    if (outcome.outcome === 'ignored') return;
    if (outcome.outcome === 'invalid' && !outcome.keyed) {
      const kind = outcome.invalid.id.kind;
      // A nameless Secret or ConfigMap cannot be referenced: none of Portcullis's business.
      if (kind !== 'Secret' && kind !== 'ConfigMap') invalid.push(outcome.invalid);
      return;
    }
    const id = outcome.outcome === 'resource' ? outcome.resource.id : outcome.invalid.id;
    const key = keyOf(id);
    const sources = duplicateSources.get(key) ?? [];
    if (source !== undefined) sources.push(source);
    duplicateSources.set(key, sources);
    const previous = parsed.get(key);
    const entry = {
      resource: outcome.outcome === 'resource' ? outcome.resource : undefined,
      fingerprint: outcome.fingerprint,
      count: 1,
      conflict: false,
      ...(source === undefined ? {} : { source }),
      ...(outcome.outcome === 'invalid' ? { invalid: outcome.invalid } : {}),
    };
    if (previous === undefined) parsed.set(key, entry);
    else {
      previous.count += 1;
      if (previous.fingerprint !== outcome.fingerprint) previous.conflict = true;
      if (previous.invalid === undefined && entry.invalid !== undefined) previous.invalid = entry.invalid;
    }
  });

  const policies: PolicyResource[] = [];
  const stores = new Map<string, StoreState>(); // (namespace|'' for cluster, name) → state
  const data = new Map<string, DataState>(); // keyOf(id) → state
  const namespaceLabels = new Map<string, Readonly<Record<string, string>>>();

  for (const [key, entry] of parsed) {
    let problem: InvalidResource | undefined = entry.invalid;
    if (entry.conflict) {
      const base = entry.invalid ?? invalidFromResource(entry.resource as Resource);
      const where = duplicateSources.get(key) ?? [];
      problem = {
        ...base,
        reason: `defined ${entry.count} times with different content${where.length > 0 ? ` (${[...new Set(where)].join(', ')})` : ''}`,
        code: 'ERR_RESOURCE_INVALID',
      };
      if (where.length > 0) delete (problem as { source?: string }).source;
    }
    const resource = entry.resource;
    if (problem !== undefined) {
      const id = problem.id;
      // Secrets and ConfigMaps are reported only when a store references them (below): an
      // unrelated broken Secret in the same directory is none of Portcullis's business.
      if (id.kind === 'Secret' || id.kind === 'ConfigMap') data.set(key, { valid: false, reason: problem.reason });
      else invalid.push(problem);
      if (id.kind === 'TrustStore' || id.kind === 'ClusterTrustStore') {
        stores.set(storeKey(id.namespace, id.name), {
          valid: false,
          id,
          type: resource !== undefined && resource.kind === id.kind ? (resource as StoreResource).type : undefined,
          reason: problem.reason,
        });
      }
      if (id.kind === 'Namespace') namespaceLabels.set(id.name, Object.freeze({ [NAMESPACE_NAME_LABEL]: id.name }));
      continue;
    }
    if (resource === undefined) continue;
    switch (resource.kind) {
      case 'TrustPolicy':
      case 'ClusterTrustPolicy':
        policies.push(resource);
        break;
      case 'Secret':
      case 'ConfigMap':
        data.set(key, { valid: true, resource });
        break;
      case 'Namespace':
        namespaceLabels.set(resource.id.name, resource.labels);
        break;
      case 'TrustStore':
      case 'ClusterTrustStore':
        stores.set(storeKey(resource.id.namespace, resource.id.name), {
          valid: false,
          id: resource.id,
          type: resource.type,
          reason: 'pending',
        });
        break;
    }
  }

  // 2. Trust stores: gather the certificate files and validate them as notation does.
  for (const [key, state] of stores) {
    if (state.valid || state.reason !== 'pending') continue;
    const entry = parsed.get(keyOf(state.id));
    const resource = entry?.resource as StoreResource;
    const result = resolveStore(resource, data, input.certificateCache);
    if ('certificates' in result) {
      stores.set(key, { valid: true, resource, certificates: Object.freeze(result.certificates) });
    } else {
      stores.set(key, { valid: false, id: resource.id, type: resource.type, reason: result.reason });
      invalid.push({ id: resource.id, reason: result.reason, code: result.code, ...sourceOf(entry) });
    }
  }

  // 3. Policies: every store a statement names must resolve to a valid store, or the whole
  //    policy is invalid (it must not take effect with fewer stores than written).
  const documents: PolicyDocument[] = [];
  for (const policy of policies) {
    const resolved = new Map<string, { certificates: readonly Certificate[]; id: ResourceId }>();
    const problems: { reason: string; code: ErrorCode }[] = [];
    const seen = new Set<string>();
    for (const statement of policy.policy.statements) {
      for (const ref of statement.trustStores) {
        const refKey = `${ref.type}:${ref.name}`;
        if (seen.has(refKey)) continue;
        seen.add(refKey);
        const outcome = resolveRef(policy, ref, stores);
        if ('certificates' in outcome) resolved.set(refKey, outcome);
        else problems.push(outcome);
      }
    }
    if (problems.length > 0) {
      const first = problems[0] as { reason: string; code: ErrorCode };
      invalid.push({
        id: policy.id,
        reason: problems.map((p) => p.reason).join('; '),
        code: first.code,
        ...sourceOf(parsed.get(keyOf(policy.id))),
        blocks:
          policy.kind === 'TrustPolicy'
            ? { kind: 'namespace', namespace: policy.id.namespace as string }
            : policy.namespaceSelector === undefined
              ? { kind: 'all' }
              : { kind: 'selector', selector: policy.namespaceSelector },
        enforcementAction: policy.enforcementAction,
      });
      continue;
    }
    const trustStores: ResolvedTrustStores = Object.freeze({
      get: (type: TrustStoreType, name: string) => resolved.get(`${type}:${name}`)?.certificates,
      source: (type: TrustStoreType, name: string) => resolved.get(`${type}:${name}`)?.id,
    });
    documents.push(
      Object.freeze({
        id: policy.id,
        generation: policy.generation,
        enforcementAction: policy.enforcementAction,
        policy: policy.policy,
        trustStores,
        ...(policy.namespaceSelector === undefined ? {} : { namespaceSelector: policy.namespaceSelector }),
        ...(policy.statementOptions === undefined ? {} : { statementOptions: policy.statementOptions }),
      }),
    );
  }

  if (input.previous !== undefined) applyPrevious(input.previous, documents, invalid, new Set(parsed.keys()));

  // 4. Stable order: cluster policies by name, then namespaced policies by namespace and name.
  const order = (id: ResourceId): string =>
    `${id.kind === 'ClusterTrustPolicy' ? 0 : 1}\u0000${id.namespace ?? ''}\u0000${id.name}`;
  documents.sort((a, b) => compare(order(a.id), order(b.id)));
  const invalidSorted = invalid
    .map((entry) => Object.freeze({ ...entry, id: Object.freeze({ ...entry.id }) }))
    .sort(
      (a, b) =>
        compare(formatResourceId(a.id), formatResourceId(b.id)) ||
        compare(a.source ?? '', b.source ?? '') ||
        compare(a.reason, b.reason),
    );

  return makeSnapshot(input.revision, documents, invalidSorted, namespaceLabels, data);
}

/**
 * "An invalid change changes nothing" (see BuildSnapshotInput.previous): rewrites the blocking
 * invalid entries of policies against the previous snapshot, and, when a source could not read
 * some of its input, keeps the previous documents it can no longer see.
 */
