import { isPortcullisError } from '../errors/index.js';
import type { ErrorCode } from '../errors/codes.js';
import { loadTrustPolicy } from '../policy/index.js';
import type { TrustPolicy } from '../policy/types.js';
import { sha256Hex } from '../util/digest.js';
import { parseLabelSelector } from './selector.js';
import { parseStatementOptions, type StatementOptions } from './statement-options.js';
import type {
  BlockScope,
  EnforcementAction,
  InvalidResource,
  LabelSelector,
  PolicyKind,
  ResourceId,
  StoreKind,
  TrustStoreType,
} from './types.js';

/**
 * Turns resource objects (plain JS values as YAML parsing or the Kubernetes API produce them)
 * into typed resources, checking each on its own. Cross-resource checks (store resolution,
 * Secret and ConfigMap references, duplicates) are build.ts's job.
 */

export const GROUP = 'portcullis.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const POLICY_KINDS: readonly PolicyKind[] = ['TrustPolicy', 'ClusterTrustPolicy'];
export const STORE_KINDS: readonly StoreKind[] = ['TrustStore', 'ClusterTrustStore'];
export const ENFORCEMENT_ACTIONS: readonly EnforcementAction[] = ['deny', 'warn', 'dryrun'];
export const TRUST_STORE_TYPES: readonly TrustStoreType[] = ['ca', 'signingAuthority', 'tsa'];
/** The label the API server puts on every namespace. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface PolicyResource {
  readonly kind: PolicyKind;
  readonly id: ResourceId & { readonly kind: PolicyKind };
  readonly generation: number;
  readonly enforcementAction: EnforcementAction;
  readonly policy: TrustPolicy;
  readonly namespaceSelector?: LabelSelector;
  /** `spec.statementOptions`: Portcullis' requirements per statement (statement-options.ts). */
  readonly statementOptions?: StatementOptions;
}

export interface CertificateRef {
  readonly kind: 'Secret' | 'ConfigMap';
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
}

export interface StoreResource {
  readonly kind: StoreKind;
  readonly id: ResourceId & { readonly kind: StoreKind };
  readonly type: TrustStoreType;
  /** Inline PEM texts, in order. */
  readonly certificates: readonly string[];
  readonly certificateRefs: readonly CertificateRef[];
}

/** One key of a Secret or ConfigMap, still encoded (decoded only when a store references it). */
export interface DataEntry {
  readonly encoding: 'base64' | 'text';
  readonly value: string;
}

export interface DataResource {
  readonly kind: 'Secret' | 'ConfigMap';
  readonly id: ResourceId & { readonly kind: 'Secret' | 'ConfigMap' };
  readonly entries: ReadonlyMap<string, DataEntry>;
}

export interface NamespaceResource {
  readonly kind: 'Namespace';
  readonly id: ResourceId & { readonly kind: 'Namespace' };
  readonly labels: Readonly<Record<string, string>>;
}

export type Resource = PolicyResource | StoreResource | DataResource | NamespaceResource;

export type ParseOutcome =
  | { readonly outcome: 'ignored' }
  | { readonly outcome: 'resource'; readonly resource: Resource; readonly fingerprint: string }
  /** `id` is known well enough to detect duplicates when `keyed` (kind, namespace and name were read). */
  | {
      readonly outcome: 'invalid';
      readonly invalid: InvalidResource;
      readonly keyed: boolean;
      readonly fingerprint: string;
    };

export interface ParseOptions {
  /** Namespace of namespaced resources that name none (kubectl uses its context's, usually `default`). */
  readonly defaultNamespace: string;
  readonly source?: string;
}

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// RFC 1123 subdomain (object names) and label (namespace names), as the API server checks them.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Canonical JSON (sorted keys): equal objects give equal strings. Throws on cycles. */
export function canonicalJson(value: unknown): string {
  const seen = new Set<unknown>();
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v) || isObject(v)) {
      if (seen.has(v)) throw new TypeError('the object contains a cycle (recursive YAML alias)');
      seen.add(v);
      const out = Array.isArray(v)
        ? v.map(walk)
        : Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, walk(v[k])]),
          );
      seen.delete(v);
      return out;
    }
    return v;
  };
  return JSON.stringify(walk(value)) ?? 'undefined';
}

