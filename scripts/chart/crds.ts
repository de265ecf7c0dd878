/**
 * The CustomResourceDefinitions of the four portcullis.dev kinds, generated from one description
 * so the shared parts (the Notary trust policy document, the store spec, the status) cannot
 * drift apart. Writes deploy/crds/<plural>.portcullis.dev.yaml (the source the kustomization
 * uses) and byte-identical copies in charts/portcullis/crds/; test/packaging checks both are
 * up to date.
 *
 *   npx tsx scripts/chart/crds.ts          # write
 *   npx tsx scripts/chart/crds.ts --check  # exit 1 when a file differs
 *
 * The schemas follow src/policyset/resources.ts: what that parser rejects in the shape of the
 * document, the schema rejects too where OpenAPI v3 can say it (types, enums, required fields);
 * the Notary rules themselves (statement names, scopes, identities, store references, overrides)
 * stay the server's, which reports them in status.conditions. Unknown fields are pruned by the
 * API server (structural schemas), so a misspelt field never reaches Portcullis; kubectl's
 * validation reports it. No CEL (x-kubernetes-validations): the schemas must load in 1.20.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { writeGenerated } from './generated.js';

type Schema = Record<string, unknown>;

const GROUP = 'portcullis.dev';
const VERSION = 'v1alpha1';

const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const strings = (description: string, extra: Schema = {}): Schema => ({
  type: 'array',
  description,
  items: { type: 'string' },
  ...extra,
});

const signatureVerification: Schema = {
  type: 'object',
  description: 'How the signatures of matching artifacts are verified.',
  required: ['level'],
  properties: {
    level: str('Verification level: strict, permissive, audit or skip.', {
      enum: ['strict', 'permissive', 'audit', 'skip'],
    }),
    override: {
      type: 'object',
      description:
        'Per-check actions overriding the level: keys integrity (cannot be overridden), authenticity, authenticTimestamp, expiry, revocation; values enforce, log or skip (skip only for revocation).',
      additionalProperties: { type: 'string', enum: ['enforce', 'log', 'skip'] },
    },
    verifyTimestamp: str(
      'When the timestamp countersignature is checked: always (the default when empty) or afterCertExpiry.',
      {
        enum: ['', 'always', 'afterCertExpiry'],
      },
    ),
  },
};

const statement: Schema = {
  type: 'object',
  description: 'A trust policy statement (Notary Project trust policy, version 1.0).',
  required: ['name', 'registryScopes', 'signatureVerification'],
  properties: {
    name: str('Statement name, unique within the document.'),
    registryScopes: strings('Repositories the statement applies to ("registry/repository"), or exactly ["*"].'),
    signatureVerification,
    trustStores: strings(
      'Trust stores as "type:name" (ca, signingAuthority, tsa); resolved to TrustStores of the namespace, else ClusterTrustStores.',
    ),
    trustedIdentities: strings('Trusted signing identities: "x509.subject: <DN>" entries, or exactly ["*"].'),
  },
};

const labelSelector: Schema = {
  type: 'object',
  description:
    'Namespaces the policy covers (a metav1.LabelSelector over namespace labels). Absent or {} = every namespace.',
  properties: {
    matchLabels: {
      type: 'object',
      description: 'Labels that must all be present with these values.',
      additionalProperties: { type: 'string' },
    },
    matchExpressions: {
      type: 'array',
      description: 'Requirements that must all hold.',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: {
          key: str('Label key.'),
          operator: str('In and NotIn need values; Exists and DoesNotExist take none.', {
            enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'],
          }),
          values: strings('Label values.'),
        },
      },
    },
  },
};

function policySpec(cluster: boolean): Schema {
  return {
    type: 'object',
    description: cluster
      ? 'A Notary trust policy document for the namespaces the namespaceSelector chooses.'
      : 'A Notary trust policy document for the images of this namespace.',
    required: ['version', 'trustPolicies'],
    properties: {
      enforcementAction: str(
        'deny: a failing image is rejected; warn: admitted with a warning; dryrun: admitted, only logged and counted.',
        {
          enum: ['deny', 'warn', 'dryrun'],
          default: 'deny',
        },
      ),
      ...(cluster ? { namespaceSelector: labelSelector } : {}),
      version: str('Trust policy document version; write "1.0" quoted.'),
      trustPolicies: { type: 'array', description: 'The trust policy statements.', items: statement },
    },
  };
}

function storeSpec(cluster: boolean): Schema {
  return {
    type: 'object',
    description:
      'A Notary trust store: certificates inline and/or from Secrets and ConfigMaps. At least one certificate is required.',
    required: ['type'],
    properties: {
      type: str('Notary trust store type.', { enum: ['ca', 'signingAuthority', 'tsa'] }),
      certificates: {
        description:
          'Inline PEM: one string (any number of certificates) or a list of strings. Checked by Portcullis (OpenAPI v3 in a structural schema cannot say "string or list").',
        'x-kubernetes-preserve-unknown-fields': true,
      },
      certificateRefs: {
        type: 'array',
        description: cluster
          ? 'Certificates (PEM or DER) in keys of Secrets or ConfigMaps; namespace is required.'
          : 'Certificates (PEM or DER) in keys of Secrets or ConfigMaps of this namespace.',
        items: {
          type: 'object',
          required: ['kind', 'name', 'key'],
          properties: {
            kind: str('Secret or ConfigMap.', { enum: ['Secret', 'ConfigMap'] }),
            name: str('Name of the Secret or ConfigMap.'),
            key: str('Key holding the certificates.'),
            namespace: str(
              cluster ? 'Namespace of the Secret or ConfigMap (required).' : 'Must be this namespace when set.',
            ),
          },
        },
      },
    },
  };
}

const status: Schema = {
  type: 'object',
  description: 'Written by Portcullis.',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64', description: 'The generation the conditions describe.' },
    conditions: {
      type: 'array',
      description:
        'Ready (True when the resource is in force), or False with the reason (e.g. Invalid) and a message saying why.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: {
        type: 'object',
        required: ['type', 'status'],
        properties: {
          type: str('Condition type, e.g. Ready or Invalid.'),
          status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
          observedGeneration: { type: 'integer', format: 'int64' },
          lastTransitionTime: str('When the status last changed.', { format: 'date-time' }),
          reason: str('Machine-readable reason (CamelCase or an error code).'),
          message: str('Human-readable explanation.'),
        },
      },
    },
  },
};

interface Kind {
  readonly kind: string;
  readonly plural: string;
  readonly scope: 'Namespaced' | 'Cluster';
  readonly shortNames: readonly string[];
  readonly description: string;
  readonly spec: Schema;
  readonly columns: readonly Schema[];
}

const readyColumns: readonly Schema[] = [
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];
const policyColumns: readonly Schema[] = [
  { name: 'Enforcement', type: 'string', jsonPath: '.spec.enforcementAction' },
  {
    name: 'Level',
    type: 'string',
    description: 'Level of the first statement',
    jsonPath: '.spec.trustPolicies[0].signatureVerification.level',
  },
  ...readyColumns,
];
const storeColumns: readonly Schema[] = [{ name: 'Type', type: 'string', jsonPath: '.spec.type' }, ...readyColumns];

export const KINDS: readonly Kind[] = [
  {
    kind: 'TrustPolicy',
    plural: 'trustpolicies',
    scope: 'Namespaced',
    shortNames: ['tp'],
    description: 'A Notary Project trust policy for the images of pods in its namespace (docs/policies.md).',
    spec: policySpec(false),
    columns: policyColumns,
  },
  {
    kind: 'ClusterTrustPolicy',
    plural: 'clustertrustpolicies',
    scope: 'Cluster',
    shortNames: ['ctp'],
    description: 'A Notary Project trust policy for the namespaces its namespaceSelector chooses (docs/policies.md).',
    spec: policySpec(true),
    columns: policyColumns,
  },
  {
    kind: 'TrustStore',
    plural: 'truststores',
    scope: 'Namespaced',
    shortNames: ['ts'],
    description: 'Certificates for the TrustPolicies of its namespace (docs/policies.md).',
    spec: storeSpec(false),
    columns: storeColumns,
  },
  {
    kind: 'ClusterTrustStore',
    plural: 'clustertruststores',
    scope: 'Cluster',
    shortNames: ['cts'],
    description: 'Certificates for every trust policy (docs/policies.md).',
    spec: storeSpec(true),
    columns: storeColumns,
  },
];

export function crd(k: Kind): Schema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${k.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'portcullis' },
    },
    spec: {
      group: GROUP,
      scope: k.scope,
      names: {
        kind: k.kind,
        listKind: `${k.kind}List`,
        plural: k.plural,
        singular: k.kind.toLowerCase(),
        shortNames: [...k.shortNames],
        categories: ['portcullis'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: k.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: k.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: k.spec,
                status,
              },
            },
          },
        },
      ],
    },
  };
}

const HEADER = '# Generated by scripts/chart/crds.ts (npx tsx scripts/chart/crds.ts): do not edit.\n';

export function crdFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of KINDS) out.set(`${k.plural}.${GROUP}.yaml`, HEADER + stringify(crd(k), { lineWidth: 0 }));
  return out;
}

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CRD_DIRS = [join(REPO_ROOT, 'deploy', 'crds'), join(REPO_ROOT, 'charts', 'portcullis', 'crds')];

function main(): void {
  const files = CRD_DIRS.flatMap((dir) => [...crdFiles()].map(([name, text]) => [join(dir, name), text] as const));
  if (writeGenerated(files, process.argv.includes('--check')) > 0) process.exit(1);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
