import { type ErrorCode, isPortcullisError } from '../errors/index.js';
import type { TrustStoreRef } from '../policy/index.js';
import { decodeBase64, type Mutable } from '../util/index.js';
import { type Certificate, type CertificateCache, buildTrustStore, type TrustStoreFile } from '../x509/index.js';
import {
  NAMESPACE_NAME_LABEL,
  type DataResource,
  type PolicyResource,
  type Resource,
  type StoreResource,
} from './resources.js';
import { matchesSelector } from './selector.js';
import {
  formatResourceId,
  type DataLookup,
  type InvalidResource,
  type PolicyDocument,
  type PolicySnapshot,
  type ResourceId,
  type TrustStoreType,
} from './types.js';

/**
 * The steps of buildSnapshot (build.ts): resolving trust stores and references, keeping what the
 * previous snapshot had, making the frozen snapshot.
 */

export type StoreState =
  | { readonly valid: true; readonly resource: StoreResource; readonly certificates: readonly Certificate[] }
  /** `type` is undefined when the store's type could not be read: it then shadows every type. */
  | {
      readonly valid: false;
      readonly id: ResourceId;
      readonly type: TrustStoreType | undefined;
      readonly reason: string;
    };

export type DataState =
  { readonly valid: true; readonly resource: DataResource } | { readonly valid: false; readonly reason: string };

export const keyOf = (id: ResourceId): string => `${id.kind}\u0000${id.namespace ?? ''}\u0000${id.name}`;
export const storeKey = (namespace: string | undefined, name: string): string => `${namespace ?? ''}\u0000${name}`;

/** A ReadonlyMap that really is read-only (a frozen Map can still be modified). */
export class FrozenMap<K, V> implements ReadonlyMap<K, V> {
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

export function applyPrevious(
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

export function withoutBlock(entry: InvalidResource): InvalidResource {
  const rest: Mutable<InvalidResource> = { ...entry };
  delete rest.blocks;
  delete rest.enforcementAction;
  return rest;
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sourceOf(entry: { source?: string } | undefined): { source?: string } {
  const source = entry?.source;
  return source === undefined ? {} : { source };
}

export function invalidFromResource(resource: Resource): InvalidResource {
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

export function resolveStore(
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

export function resolveRef(
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

export const MEMO_LIMIT = 4096;

export function makeSnapshot(
  revision: number,
  documents: PolicyDocument[],
  invalid: InvalidResource[],
  labels: Map<string, Readonly<Record<string, string>>>,
  data: ReadonlyMap<string, DataState> = new Map(),
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
    dataOf(kind: 'Secret' | 'ConfigMap', namespace: string, name: string): DataLookup {
      const state = data.get(keyOf({ kind, namespace, name }));
      if (state === undefined) return { found: false };
      return state.valid ? { found: true, entries: state.resource.entries } : { found: true, invalid: state.reason };
    },
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
