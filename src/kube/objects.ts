import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * The Kubernetes objects the cluster source watches, and the trimmed form it keeps of them.
 *
 * Objects are trimmed as they arrive (list and watch) to the fields Portcullis reads, so the
 * informer caches hold no `managedFields`, annotations (kubectl's last-applied copy doubles an
 * object) or unrelated Secret types. An object whose content is over the size limit is kept as a
 * marker without content and reported instead of read.
 */

export type WatchedKind =
  'ClusterTrustPolicy' | 'TrustPolicy' | 'ClusterTrustStore' | 'TrustStore' | 'Namespace' | 'Secret' | 'ConfigMap';
export type OurKind = 'ClusterTrustPolicy' | 'TrustPolicy' | 'ClusterTrustStore' | 'TrustStore';

export const GROUP = 'portcullis.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** The label a Secret or ConfigMap needs for Portcullis to read it as trust material. */
export const TRUST_MATERIAL_LABEL = 'portcullis.dev/trust-material';
export const TRUST_MATERIAL_SELECTOR = `${TRUST_MATERIAL_LABEL}=true`;

export interface KindInfo {
  readonly kind: WatchedKind;
  readonly apiVersion: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** Collection path for list and watch (all namespaces). */
  readonly path: string;
}

const crd = (kind: OurKind, plural: string, namespaced: boolean): KindInfo => ({
  kind,
  apiVersion: API_VERSION,
  plural,
  namespaced,
  path: `/apis/${GROUP}/${VERSION}/${plural}`,
});

export const KINDS: Readonly<Record<WatchedKind, KindInfo>> = Object.freeze({
  ClusterTrustPolicy: crd('ClusterTrustPolicy', 'clustertrustpolicies', false),
  TrustPolicy: crd('TrustPolicy', 'trustpolicies', true),
  ClusterTrustStore: crd('ClusterTrustStore', 'clustertruststores', false),
  TrustStore: crd('TrustStore', 'truststores', true),
  Namespace: {
    kind: 'Namespace',
    apiVersion: 'v1',
    plural: 'namespaces',
    namespaced: false,
    path: '/api/v1/namespaces',
  },
  Secret: { kind: 'Secret', apiVersion: 'v1', plural: 'secrets', namespaced: true, path: '/api/v1/secrets' },
  ConfigMap: {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    plural: 'configmaps',
    namespaced: true,
    path: '/api/v1/configmaps',
  },
});

export const WATCHED_KINDS: readonly WatchedKind[] = [
  'ClusterTrustPolicy',
  'TrustPolicy',
  'ClusterTrustStore',
  'TrustStore',
  'Namespace',
  'Secret',
  'ConfigMap',
];
export const OUR_KINDS: readonly OurKind[] = ['ClusterTrustPolicy', 'TrustPolicy', 'ClusterTrustStore', 'TrustStore'];

export function isOurKind(kind: string): kind is OurKind {
  return (OUR_KINDS as readonly string[]).includes(kind);
}

/** The trimmed object kept in the informer caches. */
export interface TrimmedObject extends KubernetesObject {
  readonly apiVersion: string;
  readonly kind: WatchedKind;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly generation?: number;
    /** Namespaces only (selectors read them). */
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly spec?: unknown;
  readonly status?: unknown;
  readonly data?: unknown;
  readonly binaryData?: unknown;
  readonly stringData?: unknown;
  /** Set instead of the content when the object is over the size limit: its approximate size. */
  readonly oversize?: number;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Approximate size of a value as JSON, in UTF-16 code units; stops counting past `limit`. */
export function approximateSize(value: unknown, limit: number): number {
  let total = 0;
  const visit = (v: unknown): void => {
    if (total > limit) return;
    if (typeof v === 'string') total += v.length + 2;
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) total += 8;
    else if (Array.isArray(v)) {
      total += 2;
      for (const item of v) visit(item);
    } else if (typeof v === 'object') {
      total += 2;
      for (const [k, item] of Object.entries(v as Obj)) {
        total += k.length + 4;
        visit(item);
      }
    }
  };
  visit(value);
  return total;
}

/**
 * Trims an object of `kind` as it came from a list or a watch event. Returns undefined for
 * something that is not an object with a name (never the case for API server output).
 */
export function trimObject(kind: WatchedKind, value: unknown, maxObjectBytes: number): TrimmedObject | undefined {
  if (!isObject(value)) return undefined;
  const metadata = isObject(value['metadata']) ? value['metadata'] : {};
  const name = metadata['name'];
  if (typeof name !== 'string' || name === '') return undefined;
  const info = KINDS[kind];
  const namespace =
    typeof metadata['namespace'] === 'string' && metadata['namespace'] !== '' ? metadata['namespace'] : undefined;
  const uid = typeof metadata['uid'] === 'string' ? metadata['uid'] : undefined;
  const resourceVersion = typeof metadata['resourceVersion'] === 'string' ? metadata['resourceVersion'] : undefined;
  const generation = typeof metadata['generation'] === 'number' ? metadata['generation'] : undefined;
  const labels =
    kind === 'Namespace' && isObject(metadata['labels']) ? (metadata['labels'] as Record<string, string>) : undefined;
  const meta = {
    name,
    ...(namespace === undefined ? {} : { namespace }),
    ...(uid === undefined ? {} : { uid }),
    ...(resourceVersion === undefined ? {} : { resourceVersion }),
    ...(generation === undefined ? {} : { generation }),
    ...(labels === undefined ? {} : { labels }),
  };
  // The API server's list items of built-in kinds carry no apiVersion/kind: they are known here.
  const base = { apiVersion: info.apiVersion, kind };
  let content: Obj;
  switch (kind) {
    case 'Namespace':
      content = {};
      break;
    case 'Secret':
      content = pick(value, ['data', 'stringData']);
      break;
    case 'ConfigMap':
      content = pick(value, ['data', 'binaryData']);
      break;
    default:
      content = pick(value, ['spec']);
  }
  const size = approximateSize(content, maxObjectBytes) + approximateSize(labels, maxObjectBytes);
  if (size > maxObjectBytes) return Object.freeze({ ...base, metadata: meta, oversize: size });
  // The status is kept for the status writer's comparison; an absurd one is dropped (it is then rewritten).
  const status =
    isOurKind(kind) && isObject(value['status']) && approximateSize(value['status'], maxObjectBytes) <= maxObjectBytes
      ? { status: value['status'] }
      : {};
  return Object.freeze({ ...base, metadata: meta, ...content, ...status });
}

function pick(value: Obj, keys: readonly string[]): Obj {
  const out: Obj = {};
  for (const key of keys) if (value[key] !== undefined && value[key] !== null) out[key] = value[key];
  return out;
}

/**
 * The resource as buildSnapshot reads it — the same fields a manifest in a policy directory
 * has — without the API server's bookkeeping (uid, resourceVersion, status), so a status write
 * does not change the snapshot's content.
 */
export function resourceOf(object: TrimmedObject): Obj {
  const m = object.metadata;
  const metadata: Obj = { name: m.name };
  if (m.namespace !== undefined) metadata['namespace'] = m.namespace;
  if (m.generation !== undefined) metadata['generation'] = m.generation;
  if (m.labels !== undefined) metadata['labels'] = m.labels;
  const out: Obj = { apiVersion: object.apiVersion, kind: object.kind, metadata };
  for (const key of ['spec', 'data', 'binaryData', 'stringData'] as const) {
    if (object[key] !== undefined) out[key] = object[key];
  }
  return out;
}
