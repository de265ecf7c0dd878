import { PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { InvalidResource, PolicySnapshot, ResourceId } from '../policyset/index.js';
import { makeClients } from './client.js';
import { KubeRequester } from './requests.js';
import { GROUP, KINDS, TRUST_MATERIAL_LABEL, VERSION, isOurKind, type OurKind, type TrimmedObject } from './objects.js';

/**
 * Writes `status.conditions` (type `Ready`) and `status.observedGeneration` back to every
 * TrustPolicy, ClusterTrustPolicy, TrustStore and ClusterTrustStore:
 * - `Ready=True`, reason `Valid`, when the resource took effect (a policy is among the snapshot's
 *   documents, a store is not in `invalid`);
 * - `Ready=False`, reason `Invalid`, message = the snapshot's one-line reason (never secret
 *   content; a reference to a Secret/ConfigMap that is not found gets a hint about the
 *   `portcullis.dev/trust-material=true` label the source requires).
 *
 * Writes are merge patches of the `/status` subresource (`application/merge-patch+json`, no
 * resourceVersion precondition), made only when the object's current status differs from the
 * desired one (type, status, reason, message, observedGeneration; `lastTransitionTime` changes
 * only when `status` flips), and never twice for the same desired status while the informer has
 * not yet seen the first write. Not-found (deleted meanwhile) and conflicts are ignored; other
 * failures are reported and retried with backoff. Writes are rate-limited (token bucket, `qps`,
 * `burst`: the API request budget), at most `maxInFlight` at once, and queued per object, latest
 * desired status wins, so the queue is bounded by the number of objects.
 *
 * One writer per cluster: a replica writes only while its `Leadership` says it leads (default:
 * always, or never with `enabled: false`). Every replica computes the same status from the same
 * resources and skips the write when the object already shows it, so even two leaders at once
 * (a hand-over) write the same content at most once each (idempotent: only the resourceVersion
 * changes, the Ready condition and its transition time are kept).
 */

export interface StatusApi {
  /** A merge patch of the object's status subresource. Throws errors with `.code` = HTTP status. */
  patchStatus(kind: OurKind, namespace: string | undefined, name: string, patch: StatusPatch): Promise<void>;
  /** Releases connections (stop()). */
  close?(): Promise<void>;
}

export interface ReadyCondition {
  readonly type: 'Ready';
  readonly status: 'True' | 'False';
  readonly reason: 'Valid' | 'Invalid';
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

export interface StatusPatch {
  readonly status: {
    readonly observedGeneration?: number;
    readonly conditions: readonly Record<string, unknown>[];
  };
}

export interface DesiredStatus {
  readonly status: 'True' | 'False';
  readonly reason: 'Valid' | 'Invalid';
  readonly message: string;
  readonly observedGeneration?: number;
}

export const MAX_MESSAGE_LENGTH = 4096;

/** The status writer's defaults (status-writer.ts): the API request budget and the writes in flight. */
export const DEFAULT_STATUS_QPS = 200;
export const DEFAULT_STATUS_BURST = 400;
export const DEFAULT_STATUS_MAX_IN_FLIGHT = 16;

export const objectKey = (object: TrimmedObject): string =>
  keyOf({ kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name });

const keyOf = (id: { kind: string; namespace?: string | undefined; name: string }): string =>
  `${id.kind}\u0000${id.namespace ?? ''}\u0000${id.name}`;

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const indexes = new WeakMap<PolicySnapshot, { invalid: Map<string, InvalidResource[]>; documents: Set<string> }>();

function indexOf(snapshot: PolicySnapshot): { invalid: Map<string, InvalidResource[]>; documents: Set<string> } {
  let index = indexes.get(snapshot);
  if (index === undefined) {
    const invalid = new Map<string, InvalidResource[]>();
    for (const entry of snapshot.invalid) {
      const key = keyOf(entry.id);
      invalid.set(key, [...(invalid.get(key) ?? []), entry]);
    }
    index = { invalid, documents: new Set(snapshot.documents.map((d) => keyOf(d.id))) };
    indexes.set(snapshot, index);
  }
  return index;
}

/** Adds the label hint to a "not found" Secret/ConfigMap reference. */
export function statusMessage(reason: string): string {
  let message = reason;
  if (/(Secret|ConfigMap) \S+ not found/.test(reason)) {
    message += ` (Portcullis reads only Secrets and ConfigMaps labelled ${TRUST_MATERIAL_LABEL}=true)`;
  }
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : message;
}

/**
 * The Ready condition an object should show under a snapshot; undefined when the snapshot says
 * nothing about it (e.g. a policy beyond the object-count limit, which was not read).
 */
export function desiredStatus(snapshot: PolicySnapshot, object: TrimmedObject): DesiredStatus | undefined {
  if (!isOurKind(object.kind)) return undefined;
  const id: ResourceId = {
    kind: object.kind,
    name: object.metadata.name,
    ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }),
  };
  const index = indexOf(snapshot);
  const generation = object.metadata.generation === undefined ? {} : { observedGeneration: object.metadata.generation };
  const problems = index.invalid.get(keyOf(id));
  if (problems !== undefined && problems.length > 0) {
    return {
      status: 'False',
      reason: 'Invalid',
      message: statusMessage(problems.map((p) => p.reason).join('; ')),
      ...generation,
    };
  }
  if (object.kind === 'TrustPolicy' || object.kind === 'ClusterTrustPolicy') {
    if (!index.documents.has(keyOf(id))) return undefined;
    return { status: 'True', reason: 'Valid', message: `the ${object.kind} is valid and in force`, ...generation };
  }
  return { status: 'True', reason: 'Valid', message: `the ${object.kind} is valid`, ...generation };
}

