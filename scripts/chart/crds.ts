/**
 * The CustomResourceDefinitions of the four portcullis.dev kinds, generated from one description
 * so the shared parts (the Notary trust policy document, the store spec, the status) cannot
 * drift apart, and of the wg-policy PolicyReport and ClusterPolicyReport (wgpolicyk8s.io/v1alpha2,
 * written from the Policy WG's API as Kyverno and Policy Reporter use it). Writes
 * deploy/crds/<plural>.portcullis.dev.yaml (the source the kustomization uses),
 * deploy/policyreport-crds/, and the chart's templates/crds/: the same CRDs as Helm templates, so
 * that `helm upgrade` updates them (Helm never touches a chart's crds/ after the first install),
 * annotated helm.sh/resource-policy: keep (docs/install.md). test/packaging checks all are up to
 * date and that the chart renders them identical to deploy/.
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

const requiredArtifact: Schema = {
  type: 'object',
  description: 'An artifact type that must be attached to the image (a referrer) and carry a Notary signature.',
  required: ['artifactType'],
  properties: {
    artifactType: str('Artifact type, e.g. application/spdx+json, application/vnd.cyclonedx+json.'),
    trustPolicy: str(
      "Name of the statement (of spec.trustPolicies) the artifact's signature must pass; default: the statement these options are for.",
    ),
    maxAge: str('Maximum age by the org.opencontainers.image.created annotation, e.g. 720h, 30d, 1d12h (optional).'),
  },
};

const statementOptions: Schema = {
  type: 'array',
  description:
    "Portcullis' settings per statement, beside the notation document (which stays notation's). docs/policies.md.",
  items: {
    type: 'object',
    required: ['statement'],
    properties: {
      statement: str('Name of a statement of spec.trustPolicies.'),
      platforms: str(
        "Whose signatures count for a multi-platform image: index (the index's), all (every platform manifest's), or any-of-index-or-all (either; the default).",
        { enum: ['index', 'all', 'any-of-index-or-all'] },
      ),
      requiredArtifacts: {
        type: 'array',
        description: 'Signed artifacts the image must have attached.',
        items: requiredArtifact,
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
      statementOptions,
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

// --- wg-policy PolicyReport / ClusterPolicyReport (wgpolicyk8s.io/v1alpha2) ----------------------

const REPORT_GROUP = 'wgpolicyk8s.io';
const REPORT_VERSION = 'v1alpha2';

const int = (description: string): Schema => ({ type: 'integer', description });

const objectReference: Schema = {
  type: 'object',
  description: 'A reference to a Kubernetes object (corev1.ObjectReference).',
  properties: {
    apiVersion: str('API version of the referent.'),
    kind: str('Kind of the referent.'),
    name: str('Name of the referent.'),
    namespace: str('Namespace of the referent.'),
    uid: str('UID of the referent.'),
    resourceVersion: str('Resource version of the referent.'),
    fieldPath: str('A field of the referent, when the reference is to a part of it.'),
  },
};

const reportResult: Schema = {
  type: 'object',
  description: 'The result of one policy rule for the resources it names.',
  required: ['policy'],
  properties: {
    source: str('The policy engine that manages this result (portcullis).'),
    policy: str('Name of the policy.'),
    rule: str('Name of the rule within the policy (for Portcullis: the trust policy statement).'),
    resources: {
      type: 'array',
      description: 'The checked resources.',
      items: objectReference,
    },
    resourceSelector: { ...labelSelector, description: 'The checked resources, by label.' },
    message: str('A short, human-readable description of the result.'),
    result: str('The outcome.', { enum: ['pass', 'fail', 'warn', 'error', 'skip'] }),
    scored: { type: 'boolean', description: 'Whether the result is scored.' },
    properties: {
      type: 'object',
      description: 'More about the result (image, digest, code).',
      additionalProperties: { type: 'string' },
    },
    timestamp: {
      type: 'object',
      description: 'When the result was found.',
      properties: {
        seconds: { type: 'integer', format: 'int64', description: 'Seconds since the Unix epoch.' },
        nanos: { type: 'integer', format: 'int32', description: 'Non-negative fractions of a second.' },
      },
    },
    category: str('The policy category.'),
    severity: str('The severity of a failure.', { enum: ['critical', 'high', 'low', 'medium', 'info'] }),
  },
};

const reportProperties: Schema = {
  apiVersion: { type: 'string' },
  kind: { type: 'string' },
  metadata: { type: 'object' },
  scope: { ...objectReference, description: 'The object the report is about (a Deployment, a Namespace), when one.' },
  scopeSelector: { ...labelSelector, description: 'The objects the report is about, by label, when several.' },
  summary: {
    type: 'object',
    description: 'The number of results of each outcome.',
    properties: {
      pass: int('Results whose requirements were met.'),
      fail: int('Results whose requirements were not met.'),
      warn: int('Unscored results whose requirements were not met.'),
      error: int('Results that could not be evaluated.'),
      skip: int('Results not selected for evaluation.'),
    },
  },
  results: { type: 'array', description: 'The results.', items: reportResult },
};

export const REPORT_KINDS = [
  { kind: 'PolicyReport', plural: 'policyreports', scope: 'Namespaced', shortNames: ['polr'] },
  { kind: 'ClusterPolicyReport', plural: 'clusterpolicyreports', scope: 'Cluster', shortNames: ['cpolr'] },
] as const;

export function reportCrd(k: (typeof REPORT_KINDS)[number]): Schema {
  const count = (name: string): Schema => ({ name, type: 'integer', jsonPath: `.summary.${name.toLowerCase()}` });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${k.plural}.${REPORT_GROUP}` },
    spec: {
      group: REPORT_GROUP,
      scope: k.scope,
      names: {
        kind: k.kind,
        listKind: `${k.kind}List`,
        plural: k.plural,
        singular: k.kind.toLowerCase(),
        shortNames: [...k.shortNames],
      },
      versions: [
        {
          name: REPORT_VERSION,
          served: true,
          storage: true,
          additionalPrinterColumns: [
            { name: 'Kind', type: 'string', jsonPath: '.scope.kind', priority: 1 },
            { name: 'Name', type: 'string', jsonPath: '.scope.name', priority: 1 },
            ...['Pass', 'Fail', 'Warn', 'Error', 'Skip'].map(count),
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: `${k.kind}: policy results in the wg-policy format Kyverno, Policy Reporter and the Trivy operator use.`,
              properties: reportProperties,
            },
          },
        },
      ],
    },
  };
}

// --- files ----------------------------------------------------------------------------------------

const HEADER = '# Generated by scripts/chart/crds.ts (npx tsx scripts/chart/crds.ts): do not edit.\n';
const TEMPLATE_HEADER =
  '{{- /* Generated by scripts/chart/crds.ts (npx tsx scripts/chart/crds.ts): do not edit. */}}\n';

