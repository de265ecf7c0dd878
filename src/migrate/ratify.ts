import { NAMESPACE_NAME_LABEL, type LabelSelector, type TrustStoreType } from '../policyset/index.js';
import { selectTrustAnchors, uniqueAnchors, type TrustAnchor } from './certificates.js';
import { ManifestSet } from './manifest-set.js';
import { joinName, objectName } from './names.js';
import { describe, isObject, list, obj, str, strings, Notes, type Obj } from './notes.js';
import { KmpIndex } from './ratify-kmp.js';
import { patternsToScopes } from './scopes.js';
import type { Conversion, ConvertOptions, InputObject } from './types.js';
import { policyNote, storeNote } from './ratify-notes.js';
import { STORE_TYPES, readCertStores } from './ratify-cert-stores.js';

/**
 * `portcullis import ratify`: Ratify's Notary configuration as portcullis.dev resources.
 *
 * Ratify v1 (config.ratify.deislabs.io, v1alpha1/v1beta1): a notation `Verifier` (cluster) or
 * `NamespacedVerifier` carries a Notary trust policy document (`parameters.trustPolicyDoc`) and
 * `parameters.verificationCertStores`, which fills each trust store `type:name` of that
 * document with the certificates of KeyManagementProviders (`ns/name` for a namespaced one, a
 * bare name for a cluster one) or legacy CertificateStores. A Verifier becomes a
 * ClusterTrustPolicy, a NamespacedVerifier a TrustPolicy in its namespace, each store a
 * ClusterTrustStore or TrustStore with the inline certificates.
 *
 * Ratify v2 (config.ratify.dev/v2alpha1, config.ratify.sh/v2beta1): an `Executor` (cluster) or
 * `NamespacedExecutor` lists verifiers; a `notation` verifier's `certificates` (inline PEM per
 * store type), `scopes` and `trustedIdentities` make one strict statement, as Ratify builds it.
 *
 * In both, namespaced resources replace the cluster ones in their namespace (Ratify falls back
 * to the cluster ones only where a namespace has none), while Portcullis applies every policy
 * that covers a namespace: so the cluster policies get a namespaceSelector leaving out the
 * namespaces that have their own. Everything else is reported as a note (docs/migrating.md).
 */

const V1_GROUP = 'config.ratify.deislabs.io';
const V2_GROUPS = new Set(['config.ratify.dev', 'config.ratify.sh']);
/** Names Ratify gave its built-in Notary verifier over time. */
const NOTATION_VERIFIERS = new Set(['notation', 'notaryv2', 'notary']);

interface Located {
  readonly object: Obj;
  readonly origin: string;
  readonly subject: string;
  readonly namespace: string | undefined;
  readonly name: string;
}

export function convertRatify(inputs: readonly InputObject[], options: ConvertOptions = {}): Conversion {
  const notes = new Notes();
  const out = new ManifestSet();
  const kmps = new KmpIndex();
  const verifiers: Located[] = [];
  const executors: Located[] = [];
  let converted = 0;
  let ignored = 0;

  for (const { object, origin } of inputs) {
    if (!isObject(object)) {
      ignored++;
      continue;
    }
    const group = (str(object['apiVersion']) ?? '').split('/')[0] ?? '';
    const kind = str(object['kind']) ?? '';
    const subject = describe(object, origin);
    if (group === V1_GROUP) {
      if (kmps.add(object, origin, notes)) {
        converted++;
        continue;
      }
      if (kind === 'Verifier' || kind === 'NamespacedVerifier') {
        const located = locate(object, origin, kind === 'NamespacedVerifier', notes);
        if (located !== undefined) verifiers.push(located);
        continue;
      }
      if (kind === 'Store' || kind === 'NamespacedStore') {
        converted++;
        storeNote(subject, obj(object['spec']), notes);
        continue;
      }
      if (kind === 'Policy' || kind === 'NamespacedPolicy') {
        converted++;
        policyNote(subject, obj(object['spec']), notes);
        continue;
      }
      notes.info(subject, 'not carried over: Portcullis has no equivalent');
      continue;
    }
    if (V2_GROUPS.has(group)) {
      if (kind === 'Executor' || kind === 'NamespacedExecutor') {
        const located = locate(object, origin, kind === 'NamespacedExecutor', notes);
        if (located !== undefined) executors.push(located);
      } else notes.info(subject, 'not carried over: Portcullis has no equivalent');
      continue;
    }
    ignored++;
  }

  const action = options.enforcementAction ?? 'deny';
  const context = { notes, out, kmps, action };
  const v1Namespaces = namespacesOf(verifiers);
  for (const verifier of verifiers) {
    if (convertVerifier(verifier, context, v1Namespaces)) converted++;
  }
  const v2Namespaces = namespacesOf(executors);
  for (const executor of executors) {
    if (convertExecutor(executor, context, v2Namespaces)) converted++;
  }
  if (converted > 0) {
    notes.info(
      'Ratify',
      'which namespaces and workloads Ratify judged, and whether it denied or only warned, was decided by the Gatekeeper constraint; Portcullis policies apply to every namespace their namespaceSelector (ClusterTrustPolicy) or namespace (TrustPolicy) covers, with the enforcementAction written here: review both before applying',
    );
  }
  if (ignored > 0) notes.info('input', `${ignored} object(s) that are not Ratify resources were ignored`);
  return { manifests: out.manifests, notes: notes.all, converted };
}