function readyOf(status: unknown): { ready: Obj | undefined; others: Obj[]; observedGeneration: unknown } {
  if (!isObject(status)) return { ready: undefined, others: [], observedGeneration: undefined };
  const conditions = Array.isArray(status['conditions']) ? status['conditions'].filter(isObject) : [];
  return {
    ready: conditions.find((c) => c['type'] === 'Ready'),
    others: conditions.filter((c) => c['type'] !== 'Ready'),
    observedGeneration: status['observedGeneration'],
  };
}

/** RFC 3339 with seconds, as metav1.Time serialises. */
export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The merge patch that brings the object's status to `desired`, or undefined when it already shows it. */
export function statusPatch(object: TrimmedObject, desired: DesiredStatus, now: number): StatusPatch | undefined {
  const { ready, others, observedGeneration } = readyOf(object.status);
  const upToDate =
    ready !== undefined &&
    ready['status'] === desired.status &&
    ready['reason'] === desired.reason &&
    ready['message'] === desired.message &&
    ready['observedGeneration'] === desired.observedGeneration &&
    observedGeneration === desired.observedGeneration;
  if (upToDate) return undefined;
  const lastTransitionTime =
    ready !== undefined && ready['status'] === desired.status && typeof ready['lastTransitionTime'] === 'string'
      ? ready['lastTransitionTime']
      : formatTime(now);
  const condition: ReadyCondition = { type: 'Ready', ...desired, lastTransitionTime };
  return {
    status: {
      ...(desired.observedGeneration === undefined ? {} : { observedGeneration: desired.observedGeneration }),
      conditions: [...others, { ...condition }],
    },
  };
}

/**
 * The status subresource as a JSON merge patch: over one kept-alive pool (KubeRequester), or
 * through CustomObjectsApi when the kubeconfig names a proxy.
 */
export function kubeStatusApi(kubeConfig: KubeConfig, connections = DEFAULT_STATUS_MAX_IN_FLIGHT): StatusApi {
  if (KubeRequester.supports(kubeConfig)) {
    const requester = new KubeRequester(kubeConfig, { connections });
    return {
      async patchStatus(kind, namespace, name, patch) {
        const plural = KINDS[kind].plural;
        const path =
          namespace === undefined
            ? `/apis/${GROUP}/${VERSION}/${plural}/${encodeURIComponent(name)}/status`
            : `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${plural}/${encodeURIComponent(name)}/status`;
        await requester.send('PATCH', path, patch, 'application/merge-patch+json', { discard: true });
      },
      close: () => requester.close(),
    };
  }
  const { custom } = makeClients(kubeConfig);
  const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  return {
    async patchStatus(kind, namespace, name, patch) {
      const plural = KINDS[kind].plural;
      if (namespace === undefined) {
        await custom.patchClusterCustomObjectStatus(
          { group: GROUP, version: VERSION, plural, name, body: patch },
          options,
        );
      } else {
        await custom.patchNamespacedCustomObjectStatus(
          { group: GROUP, version: VERSION, namespace, plural, name, body: patch },
          options,
        );
      }
    },
  };
}