const yaml = (value: unknown): string => stringify(value, { lineWidth: 0 });
const indent = (text: string, n: number): string =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => (line === '' ? line : `${' '.repeat(n)}${line}`))
    .join('\n');

export function crdFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of KINDS) out.set(`${k.plural}.${GROUP}.yaml`, HEADER + yaml(crd(k)));
  return out;
}

export function reportCrdFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of REPORT_KINDS) out.set(`${k.plural}.${REPORT_GROUP}.yaml`, HEADER + yaml(reportCrd(k)));
  return out;
}

/**
 * A CRD as a chart template: the same spec, Helm's labels, `helm.sh/resource-policy: keep` (so
 * `helm uninstall` never deletes the CRD and with it every object of its kind), and a condition.
 */
function template(value: Schema, condition: string, labels: string, keep: string): string {
  const metadata = value['metadata'] as { name: string };
  return (
    TEMPLATE_HEADER +
    `{{- if ${condition} }}\n` +
    `apiVersion: ${String(value['apiVersion'])}\n` +
    `kind: ${String(value['kind'])}\n` +
    'metadata:\n' +
    `  name: ${metadata.name}\n` +
    '  labels:\n' +
    `${labels}\n` +
    `${keep}\n` +
    'spec:\n' +
    `${indent(yaml(value['spec']), 2)}\n` +
    '{{- end }}\n'
  );
}

export function chartTemplates(): Map<string, string> {
  const out = new Map<string, string>();
  const ourLabels = '    {{- include "portcullis.labels" . | nindent 4 }}';
  const ourKeep = '  {{- if .Values.crds.keep }}\n  annotations:\n    helm.sh/resource-policy: keep\n  {{- end }}';
  for (const k of KINDS) {
    out.set(`${k.plural}.${GROUP}.yaml`, template(crd(k), '.Values.crds.install', ourLabels, ourKeep));
  }
  // Shared with other tools: never deleted by Helm, and left alone when another installed them.
  const reportLabels = '    {{- include "portcullis.labels" . | nindent 4 }}';
  const reportKeep = '  annotations:\n    helm.sh/resource-policy: keep';
  for (const k of REPORT_KINDS) {
    const name = `${k.plural}.${REPORT_GROUP}`;
    out.set(
      `${name}.yaml`,
      template(
        reportCrd(k),
        `and .Values.policyReports.installCRDs (include "portcullis.crdAbsentOrOurs" (dict "name" "${name}" "Release" .Release))`,
        reportLabels,
        reportKeep,
      ),
    );
  }
  return out;
}

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEPLOY_CRDS = join(REPO_ROOT, 'deploy', 'crds');
export const DEPLOY_REPORT_CRDS = join(REPO_ROOT, 'deploy', 'policyreport-crds');
export const CHART_CRD_TEMPLATES = join(REPO_ROOT, 'charts', 'portcullis', 'templates', 'crds');

export function generatedFiles(): (readonly [string, string])[] {
  return [
    ...[...crdFiles()].map(([name, text]) => [join(DEPLOY_CRDS, name), text] as const),
    ...[...reportCrdFiles()].map(([name, text]) => [join(DEPLOY_REPORT_CRDS, name), text] as const),
    ...[...chartTemplates()].map(([name, text]) => [join(CHART_CRD_TEMPLATES, name), text] as const),
  ];
}

function main(): void {
  if (writeGenerated(generatedFiles(), process.argv.includes('--check')) > 0) process.exit(1);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
