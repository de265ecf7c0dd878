import { PortcullisError } from '../../errors/index.js';
import { type AdmissionRequestView, describe, isRecord, own, resourceOf } from './review.js';

/**
 * Finds the images an AdmissionReview asks to run: a Pod's spec, or the pod template of a
 * workload controller, across `containers`, `initContainers`, `ephemeralContainers` and image
 * volumes (`volumes[].image.reference`, the ImageVolume feature of Kubernetes 1.31+, which pulls
 * an OCI image or artifact onto the node); and the ephemeral containers of the
 * `EphemeralContainers` kind that Kubernetes 1.20-1.21 send for `pods/ephemeralcontainers`.
 *
 * What it does not handle — another kind, DELETE or CONNECT, another subresource — is a
 * webhook configuration that sends more than it should: such a request is allowed unchecked,
 * with a warning naming the rule to fix (a webhook must never block what it does not
 * understand). Only a body Kubernetes would never send is an error (400).
 */

export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';
/** Where an image comes from: a container list, or the pod's image volumes. */
export type ImageSource = ContainerList | 'volumes';
const LISTS: readonly ContainerList[] = ['containers', 'initContainers', 'ephemeralContainers'];

export interface ContainerImage {
  /** The container's (or, for `volumes`, the volume's) name. */
  readonly name: string;
  /** The image string as written; empty when none is written. */
  readonly image: string;
  readonly list: ImageSource;
  readonly index: number;
  /** JSON Pointer (RFC 6901) of the image string in the reviewed object. */
  readonly pointer: string;
}

/** Where the pod spec sits in each handled kind, keyed `group/Kind`, with its JSON Pointer and its name in messages. */
interface SpecPath {
  readonly path: readonly string[];
  readonly pointerBase: string;
  readonly where: string;
  /** The lists read there (the 1.20 EphemeralContainers object has only its ephemeral containers). */
  readonly lists: readonly ContainerList[];
  readonly volumes: boolean;
}
const specPath = (...path: string[]): SpecPath => ({
  path,
  pointerBase: path.length === 0 ? '' : `/${path.join('/')}`,
  where: ['request.object', ...path].join('.'),
  lists: LISTS,
  volumes: true,
});
const TEMPLATE = ['spec', 'template', 'spec'];
const EPHEMERAL_CONTAINERS_KIND: SpecPath = { ...specPath(), lists: ['ephemeralContainers'], volumes: false };
const POD_SPEC_PATHS: ReadonlyMap<string, SpecPath> = new Map([
  ['/Pod', specPath('spec')],
  // Kubernetes 1.20-1.21: `pods/ephemeralcontainers` carries this kind, with the list at the top.
  ['/EphemeralContainers', EPHEMERAL_CONTAINERS_KIND],
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
      /** Every image of the object (containers, then image volumes), in spec order. */
      readonly containers: readonly ContainerImage[];
      /** The images that must be checked (on UPDATE: only new or changed ones). */
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

function imagesOf(spec: Record<string, unknown> | undefined, at: SpecPath, where: string): ContainerImage[] {
  const out: ContainerImage[] = [];
  if (spec === undefined) return out;
  const { pointerBase } = at;
  for (const list of at.lists) {
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
      out.push({
        name,
        image: typeof image === 'string' ? image : '',
        list,
        index,
        pointer: `${pointerBase}/${list}/${index}/image`,
      });
    });
  }
  if (at.volumes) {
    const volumes = own(spec, 'volumes');
    if (volumes !== undefined && volumes !== null) imageVolumesOf(volumes, pointerBase, where, out);
  }
  return out;
}

/** Adds `volumes[].image.reference` (core/v1 ImageVolumeSource) to `out`; volumes of other types are not images. */
function imageVolumesOf(volumes: unknown, pointerBase: string, where: string, out: ContainerImage[]): void {
  if (!Array.isArray(volumes)) invalid(`${where}.volumes must be an array, not ${describe(volumes)}`);
  volumes.forEach((volume: unknown, index) => {
    if (!isRecord(volume)) invalid(`${where}.volumes[${index}] must be an object, not ${describe(volume)}`);
    const source = own(volume, 'image');
    if (source === undefined || source === null) return;
    if (!isRecord(source)) invalid(`${where}.volumes[${index}].image must be an object, not ${describe(source)}`);
    const name = own(volume, 'name');
    if (typeof name !== 'string') invalid(`${where}.volumes[${index}].name must be a string, not ${describe(name)}`);
    const reference = own(source, 'reference');
    if (reference !== undefined && reference !== null && typeof reference !== 'string') {
      invalid(`${where}.volumes[${index}].image.reference must be a string, not ${describe(reference)}`);
    }
    out.push({
      name,
      image: typeof reference === 'string' ? reference : '',
      list: 'volumes',
      index,
      pointer: `${pointerBase}/volumes/${index}/image/reference`,
    });
  });
}

