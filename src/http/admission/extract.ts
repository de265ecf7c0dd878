import { PortcullisError } from '../../errors/index.js';
import type { AdmissionRequestView } from './review.js';
import { describe, isRecord, own } from './review.js';

/**
 * Finds the images an AdmissionReview asks to run: a Pod's spec, or the pod template of a
 * workload controller, across `containers`, `initContainers` and `ephemeralContainers`.
 */

export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';
const LISTS: readonly ContainerList[] = ['containers', 'initContainers', 'ephemeralContainers'];

export interface ContainerImage {
  readonly name: string;
  /** The image string as written; empty when the container has none. */
  readonly image: string;
  readonly list: ContainerList;
  readonly index: number;
  /** JSON Pointer (RFC 6901) of the `image` field in the reviewed object. */
  readonly pointer: string;
}

/** Where the pod spec sits in each handled kind, keyed `group/Kind`, with its JSON Pointer and its name in messages. */
interface SpecPath {
  readonly path: readonly string[];
  readonly pointerBase: string;
  readonly where: string;
}
const specPath = (...path: string[]): SpecPath => ({ path, pointerBase: `/${path.join('/')}`, where: `request.object.${path.join('.')}` });
const TEMPLATE = ['spec', 'template', 'spec'];
const POD_SPEC_PATHS: ReadonlyMap<string, SpecPath> = new Map([
  ['/Pod', specPath('spec')],
  ['/ReplicationController', specPath(...TEMPLATE)],
  ['apps/Deployment', specPath(...TEMPLATE)],
  ['apps/ReplicaSet', specPath(...TEMPLATE)],
  ['apps/StatefulSet', specPath(...TEMPLATE)],
  ['apps/DaemonSet', specPath(...TEMPLATE)],
  ['batch/Job', specPath(...TEMPLATE)],
  ['batch/CronJob', specPath('spec', 'jobTemplate', ...TEMPLATE)],
]);

