import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXT, Pki, type Issued } from '../../test/helpers/pki.js';
import { vector } from '../../test/helpers/vectors.js';
import { CertificateCache } from '../x509/certificate.js';
import { buildSnapshot } from './build.js';
import { API_VERSION } from './resources.js';
import { formatResourceId, type InvalidResource, type PolicySnapshot } from './types.js';

type Obj = Record<string, unknown>;

// --- resource builders ------------------------------------------------------------------------

function notaryDocument(trustStores: readonly string[] = ['ca:e2e'], level = 'strict'): Obj {
  return {
    version: '1.0',
    trustPolicies: [
      {
        name: 'all',
        registryScopes: ['*'],
        signatureVerification: { level },
        trustStores: [...trustStores],
        trustedIdentities: ['*'],
      },
    ],
  };
}
function trustPolicy(ns: string | undefined, name: string, spec: Obj = {}, metadata: Obj = {}): Obj {
  return {
    apiVersion: API_VERSION,
    kind: 'TrustPolicy',
    metadata: { name, ...(ns === undefined ? {} : { namespace: ns }), ...metadata },
    spec: { ...notaryDocument(), ...spec },
  };
}
function clusterTrustPolicy(name: string, spec: Obj = {}): Obj {
  return {
    apiVersion: API_VERSION,
    kind: 'ClusterTrustPolicy',
    metadata: { name },
    spec: { ...notaryDocument(), ...spec },
  };
}
function trustStore(ns: string, name: string, spec: Obj): Obj {
  return { apiVersion: API_VERSION, kind: 'TrustStore', metadata: { name, namespace: ns }, spec };
}
function clusterTrustStore(name: string, spec: Obj): Obj {
  return { apiVersion: API_VERSION, kind: 'ClusterTrustStore', metadata: { name }, spec };
}
function namespace(name: string, labels: Record<string, string> = {}): Obj {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}
function secret(ns: string, name: string, body: Obj): Obj {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, type: 'Opaque', ...body };
}
function configMap(ns: string, name: string, data: Record<string, string>): Obj {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data };
}

const build = (resources: unknown[], revision = 1): PolicySnapshot => buildSnapshot({ resources, revision });
const names = (snapshot: PolicySnapshot, ns: string): string[] =>
  snapshot.documentsFor(ns).map((d) => formatResourceId(d.id));
const invalidOf = (snapshot: PolicySnapshot, id: string): InvalidResource | undefined =>
  snapshot.invalid.find((entry) => formatResourceId(entry.id) === id);

// --- certificates ------------------------------------------------------------------------------

const E2E_PEM = readFileSync(vector('notation/e2e/localkeys/e2e.crt'), 'utf8');
let pki: Pki;
let root: Issued;
let leaf: Issued;
let e2eStore: Obj;

beforeAll(() => {
  pki = new Pki();
  root = pki.issue({ subject: '/C=US/O=Portcullis Test/CN=Policyset Root', extensions: EXT.root });
  leaf = pki.issue({
    subject: '/C=US/O=Portcullis Test/CN=Policyset Leaf',
    issuer: root,
    extensions: EXT.codeSigningLeaf,
  });
  e2eStore = clusterTrustStore('e2e', { type: 'ca', certificates: E2E_PEM });
});
afterAll(() => pki.cleanup());

// --- the rules ---------------------------------------------------------------------------------

