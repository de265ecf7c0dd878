import { isPortcullisError, type ErrorCode } from '../errors/index.js';
import { type TrustPolicy } from '../policy/index.js';
import { parseLabelSelector } from './selector.js';
import type { StatementOptions } from './statement-options.js';
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
import {
  API_VERSION,
  DNS_LABEL,
  ENFORCEMENT_ACTIONS,
  DNS_SUBDOMAIN,
  GROUP,
  POLICY_KINDS,
  ResourceError,
  STORE_KINDS,
  fail,
  fingerprintOf,
  isObject,
  type Obj,
} from './resource-checks.js';
import { readBody } from './resource-readers.js';

export {
  API_VERSION,
  ENFORCEMENT_ACTIONS,
  GROUP,
  NAMESPACE_NAME_LABEL,
  POLICY_KINDS,
  STORE_KINDS,
  VERSION,
} from './resource-checks.js';
export { canonicalJson } from './resource-checks.js';

/**
 * Turns resource objects (plain JS values as YAML parsing or the Kubernetes API produce them)
 * into typed resources, checking each on its own. Cross-resource checks (store resolution,
 * Secret and ConfigMap references, duplicates) are build.ts's job.
 */

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

export interface Header {
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

export type KnownKind = PolicyKind | StoreKind;
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