function pullSecretNamesOf(spec: Record<string, unknown> | undefined, where: string): string[] {
  const secrets = spec === undefined ? undefined : own(spec, 'imagePullSecrets');
  if (secrets === undefined || secrets === null) return [];
  if (!Array.isArray(secrets)) invalid(`${where}.imagePullSecrets must be an array, not ${describe(secrets)}`);
  // A Set: the list is as long as the pod creator makes it (linear, never quadratic, in its length).
  const names = new Set<string>();
  for (const s of secrets as unknown[]) {
    const name = isRecord(s) ? own(s, 'name') : undefined;
    if (typeof name === 'string' && name !== '') names.add(name);
  }
  return [...names];
}

function metadataNamespace(object: unknown): string | undefined {
  const metadata = isRecord(object) ? own(object, 'metadata') : undefined;
  const ns = isRecord(metadata) ? own(metadata, 'namespace') : undefined;
  return typeof ns === 'string' && ns !== '' ? ns : undefined;
}

/** Kubernetes' 63-character resource and group names, for messages; anything else is shown cut. */
function shown(s: string): string {
  return s.length > 63 ? `${s.slice(0, 63)}…` : s;
}

/** A request Portcullis does not check, allowed with a warning that says which webhook rule sends it. */
function unhandled(reason: string): Extraction {
  return { handled: false, warn: true, reason };
}

/**
 * Decides what to check. Throws ERR_ADMISSION_INVALID for a body Kubernetes would never send;
 * returns `handled: false` (with a warning) for what this webhook does not check.
 */
export function extractImages(request: AdmissionRequestView): Extraction {
  const key = `${request.kind.group}/${request.kind.kind}`;
  const found = POD_SPEC_PATHS.get(key);
  const operation = request.operation;
  const ephemeral = request.subResource === 'ephemeralcontainers' && (key === '/Pod' || key === '/EphemeralContainers');
  if (
    (operation !== 'CREATE' && operation !== 'UPDATE') ||
    found === undefined ||
    (request.subResource !== '' && !ephemeral)
  ) {
    const gvr = resourceOf(request);
    const resource = shown(gvr.resource);
    const group = gvr.group === '' ? 'core' : shown(gvr.group);
    const rule = request.subResource === '' ? resource : `${resource}/${shown(request.subResource)}`;
    if (operation !== 'CREATE' && operation !== 'UPDATE') {
      return unhandled(
        `Portcullis checks only CREATE and UPDATE, not ${shown(operation)} of ${rule}; allowed unchecked. Fix the webhook configuration: remove ${shown(operation)} from its rule for ${rule} (group ${group})`,
      );
    }
    if (found === undefined) {
      return unhandled(
        `Portcullis does not check ${shown(request.kind.kind)} (${rule}, group ${group}); allowed unchecked. Fix the webhook configuration: remove ${rule} from its rules`,
      );
    }
    return unhandled(
      `Portcullis does not check the ${shown(request.subResource)} subresource (${rule}, group ${group}); allowed unchecked. Fix the webhook configuration: remove ${rule} from its rules`,
    );
  }
  if (!isRecord(request.object))
    invalid(`request.object must be an object for ${request.operation}, not ${describe(request.object)}`);
  const spec = podSpec(request.object, found.path, 'request.object');
  const containers = imagesOf(spec, found, found.where);

  let toCheck: readonly ContainerImage[] = containers;
  if (request.operation === 'UPDATE' && isRecord(request.oldObject)) {
    // An image already running under the same container (or volume) name was admitted before:
    // re-checking it would deny scale-downs and unrelated edits after a signature rotation.
    let old: ContainerImage[] = [];
    try {
      old = imagesOf(podSpec(request.oldObject, found.path, 'request.oldObject'), found, 'request.oldObject');
    } catch {
      old = []; // an unreadable old object means everything counts as new
    }
    const slot = (c: ContainerImage): string => `${c.list === 'volumes' ? 'v' : 'c'}:${c.name}`;
    const oldImages = new Map(old.map((c) => [slot(c), c.image]));
    toCheck = containers.filter((c) => oldImages.get(slot(c)) !== c.image);
  }
  const namespace =
    request.namespace !== undefined && request.namespace !== '' ? request.namespace : metadataNamespace(request.object);
  if (namespace === undefined) invalid('request.namespace is required for namespaced kinds');
  const serviceAccount = spec === undefined ? undefined : own(spec, 'serviceAccountName');
  const serviceAccountName = typeof serviceAccount === 'string' && serviceAccount !== '' ? serviceAccount : undefined;
  return {
    handled: true,
    namespace,
    containers,
    toCheck,
    pullSecretNames: pullSecretNamesOf(spec, found.where),
    serviceAccountName,
  };
}