describe('policy documents', () => {
  it('a TrustPolicy takes effect in its own namespace only', () => {
    const snapshot = build([e2eStore, trustPolicy('team-a', 'prod')]);
    expect(snapshot.invalid).toEqual([]);
    expect(names(snapshot, 'team-a')).toEqual(['TrustPolicy team-a/prod']);
    expect(names(snapshot, 'team-b')).toEqual([]);
    const [doc] = snapshot.documentsFor('team-a');
    expect(doc?.policy.statements[0]?.name).toBe('all');
    expect(doc?.trustStores.get('ca', 'e2e')?.map((c) => c.subject)).toEqual(['CN=e2e,O=Notary,L=Seattle,ST=WA,C=US']);
    expect(doc?.trustStores.source('ca', 'e2e')).toEqual({ kind: 'ClusterTrustStore', name: 'e2e' });
    // Only the stores the document names are resolvable.
    expect(doc?.trustStores.get('ca', 'other')).toBeUndefined();
    expect(doc?.trustStores.get('tsa', 'e2e')).toBeUndefined();
  });

  it('enforcementAction defaults to deny', () => {
    const snapshot = build([e2eStore, trustPolicy('team-a', 'prod'), clusterTrustPolicy('baseline')]);
    expect(snapshot.documents.map((d) => d.enforcementAction)).toEqual(['deny', 'deny']);
  });

  it('warn and dryrun are kept', () => {
    const snapshot = build([
      e2eStore,
      trustPolicy('team-a', 'warned', { enforcementAction: 'warn' }),
      clusterTrustPolicy('dry', { enforcementAction: 'dryrun' }),
      trustPolicy('team-a', 'denied', { enforcementAction: 'deny' }),
    ]);
    expect(snapshot.documentsFor('team-a').map((d) => [d.id.name, d.enforcementAction])).toEqual([
      ['dry', 'dryrun'],
      ['denied', 'deny'],
      ['warned', 'warn'],
    ]);
  });

  it('an unknown enforcementAction makes the policy invalid', () => {
    const snapshot = build([e2eStore, trustPolicy('team-a', 'prod', { enforcementAction: 'audit' })]);
    expect(snapshot.documents).toEqual([]);
    expect(invalidOf(snapshot, 'TrustPolicy team-a/prod')).toMatchObject({
      code: 'ERR_RESOURCE_INVALID',
      reason: expect.stringContaining('spec.enforcementAction "audit" is not one of deny, warn, dryrun'),
      enforcementAction: 'deny',
    });
  });

  it('an invalid Notary trust policy is rejected whole with the ERR_POLICY_INVALID message naming the statement', () => {
    const spec = notaryDocument();
    (spec['trustPolicies'] as Obj[])[0] = {
      ...(spec['trustPolicies'] as Obj[])[0],
      signatureVerification: { level: 'bogus' },
    };
    const snapshot = build([e2eStore, trustPolicy('team-a', 'prod', spec)]);
    expect(snapshot.documents).toEqual([]);
    const entry = invalidOf(snapshot, 'TrustPolicy team-a/prod');
    expect(entry?.code).toBe('ERR_POLICY_INVALID');
    expect(entry?.reason).toMatch(/^invalid trust policy \(statement "all"\): .*"bogus"/);
  });

  it('a missing version or a version written as a YAML number is invalid, not defaulted', () => {
    const snapshot = build([
      e2eStore,
      trustPolicy('a', 'no-version', { version: undefined }),
      trustPolicy('b', 'number', { version: 1.0 }),
    ]);
    expect(snapshot.documents).toEqual([]);
    expect(invalidOf(snapshot, 'TrustPolicy a/no-version')?.reason).toContain('empty version');
    expect(invalidOf(snapshot, 'TrustPolicy b/number')?.reason).toContain('version must be a string');
  });

  it('an embedded trust policy with member names differing only in case is invalid', () => {
    const spec = notaryDocument();
    const statement = (spec['trustPolicies'] as Obj[])[0] as Obj;
    (spec['trustPolicies'] as Obj[])[0] = {
      ...statement,
      registryScopes: ['registry.example/app'],
      RegistryScopes: ['*'],
    };
    const snapshot = build([e2eStore, clusterTrustPolicy('baseline', spec)]);
    expect(snapshot.documents).toEqual([]);
    expect(invalidOf(snapshot, 'ClusterTrustPolicy baseline')).toMatchObject({
      code: 'ERR_POLICY_INVALID',
      reason: expect.stringContaining('differ only in case'),
    });
  });

  it('unknown spec fields are invalid (a misspelt field must not be silently ignored)', () => {
    const snapshot = build([
      e2eStore,
      clusterTrustPolicy('baseline', { namespaceSelectr: { matchLabels: { a: 'b' } } }),
    ]);
    expect(invalidOf(snapshot, 'ClusterTrustPolicy baseline')?.reason).toContain(
      'spec has unknown field "namespaceSelectr"',
    );
  });

  it('a TrustPolicy may not carry a namespaceSelector', () => {
    const snapshot = build([e2eStore, trustPolicy('team-a', 'prod', { namespaceSelector: {} })]);
    expect(invalidOf(snapshot, 'TrustPolicy team-a/prod')?.reason).toContain('only allowed in a ClusterTrustPolicy');
  });

  it('metadata.generation is used when set, else a number derived from the content', () => {
    const snapshot = build([e2eStore, trustPolicy('a', 'p', {}, { generation: 7 }), trustPolicy('b', 'p')]);
    expect(snapshot.documentsFor('a')[0]?.generation).toBe(7);
    const derived = snapshot.documentsFor('b')[0]?.generation ?? 0;
    expect(Number.isSafeInteger(derived) && derived > 0).toBe(true);
    expect(build([e2eStore, trustPolicy('b', 'p')]).documentsFor('b')[0]?.generation).toBe(derived);
    expect(
      build([e2eStore, trustPolicy('b', 'p', { enforcementAction: 'warn' })]).documentsFor('b')[0]?.generation,
    ).not.toBe(derived);
  });

  it('a namespaced resource without metadata.namespace goes to the default namespace (as kubectl)', () => {
    expect(names(build([e2eStore, trustPolicy(undefined, 'p')]), 'default')).toEqual(['TrustPolicy default/p']);
    const custom = buildSnapshot({
      resources: [e2eStore, trustPolicy(undefined, 'p')],
      revision: 1,
      defaultNamespace: 'apps',
    });
    expect(names(custom, 'apps')).toEqual(['TrustPolicy apps/p']);
  });
});