export const HANDLED_KINDS: readonly string[] = [...POD_SPEC_PATHS.keys()].map((k) => k.replace(/^\//, ''));

export type Extraction =
  | {
      readonly handled: true;
      readonly namespace: string;
      /** Every container of the object, in spec order. */
      readonly containers: readonly ContainerImage[];
      /** The containers whose image must be checked (on UPDATE: only new or changed ones). */
      readonly toCheck: readonly ContainerImage[];
      readonly pullSecretNames: readonly string[];
      /** The pod spec's serviceAccountName (its imagePullSecrets apply when the pod lists none). */
      readonly serviceAccountName: string | undefined;
    }
  | { readonly handled: false; readonly reason: string; readonly warn: boolean };

function invalid(message: string): never {
  throw new PortcullisError('ERR_ADMISSION_INVALID', `malformed AdmissionReview: ${message}`);
}

/** The pod spec of `object` for a handled kind; undefined when the path is absent. Throws on wrong types. */
function podSpec(object: unknown, path: readonly string[], what: string): Record<string, unknown> | undefined {
  let node: unknown = object;
  let where = what;
  for (const key of path) {
    if (!isRecord(node)) invalid(`${where} must be an object, not ${describe(node)}`);
    node = own(node, key);
    where = `${where}.${key}`;
    if (node === undefined || node === null) return undefined;
  }
  if (!isRecord(node)) invalid(`${where} must be an object, not ${describe(node)}`);
  return node;
}

function containersOf(spec: Record<string, unknown> | undefined, pointerBase: string, where: string): ContainerImage[] {
  const out: ContainerImage[] = [];
  if (spec === undefined) return out;
  for (const list of LISTS) {
    const items = own(spec, list);
    if (items === undefined || items === null) continue;
    if (!Array.isArray(items)) invalid(`${where}.${list} must be an array, not ${describe(items)}`);
    items.forEach((item: unknown, index) => {
      if (!isRecord(item)) invalid(`${where}.${list}[${index}] must be an object, not ${describe(item)}`);
      const name = own(item, 'name');
      const image = own(item, 'image');
      if (typeof name !== 'string') invalid(`${where}.${list}[${index}].name must be a string, not ${describe(name)}`);
      if (image !== undefined && image !== null && typeof image !== 'string') {
        invalid(`${where}.${list}[${index}].image must be a string, not ${describe(image)}`);
      }
      out.push({ name, image: typeof image === 'string' ? image : '', list, index, pointer: `${pointerBase}/${list}/${index}/image` });
    });
  }
  return out;
}

function pullSecretNamesOf(spec: Record<string, unknown> | undefined, where: string): string[] {
  const secrets = spec === undefined ? undefined : own(spec, 'imagePullSecrets');
  if (secrets === undefined || secrets === null) return [];
  if (!Array.isArray(secrets)) invalid(`${where}.imagePullSecrets must be an array, not ${describe(secrets)}`);
  const names: string[] = [];
  for (const s of secrets as unknown[]) {
    const name = isRecord(s) ? own(s, 'name') : undefined;
    if (typeof name === 'string' && name !== '' && !names.includes(name)) names.push(name);
  }
  return names;
}

function metadataNamespace(object: unknown): string | undefined {
  const metadata = isRecord(object) ? own(object, 'metadata') : undefined;
  const ns = isRecord(metadata) ? own(metadata, 'namespace') : undefined;
  return typeof ns === 'string' && ns !== '' ? ns : undefined;
}

/**
 * Decides what to check. Throws ERR_ADMISSION_INVALID for a body Kubernetes would never send;
 * throws ERR_UNSUPPORTED_KIND for kinds this webhook does not handle (a configuration mistake);
 * returns `handled: false` for requests that admit nothing new to run (DELETE, CONNECT, other
 * subresources; `warn: true` for the subresources, which the configuration should not send).
 */
export function extractImages(request: AdmissionRequestView): Extraction {
  const key = `${request.kind.group}/${request.kind.kind}`;
  const found = POD_SPEC_PATHS.get(key);
  const shown = request.kind.group === '' ? request.kind.kind : `${request.kind.group}/${request.kind.kind}`;
  if (found === undefined) {
    // A kind no rule of the webhook configuration names: answer with a clear 4xx (the API server
    // then applies the webhook's failurePolicy) instead of pretending it was checked.
    throw new PortcullisError(
      'ERR_UNSUPPORTED_KIND',
      `Portcullis does not check ${shown}${request.subResource === '' ? '' : ` (subresource ${request.subResource})`}; it handles ${HANDLED_KINDS.join(', ')} — fix the webhook configuration's rules`,
    );
  }
  if (request.subResource !== '' && !(key === '/Pod' && request.subResource === 'ephemeralcontainers')) {
    return { handled: false, warn: true, reason: `Portcullis does not check the ${request.subResource} subresource of ${shown}; the webhook configuration should not send it` };
  }
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') {
    return { handled: false, warn: false, reason: `${request.operation} runs no new image` };
  }
  if (!isRecord(request.object)) invalid(`request.object must be an object for ${request.operation}, not ${describe(request.object)}`);
  const { path, pointerBase, where } = found;
  const spec = podSpec(request.object, path, 'request.object');
  const containers = containersOf(spec, pointerBase, where);

  let toCheck: readonly ContainerImage[] = containers;
  if (request.operation === 'UPDATE' && isRecord(request.oldObject)) {
    // An image already running under the same container name was admitted before: re-checking
    // it would deny scale-downs and unrelated edits after a signature rotation.
    let old: ContainerImage[] = [];
    try {
      old = containersOf(podSpec(request.oldObject, path, 'request.oldObject'), pointerBase, 'request.oldObject');
    } catch {
      old = []; // an unreadable old object means everything counts as new
    }
    const oldImages = new Map(old.map((c) => [c.name, c.image]));
    toCheck = containers.filter((c) => oldImages.get(c.name) !== c.image);
  }
  const namespace = request.namespace !== undefined && request.namespace !== '' ? request.namespace : metadataNamespace(request.object);
  if (namespace === undefined) invalid('request.namespace is required for namespaced kinds');
  const serviceAccount = spec === undefined ? undefined : own(spec, 'serviceAccountName');
  const serviceAccountName = typeof serviceAccount === 'string' && serviceAccount !== '' ? serviceAccount : undefined;
  return { handled: true, namespace, containers, toCheck, pullSecretNames: pullSecretNamesOf(spec, where), serviceAccountName };
}