function locate(object: Obj, origin: string, namespaced: boolean, notes: Notes): Located | undefined {
  const metadata = obj(object['metadata']);
  const subject = describe(object, origin);
  const name = str(metadata['name']);
  const namespace = str(metadata['namespace']);
  if (name === undefined) {
    notes.warn(subject, 'has no metadata.name: ignored');
    return undefined;
  }
  if (namespaced && namespace === undefined) {
    notes.warn(subject, 'a namespaced resource without metadata.namespace: ignored (its namespace is unknown)');
    return undefined;
  }
  return { object, origin, subject, namespace: namespaced ? namespace : undefined, name };
}

function namespacesOf(located: readonly Located[]): string[] {
  return [...new Set(located.flatMap((l) => (l.namespace === undefined ? [] : [l.namespace])))].sort();
}

interface Context {
  readonly notes: Notes;
  readonly out: ManifestSet;
  readonly kmps: KmpIndex;
  readonly action: 'deny' | 'warn' | 'dryrun';
}

/** The selector of a cluster policy: every namespace except those with their own (namespaced) Ratify resource. */
function clusterSelector(
  located: Located,
  namespacedIn: readonly string[],
  what: string,
  notes: Notes,
): LabelSelector | undefined {
  if (located.namespace !== undefined || namespacedIn.length === 0) return undefined;
  notes.info(
    located.subject,
    `Ratify uses the cluster ${what} only where a namespace has no namespaced one: the ClusterTrustPolicy leaves out ${namespacedIn.join(', ')}`,
  );
  return {
    matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'NotIn', values: [...namespacedIn] }],
  };
}

// --- v1 ------------------------------------------------------------------------------------