describe('resources that are not ours, or not resources', () => {
  it('other kinds and groups are ignored silently', () => {
    const snapshot = build([
      e2eStore,
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'a' }, spec: {} },
      {
        apiVersion: 'example.com/v1',
        kind: 'TrustPolicy',
        metadata: { name: 'theirs', namespace: 'a' },
        spec: 'anything',
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } },
    ]);
    expect(snapshot.invalid).toEqual([]);
    expect(snapshot.documents).toEqual([]);
  });

  it('an unknown kind or apiVersion within portcullis.dev is invalid', () => {
    const snapshot = build([
      { apiVersion: API_VERSION, kind: 'TrustPolcy', metadata: { name: 'typo', namespace: 'a' }, spec: {} },
      { ...trustPolicy('a', 'future'), apiVersion: 'portcullis.dev/v1' },
      { ...trustPolicy('b', 'core'), apiVersion: 'v1' },
      { ...clusterTrustPolicy('bare'), apiVersion: 'portcullis.dev' },
    ]);
    expect(invalidOf(snapshot, 'TrustPolicy b/core')?.reason).toContain('unsupported apiVersion "v1" for TrustPolicy');
    expect(invalidOf(snapshot, 'ClusterTrustPolicy bare')?.blocks).toEqual({ kind: 'all' });
    expect(invalidOf(snapshot, 'Unknown a/typo')?.reason).toContain(
      'unknown kind "TrustPolcy" in portcullis.dev/v1alpha1',
    );
    const future = invalidOf(snapshot, 'TrustPolicy a/future');
    expect(future?.reason).toContain('unsupported apiVersion "portcullis.dev/v1"');
    // Known kind, wrong version: still a policy, so it blocks its namespace.
    expect(future?.blocks).toEqual({ kind: 'namespace', namespace: 'a' });
  });

  it('a policy without a name is invalid and still blocks its namespace', () => {
    const snapshot = build([e2eStore, { ...trustPolicy('team-a', 'x'), metadata: { namespace: 'team-a' } }]);
    expect(snapshot.invalid).toMatchObject([
      { id: { kind: 'TrustPolicy', name: '<unnamed>', namespace: 'team-a' }, reason: 'metadata.name is missing' },
    ]);
    expect(snapshot.invalidFor('team-a')).toHaveLength(1);
  });

  it('a document without apiVersion or kind, or that is not an object, is invalid', () => {
    const snapshot = build([{ kind: 'Deployment', metadata: { name: 'd' } }, 'just a string', { apiVersion: 'v1' }]);
    expect(snapshot.invalid.map((e) => e.reason).sort()).toEqual([
      'a manifest document has no apiVersion',
      'a manifest document has no kind',
      'a manifest document is not an object',
    ]);
  });

  it('the same resource defined twice with different content is invalid; identical copies are fine', () => {
    const twice = build([e2eStore, e2eStore, trustPolicy('a', 'p'), trustPolicy('a', 'p')]);
    expect(twice.invalid).toEqual([]);
    expect(names(twice, 'a')).toEqual(['TrustPolicy a/p']);

    const conflicting = buildSnapshot({
      resources: [e2eStore, trustPolicy('a', 'p'), trustPolicy('a', 'p', { enforcementAction: 'warn' })],
      origins: [undefined, 'one.yaml', 'two.yaml'],
      revision: 1,
    });
    expect(conflicting.documents).toEqual([]);
    expect(invalidOf(conflicting, 'TrustPolicy a/p')?.reason).toBe(
      'defined 2 times with different content (one.yaml, two.yaml)',
    );
    expect(conflicting.invalidFor('a')).toHaveLength(1);
  });
});

