import { isPortcullisError } from '../errors/index.js';
import { loadTrustPolicy, type TrustPolicy } from '../policy/index.js';
import { isTrustStoreType } from '../x509/index.js';
import { parseLabelSelector } from './selector.js';
import { parseStatementOptions } from './statement-options.js';
import type { EnforcementAction, LabelSelector, PolicyKind, ResourceId, StoreKind, TrustStoreType } from './types.js';
import { isObject, fingerprintOf, fail, allowOnly, optionalString, stringMap, type Obj } from './resource-checks.js';

import { ENFORCEMENT_ACTIONS, NAMESPACE_NAME_LABEL } from './resource-checks.js';
import type {
  CertificateRef,
  DataEntry,
  DataResource,
  Header,
  KnownKind,
  PolicyResource,
  Resource,
  StoreResource,
} from './resources.js';

/** The readers of each resource kind's body (resources.ts reads the envelope: apiVersion, kind, metadata). */

export function generationOf(metadata: Obj, object: Obj): number {
  const generation = metadata['generation'];
  if (typeof generation === 'number' && Number.isSafeInteger(generation) && generation > 0) return generation;
  // Directory mode: 48 bits of the content hash (a safe integer).
  return Number.parseInt(fingerprintOf(object).slice(0, 12), 16) || 0;
}

export function readBody(
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

export function readPolicy(
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

export function readStore(kind: StoreKind, id: ResourceId & { kind: StoreKind }, object: Obj): StoreResource {
  const spec = object['spec'];
  if (!isObject(spec)) fail('spec is missing or not an object');
  allowOnly(spec, ['type', 'certificates', 'certificateRefs'], 'spec');
  const type = spec['type'];
  if (!isTrustStoreType(type)) {
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

export function readData(
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