function convertVerifier(verifier: Located, context: Context, namespacedIn: readonly string[]): boolean {
  const { notes, out, kmps } = context;
  const spec = obj(verifier.object['spec']);
  const plugin = str(spec['name']) ?? str(spec['type']) ?? '(none)';
  if (!NOTATION_VERIFIERS.has(plugin)) {
    notes.warn(
      verifier.subject,
      `verifier "${plugin}" is not Ratify's Notary verifier: not carried over (Portcullis verifies Notary signatures)`,
    );
    return false;
  }
  if (spec['source'] !== undefined || spec['address'] !== undefined) {
    notes.warn(verifier.subject, 'spec.source/spec.address (an external verifier plugin binary) are not carried over');
  }
  const parameters = obj(spec['parameters']);
  const document = parameters['trustPolicyDoc'];
  if (!isObject(document)) {
    notes.warn(verifier.subject, 'has no parameters.trustPolicyDoc: nothing to convert');
    return false;
  }
  if (parameters['verificationCerts'] !== undefined && parameters['verificationCertStores'] === undefined) {
    notes.warn(
      verifier.subject,
      "parameters.verificationCerts names files in Ratify's pod, which the importer cannot read: create the trust stores the policy names (TrustStore/ClusterTrustStore) with those certificates",
    );
  }

  // The stores, renamed where needed: `type:name` in the document → `type:<object name>`.
  const renamed = new Map<string, string>();
  for (const store of readCertStores(parameters['verificationCertStores'], verifier.subject, notes)) {
    const lists: TrustAnchor[][] = [];
    for (const reference of store.references) {
      const entry = kmps.resolve(reference);
      if (entry === undefined) {
        notes.warn(
          verifier.subject,
          `trust store ${store.type}:${store.name}: "${reference}" names no ${reference.includes('/') ? 'NamespacedKeyManagementProvider (namespace/name)' : 'KeyManagementProvider or CertificateStore'} among the input files`,
        );
        continue;
      }
      if (entry.pem === undefined) continue; // the provider's own note says why
      const selection = selectTrustAnchors(entry.pem, store.type);
      for (const problem of selection.problems) notes.warn(entry.subject, problem);
      lists.push([...selection.anchors]);
    }
    const anchors = uniqueAnchors(lists);
    if (anchors.length === 0) {
      notes.warn(
        verifier.subject,
        `trust store ${store.type}:${store.name} gets no certificate, so it is not written: the converted policy stays invalid (and blocks the namespaces it covers) until a ${verifier.namespace === undefined ? 'ClusterTrustStore' : 'TrustStore'} of that type and name holds the certificates`,
      );
      continue;
    }
    const wanted = objectName(store.name) === store.name ? store.name : joinName(verifier.name, store.name);
    const name = out.addStore({
      wanted,
      ...(verifier.namespace === undefined ? {} : { namespace: verifier.namespace }),
      type: store.type,
      anchors,
      importedFrom: verifier.subject,
    });
    if (name !== store.name) {
      notes.info(
        verifier.subject,
        `trust store ${store.type}:${store.name} is written as ${name} (a Kubernetes object name)`,
      );
      renamed.set(`${store.type}:${store.name}`, `${store.type}:${name}`);
    }
  }

  for (const key of Object.keys(document)) {
    if (key !== 'version' && key !== 'trustPolicies') {
      notes.warn(verifier.subject, `trustPolicyDoc.${key} is not part of a Notary trust policy document: left out`);
    }
  }
  if (document['version'] !== '1.0') {
    notes.warn(verifier.subject, `trustPolicyDoc.version ${JSON.stringify(document['version'])} is written as "1.0"`);
  }
  const statements = list(document['trustPolicies']).map((statement) => {
    if (!isObject(statement)) return statement as Obj;
    const stores = statement['trustStores'];
    if (!Array.isArray(stores)) return statement;
    return {
      ...statement,
      trustStores: stores.map((s) => (typeof s === 'string' ? (renamed.get(s) ?? s) : s)),
    };
  });
  const selector = clusterSelector(verifier, namespacedIn, 'Verifier', notes);
  const name = out.addPolicy({
    wanted: objectName(verifier.name),
    ...(verifier.namespace === undefined ? {} : { namespace: verifier.namespace }),
    enforcementAction: context.action,
    statements,
    ...(selector === undefined ? {} : { namespaceSelector: selector }),
    importedFrom: verifier.subject,
  });
  const kind = verifier.namespace === undefined ? 'ClusterTrustPolicy' : 'TrustPolicy';
  notes.info(
    verifier.subject,
    `converted to ${kind} ${verifier.namespace === undefined ? '' : `${verifier.namespace}/`}${name}`,
  );
  return true;
}

// --- v2 ------------------------------------------------------------------------------------