describe('trust store resolution', () => {
  it('a namespace TrustStore shadows the ClusterTrustStore of the same name', () => {
    const snapshot = build([
      clusterTrustStore('acme', { type: 'ca', certificates: E2E_PEM }),
      trustStore('team-a', 'acme', { type: 'ca', certificates: root.certPem }),
      trustPolicy('team-a', 'p', notaryDocument(['ca:acme'])),
      trustPolicy('team-b', 'p', notaryDocument(['ca:acme'])),
    ]);
    expect(snapshot.invalid).toEqual([]);
    const a = snapshot.documentsFor('team-a')[0]?.trustStores;
    expect(a?.get('ca', 'acme')?.map((c) => c.subject)).toEqual(['CN=Policyset Root,O=Portcullis Test,C=US']);
    expect(a?.source('ca', 'acme')).toEqual({ kind: 'TrustStore', namespace: 'team-a', name: 'acme' });
    const b = snapshot.documentsFor('team-b')[0]?.trustStores;
    expect(b?.get('ca', 'acme')?.map((c) => c.subject)).toEqual(['CN=e2e,O=Notary,L=Seattle,ST=WA,C=US']);
  });

  it('a namespace TrustStore of another type does not shadow: stores are identified by type and name', () => {
    const snapshot = build([
      clusterTrustStore('acme', { type: 'ca', certificates: E2E_PEM }),
      trustStore('team-a', 'acme', { type: 'tsa', certificates: root.certPem }),
      trustPolicy('team-a', 'p', notaryDocument(['ca:acme'])),
    ]);
    expect(snapshot.invalid).toEqual([]);
    expect(snapshot.documentsFor('team-a')[0]?.trustStores.source('ca', 'acme')).toEqual({
      kind: 'ClusterTrustStore',
      name: 'acme',
    });
  });

  it('a ClusterTrustPolicy uses ClusterTrustStores only, so a tenant cannot swap the baseline certificates', () => {
    const snapshot = build([
      trustStore('team-a', 'acme', { type: 'ca', certificates: root.certPem }),
      clusterTrustPolicy('baseline', notaryDocument(['ca:acme'])),
    ]);
    expect(snapshot.documents).toEqual([]);
    expect(invalidOf(snapshot, 'ClusterTrustPolicy baseline')).toMatchObject({
      code: 'ERR_TRUSTSTORE_NOT_FOUND',
      reason:
        'trust store ca:acme not found: no ClusterTrustStore acme of type ca (a ClusterTrustPolicy uses ClusterTrustStores only)',
    });
  });

  it('a policy whose store is missing does not take effect and names the store', () => {
    const snapshot = build([trustPolicy('team-a', 'prod', notaryDocument(['ca:missing']))]);
    expect(snapshot.documents).toEqual([]);
    expect(invalidOf(snapshot, 'TrustPolicy team-a/prod')).toMatchObject({
      code: 'ERR_TRUSTSTORE_NOT_FOUND',
      reason:
        'trust store ca:missing not found: no TrustStore team-a/missing and no ClusterTrustStore missing of type ca',
    });
  });

  it('a policy must have every store it names: one missing store of several invalidates it', () => {
    const snapshot = build([
      e2eStore,
      trustPolicy('team-a', 'prod', notaryDocument(['ca:e2e', 'ca:second', 'tsa:third'])),
    ]);
    expect(snapshot.documents).toEqual([]);
    const reason = invalidOf(snapshot, 'TrustPolicy team-a/prod')?.reason ?? '';
    expect(reason).toContain('trust store ca:second not found');
    expect(reason).toContain('trust store tsa:third not found');
  });

  it('a store reference with the wrong type is not found, and the message says which type exists', () => {
    const snapshot = build([e2eStore, clusterTrustPolicy('baseline', notaryDocument(['signingAuthority:e2e']))]);
    expect(invalidOf(snapshot, 'ClusterTrustPolicy baseline')?.reason).toContain('(ClusterTrustStore e2e has type ca)');
  });

  it('a policy whose store is invalid does not take effect, and the store is reported too', () => {
    const snapshot = build([
      clusterTrustStore('leafy', { type: 'ca', certificates: leaf.certPem }),
      clusterTrustPolicy('baseline', notaryDocument(['ca:leafy'])),
    ]);
    expect(snapshot.documents).toEqual([]);
    expect(invalidOf(snapshot, 'ClusterTrustStore leafy')).toMatchObject({
      code: 'ERR_TRUSTSTORE_INVALID',
      reason: expect.stringContaining('is not a CA certificate or self-signed signing certificate'),
    });
    expect(invalidOf(snapshot, 'ClusterTrustStore leafy')?.blocks).toBeUndefined();
    expect(invalidOf(snapshot, 'ClusterTrustPolicy baseline')).toMatchObject({
      code: 'ERR_TRUSTSTORE_INVALID',
      reason: expect.stringMatching(/^trust store ca:leafy: ClusterTrustStore leafy is invalid: /),
    });
  });

  it('an invalid namespace TrustStore does not fall back to the ClusterTrustStore of the same name', () => {
    const snapshot = build([
      e2eStore,
      trustStore('team-a', 'e2e', { type: 'ca', certificates: 'not a certificate' }),
      trustPolicy('team-a', 'prod'),
    ]);
    expect(snapshot.documents).toEqual([]);
    expect(invalidOf(snapshot, 'TrustPolicy team-a/prod')?.reason).toMatch(
      /^trust store ca:e2e: TrustStore team-a\/e2e is invalid: /,
    );
  });

  it('a store whose type cannot be read shadows every type of that name', () => {
    const snapshot = build([
      e2eStore,
      trustStore('team-a', 'e2e', { type: 'CA', certificates: E2E_PEM }),
      trustPolicy('team-a', 'prod'),
    ]);
    expect(invalidOf(snapshot, 'TrustStore team-a/e2e')?.reason).toContain(
      'spec.type "CA" is not one of ca, signingAuthority, tsa',
    );
    expect(invalidOf(snapshot, 'TrustPolicy team-a/prod')?.reason).toContain('TrustStore team-a/e2e is invalid');
  });

  it('certificates that break the notation trust store rules make the store invalid', () => {
    const snapshot = build([
      clusterTrustStore('garbage', {
        type: 'ca',
        certificates: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      }),
      clusterTrustStore('not-root', { type: 'tsa', certificates: leaf.certPem }),
      clusterTrustStore('empty', { type: 'ca' }),
      clusterTrustStore('good-tsa', { type: 'tsa', certificates: [root.certPem] }),
    ]);
    expect(snapshot.invalid.map((e) => [formatResourceId(e.id), e.code])).toEqual([
      ['ClusterTrustStore empty', 'ERR_TRUSTSTORE_INVALID'],
      ['ClusterTrustStore garbage', 'ERR_TRUSTSTORE_INVALID'],
      ['ClusterTrustStore not-root', 'ERR_TRUSTSTORE_INVALID'],
    ]);
    expect(invalidOf(snapshot, 'ClusterTrustStore garbage')?.reason).toContain(
      'failed to read the trusted certificate spec.certificates[0] in trust store garbage of type ca',
    );
  });

  it('certificates from a Secret key and a ConfigMap key', () => {
    const snapshot = build([
      secret('team-a', 'roots', { data: { 'root.der': Buffer.from(root.certDer).toString('base64') } }),
      configMap('team-a', 'more-roots', { 'e2e.pem': E2E_PEM }),
      trustStore('team-a', 'acme', {
        type: 'ca',
        certificateRefs: [
          { kind: 'Secret', name: 'roots', key: 'root.der' },
          { kind: 'ConfigMap', name: 'more-roots', key: 'e2e.pem' },
        ],
      }),
      trustPolicy('team-a', 'prod', notaryDocument(['ca:acme'])),
    ]);
    expect(snapshot.invalid).toEqual([]);
    expect(
      snapshot
        .documentsFor('team-a')[0]
        ?.trustStores.get('ca', 'acme')
        ?.map((c) => c.subject),
    ).toEqual(['CN=Policyset Root,O=Portcullis Test,C=US', 'CN=e2e,O=Notary,L=Seattle,ST=WA,C=US']);
  });

  it('Secret stringData and ConfigMap binaryData are read; a ClusterTrustStore names the namespace of its references', () => {
    const snapshot = build([
      secret('portcullis', 'roots', { stringData: { 'ca.crt': E2E_PEM } }),
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'bin', namespace: 'portcullis' },
        binaryData: { 'root.der': Buffer.from(root.certDer).toString('base64') },
      },
      clusterTrustStore('acme', {
        type: 'ca',
        certificateRefs: [
          { kind: 'Secret', namespace: 'portcullis', name: 'roots', key: 'ca.crt' },
          { kind: 'ConfigMap', namespace: 'portcullis', name: 'bin', key: 'root.der' },
        ],
      }),
      clusterTrustPolicy('baseline', notaryDocument(['ca:acme'])),
    ]);
    expect(snapshot.invalid).toEqual([]);
    expect(snapshot.documents[0]?.trustStores.get('ca', 'acme')).toHaveLength(2);
  });

  it('a missing Secret, ConfigMap or key makes the store invalid and names it', () => {
    const ref = (kind: string, name: string, key: string): Obj => ({ kind, name, key });
    const snapshot = build([
      secret('team-a', 'roots', { data: { other: Buffer.from(E2E_PEM).toString('base64') } }),
      trustStore('team-a', 'no-secret', { type: 'ca', certificateRefs: [ref('Secret', 'absent', 'ca.crt')] }),
      trustStore('team-a', 'no-configmap', { type: 'ca', certificateRefs: [ref('ConfigMap', 'absent', 'ca.crt')] }),
      trustStore('team-a', 'no-key', { type: 'ca', certificateRefs: [ref('Secret', 'roots', 'ca.crt')] }),
    ]);
    expect(snapshot.invalid.map((e) => [formatResourceId(e.id), e.code, e.reason])).toEqual([
      [
        'TrustStore team-a/no-configmap',
        'ERR_TRUSTSTORE_REF_NOT_FOUND',
        'spec.certificateRefs[0] (ConfigMap team-a/absent key "ca.crt"): ConfigMap team-a/absent not found',
      ],
      [
        'TrustStore team-a/no-key',
        'ERR_TRUSTSTORE_REF_NOT_FOUND',
        'spec.certificateRefs[0] (Secret team-a/roots key "ca.crt"): the key is not in Secret team-a/roots',
      ],
      [
        'TrustStore team-a/no-secret',
        'ERR_TRUSTSTORE_REF_NOT_FOUND',
        'spec.certificateRefs[0] (Secret team-a/absent key "ca.crt"): Secret team-a/absent not found',
      ],
    ]);
  });

  it('a Secret value that is not base64 makes the store invalid without echoing the value', () => {
    const snapshot = build([
      secret('team-a', 'roots', { data: { 'ca.crt': 'c2VjcmV0!!' } }),
      trustStore('team-a', 'acme', { type: 'ca', certificateRefs: [{ kind: 'Secret', name: 'roots', key: 'ca.crt' }] }),
    ]);
    const reason = invalidOf(snapshot, 'TrustStore team-a/acme')?.reason ?? '';
    expect(reason).toContain('the value is not valid base64');
    expect(reason).not.toContain('c2VjcmV0');
  });

  it('a TrustStore can reference only Secrets of its own namespace; a ClusterTrustStore must name one', () => {
    const snapshot = build([
      secret('team-b', 'roots', { stringData: { 'ca.crt': E2E_PEM } }),
      trustStore('team-a', 'acme', {
        type: 'ca',
        certificateRefs: [{ kind: 'Secret', namespace: 'team-b', name: 'roots', key: 'ca.crt' }],
      }),
      clusterTrustStore('acme', { type: 'ca', certificateRefs: [{ kind: 'Secret', name: 'roots', key: 'ca.crt' }] }),
    ]);
    expect(invalidOf(snapshot, 'TrustStore team-a/acme')?.reason).toContain(
      'can only reference Secrets and ConfigMaps of its own namespace "team-a"',
    );
    expect(invalidOf(snapshot, 'ClusterTrustStore acme')?.reason).toContain(
      'spec.certificateRefs[0].namespace is required in a ClusterTrustStore',
    );
  });

  it('unrelated broken Secrets are not reported', () => {
    const snapshot = build([secret('team-a', 'app', { data: { password: 42 } })]);
    expect(snapshot.invalid).toEqual([]);
  });
});

