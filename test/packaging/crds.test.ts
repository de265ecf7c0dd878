import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { crdFiles, generatedFiles } from '../../scripts/chart/crds.js';
import { ENFORCEMENT_ACTIONS, parseResource } from '../../src/policyset/resources.js';
import { PLATFORMS_MODES } from '../../src/policy/index.js';
import { TRUST_STORE_TYPES } from '../../src/x509/index.js';
import { validate } from './json-schema.js';
import { CHART_DIR, REPO_ROOT, at } from './helpers.js';

type Schema = Record<string, any>;

const DEPLOY_CRDS = join(REPO_ROOT, 'deploy', 'crds');
const crdFileNames = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.portcullis.dev.yaml'))
    .sort();
const crds: Schema[] = crdFileNames(DEPLOY_CRDS).map(
  (f) => parse(readFileSync(join(DEPLOY_CRDS, f), 'utf8')) as Schema,
);
const byKind = (kind: string): Schema => {
  const found = crds.find((c) => c['spec'].names.kind === kind);
  if (found === undefined) throw new Error(`no CRD for ${kind}`);
  return found;
};
const schemaOf = (kind: string): Schema => byKind(kind)['spec'].versions[0].schema.openAPIV3Schema as Schema;

/**
 * The structural schema rules of apiextensions.k8s.io/v1 (k8s.io/apiextensions-apiserver
 * pkg/apiserver/schema/validation.go), as far as these schemas can break them.
 */
function structuralViolations(schema: Schema, path: string, root: boolean): string[] {
  const out: string[] = [];
  const exempt =
    schema['x-kubernetes-preserve-unknown-fields'] === true || schema['x-kubernetes-int-or-string'] === true;
  if (schema['type'] === undefined && !exempt) out.push(`${path}: no type`);
  if (schema['properties'] !== undefined && schema['additionalProperties'] !== undefined)
    out.push(`${path}: properties and additionalProperties together`);
  if (schema['x-kubernetes-validations'] !== undefined) out.push(`${path}: CEL validations (not in Kubernetes 1.20)`);
  for (const key of ['$ref', 'definitions', 'dependencies', 'patternProperties', 'uniqueItems'])
    if (key in schema) out.push(`${path}: ${key} is not allowed`);
  for (const junctor of ['allOf', 'anyOf', 'oneOf', 'not']) {
    const parts: Schema[] =
      junctor === 'not' ? (schema[junctor] === undefined ? [] : [schema[junctor]]) : (schema[junctor] ?? []);
    for (const part of parts) {
      for (const banned of ['type', 'description', 'default', 'additionalProperties', 'nullable']) {
        if (JSON.stringify(part).includes(`"${banned}"`)) out.push(`${path}.${junctor}: ${banned} inside a junctor`);
      }
    }
  }
  if (schema['type'] === 'array') {
    if (schema['items'] === undefined || Array.isArray(schema['items']))
      out.push(`${path}: an array needs one items schema`);
    if (schema['x-kubernetes-list-type'] === 'map') {
      for (const key of schema['x-kubernetes-list-map-keys'] ?? []) {
        if (!(schema['items']?.required ?? []).includes(key)) out.push(`${path}: list map key ${key} must be required`);
      }
    }
  }
  for (const [name, child] of Object.entries((schema['properties'] ?? {}) as Record<string, Schema>))
    out.push(...structuralViolations(child, `${path}.${name}`, false));
  if (typeof schema['additionalProperties'] === 'object')
    out.push(...structuralViolations(schema['additionalProperties'] as Schema, `${path}[*]`, false));
  if (typeof schema['items'] === 'object' && !Array.isArray(schema['items']))
    out.push(...structuralViolations(schema['items'] as Schema, `${path}[]`, false));
  if (root && schema['properties']?.metadata !== undefined) {
    const metadata = schema['properties'].metadata as Schema;
    if (Object.keys(metadata).some((k) => k !== 'type')) out.push(`${path}.metadata: only type is allowed`);
  }
  return out;
}

/** What the API server would store (the schema check) and what Portcullis makes of it. */
function bothVerdicts(object: Schema): { schema: string[]; portcullis: string } {
  const kind = object['kind'] as string;
  const schema = validate(schemaOf(kind), object);
  const outcome = parseResource(object, { defaultNamespace: 'default' });
  return { schema, portcullis: outcome.outcome === 'invalid' ? `invalid: ${outcome.invalid.reason}` : outcome.outcome };
}

const policy = (spec: Schema, kind = 'TrustPolicy'): Schema => ({
  apiVersion: 'portcullis.dev/v1alpha1',
  kind,
  metadata: kind === 'TrustPolicy' ? { name: 'p', namespace: 'team-a' } : { name: 'p' },
  spec: {
    version: '1.0',
    trustPolicies: [
      {
        name: 's',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: ['ca:acme'],
        trustedIdentities: ['*'],
      },
    ],
    ...spec,
  },
});
const store = (spec: Schema, kind = 'TrustStore'): Schema => ({
  apiVersion: 'portcullis.dev/v1alpha1',
  kind,
  metadata: kind === 'TrustStore' ? { name: 's', namespace: 'team-a' } : { name: 's' },
  spec,
});