function convertExecutor(executor: Located, context: Context, namespacedIn: readonly string[]): boolean {
  const { notes, out } = context;
  const spec = obj(executor.object['spec']);
  const verifiers = list(spec['verifiers']).filter(isObject);
  const notation = verifiers.filter((v) => str(v['type']) === 'notation');
  for (const other of verifiers.filter((v) => str(v['type']) !== 'notation')) {
    notes.warn(
      executor.subject,
      `verifier "${str(other['name']) ?? '(no name)'}" of type "${str(other['type']) ?? '(none)'}" is not carried over (Portcullis verifies Notary signatures)${notation.length > 0 ? '; an image Ratify admitted on its signature alone now also needs a Notary signature' : ''}`,
    );
  }
  if (notation.length === 0) {
    notes.warn(executor.subject, 'has no notation verifier: nothing to convert');
    return false;
  }
  if (notation.length > 1) {
    notes.warn(
      executor.subject,
      `${notation.length} notation verifiers become one policy each, and Portcullis requires every one of them to admit an image (Ratify's policyEnforcer may have required fewer)`,
    );
  }
  if (spec['policyEnforcer'] !== undefined) {
    notes.info(executor.subject, 'policyEnforcer is not carried over: every converted policy must admit the image');
  }
  const executorScopes = strings(spec['scopes']);
  const selector = clusterSelector(executor, namespacedIn, 'Executor', notes);
  for (const verifier of notation) {
    const verifierName = str(verifier['name']) ?? 'notation';
    const parameters = obj(verifier['parameters']);
    const own = strings(parameters['scopes']);
    const patterns = own.length > 0 ? own : executorScopes.length > 0 ? executorScopes : ['*'];
    const scoped = patternsToScopes(patterns);
    for (const note of scoped.notes) notes.warn(executor.subject, `verifier ${verifierName}: ${note}`);
    const identities = strings(parameters['trustedIdentities']);
    const storeName = joinName(executor.name, verifierName);

    const byType = new Map<TrustStoreType, TrustAnchor[][]>();
    const certificates = list(parameters['certificates']);
    if (certificates.length === 0) notes.warn(executor.subject, `verifier ${verifierName}: has no certificates`);
    for (const entry of certificates) {
      const options = obj(entry);
      const typeName = str(options['type']) ?? 'ca';
      const type = STORE_TYPES[typeName.toLowerCase()];
      if (type === undefined) {
        notes.warn(
          executor.subject,
          `verifier ${verifierName}: certificates type "${typeName}" is not ca, signingAuthority or tsa: ignored`,
        );
        continue;
      }
      const lists = byType.get(type) ?? [];
      byType.set(type, lists);
      for (const [provider, value] of Object.entries(options)) {
        if (provider === 'type') continue;
        if (provider === 'inline' && typeof value === 'string') {
          const selection = selectTrustAnchors(value, type);
          for (const problem of selection.problems)
            notes.warn(executor.subject, `verifier ${verifierName}: ${problem}`);
          lists.push([...selection.anchors]);
        } else {
          notes.warn(
            executor.subject,
            `verifier ${verifierName}: ${type} certificates from the "${provider}" provider cannot be read by the importer: put them in a Secret labelled portcullis.dev/trust-material=true and list it in certificateRefs of the ${type} store ${storeName} (docs/policies.md)`,
          );
        }
      }
    }
    const trustStores: string[] = [];
    for (const [type, lists] of byType) {
      const anchors = uniqueAnchors(lists);
      if (anchors.length === 0) {
        notes.warn(
          executor.subject,
          `verifier ${verifierName}: the ${type} store gets no certificate, so it is not written: the converted policy stays invalid (and blocks) until ${type}:${storeName} holds the certificates`,
        );
        trustStores.push(`${type}:${storeName}`);
        continue;
      }
      const name = out.addStore({
        // One object per store type (a ca and a tsa store are two objects of one kind).
        wanted: type === 'ca' ? storeName : joinName(storeName, type),
        ...(executor.namespace === undefined ? {} : { namespace: executor.namespace }),
        type,
        anchors,
        importedFrom: executor.subject,
      });
      trustStores.push(`${type}:${name}`);
    }
    if (trustStores.length === 0) trustStores.push(`ca:${storeName}`);
    out.addPolicy({
      wanted: notation.length === 1 ? objectName(executor.name) : storeName,
      ...(executor.namespace === undefined ? {} : { namespace: executor.namespace }),
      enforcementAction: context.action,
      statements: [
        {
          name: 'default',
          registryScopes: scoped.scopes,
          signatureVerification: { level: 'strict' },
          trustStores,
          trustedIdentities: identities.length > 0 ? identities : ['*'],
        },
      ],
      ...(selector === undefined ? {} : { namespaceSelector: selector }),
      importedFrom: executor.subject,
    });
  }
  return true;
}