describe('namespace selection', () => {
  const resources = (): unknown[] => [
    e2eStore,
    namespace('prod', { env: 'prod', 'portcullis.dev/enforce': 'true' }),
    namespace('dev', { env: 'dev' }),
    namespace('legacy', { env: 'prod', legacy: 'yes' }),
  ];

  it('a ClusterTrustPolicy without namespaceSelector applies to every namespace, known or not', () => {
    const snapshot = build([...resources(), clusterTrustPolicy('baseline')]);
    for (const ns of ['prod', 'dev', 'never-seen'])
      expect(names(snapshot, ns)).toEqual(['ClusterTrustPolicy baseline']);
  });

  it('a ClusterTrustPolicy with namespaceSelector applies only to matching namespaces', () => {
    const snapshot = build([
      ...resources(),
      clusterTrustPolicy('enforced', { namespaceSelector: { matchLabels: { 'portcullis.dev/enforce': 'true' } } }),
      clusterTrustPolicy('prod-not-legacy', {
        namespaceSelector: {
          matchExpressions: [
            { key: 'env', operator: 'In', values: ['prod', 'staging'] },
            { key: 'legacy', operator: 'DoesNotExist' },
          ],
        },
      }),
      clusterTrustPolicy('not-dev', {
        namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] },
      }),
      clusterTrustPolicy('labelled', { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'Exists' }] } }),
    ]);
    expect(snapshot.invalid).toEqual([]);
    const short = (ns: string): string[] => snapshot.documentsFor(ns).map((d) => d.id.name);
    expect(short('prod')).toEqual(['enforced', 'labelled', 'not-dev', 'prod-not-legacy']);
    expect(short('legacy')).toEqual(['labelled', 'not-dev']);
    expect(short('dev')).toEqual(['labelled']);
    // An unknown namespace has no labels but its name: NotIn holds for an absent key.
    expect(short('unknown')).toEqual(['not-dev']);
  });

  it('every namespace carries the kubernetes.io/metadata.name label, as the API server sets it', () => {
    const snapshot = build([
      ...resources(),
      clusterTrustPolicy('by-name', {
        namespaceSelector: {
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['dev', 'ghost'] }],
        },
      }),
    ]);
    expect(snapshot.namespaceLabels.get('dev')).toEqual({ env: 'dev', 'kubernetes.io/metadata.name': 'dev' });
    expect(names(snapshot, 'dev')).toEqual(['ClusterTrustPolicy by-name']);
    expect(names(snapshot, 'ghost')).toEqual(['ClusterTrustPolicy by-name']);
    expect(names(snapshot, 'prod')).toEqual([]);
  });

  it('a namespace policy restricts but cannot loosen: the cluster documents and the namespace documents all apply', () => {
    const snapshot = build([
      ...resources(),
      clusterTrustPolicy('baseline', { namespaceSelector: { matchLabels: { env: 'prod' } } }),
      trustPolicy('prod', 'loose', notaryDocument(['ca:e2e'], 'audit')),
    ]);
    expect(names(snapshot, 'prod')).toEqual(['ClusterTrustPolicy baseline', 'TrustPolicy prod/loose']);
  });

  it('a namespace no policy covers has no documents and nothing blocking it', () => {
    const snapshot = build([
      ...resources(),
      clusterTrustPolicy('baseline', { namespaceSelector: { matchLabels: { env: 'prod' } } }),
    ]);
    expect(snapshot.documentsFor('dev')).toEqual([]);
    expect(snapshot.invalidFor('dev')).toEqual([]);
  });

  it('a selector with an unknown operator makes the ClusterTrustPolicy invalid, and it blocks every namespace', () => {
    const snapshot = build([
      ...resources(),
      clusterTrustPolicy('baseline', {
        namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'Equals', values: ['prod'] }] },
      }),
    ]);
    expect(snapshot.documents).toEqual([]);
    const entry = invalidOf(snapshot, 'ClusterTrustPolicy baseline');
    expect(entry).toMatchObject({ code: 'ERR_RESOURCE_INVALID', blocks: { kind: 'all' }, enforcementAction: 'deny' });
    expect(entry?.reason).toContain(
      'spec.namespaceSelector.matchExpressions[0].operator "Equals" is not one of In, NotIn, Exists, DoesNotExist',
    );
    expect(snapshot.invalidFor('dev')).toEqual([entry]);
  });

  it('an unquoted label value in a Namespace makes it invalid and blocks it', () => {
    const snapshot = build([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'odd', labels: { enforce: true } } },
    ]);
    expect(invalidOf(snapshot, 'Namespace odd')?.reason).toContain('metadata.labels.enforce must be a string');
    expect(snapshot.invalidFor('odd')).toHaveLength(1);
  });
});

