import type { ErrorCode } from '../errors/codes.js';
import { isPortcullisError } from '../errors/index.js';
import type { TrustStoreRef } from '../policy/types.js';
import { decodeBase64 } from '../util/base64.js';
import type { Mutable } from '../util/types.js';
import type { Certificate, CertificateCache } from '../x509/certificate.js';
import { buildTrustStore, type TrustStoreFile } from '../x509/trust-store.js';
import {
  NAMESPACE_NAME_LABEL,
  parseResource,
  type DataResource,
  type PolicyResource,
  type Resource,
  type StoreResource,
} from './resources.js';
import { matchesSelector } from './selector.js';
import {
  formatResourceId,
  type InvalidResource,
  type PolicyDocument,
  type PolicySnapshot,
  type ResolvedTrustStores,
  type ResourceId,
  type TrustStoreType,
} from './types.js';

/**
 * Builds the immutable PolicySnapshot from resource objects. Pure: Secrets, ConfigMaps and
 * Namespaces come in as resources like the portcullis.dev ones, so a directory of manifests and
 * the Kubernetes API (issue 5) produce the same snapshot from the same objects.
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

type StoreState =
  | { readonly valid: true; readonly resource: StoreResource; readonly certificates: readonly Certificate[] }
  /** `type` is undefined when the store's type could not be read: it then shadows every type. */
  | {
      readonly valid: false;
      readonly id: ResourceId;
      readonly type: TrustStoreType | undefined;
      readonly reason: string;
    };

type DataState =
  { readonly valid: true; readonly resource: DataResource } | { readonly valid: false; readonly reason: string };

const keyOf = (id: ResourceId): string => `${id.kind}\u0000${id.namespace ?? ''}\u0000${id.name}`;
const storeKey = (namespace: string | undefined, name: string): string => `${namespace ?? ''}\u0000${name}`;

/** A ReadonlyMap that really is read-only (a frozen Map can still be modified). */
class FrozenMap<K, V> implements ReadonlyMap<K, V> {
  readonly #map: Map<K, V>;
  constructor(entries: Iterable<readonly [K, V]>) {
    this.#map = new Map(entries);
    Object.freeze(this);
  }
  get size(): number {
    return this.#map.size;
  }
  get(key: K): V | undefined {
    return this.#map.get(key);
  }
  has(key: K): boolean {
    return this.#map.has(key);
  }
  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    this.#map.forEach((v, k) => callback.call(thisArg, v, k, this));
  }
  entries(): MapIterator<[K, V]> {
    return this.#map.entries();
  }
  keys(): MapIterator<K> {
    return this.#map.keys();
  }
  values(): MapIterator<V> {
    return this.#map.values();
  }
  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.#map[Symbol.iterator]();
  }
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

  return makeSnapshot(input.revision, documents, invalidSorted, namespaceLabels);
}

/**
 * "An invalid change changes nothing" (see BuildSnapshotInput.previous): rewrites the blocking
 * invalid entries of policies against the previous snapshot, and, when a source could not read
 * some of its input, keeps the previous documents it can no longer see.
 */
function applyPrevious(
  previous: PolicySnapshot,
  documents: PolicyDocument[],
  invalid: InvalidResource[],
  seen: ReadonlySet<string>,
): void {
  const previousDocuments = new Map(previous.documents.map((d) => [keyOf(d.id), d]));
  const previousBlocks = new Set(previous.invalid.filter((e) => e.blocks !== undefined).map((e) => keyOf(e.id)));
  const present = new Set(documents.map((d) => keyOf(d.id)));
  const keep = (d: PolicyDocument): void => {
    if (present.has(keyOf(d.id))) return;
    documents.push(d);
    present.add(keyOf(d.id));
  };
  let sourceTrouble = false;
  for (const [i, entry] of invalid.entries()) {
    if (entry.blocks === undefined) continue;
    const key = keyOf(entry.id);
    if (entry.id.kind === 'TrustPolicy' || entry.id.kind === 'ClusterTrustPolicy') {
      const before = previousDocuments.get(key);
      if (before !== undefined) {
        keep(before);
        invalid[i] = {
          ...withoutBlock(entry),
          reason: `${entry.reason} (the last valid version stays in force)`,
          keptPrevious: true,
        };
      } else if (!previousBlocks.has(key)) {
        invalid[i] = withoutBlock(entry); // new and invalid: reported, no effect
      }
    } else if (entry.id.kind !== 'Namespace') {
      sourceTrouble = true;
      if (!previousBlocks.has(key)) invalid[i] = withoutBlock(entry);
    }
  }
  // Unreadable input hides resources: the previous versions of what is no longer seen stay in force.
  if (sourceTrouble) for (const [key, d] of previousDocuments) if (!seen.has(key)) keep(d);
}

