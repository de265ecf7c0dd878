import {
  evaluate,
  inventory,
  WORKLOAD_KINDS,
  type AuditRow,
  type AuditVerifier,
  type CoveredObject,
  type ListedObject,
  type WorkloadKind,
} from '../audit/index.js';
import type { PagedLister } from '../kube/index.js';
import type { PolicySnapshot } from '../policyset/index.js';

/**
 * One audit: list what runs (paged), decide every image with the webhook's engine, return the
 * rows. Shared by `portcullis audit` and the server's background audit.
 */
export interface AuditScope {
  /** One namespace (`-n`). */
  readonly namespace?: string;
  /** Every namespace, covered by a policy or not (`--all-namespaces`). */
  readonly allNamespaces?: boolean;
}

export interface AuditRunOptions {
  readonly lister: PagedLister;
  readonly verifier: AuditVerifier;
  readonly snapshot: PolicySnapshot;
  readonly scope: AuditScope;
  readonly perImageTimeoutMs: number;
  readonly concurrency: number;
  readonly pageSize: number;
  readonly now: () => number;
  readonly onProgress?: (phase: 'listing' | 'verifying', done: number, total: number) => void;
}

export interface AuditRunResult {
  readonly rows: readonly AuditRow[];
  readonly covered: readonly CoveredObject[];
  /** The namespaces audited (a report each, empty or not). */
  readonly namespaces: readonly string[];
}

const API_VERSIONS: Readonly<Record<WorkloadKind, readonly string[]>> = {
  Pod: ['v1'],
  Deployment: ['apps/v1'],
  StatefulSet: ['apps/v1'],
  DaemonSet: ['apps/v1'],
  ReplicaSet: ['apps/v1'],
  Job: ['batch/v1'],
  // batch/v1 since Kubernetes 1.21; batch/v1beta1 before.
  CronJob: ['batch/v1', 'batch/v1beta1'],
};

/** Whether any policy (valid or invalid) covers the namespace: the audit's default scope. */
export function coveredByPolicy(snapshot: PolicySnapshot, namespace: string): boolean {
  return snapshot.documentsFor(namespace).length > 0 || snapshot.invalidFor(namespace).length > 0;
}

/**
 * What the inventory reads of a listed object: its name, namespace, uid and owners, and its spec.
 * The rest (status, managedFields, annotations: most of an object's bytes) is not kept while the
 * other pages are listed.
 */
function trimmed(object: ListedObject): ListedObject {
  const m = object.metadata ?? {};
  return {
    ...(object.apiVersion === undefined ? {} : { apiVersion: object.apiVersion }),
    ...(object.kind === undefined ? {} : { kind: object.kind }),
    metadata: {
      ...(m.name === undefined ? {} : { name: m.name }),
      ...(m.namespace === undefined ? {} : { namespace: m.namespace }),
      ...(m.uid === undefined ? {} : { uid: m.uid }),
      ...(m.ownerReferences === undefined ? {} : { ownerReferences: m.ownerReferences }),
    },
    spec: object.spec,
  };
}

export async function runAudit(options: AuditRunOptions): Promise<AuditRunResult> {
  const { lister, scope, snapshot } = options;
  const listNamespace = scope.namespace;
  let namespaces: string[];
  if (listNamespace !== undefined) namespaces = [listNamespace];
  else {
    namespaces = [];
    for await (const ns of lister.list({ apiVersions: ['v1'], kind: 'Namespace', pageSize: options.pageSize })) {
      const name = ns.metadata?.name;
      if (name !== undefined && (scope.allNamespaces === true || coveredByPolicy(snapshot, name)))
        namespaces.push(name);
    }
  }
  const wanted = new Set(namespaces);
  const objects: { kind: WorkloadKind; object: ListedObject }[] = [];
  let listed = 0;
  for (const { kind } of WORKLOAD_KINDS) {
    for await (const object of lister.list({
      apiVersions: API_VERSIONS[kind],
      kind,
      ...(listNamespace === undefined ? {} : { namespace: listNamespace }),
      pageSize: options.pageSize,
    })) {
      options.onProgress?.('listing', ++listed, 0);
      if (!wanted.has(object.metadata?.namespace ?? '')) continue;
      objects.push({ kind, object: trimmed(object as ListedObject) });
    }
  }
  const { targets, covered } = inventory(objects);
  const rows = await evaluate(targets, {
    verifier: options.verifier,
    perImageTimeoutMs: options.perImageTimeoutMs,
    concurrency: options.concurrency,
    now: options.now,
    onProgress: (done, total) => options.onProgress?.('verifying', done, total),
  });
  return { rows, covered, namespaces: namespaces.sort() };
}