describe('invalid policies block instead of unenforcing', () => {
  it('an invalid TrustPolicy blocks its namespace instead of unenforcing it', () => {
    const snapshot = build([e2eStore, trustPolicy('team-a', 'prod', notaryDocument(['ca:missing']))]);
    expect(snapshot.documentsFor('team-a')).toEqual([]);
    const blockers = snapshot.invalidFor('team-a');
    expect(blockers).toHaveLength(1);
    expect(blockers[0]).toMatchObject({
      id: { kind: 'TrustPolicy', namespace: 'team-a', name: 'prod' },
      blocks: { kind: 'namespace', namespace: 'team-a' },
      enforcementAction: 'deny',
      code: 'ERR_TRUSTSTORE_NOT_FOUND',
    });
    expect(snapshot.invalidFor('team-b')).toEqual([]);
  });

  it('an invalid TrustPolicy keeps the valid documents of its namespace in force', () => {
    const snapshot = build([
      e2eStore,
      clusterTrustPolicy('baseline'),
      trustPolicy('team-a', 'good'),
      trustPolicy('team-a', 'bad', { enforcementAction: 'nope' }),
    ]);
    expect(names(snapshot, 'team-a')).toEqual(['ClusterTrustPolicy baseline', 'TrustPolicy team-a/good']);
    expect(snapshot.invalidFor('team-a').map((e) => formatResourceId(e.id))).toEqual(['TrustPolicy team-a/bad']);
  });

  it('an invalid ClusterTrustPolicy blocks the namespaces its selector covers', () => {
    const snapshot = build([
      namespace('prod', { env: 'prod' }),
      namespace('dev', { env: 'dev' }),
      clusterTrustPolicy('baseline', { namespaceSelector: { matchLabels: { env: 'prod' } }, trustPolicies: [] }),
    ]);
    expect(invalidOf(snapshot, 'ClusterTrustPolicy baseline')).toMatchObject({
      code: 'ERR_POLICY_INVALID',
      blocks: { kind: 'selector' },
    });
    expect(snapshot.invalidFor('prod')).toHaveLength(1);
    expect(snapshot.invalidFor('dev')).toEqual([]);
  });

  it('an invalid policy in warn or dryrun mode blocks with that action', () => {
    const snapshot = build([
      trustPolicy('team-a', 'w', { enforcementAction: 'warn', trustPolicies: 'nope' }),
      clusterTrustPolicy('d', { enforcementAction: 'dryrun', version: '2.0' }),
    ]);
    expect(snapshot.invalidFor('team-a').map((e) => [e.id.name, e.enforcementAction])).toEqual([
      ['d', 'dryrun'],
      ['w', 'warn'],
    ]);
  });

  it('source errors (unparsable files) given by the source are listed and block as they say', () => {
    const fileError: InvalidResource = {
      id: { kind: 'File', name: 'x.yaml' },
      reason: 'not valid YAML',
      code: 'ERR_RESOURCE_INVALID',
      blocks: { kind: 'all' },
      enforcementAction: 'deny',
    };
    const snapshot = buildSnapshot({ resources: [], revision: 3, sourceErrors: [fileError] });
    expect(snapshot.invalid).toEqual([fileError]);
    expect(snapshot.invalidFor('anything')).toEqual([fileError]);
  });
});