function fingerprintOf(value: unknown): string {
  try {
    return sha256Hex(new TextEncoder().encode(canonicalJson(value)));
  } catch {
    return 'unhashable';
  }
}

class ResourceError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode = 'ERR_RESOURCE_INVALID',
  ) {
    super(message);
  }
}

function fail(message: string, code?: ErrorCode): never {
  throw new ResourceError(message, code);
}

function allowOnly(object: Obj, keys: readonly string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (!keys.includes(key)) fail(`${where} has unknown field ${JSON.stringify(key)} (allowed: ${keys.join(', ')})`);
  }
}

function optionalString(object: Obj, key: string, where: string): string | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail(`${where}.${key} must be a string`);
  return value;
}

function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) fail(`${where} must be a map of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`${where}.${k} must be a string (quote values such as "true" or 1)`);
    out[k] = v;
  }
  return out;
}

/** The parts of metadata Portcullis reads; name and namespace are checked by the caller. */
interface Header {
  readonly apiVersion: string | undefined;
  readonly kind: string | undefined;
  readonly metadata: Obj;
  readonly name: string | undefined;
  readonly namespace: string | undefined;
}

function readHeader(object: Obj): Header {
  const apiVersion = typeof object['apiVersion'] === 'string' ? object['apiVersion'] : undefined;
  const kind = typeof object['kind'] === 'string' ? object['kind'] : undefined;
  const metadata = isObject(object['metadata']) ? object['metadata'] : {};
  const name = typeof metadata['name'] === 'string' && metadata['name'] !== '' ? metadata['name'] : undefined;
  const namespace =
    typeof metadata['namespace'] === 'string' && metadata['namespace'] !== '' ? metadata['namespace'] : undefined;
  return { apiVersion, kind, metadata, name, namespace };
}

type KnownKind = PolicyKind | StoreKind;
const OUR_KINDS: readonly string[] = [...POLICY_KINDS, ...STORE_KINDS];
const NAMESPACED: ReadonlySet<string> = new Set(['TrustPolicy', 'TrustStore', 'Secret', 'ConfigMap']);

/**
 * Parses one resource object. Objects of other groups and kinds (Deployments, ...) are
 * `ignored`; v1 Secret, ConfigMap and Namespace are read as inputs of trust stores and
 * selectors; portcullis.dev objects are validated fully.
 */
export function parseResource(value: unknown, options: ParseOptions): ParseOutcome {
  const fingerprint = fingerprintOf(value);
  const source = options.source === undefined ? {} : { source: options.source };
  if (!isObject(value)) {
    return {
      outcome: 'invalid',
      keyed: false,
      fingerprint,
      invalid: {
        id: { kind: 'Unknown', name: '<document>' },
        reason: 'a manifest document is not an object',
        code: 'ERR_RESOURCE_INVALID',
        ...source,
      },
    };
  }
  const header = readHeader(value);
  const { apiVersion, kind } = header;
  // `v1` is the core group (''); a bare `portcullis.dev` is our group without a version.
  const group =
    apiVersion === undefined
      ? undefined
      : apiVersion.includes('/')
        ? apiVersion.slice(0, apiVersion.indexOf('/'))
        : apiVersion === GROUP
          ? GROUP
          : '';

  // Which of ours is it? Kinds of other named groups are not ours even when their names
  // collide; our kinds with no apiVersion or in the core group are ours, written wrongly.
  let ours: KnownKind | 'unknown-ours' | undefined;
  if (group === GROUP) ours = kind !== undefined && OUR_KINDS.includes(kind) ? (kind as KnownKind) : 'unknown-ours';
  else if ((group === undefined || group === '') && kind !== undefined && OUR_KINDS.includes(kind))
    ours = kind as KnownKind;
  const core =
    apiVersion === 'v1' && (kind === 'Secret' || kind === 'ConfigMap' || kind === 'Namespace') ? kind : undefined;
  if (ours === undefined && core === undefined) {
    if (apiVersion === undefined || kind === undefined) {
      // kubectl rejects such a document; it cannot be told apart from a broken policy, but it
      // cannot be attributed to a namespace either, so it is reported without blocking.
      return {
        outcome: 'invalid',
        keyed: false,
        fingerprint,
        invalid: {
          id: { kind: 'Unknown', name: header.name ?? '<unnamed>' },
          reason: `a manifest document has no ${apiVersion === undefined ? 'apiVersion' : 'kind'}`,
          code: 'ERR_RESOURCE_INVALID',
          ...source,
        },
      };
    }
    return { outcome: 'ignored' };
  }

  if (ours === 'unknown-ours') {
    return {
      outcome: 'invalid',
      keyed: false,
      fingerprint,
      invalid: {
        id: {
          kind: 'Unknown',
          name: header.name ?? '<unnamed>',
          ...(header.namespace === undefined ? {} : { namespace: header.namespace }),
        },
        reason: `unknown kind ${JSON.stringify(kind)} in ${apiVersion} (known: ${OUR_KINDS.join(', ')})`,
        code: 'ERR_RESOURCE_INVALID',
        ...source,
      },
    };
  }

  const k = (ours ?? core) as KnownKind | 'Secret' | 'ConfigMap' | 'Namespace';
  const namespaced = NAMESPACED.has(k);
  const namespace = namespaced ? (header.namespace ?? options.defaultNamespace) : undefined;
  const name = header.name;
  const id: ResourceId = { kind: k, name: name ?? '<unnamed>', ...(namespace === undefined ? {} : { namespace }) };

  // Scope and action of a policy, read as far as possible so an invalid policy still blocks
  // the right namespaces with the right action.
  let blocks: BlockScope | undefined;
  let action: EnforcementAction = 'deny';
  if (k === 'TrustPolicy') blocks = { kind: 'namespace', namespace: namespace as string };
  if (k === 'ClusterTrustPolicy') blocks = { kind: 'all' };
  if (k === 'Namespace' && name !== undefined) blocks = { kind: 'namespace', namespace: name };
  if (k === 'TrustPolicy' || k === 'ClusterTrustPolicy') {
    const spec = isObject(value['spec']) ? value['spec'] : {};
    const written = spec['enforcementAction'];
    if (typeof written === 'string' && (ENFORCEMENT_ACTIONS as readonly string[]).includes(written))
      action = written as EnforcementAction;
    if (k === 'ClusterTrustPolicy') {
      const selector = spec['namespaceSelector'];
      if (selector !== undefined && selector !== null) {
        const parsed = parseLabelSelector(selector, 'spec.namespaceSelector');
        if ('selector' in parsed) blocks = { kind: 'selector', selector: parsed.selector };
      }
    }
  }
  const invalid = (reason: string, code: ErrorCode = 'ERR_RESOURCE_INVALID'): ParseOutcome => ({
    outcome: 'invalid',
    keyed: name !== undefined,
    fingerprint,
    invalid: {
      id,
      reason,
      code,
      ...source,
      ...(blocks === undefined ? {} : { blocks, enforcementAction: action }),
    },
  });

  try {
    if (apiVersion === undefined) fail(`apiVersion is missing (want ${API_VERSION})`);
    if (ours !== undefined && apiVersion !== API_VERSION)
      fail(`unsupported apiVersion ${JSON.stringify(apiVersion)} for ${k} (want ${API_VERSION})`);
    if (!isObject(value['metadata'])) fail('metadata is missing');
    if (name === undefined) fail('metadata.name is missing');
    if (
      k === 'Namespace' ? !DNS_LABEL.test(name) || name.length > 63 : !DNS_SUBDOMAIN.test(name) || name.length > 253
    ) {
      fail(`metadata.name ${JSON.stringify(name)} is not a valid Kubernetes name`);
    }
    if (namespace !== undefined && (!DNS_LABEL.test(namespace) || namespace.length > 63)) {
      fail(`metadata.namespace ${JSON.stringify(namespace)} is not a valid namespace name`);
    }
    const resource = readBody(k, id, header, value);
    return { outcome: 'resource', resource, fingerprint };
  } catch (error) {
    if (error instanceof ResourceError) return invalid(error.message, error.code);
    if (isPortcullisError(error)) return invalid(error.message, error.code);
    throw error;
  }
}

function generationOf(metadata: Obj, object: Obj): number {
  const generation = metadata['generation'];
  if (typeof generation === 'number' && Number.isSafeInteger(generation) && generation > 0) return generation;
  // Directory mode: 48 bits of the content hash (a safe integer).
  return Number.parseInt(fingerprintOf(object).slice(0, 12), 16) || 0;
}

function readBody(
  kind: KnownKind | 'Secret' | 'ConfigMap' | 'Namespace',
  id: ResourceId,
  header: Header,
  object: Obj,
): Resource {
  switch (kind) {
    case 'TrustPolicy':
    case 'ClusterTrustPolicy':
      return readPolicy(kind, id as ResourceId & { kind: PolicyKind }, header, object);
    case 'TrustStore':
    case 'ClusterTrustStore':
      return readStore(kind, id as ResourceId & { kind: StoreKind }, object);
    case 'Secret':
    case 'ConfigMap':
      return readData(kind, id as ResourceId & { kind: 'Secret' | 'ConfigMap' }, object);
    case 'Namespace': {
      const labels = stringMap(header.metadata['labels'], 'metadata.labels');
      labels[NAMESPACE_NAME_LABEL] = id.name;
      return { kind, id: id as ResourceId & { kind: 'Namespace' }, labels: Object.freeze(labels) };
    }
  }
}

function readPolicy(
  kind: PolicyKind,
  id: ResourceId & { kind: PolicyKind },
  header: Header,
  object: Obj,
): PolicyResource {
  const spec = object['spec'];
  if (!isObject(spec)) fail('spec is missing or not an object');
  const allowed = [
    'version',
    'trustPolicies',
    'enforcementAction',
    'statementOptions',
    ...(kind === 'ClusterTrustPolicy' ? ['namespaceSelector'] : []),
  ];
  const writtenAction = spec['enforcementAction'];
  let enforcementAction: EnforcementAction = 'deny';
  if (writtenAction !== undefined && writtenAction !== null) {
    if (typeof writtenAction !== 'string' || !(ENFORCEMENT_ACTIONS as readonly string[]).includes(writtenAction)) {
      fail(`spec.enforcementAction ${JSON.stringify(writtenAction)} is not one of deny, warn, dryrun`);
    }
    enforcementAction = writtenAction as EnforcementAction;
  }
  let namespaceSelector: LabelSelector | undefined;
  if (kind === 'ClusterTrustPolicy' && spec['namespaceSelector'] !== undefined && spec['namespaceSelector'] !== null) {
    const parsed = parseLabelSelector(spec['namespaceSelector'], 'spec.namespaceSelector');
    if ('error' in parsed) fail(parsed.error);
    namespaceSelector = parsed.selector;
  }
  if (kind === 'TrustPolicy' && spec['namespaceSelector'] !== undefined) {
    fail('spec.namespaceSelector is only allowed in a ClusterTrustPolicy (a TrustPolicy covers its own namespace)');
  }
  allowOnly(spec, allowed, 'spec');
  // The Notary document is decoded exactly as trustpolicy.oci.json text is: same rules, same messages.
  let text: string;
  try {
    text = JSON.stringify({ version: spec['version'], trustPolicies: spec['trustPolicies'] });
  } catch (cause) {
    fail(`spec cannot be read as a trust policy document: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  let policy: TrustPolicy;
  try {
    policy = loadTrustPolicy(text);
  } catch (error) {
    if (isPortcullisError(error)) {
      const statement =
        error.context.policy === undefined ? '' : ` (statement ${JSON.stringify(error.context.policy)})`;
      fail(`invalid trust policy${statement}: ${error.message}`, error.code);
    }
    throw error;
  }
  const statementOptions = parseStatementOptions(spec['statementOptions'], policy);
  return Object.freeze({
    kind,
    id: Object.freeze(id),
    generation: generationOf(header.metadata, object),
    enforcementAction,
    policy,
    ...(namespaceSelector === undefined ? {} : { namespaceSelector }),
    ...(statementOptions.size === 0 ? {} : { statementOptions }),
  });
}

