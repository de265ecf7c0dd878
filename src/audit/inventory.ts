/**
 * What runs in a cluster, as `audit` sees it: the Pods and the pod templates of the workload
 * controllers, one target per container image. Pure: Kubernetes objects in (as listed), targets
 * out. A Pod or ReplicaSet (or Job) whose controller is listed too and runs the same images is
 * not audited twice: it is reported as covered by that owner. One that runs other images (an old
 * ReplicaSet still scaled up, a Pod of an earlier revision) is audited on its own, its owner named.
 */

/** The workload kinds audited, with where each keeps its pod spec. */
export const WORKLOAD_KINDS = [
  { apiVersion: 'v1', kind: 'Pod', spec: ['spec'] },
  { apiVersion: 'apps/v1', kind: 'Deployment', spec: ['spec', 'template', 'spec'] },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', spec: ['spec', 'template', 'spec'] },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', spec: ['spec', 'template', 'spec'] },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet', spec: ['spec', 'template', 'spec'] },
  { apiVersion: 'batch/v1', kind: 'Job', spec: ['spec', 'template', 'spec'] },
  { apiVersion: 'batch/v1', kind: 'CronJob', spec: ['spec', 'jobTemplate', 'spec', 'template', 'spec'] },
] as const;

export type WorkloadKind = (typeof WORKLOAD_KINDS)[number]['kind'];

/** A listed object, as the API returns it (only these fields are read). */
export interface ListedObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly ownerReferences?: readonly {
      readonly kind?: string;
      readonly name?: string;
      readonly uid?: string;
      readonly controller?: boolean;
    }[];
  };
  readonly spec?: unknown;
}

export type ContainerSource = 'containers' | 'initContainers' | 'ephemeralContainers' | 'volumes';

/** One image of one container of one workload. */
export interface AuditTarget {
  readonly namespace: string;
  /** The object audited: `Deployment/web`, `Pod/debug`. */
  readonly workload: {
    readonly apiVersion: string;
    readonly kind: WorkloadKind;
    readonly name: string;
    readonly uid?: string;
  };
  /** Its controller when that is not audited in its place (`ReplicaSet/web-5d9f`), in words. */
  readonly ownedBy?: string;
  readonly container: string;
  readonly source: ContainerSource;
  /** The image string as written. */
  readonly image: string;
  readonly pullSecretNames: readonly string[];
  readonly serviceAccountName?: string;
}

/** An object not audited because its controller is, with the same images. */
export interface CoveredObject {
  readonly namespace: string;
  readonly object: string;
  readonly coveredBy: string;
}

export interface Inventory {
  readonly targets: readonly AuditTarget[];
  readonly covered: readonly CoveredObject[];
}

interface Entry {
  readonly kind: WorkloadKind;
  readonly apiVersion: string;
  readonly object: ListedObject;
  readonly images: readonly { container: string; source: ContainerSource; image: string }[];
  readonly pullSecretNames: readonly string[];
  readonly serviceAccountName?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function podSpecOf(object: ListedObject, path: readonly string[]): Record<string, unknown> | undefined {
  let at: unknown = object;
  for (const key of path) {
    if (!isRecord(at)) return undefined;
    at = at[key];
  }
  return isRecord(at) ? at : undefined;
}

/** The images of a pod spec, containers first, in spec order (as the webhook reads them). */
export function imagesOfPodSpec(
  spec: Record<string, unknown>,
): { container: string; source: ContainerSource; image: string }[] {
  const out: { container: string; source: ContainerSource; image: string }[] = [];
  for (const source of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    const list = spec[source];
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (!isRecord(c)) continue;
      out.push({
        container: typeof c.name === 'string' ? c.name : '',
        source,
        image: typeof c.image === 'string' ? c.image : '',
      });
    }
  }
  const volumes = spec.volumes;
  if (Array.isArray(volumes)) {
    for (const v of volumes) {
      if (!isRecord(v) || !isRecord(v.image) || typeof v.image.reference !== 'string') continue;
      out.push({ container: typeof v.name === 'string' ? v.name : '', source: 'volumes', image: v.image.reference });
    }
  }
  return out;
}