describe('the snapshot', () => {
  it('the snapshot is immutable', () => {
    const snapshot = build(
      [
        e2eStore,
        namespace('team-a'),
        trustPolicy('team-a', 'p'),
        trustPolicy('team-a', 'bad', { enforcementAction: 'x' }),
      ],
      5,
    );
    expect(snapshot.revision).toBe(5);
    expect(Object.isFrozen(snapshot)).toBe(true);
    expect(Object.isFrozen(snapshot.documents)).toBe(true);
    expect(Object.isFrozen(snapshot.invalid)).toBe(true);
    expect(Object.isFrozen(snapshot.invalid[0])).toBe(true);
    expect(Object.isFrozen(snapshot.documents[0])).toBe(true);
    expect(Object.isFrozen(snapshot.documents[0]?.policy)).toBe(true);
    expect(Object.isFrozen(snapshot.documentsFor('team-a'))).toBe(true);
    expect(Object.isFrozen(snapshot.invalidFor('team-a'))).toBe(true);
    expect(Object.isFrozen(snapshot.namespaceLabels.get('team-a'))).toBe(true);
    expect(() => (snapshot.documents as unknown[]).push(1)).toThrow(TypeError);
    expect(() => {
      (snapshot as { revision: number }).revision = 6;
    }).toThrow(TypeError);
    expect((snapshot.namespaceLabels as unknown as { set?: unknown }).set).toBeUndefined();
  });

  it('building is deterministic: the same resources in any order give the same snapshot', () => {
    const resources = [
      e2eStore,
      namespace('a', { x: 'y' }),
      trustPolicy('b', 'p2'),
      trustPolicy('a', 'p1'),
      clusterTrustPolicy('z'),
      clusterTrustPolicy('c'),
      trustPolicy('a', 'broken', { enforcementAction: 'x' }),
      clusterTrustStore('bad', { type: 'ca', certificates: 'x' }),
    ];
    const one = build(resources);
    const two = build([...resources].reverse());
    const view = (s: PolicySnapshot): unknown => [
      s.documents.map((d) => formatResourceId(d.id)),
      s.invalid.map((e) => [formatResourceId(e.id), e.reason]),
    ];
    expect(view(two)).toEqual(view(one));
    expect((view(one) as unknown[])[0]).toEqual([
      'ClusterTrustPolicy c',
      'ClusterTrustPolicy z',
      'TrustPolicy a/p1',
      'TrustPolicy b/p2',
    ]);
  });

  it("certificates are parsed through the caller's certificate cache", () => {
    const cache = new CertificateCache();
    buildSnapshot({
      resources: [e2eStore, clusterTrustStore('again', { type: 'ca', certificates: E2E_PEM })],
      revision: 1,
      certificateCache: cache,
    });
    expect(cache.size).toBe(1);
  });
});