function readStore(kind: StoreKind, id: ResourceId & { kind: StoreKind }, object: Obj): StoreResource {
  const spec = object['spec'];
  if (!isObject(spec)) fail('spec is missing or not an object');
  allowOnly(spec, ['type', 'certificates', 'certificateRefs'], 'spec');
  const type = spec['type'];
  if (typeof type !== 'string' || !(TRUST_STORE_TYPES as readonly string[]).includes(type)) {
    fail(`spec.type ${JSON.stringify(type ?? null)} is not one of ca, signingAuthority, tsa`);
  }
  const written = spec['certificates'];
  let certificates: string[] = [];
  if (typeof written === 'string') certificates = [written];
  else if (Array.isArray(written)) {
    certificates = written.map((item, i) => {
      if (typeof item !== 'string') fail(`spec.certificates[${i}] must be a PEM string`);
      return item;
    });
  } else if (written !== undefined && written !== null)
    fail('spec.certificates must be a PEM string or a list of PEM strings');

  const refs = spec['certificateRefs'];
  const certificateRefs: CertificateRef[] = [];
  if (refs !== undefined && refs !== null) {
    if (!Array.isArray(refs)) fail('spec.certificateRefs must be a list');
    for (const [i, ref] of refs.entries()) {
      const where = `spec.certificateRefs[${i}]`;
      if (!isObject(ref)) fail(`${where} must be an object`);
      allowOnly(ref, ['kind', 'name', 'key', 'namespace'], where);
      const refKind = ref['kind'];
      if (refKind !== 'Secret' && refKind !== 'ConfigMap')
        fail(`${where}.kind ${JSON.stringify(refKind ?? null)} is not Secret or ConfigMap`);
      const name = optionalString(ref, 'name', where);
      const key = optionalString(ref, 'key', where);
      const namespace = optionalString(ref, 'namespace', where);
      if (name === undefined || name === '') fail(`${where}.name is missing`);
      if (key === undefined || key === '') fail(`${where}.key is missing`);
      let refNamespace: string;
      if (kind === 'TrustStore') {
        // A namespaced store reads its own namespace only: a tenant cannot read another's Secrets.
        if (namespace !== undefined && namespace !== id.namespace) {
          fail(
            `${where}.namespace: a TrustStore can only reference Secrets and ConfigMaps of its own namespace ${JSON.stringify(id.namespace)}`,
          );
        }
        refNamespace = id.namespace as string;
      } else {
        if (namespace === undefined || namespace === '') fail(`${where}.namespace is required in a ClusterTrustStore`);
        refNamespace = namespace;
      }
      certificateRefs.push(Object.freeze({ kind: refKind, namespace: refNamespace, name, key }));
    }
  }
  if (certificates.length === 0 && certificateRefs.length === 0) {
    fail('the store has no certificates: set spec.certificates and/or spec.certificateRefs', 'ERR_TRUSTSTORE_INVALID');
  }
  return Object.freeze({
    kind,
    id: Object.freeze(id),
    type: type as TrustStoreType,
    certificates: Object.freeze(certificates),
    certificateRefs: Object.freeze(certificateRefs),
  });
}

function readData(
  kind: 'Secret' | 'ConfigMap',
  id: ResourceId & { kind: 'Secret' | 'ConfigMap' },
  object: Obj,
): DataResource {
  const entries = new Map<string, DataEntry>();
  // Secret: data is base64, stringData is text and wins (the API server merges it over data).
  // ConfigMap: data is text, binaryData is base64.
  const [base64Field, textField] = kind === 'Secret' ? ['data', 'stringData'] : ['binaryData', 'data'];
  for (const [key, value] of Object.entries(stringMap(object[base64Field], base64Field)))
    entries.set(key, { encoding: 'base64', value });
  for (const [key, value] of Object.entries(stringMap(object[textField], textField)))
    entries.set(key, { encoding: 'text', value });
  return Object.freeze({ kind, id: Object.freeze(id), entries });
}