function pullSecretsOf(spec: Record<string, unknown>): string[] {
  const list = spec.imagePullSecrets;
  if (!Array.isArray(list)) return [];
  return list.flatMap((s) => (isRecord(s) && typeof s.name === 'string' && s.name !== '' ? [s.name] : []));
}

const label = (kind: string, name: string | undefined): string => `${kind}/${name ?? ''}`;
const sameImages = (a: Entry, b: Entry): boolean => {
  const x = a.images.map((i) => i.image).sort();
  const y = b.images.map((i) => i.image).sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

/**
 * The targets of the listed objects (any order, any mix of kinds). Objects of other kinds, or
 * without a name, namespace or pod spec, are ignored.
 */
export function inventory(objects: Iterable<{ kind: WorkloadKind; object: ListedObject }>): Inventory {
  const entries: Entry[] = [];
  const byUid = new Map<string, Entry>();
  for (const { kind, object } of objects) {
    const info = WORKLOAD_KINDS.find((k) => k.kind === kind);
    const name = object.metadata?.name;
    const namespace = object.metadata?.namespace;
    if (info === undefined || name === undefined || namespace === undefined) continue;
    const spec = podSpecOf(object, info.spec);
    if (spec === undefined) continue;
    const sa = spec.serviceAccountName;
    const entry: Entry = {
      kind,
      apiVersion: object.apiVersion ?? info.apiVersion,
      object,
      images: imagesOfPodSpec(spec),
      pullSecretNames: pullSecretsOf(spec),
      ...(typeof sa === 'string' && sa !== '' ? { serviceAccountName: sa } : {}),
    };
    entries.push(entry);
    const uid = object.metadata?.uid;
    if (uid !== undefined) byUid.set(uid, entry);
  }
  const targets: AuditTarget[] = [];
  const covered: CoveredObject[] = [];
  for (const entry of entries) {
    const meta = entry.object.metadata ?? {};
    const namespace = meta.namespace as string;
    const controller = meta.ownerReferences?.find((o) => o.controller === true) ?? meta.ownerReferences?.[0];
    const owner = controller?.uid === undefined ? undefined : byUid.get(controller.uid);
    const self = label(entry.kind, meta.name);
    if (owner !== undefined && sameImages(entry, owner)) {
      covered.push({ namespace, object: self, coveredBy: label(owner.kind, owner.object.metadata?.name) });
      continue;
    }
    // A ReplicaSet scaled to zero is an old revision kept for rollback: nothing of it runs.
    if (entry.kind === 'ReplicaSet' && owner !== undefined && replicasOf(entry.object) === 0) {
      covered.push({
        namespace,
        object: self,
        coveredBy: `${label(owner.kind, owner.object.metadata?.name)} (scaled to 0)`,
      });
      continue;
    }
    const ownedBy = controller === undefined ? undefined : label(controller.kind ?? 'Unknown', controller.name);
    for (const image of entry.images) {
      targets.push({
        namespace,
        workload: {
          apiVersion: entry.apiVersion,
          kind: entry.kind,
          name: meta.name as string,
          ...(meta.uid === undefined ? {} : { uid: meta.uid }),
        },
        ...(ownedBy === undefined ? {} : { ownedBy }),
        container: image.container,
        source: image.source,
        image: image.image,
        pullSecretNames: entry.pullSecretNames,
        ...(entry.serviceAccountName === undefined ? {} : { serviceAccountName: entry.serviceAccountName }),
      });
    }
  }
  const order = (t: { namespace: string }, u: { namespace: string }): number =>
    t.namespace < u.namespace ? -1 : t.namespace > u.namespace ? 1 : 0;
  targets.sort(
    (a, b) => order(a, b) || cmp(`${a.workload.kind}/${a.workload.name}`, `${b.workload.kind}/${b.workload.name}`),
  );
  covered.sort((a, b) => order(a, b) || cmp(a.object, b.object));
  return { targets, covered };
}

function replicasOf(object: ListedObject): number | undefined {
  const spec = object.spec;
  return isRecord(spec) && typeof spec.replicas === 'number' ? spec.replicas : undefined;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