describe('an invalid change changes nothing (snapshots built on the previous one)', () => {
  const next = (previous: PolicySnapshot, resources: unknown[]): PolicySnapshot =>
    buildSnapshot({ resources, revision: previous.revision + 1, previous });

  it('keeps the last valid version of a policy that an edit made invalid, and says so', () => {
    const before = build([e2eStore, trustPolicy('team-a', 'prod', notaryDocument(['ca:e2e'], 'strict'))]);
    const after = next(before, [e2eStore, trustPolicy('team-a', 'prod', { ...notaryDocument(), version: '2.0' })]);
    expect(names(after, 'team-a')).toEqual(['TrustPolicy team-a/prod']);
    expect(after.documentsFor('team-a')[0]?.policy.statements[0]?.level).toBe('strict');
    expect(after.invalidFor('team-a')).toEqual([]);
    const entry = invalidOf(after, 'TrustPolicy team-a/prod');
    expect(entry?.keptPrevious).toBe(true);
    expect(entry?.reason).toContain('the last valid version stays in force');
  });

  it('a new invalid policy has no effect: it neither blocks nor allows, it is reported', () => {
    const before = build([e2eStore]);
    const after = next(before, [e2eStore, trustPolicy('team-a', 'broken', { ...notaryDocument(), version: '9' })]);
    expect(names(after, 'team-a')).toEqual([]);
    expect(after.invalidFor('team-a')).toEqual([]);
    expect(invalidOf(after, 'TrustPolicy team-a/broken')?.code).toBe('ERR_POLICY_INVALID');
  });

  it('a policy invalid from the start keeps blocking until it is fixed', () => {
    const first = build([e2eStore, trustPolicy('team-a', 'broken', { ...notaryDocument(), version: '9' })]);
    expect(first.invalidFor('team-a')).toHaveLength(1);
    const still = next(first, [e2eStore, trustPolicy('team-a', 'broken', { ...notaryDocument(), version: '8' })]);
    expect(still.invalidFor('team-a')).toHaveLength(1);
    const fixed = next(still, [e2eStore, trustPolicy('team-a', 'broken')]);
    expect(fixed.invalidFor('team-a')).toEqual([]);
    expect(names(fixed, 'team-a')).toEqual(['TrustPolicy team-a/broken']);
  });

  it('a store that disappears keeps the policies using it at their last valid version', () => {
    const before = build([e2eStore, clusterTrustPolicy('baseline')]);
    const after = next(before, [clusterTrustPolicy('baseline')]);
    expect(names(after, 'any')).toEqual(['ClusterTrustPolicy baseline']);
    expect(after.documentsFor('any')[0]?.trustStores.get('ca', 'e2e')).toHaveLength(1);
  });

  it('a deleted policy is gone (deletion is not an invalid change)', () => {
    const before = build([e2eStore, trustPolicy('team-a', 'prod')]);
    expect(names(next(before, [e2eStore]), 'team-a')).toEqual([]);
  });
});