describe('the CRDs', () => {
  it('are generated by scripts/chart/crds.ts and up to date (deploy/crds, deploy/policyreport-crds, the chart templates)', () => {
    const generated = crdFiles();
    expect(crdFileNames(DEPLOY_CRDS)).toEqual([...generated.keys()].sort());
    for (const [file, text] of generatedFiles())
      expect(readFileSync(file, 'utf8'), `${file}: run npx tsx scripts/chart/crds.ts`).toBe(text);
  });

  it('the chart ships as templates, not in crds/ (Helm would never upgrade those)', () => {
    expect(readdirSync(CHART_DIR)).not.toContain('crds');
  });

  it('define the four kinds of portcullis.dev/v1alpha1 with their scopes', () => {
    expect(crds.map((c) => [c['spec'].names.kind, c['spec'].scope, c['metadata'].name]).sort()).toEqual([
      ['ClusterTrustPolicy', 'Cluster', 'clustertrustpolicies.portcullis.dev'],
      ['ClusterTrustStore', 'Cluster', 'clustertruststores.portcullis.dev'],
      ['TrustPolicy', 'Namespaced', 'trustpolicies.portcullis.dev'],
      ['TrustStore', 'Namespaced', 'truststores.portcullis.dev'],
    ]);
    for (const c of crds) {
      expect(c['apiVersion']).toBe('apiextensions.k8s.io/v1');
      expect(c['spec'].group).toBe('portcullis.dev');
      expect(c['spec'].versions.map((v: Schema) => [v['name'], v['served'], v['storage']])).toEqual([
        ['v1alpha1', true, true],
      ]);
      expect(c['spec'].versions[0].subresources).toEqual({ status: {} });
    }
  });

  it('have structural schemas that Kubernetes 1.20 accepts (types everywhere, no CEL)', () => {
    for (const c of crds)
      expect(structuralViolations(c['spec'].versions[0].schema.openAPIV3Schema, c['spec'].names.kind, true)).toEqual(
        [],
      );
    // The check itself catches the mistakes it is for.
    expect(structuralViolations({ type: 'object', properties: { a: { description: 'x' } } }, 'x', true)).toEqual([
      'x.a: no type',
    ]);
    expect(
      structuralViolations(
        { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } },
        'x',
        true,
      ),
    ).toHaveLength(1);
  });

  it('have status with conditions (Ready / Invalid, reason, message) and observedGeneration', () => {
    for (const c of crds) {
      const status = schemaOf(c['spec'].names.kind).properties.status;
      expect(Object.keys(status.properties).sort()).toEqual(['conditions', 'observedGeneration']);
      expect(Object.keys(status.properties.conditions.items.properties).sort()).toEqual([
        'lastTransitionTime',
        'message',
        'observedGeneration',
        'reason',
        'status',
        'type',
      ]);
    }
  });

  it('print Enforcement, Level (first statement), Ready and Age for policies; Type, Ready and Age for stores', () => {
    const columns = (kind: string): string[] =>
      byKind(kind)['spec'].versions[0].additionalPrinterColumns.map((c: Schema) => `${c['name']}=${c['jsonPath']}`);
    const ready = [
      'Ready=.status.conditions[?(@.type=="Ready")].status',
      'Reason=.status.conditions[?(@.type=="Ready")].reason',
      'Age=.metadata.creationTimestamp',
    ];
    for (const kind of ['TrustPolicy', 'ClusterTrustPolicy']) {
      expect(columns(kind)).toEqual([
        'Enforcement=.spec.enforcementAction',
        'Level=.spec.trustPolicies[0].signatureVerification.level',
        ...ready,
      ]);
    }
    for (const kind of ['TrustStore', 'ClusterTrustStore'])
      expect(columns(kind)).toEqual(['Type=.spec.type', ...ready]);
  });

  it('have exactly the spec fields src/policyset/resources.ts reads, with its enums', () => {
    const spec = (kind: string): Schema => schemaOf(kind).properties.spec;
    expect(Object.keys(spec('TrustPolicy').properties).sort()).toEqual([
      'enforcementAction',
      'statementOptions',
      'trustPolicies',
      'version',
    ]);
    expect(Object.keys(spec('ClusterTrustPolicy').properties).sort()).toEqual([
      'enforcementAction',
      'namespaceSelector',
      'statementOptions',
      'trustPolicies',
      'version',
    ]);
    const options = spec('TrustPolicy').properties.statementOptions.items;
    expect(Object.keys(options.properties).sort()).toEqual(['platforms', 'requiredArtifacts', 'statement']);
    expect(options.properties.platforms.enum).toEqual([...PLATFORMS_MODES]);
    expect(Object.keys(options.properties.requiredArtifacts.items.properties).sort()).toEqual([
      'artifactType',
      'maxAge',
      'trustPolicy',
    ]);
    for (const kind of ['TrustStore', 'ClusterTrustStore']) {
      expect(Object.keys(spec(kind).properties).sort()).toEqual(['certificateRefs', 'certificates', 'type']);
      expect(spec(kind).properties.type.enum).toEqual([...TRUST_STORE_TYPES]);
      expect(Object.keys(spec(kind).properties.certificateRefs.items.properties).sort()).toEqual([
        'key',
        'kind',
        'name',
        'namespace',
      ]);
    }
    expect(spec('TrustPolicy').properties.enforcementAction).toMatchObject({
      enum: [...ENFORCEMENT_ACTIONS],
      default: 'deny',
    });
    const statement = spec('TrustPolicy').properties.trustPolicies.items;
    expect(Object.keys(statement.properties).sort()).toEqual([
      'name',
      'registryScopes',
      'signatureVerification',
      'trustStores',
      'trustedIdentities',
    ]);
    expect(Object.keys(statement.properties.signatureVerification.properties).sort()).toEqual([
      'level',
      'override',
      'verifyTimestamp',
    ]);
  });

  it('accept every example in examples/policies, as Portcullis does', () => {
    const dir = join(REPO_ROOT, 'examples', 'policies');
    let ours = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
        const object = doc.toJS() as Schema | null;
        if (object === null || object['apiVersion'] !== 'portcullis.dev/v1alpha1') continue;
        ours++;
        expect(bothVerdicts(object), `${file}: ${object['kind']} ${object['metadata']?.name}`).toEqual({
          schema: [],
          portcullis: 'resource',
        });
      }
    }
    expect(ours).toBeGreaterThanOrEqual(3);
  });

  it.each([
    ['certificates as one PEM string', store({ type: 'ca', certificates: 'PEM' })],
    ['certificates as a list of PEM strings', store({ type: 'tsa', certificates: ['PEM', 'PEM'] })],
    [
      'certificateRefs',
      store({ type: 'signingAuthority', certificateRefs: [{ kind: 'Secret', name: 'roots', key: 'ca.crt' }] }),
    ],
    [
      'a cluster store with a namespaced ref',
      store(
        { type: 'ca', certificateRefs: [{ kind: 'ConfigMap', name: 'roots', key: 'ca.crt', namespace: 'x' }] },
        'ClusterTrustStore',
      ),
    ],
    ['warn mode', policy({ enforcementAction: 'warn' })],
    [
      'a selector',
      policy(
        { namespaceSelector: { matchLabels: { a: 'b' }, matchExpressions: [{ key: 'k', operator: 'Exists' }] } },
        'ClusterTrustPolicy',
      ),
    ],
    [
      'overrides and verifyTimestamp',
      policy({
        trustPolicies: [
          {
            name: 's',
            registryScopes: ['*'],
            signatureVerification: {
              level: 'strict',
              override: { revocation: 'skip' },
              verifyTimestamp: 'afterCertExpiry',
            },
            trustStores: ['ca:x'],
            trustedIdentities: ['*'],
          },
        ],
      }),
    ],
  ])('the schema accepts %s', (_name, object) => {
    expect(validate(schemaOf(object['kind'] as string), object)).toEqual([]);
  });

  it.each([
    ['an unknown enforcementAction', policy({ enforcementAction: 'audit' }), 'enforcementAction'],
    [
      'an unknown level',
      policy({ trustPolicies: [{ name: 's', registryScopes: ['*'], signatureVerification: { level: 'lenient' } }] }),
      'level',
    ],
    ['an unquoted version', policy({ version: 1 }), 'version'],
    [
      'an unknown override action',
      policy({
        trustPolicies: [
          {
            name: 's',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict', override: { expiry: 'ignore' } },
          },
        ],
      }),
      'expiry',
    ],
    ['an unknown store type', store({ type: 'x509', certificates: 'PEM' }), 'type'],
    ['a ref of another kind', store({ type: 'ca', certificateRefs: [{ kind: 'Pod', name: 'a', key: 'b' }] }), 'kind'],
    [
      'a selector operator Kubernetes does not know',
      policy({ namespaceSelector: { matchExpressions: [{ key: 'k', operator: 'Like' }] } }, 'ClusterTrustPolicy'),
      'operator',
    ],
  ])('the schema rejects %s, and so does Portcullis', (_name, object, field) => {
    const verdicts = bothVerdicts(object);
    expect(verdicts.schema.join('; ')).toContain(field);
    expect(verdicts.portcullis).toMatch(/^invalid: /);
  });

  it('prunes what Portcullis would reject as unknown (kubectl reports it before it is sent)', () => {
    const verdicts = bothVerdicts(policy({ enforcementActoin: 'warn' }));
    expect(verdicts.schema.join('; ')).toContain('unknown field enforcementActoin');
    expect(verdicts.portcullis).toContain('unknown field');
    expect(at(schemaOf('TrustPolicy'), 'properties', 'spec', 'x-kubernetes-preserve-unknown-fields')).toBeUndefined();
  });
});