function withoutBlock(entry: InvalidResource): InvalidResource {
  const rest: Mutable<InvalidResource> = { ...entry };
  delete rest.blocks;
  delete rest.enforcementAction;
  return rest;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sourceOf(entry: { source?: string } | undefined): { source?: string } {
  const source = entry?.source;
  return source === undefined ? {} : { source };
}

function invalidFromResource(resource: Resource): InvalidResource {
  const base = { id: resource.id, reason: '', code: 'ERR_RESOURCE_INVALID' };
  if (resource.kind === 'TrustPolicy') {
    return {
      ...base,
      blocks: { kind: 'namespace', namespace: resource.id.namespace as string },
      enforcementAction: resource.enforcementAction,
    };
  }
  if (resource.kind === 'ClusterTrustPolicy') {
    return {
      ...base,
      blocks:
        resource.namespaceSelector === undefined
          ? { kind: 'all' }
          : { kind: 'selector', selector: resource.namespaceSelector },
      enforcementAction: resource.enforcementAction,
    };
  }
  if (resource.kind === 'Namespace')
    return { ...base, blocks: { kind: 'namespace', namespace: resource.id.name }, enforcementAction: 'deny' };
  return base;
}

function resolveStore(
  store: StoreResource,
  data: ReadonlyMap<string, DataState>,
  cache: CertificateCache | undefined,
): { certificates: Certificate[] } | { reason: string; code: ErrorCode } {
  const files: TrustStoreFile[] = store.certificates.map((pem, i) => ({
    name: `spec.certificates[${i}]`,
    bytes: new TextEncoder().encode(pem),
  }));
  for (const [i, ref] of store.certificateRefs.entries()) {
    const where = `spec.certificateRefs[${i}] (${ref.kind} ${ref.namespace}/${ref.name} key ${JSON.stringify(ref.key)})`;
    const state = data.get(keyOf({ kind: ref.kind, namespace: ref.namespace, name: ref.name }));
    if (state === undefined)
      return {
        reason: `${where}: ${ref.kind} ${ref.namespace}/${ref.name} not found`,
        code: 'ERR_TRUSTSTORE_REF_NOT_FOUND',
      };
    if (!state.valid)
      return {
        reason: `${where}: ${ref.kind} ${ref.namespace}/${ref.name} is invalid: ${state.reason}`,
        code: 'ERR_TRUSTSTORE_REF_NOT_FOUND',
      };
    const entry = state.resource.entries.get(ref.key);
    if (entry === undefined)
      return {
        reason: `${where}: the key is not in ${ref.kind} ${ref.namespace}/${ref.name}`,
        code: 'ERR_TRUSTSTORE_REF_NOT_FOUND',
      };
    let bytes: Uint8Array;
    if (entry.encoding === 'text') bytes = new TextEncoder().encode(entry.value);
    else {
      try {
        bytes = decodeBase64(entry.value, 'value');
      } catch {
        return { reason: `${where}: the value is not valid base64`, code: 'ERR_TRUSTSTORE_REF_NOT_FOUND' };
      }
    }
    files.push({ name: `${ref.kind} ${ref.namespace}/${ref.name} key ${ref.key}`, bytes });
  }
  try {
    return { certificates: buildTrustStore(store.type, store.id.name, files, cache) };
  } catch (error) {
    if (isPortcullisError(error)) return { reason: error.message, code: error.code };
    throw error;
  }
}

function resolveRef(
  policy: PolicyResource,
  ref: TrustStoreRef,
  stores: ReadonlyMap<string, StoreState>,
): { certificates: readonly Certificate[]; id: ResourceId } | { reason: string; code: ErrorCode } {
  const label = `trust store ${ref.type}:${ref.name}`;
  const candidates: (StoreState | undefined)[] = [];
  // A ClusterTrustPolicy never sees namespaced stores: a tenant must not swap the baseline's certificates.
  if (policy.kind === 'TrustPolicy') candidates.push(stores.get(storeKey(policy.id.namespace, ref.name)));
  candidates.push(stores.get(storeKey(undefined, ref.name)));
  const otherTypes: string[] = [];
  for (const state of candidates) {
    if (state === undefined) continue;
    const type = state.valid ? state.resource.type : state.type;
    if (type !== undefined && type !== ref.type) {
      otherTypes.push(`${formatResourceId(state.valid ? state.resource.id : state.id)} has type ${type}`);
      continue;
    }
    if (!state.valid) {
      return {
        reason: `${label}: ${formatResourceId(state.id)} is invalid: ${state.reason}`,
        code: 'ERR_TRUSTSTORE_INVALID',
      };
    }
    return { certificates: state.certificates, id: state.resource.id };
  }
  const looked =
    policy.kind === 'TrustPolicy'
      ? `no TrustStore ${policy.id.namespace}/${ref.name} and no ClusterTrustStore ${ref.name} of type ${ref.type}`
      : `no ClusterTrustStore ${ref.name} of type ${ref.type} (a ClusterTrustPolicy uses ClusterTrustStores only)`;
  return {
    reason: `${label} not found: ${looked}${otherTypes.length > 0 ? ` (${otherTypes.join(', ')})` : ''}`,
    code: 'ERR_TRUSTSTORE_NOT_FOUND',
  };
}

const MEMO_LIMIT = 4096;

function makeSnapshot(
  revision: number,
  documents: PolicyDocument[],
  invalid: InvalidResource[],
  labels: Map<string, Readonly<Record<string, string>>>,
): PolicySnapshot {
  const namespaceLabels = new FrozenMap(labels);
  const clusterDocuments = documents.filter((d) => d.id.kind === 'ClusterTrustPolicy');
  const byNamespace = new Map<string, PolicyDocument[]>();
  for (const doc of documents) {
    if (doc.id.kind !== 'TrustPolicy') continue;
    const ns = doc.id.namespace as string;
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), doc]);
  }
  const blocking = invalid.filter((entry) => entry.blocks !== undefined);
  const labelsOf = (namespace: string): Readonly<Record<string, string>> =>
    namespaceLabels.get(namespace) ?? { [NAMESPACE_NAME_LABEL]: namespace };

  // Results are memoised per namespace (bounded: request input chooses the namespace string).
  const documentsMemo = new Map<string, readonly PolicyDocument[]>();
  const invalidMemo = new Map<string, readonly InvalidResource[]>();
  const memo = <T>(cache: Map<string, T>, key: string, compute: () => T): T => {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const value = compute();
    if (cache.size >= MEMO_LIMIT) cache.clear();
    cache.set(key, value);
    return value;
  };

  return Object.freeze({
    revision,
    documents: Object.freeze(documents),
    invalid: Object.freeze(invalid),
    namespaceLabels,
    documentsFor(namespace: string): readonly PolicyDocument[] {
      return memo(documentsMemo, namespace, () => {
        const labels = labelsOf(namespace);
        return Object.freeze([
          ...clusterDocuments.filter(
            (d) => d.namespaceSelector === undefined || matchesSelector(d.namespaceSelector, labels),
          ),
          ...(byNamespace.get(namespace) ?? []),
        ]);
      });
    },
    invalidFor(namespace: string): readonly InvalidResource[] {
      return memo(invalidMemo, namespace, () => {
        const labels = labelsOf(namespace);
        return Object.freeze(
          blocking.filter((entry) => {
            const scope = entry.blocks;
            if (scope === undefined) return false;
            if (scope.kind === 'all') return true;
            if (scope.kind === 'namespace') return scope.namespace === namespace;
            return matchesSelector(scope.selector, labels);
          }),
        );
      });
    },
  });
}
