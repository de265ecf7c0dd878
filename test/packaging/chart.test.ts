import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, parse, parseDocument, type YAMLMap } from 'yaml';
import { resolveServeConfig } from '../../src/config/serve-config.js';
import { validate } from './json-schema.js';
import {
  CHART_DIR,
  NAMESPACE,
  REPO_ROOT,
  at,
  idOf,
  kindOf,
  kinds,
  notes,
  only,
  renderError,
  values,
  type Doc,
} from './helpers.js';

/** apiVersion of every kind the chart may render. */
const API_VERSIONS: Record<string, readonly string[]> = {
  ServiceAccount: ['v1'],
  Secret: ['v1'],
  ConfigMap: ['v1'],
  Service: ['v1'],
  Deployment: ['apps/v1'],
  PodDisruptionBudget: ['policy/v1', 'policy/v1beta1'],
  HorizontalPodAutoscaler: ['autoscaling/v2', 'autoscaling/v2beta2'],
  ClusterRole: ['rbac.authorization.k8s.io/v1'],
  ClusterRoleBinding: ['rbac.authorization.k8s.io/v1'],
  Role: ['rbac.authorization.k8s.io/v1'],
  RoleBinding: ['rbac.authorization.k8s.io/v1'],
  ValidatingWebhookConfiguration: ['admissionregistration.k8s.io/v1'],
  MutatingWebhookConfiguration: ['admissionregistration.k8s.io/v1'],
  Issuer: ['cert-manager.io/v1'],
  Certificate: ['cert-manager.io/v1'],
  Provider: ['externaldata.gatekeeper.sh/v1beta1'],
  ConstraintTemplate: ['templates.gatekeeper.sh/v1'],
  PortcullisVerifiedImages: ['constraints.gatekeeper.sh/v1beta1'],
  CustomResourceDefinition: ['apiextensions.k8s.io/v1'],
  ServiceMonitor: ['monitoring.coreos.com/v1'],
  NetworkPolicy: ['networking.k8s.io/v1'],
};
const CLUSTER_SCOPED = new Set([
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'Provider',
  'ConstraintTemplate',
  'PortcullisVerifiedImages',
  'CustomResourceDefinition',
]);

const EVERYTHING = [
  '--set',
  'mutate.enabled=true',
  '--set',
  'gatekeeper.enabled=true',
  '--set',
  'tls.clientCA.secretName=gk-ca',
  '--set',
  'registryCredentials.defaultDockerConfigSecret=regcred',
];
const WITH_CERT_MANAGER = ['--set', 'certManager.enabled=true'];

const deployment = (docs: readonly Doc[]): Doc => only(docs, 'Deployment');
const container = (docs: readonly Doc[]): any => at(deployment(docs), 'spec', 'template', 'spec', 'containers', 0);
const webhookOf = (docs: readonly Doc[], kind = 'ValidatingWebhookConfiguration'): any =>
  at(only(docs, kind), 'webhooks', 0);
const serverConfig = (docs: readonly Doc[]): any => parse(at(only(docs, 'ConfigMap'), 'data', 'config.yaml') as string);

describe('charts/portcullis', () => {
  describe('every rendering', () => {
    it.each([
      ['default values', []],
      ['everything on', EVERYTHING],
      ['cert-manager', [...WITH_CERT_MANAGER, '--set', 'gatekeeper.enabled=true', '--set', 'gatekeeper.caBundle=Y2E=']],
      ['Kubernetes 1.21, the oldest supported', ['--kube-version', '1.21.0']],
    ])(
      'parses as YAML with known kinds and apiVersions, namespaced objects in the release namespace (%s)',
      (_name, args) => {
        const docs = values(...args);
        expect(docs.length).toBeGreaterThan(5);
        for (const doc of docs) {
          const kind = kindOf(doc);
          expect(API_VERSIONS[kind], `unexpected kind ${kind}`).toBeDefined();
          expect(API_VERSIONS[kind]).toContain(doc['apiVersion']);
          const namespace = at(doc, 'metadata', 'namespace');
          if (CLUSTER_SCOPED.has(kind)) expect(namespace, idOf(doc)).toBeUndefined();
          else expect(namespace, idOf(doc)).toBe(NAMESPACE);
          expect(at(doc, 'metadata', 'labels', 'app.kubernetes.io/part-of')).toBe('portcullis');
        }
        const ids = docs.map(idOf);
        expect(new Set(ids).size).toBe(ids.length);
      },
    );

    it('renders a NOTES.txt with the next steps', () => {
      const text = notes();
      expect(text).toContain('ClusterTrustStore');
      expect(text).toContain('ClusterTrustPolicy');
      expect(text).toContain('kubectl label namespace');
      expect(text).toContain('kubectl get trustpolicies,truststores -A');
      // The README's safe rollout: dryrun first, then the reports and the audit.
      expect(text).toContain('enforcementAction: dryrun');
      expect(text).toContain('kubectl get policyreports -A');
      expect(text).toContain('portcullis audit --kubeconfig ~/.kube/config');
      expect(text).not.toContain('WARNING');
    });

    it('refuses Kubernetes before 1.21, saying why (the exclusion needs the kubernetes.io/metadata.name label)', () => {
      expect(() => values('--kube-version', '1.20.2')).toThrow(
        /Portcullis needs Kubernetes 1\.21 or later, not v1\.20\.2: before 1\.21 namespaces lack the kubernetes\.io\/metadata\.name label/,
      );
      expect(() => values('--kube-version', '1.19.0')).toThrow(/needs Kubernetes 1\.21 or later/);
      expect(values('--kube-version', '1.21.0').length).toBeGreaterThan(5);
      expect(parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')).kubeVersion).toBe('>=1.21.0-0');
    });
  });

  describe('with the default values', () => {
    const docs = values();

    it('renders the CRDs, the server, its RBAC, its certificate, the validating and the (pinning) mutating webhook only', () => {
      expect(kinds(docs)).toEqual([
        'ClusterRole',
        'ClusterRoleBinding',
        'ConfigMap',
        ...Array<string>(6).fill('CustomResourceDefinition'),
        'Deployment',
        'MutatingWebhookConfiguration',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'Secret',
        'Service',
        'ServiceAccount',
        'ValidatingWebhookConfiguration',
      ]);
    });

    it('runs 2 replicas, spread over nodes, never below the desired count while rolling', () => {
      const d = deployment(docs);
      expect(at(d, 'spec', 'replicas')).toBe(2);
      expect(at(d, 'spec', 'strategy', 'rollingUpdate', 'maxUnavailable')).toBe(0);
      const term = at(
        d,
        'spec',
        'template',
        'spec',
        'affinity',
        'podAntiAffinity',
        'preferredDuringSchedulingIgnoredDuringExecution',
        0,
      );
      expect(term.podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
      expect(term.podAffinityTerm.labelSelector.matchLabels).toEqual(at(d, 'spec', 'selector', 'matchLabels'));
    });

    it('has a PodDisruptionBudget keeping one pod', () => {
      const pdb = only(docs, 'PodDisruptionBudget');
      expect(pdb['apiVersion']).toBe('policy/v1');
      expect(at(pdb, 'spec', 'minAvailable')).toBe(1);
      expect(at(pdb, 'spec', 'selector', 'matchLabels')).toEqual(
        at(deployment(docs), 'spec', 'selector', 'matchLabels'),
      );
    });

    it('runs as non-root with a read-only root filesystem, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
      const pod = at(deployment(docs), 'spec', 'template', 'spec');
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.hostNetwork).toBeUndefined();
      const c = container(docs);
      expect(c.securityContext).toEqual({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      // The only writable path is an emptyDir on /tmp.
      const tmp = c.volumeMounts.find((m: any) => m.mountPath === '/tmp');
      expect(pod.volumes.find((v: any) => v.name === tmp.name).emptyDir).toBeDefined();
      for (const m of c.volumeMounts) if (m.mountPath !== '/tmp') expect(m.readOnly, m.mountPath).toBe(true);
    });

    it('sets resource requests and limits', () => {
      const { resources } = container(docs);
      for (const part of ['requests', 'limits']) {
        expect(resources[part].cpu, part).toBeTruthy();
        expect(resources[part].memory, part).toBeTruthy();
      }
    });

    it('serves HTTPS with the mounted certificate and config, policies from the Kubernetes API', () => {
      const c = container(docs);
      expect(c.args).toEqual([
        'serve',
        '--kubernetes',
        '--port',
        '8443',
        '--tls-cert',
        '/tls/tls.crt',
        '--tls-key',
        '/tls/tls.key',
        '--config',
        '/etc/portcullis/config.yaml',
      ]);
      expect(c.command).toBeUndefined();
      const pod = at(deployment(docs), 'spec', 'template', 'spec');
      const volume = (mountPath: string): any =>
        pod.volumes.find((v: any) => v.name === c.volumeMounts.find((m: any) => m.mountPath === mountPath).name);
      expect(volume('/tls').secret.secretName).toBe(at(only(docs, 'Secret'), 'metadata', 'name'));
      expect(volume('/etc/portcullis').configMap.name).toBe(at(only(docs, 'ConfigMap'), 'metadata', 'name'));
      expect(c.ports).toEqual([{ name: 'https', containerPort: 8443, protocol: 'TCP' }]);
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'https', scheme: 'HTTPS' });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'https', scheme: 'HTTPS' });
      expect(pod.serviceAccountName).toBe(at(only(docs, 'ServiceAccount'), 'metadata', 'name'));
    });

    it('exposes 443 → the https port on a Service selecting the pods', () => {
      const svc = only(docs, 'Service');
      expect(at(svc, 'spec', 'ports')).toEqual([{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }]);
      expect(at(svc, 'spec', 'selector')).toEqual(at(deployment(docs), 'spec', 'selector', 'matchLabels'));
    });

    it('renders a server configuration the server accepts, with its defaults', () => {
      const config = serverConfig(docs);
      const resolved = resolveServeConfig(config);
      expect(resolved.webhook).toMatchObject({
        timeoutSeconds: 10,
        failurePolicy: 'fail',
        mutate: true,
        gatekeeper: false,
      });
      expect(resolved.cache.contentMaxBytes).toBe(64 * 1024 * 1024);
      expect(resolved.tls.minVersion).toBe('TLSv1.3');
    });

    it('registers the validating webhook: Fail, timeout equal to the server config, v1 reviews, no side effects', () => {
      const w = webhookOf(docs);
      expect(w.failurePolicy).toBe('Fail');
      expect(w.timeoutSeconds).toBe(10);
      expect(w.timeoutSeconds).toBe(serverConfig(docs).webhook.timeoutSeconds);
      expect(w.sideEffects).toBe('None');
      expect(w.admissionReviewVersions).toEqual(['v1']);
      expect(w.matchPolicy).toBe('Equivalent');
      expect(w.clientConfig.service).toEqual({
        name: at(only(docs, 'Service'), 'metadata', 'name'),
        namespace: NAMESPACE,
        path: '/validate',
        port: 443,
      });
    });

    it('leaves kube-system and its own namespace out of the webhook', () => {
      expect(webhookOf(docs).namespaceSelector).toEqual({
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', NAMESPACE] },
        ],
      });
      const elsewhere = values('--namespace', 'security');
      expect(webhookOf(elsewhere).namespaceSelector.matchExpressions[0].values).toEqual(['kube-system', 'security']);
    });

    it('intercepts pods, ephemeral containers and the pod templates of the 7 workload kinds', () => {
      const covered = new Set<string>();
      for (const rule of webhookOf(docs).rules) {
        expect(rule.scope).toBe('Namespaced');
        expect(rule.apiVersions).toEqual(['v1']);
        for (const group of rule.apiGroups)
          for (const resource of rule.resources)
            for (const op of rule.operations) covered.add(`${group}/${resource} ${op}`);
      }
      const want = [
        '/pods CREATE',
        '/pods UPDATE',
        '/pods/ephemeralcontainers UPDATE',
        '/replicationcontrollers CREATE',
        '/replicationcontrollers UPDATE',
        ...['deployments', 'replicasets', 'statefulsets', 'daemonsets'].flatMap((r) => [
          `apps/${r} CREATE`,
          `apps/${r} UPDATE`,
        ]),
        ...['jobs', 'cronjobs'].flatMap((r) => [`batch/${r} CREATE`, `batch/${r} UPDATE`]),
      ];
      expect([...covered].sort()).toEqual(want.sort());
    });

    it('generates a CA and a serving certificate for the Service, and trusts that CA in the webhook', () => {
      const secret = only(docs, 'Secret');
      expect(secret['type']).toBe('kubernetes.io/tls');
      const data = at(secret, 'data') as Record<string, string>;
      const decode = (k: string): string => Buffer.from(data[k] as string, 'base64').toString('utf8');
      const ca = new X509Certificate(decode('ca.crt'));
      const cert = new X509Certificate(decode('tls.crt'));
      expect(ca.ca).toBe(true);
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.checkHost(`portcullis.${NAMESPACE}.svc`)).toBe(`portcullis.${NAMESPACE}.svc`);
      expect(cert.checkHost(`portcullis.${NAMESPACE}`)).toBe(`portcullis.${NAMESPACE}`);
      const key = createPrivateKey(decode('tls.key'));
      expect(
        createPublicKey(key)
          .export({ type: 'spki', format: 'der' })
          .equals(cert.publicKey.export({ type: 'spki', format: 'der' })),
      ).toBe(true);
      expect(webhookOf(docs).clientConfig.caBundle).toBe(data['ca.crt']);
    });

    it('grants exactly the RBAC the server needs, no wildcards', () => {
      const role = only(docs, 'ClusterRole');
      expect(at(role, 'rules')).toEqual([
        {
          apiGroups: ['portcullis.dev'],
          resources: ['trustpolicies', 'clustertrustpolicies', 'truststores', 'clustertruststores'],
          verbs: ['list', 'watch'],
        },
        {
          apiGroups: ['portcullis.dev'],
          resources: [
            'trustpolicies/status',
            'clustertrustpolicies/status',
            'truststores/status',
            'clustertruststores/status',
          ],
          verbs: ['patch'],
        },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
        {
          apiGroups: ['apps'],
          resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'],
          verbs: ['list'],
        },
        { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['list'] },
        { apiGroups: ['wgpolicyk8s.io'], resources: ['policyreports'], verbs: ['get', 'list', 'create', 'update'] },
        { apiGroups: ['wgpolicyk8s.io'], resources: ['clusterpolicyreports'], verbs: ['get', 'create', 'update'] },
      ]);
      expect(JSON.stringify(at(role, 'rules'))).not.toContain('*');
      // Leader election: one Lease, in the release namespace only.
      const lease = only(docs, 'Role');
      expect(at(lease, 'rules')).toEqual([
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
      ]);
      expect(at(only(docs, 'RoleBinding'), 'roleRef', 'name')).toBe(at(lease, 'metadata', 'name'));
      expect(serverConfig(docs).audit).toMatchObject({
        intervalSeconds: 300,
        leaseName: 'portcullis-audit',
        leaseNamespace: NAMESPACE,
      });
      const binding = only(docs, 'ClusterRoleBinding');
      expect(at(binding, 'roleRef')).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: at(role, 'metadata', 'name'),
      });
      expect(at(binding, 'subjects')).toEqual([
        { kind: 'ServiceAccount', name: at(only(docs, 'ServiceAccount'), 'metadata', 'name'), namespace: NAMESPACE },
      ]);
    });
  });

  describe('values', () => {
    it('config.audit.intervalSeconds=0 turns the background audit off, and its RBAC with it; events.enabled=false too', () => {
      const docs = values('--set', 'config.audit.intervalSeconds=0', '--set', 'config.events.enabled=false');
      expect(kinds(docs)).not.toContain('Role');
      const rules = JSON.stringify(at(only(docs, 'ClusterRole'), 'rules'));
      for (const gone of ['pods', 'deployments', 'policyreports', 'events']) expect(rules).not.toContain(`"${gone}"`);
    });

    it('metrics.port serves /metrics over plain HTTP on a port of its own, scraped there by the ServiceMonitor', () => {
      const docs = values(
        '--set',
        'metrics.port=9090',
        '--set',
        'metrics.serviceMonitor.enabled=true',
        '--set',
        'networkPolicy.enabled=true',
      );
      expect(serverConfig(docs).metrics).toEqual({ port: 9090 });
      expect(container(docs).ports).toContainEqual({ name: 'metrics', containerPort: 9090, protocol: 'TCP' });
      expect(at(only(docs, 'Service'), 'spec', 'ports')).toContainEqual({
        name: 'metrics',
        port: 9090,
        targetPort: 'metrics',
        protocol: 'TCP',
      });
      expect(at(only(docs, 'ServiceMonitor'), 'spec', 'endpoints')).toEqual([
        { port: 'metrics', path: '/metrics', scheme: 'http', interval: '30s', scrapeTimeout: '10s' },
      ]);
      expect(at(only(docs, 'NetworkPolicy'), 'spec', 'ingress', 0, 'ports')).toContainEqual({
        port: 'metrics',
        protocol: 'TCP',
      });
      expect(serverConfig(values()).metrics).toBeUndefined();
    });

    it('metrics.grafanaDashboard.enabled adds the dashboard ConfigMap with the sidecar label', () => {
      const docs = values('--set', 'metrics.grafanaDashboard.enabled=true');
      const cm = docs.find(
        (d) => kindOf(d) === 'ConfigMap' && String(at(d, 'metadata', 'name')).endsWith('-dashboard'),
      );
      expect(at(cm, 'metadata', 'labels', 'grafana_dashboard')).toBe('1');
      const dashboard = JSON.parse(at(cm, 'data', 'portcullis.json') as string);
      expect(dashboard.title).toBe('Portcullis');
      expect(dashboard.panels.length).toBeGreaterThan(10);
      expect(values().some((d) => String(at(d, 'metadata', 'name')).endsWith('-dashboard'))).toBe(false);
    });

    it('timeoutSeconds and failurePolicy go to the webhook and to the server config together', () => {
      const docs = values('--set', 'webhook.timeoutSeconds=5', '--set', 'webhook.failurePolicy=Ignore');
      expect(webhookOf(docs)).toMatchObject({ timeoutSeconds: 5, failurePolicy: 'Ignore' });
      expect(serverConfig(docs).webhook).toMatchObject({ timeoutSeconds: 5, failurePolicy: 'ignore' });
    });

    // Pinning is the default (issue 11): with a tag in the pod spec, the kubelet pulls whatever the
    // tag names later, not what was verified.
    it('pins by default: the mutating webhook on /mutate, with the same rules and exclusions, and /mutate enabled', () => {
      const docs = values();
      const m = webhookOf(docs, 'MutatingWebhookConfiguration');
      const v = webhookOf(docs);
      expect(m.clientConfig.service.path).toBe('/mutate');
      expect(m.clientConfig.caBundle).toBe(v.clientConfig.caBundle);
      expect(m.rules).toEqual(v.rules);
      expect(m.namespaceSelector).toEqual(v.namespaceSelector);
      expect(m).toMatchObject({
        failurePolicy: 'Fail',
        timeoutSeconds: 10,
        sideEffects: 'None',
        reinvocationPolicy: 'Never',
      });
      expect(serverConfig(docs).webhook.mutate).toBe(true);
    });

    it('mutate.enabled=false leaves images as written: no mutating webhook, /mutate off', () => {
      const docs = values('--set', 'mutate.enabled=false');
      expect(kinds(docs).includes('MutatingWebhookConfiguration')).toBe(false);
      expect(serverConfig(docs).webhook.mutate).toBe(false);
    });

    it('gatekeeper.enabled adds the Provider, the ConstraintTemplate and the constraint, and enables the endpoints', () => {
      const docs = values('--set', 'gatekeeper.enabled=true');
      const provider = only(docs, 'Provider');
      expect(at(provider, 'spec')).toEqual({
        url: `https://portcullis.${NAMESPACE}:443/gatekeeper/v1/verify`,
        timeout: 3,
        caBundle: webhookOf(docs).clientConfig.caBundle,
      });
      const template = only(docs, 'ConstraintTemplate');
      const rego = at(template, 'spec', 'targets', 0, 'rego') as string;
      for (const field of ['containers', 'initContainers', 'ephemeralContainers'])
        expect(rego).toContain(`input.review.object.spec.${field}[_].image`);
      expect(rego).toContain('sprintf("[%s]%s", [review_namespace, img])');
      expect(rego).toContain(`external_data({"provider": "${at(provider, 'metadata', 'name')}", "keys": keys})`);
      expect(rego).toContain('response.system_error');
      expect(rego).toContain('response.errors[_]');
      const constraint = only(docs, at(template, 'spec', 'crd', 'spec', 'names', 'kind') as string);
      expect(at(constraint, 'spec', 'enforcementAction')).toBe('deny');
      expect(at(constraint, 'spec', 'match', 'excludedNamespaces')).toEqual([
        'kube-system',
        'gatekeeper-system',
        NAMESPACE,
      ]);
      expect(serverConfig(docs).webhook.gatekeeper).toBe(true);

      const noConstraint = values('--set', 'gatekeeper.enabled=true', '--set', 'gatekeeper.constraint.enabled=false');
      expect(
        kinds(noConstraint).filter(
          (k) => k === 'Provider' || k === 'ConstraintTemplate' || k === 'PortcullisVerifiedImages',
        ),
      ).toEqual(['Provider']);
    });

    it('certManager.enabled replaces the generated Secret by cert-manager objects and cainjector annotations', () => {
      const docs = values(...WITH_CERT_MANAGER, '--set', 'mutate.enabled=true');
      expect(kinds(docs)).not.toContain('Secret');
      expect(kinds(docs).filter((k) => k === 'Issuer' || k === 'Certificate')).toEqual([
        'Certificate',
        'Certificate',
        'Issuer',
        'Issuer',
      ]);
      const serving = only(docs, 'Certificate', 'portcullis');
      const secretName = at(serving, 'spec', 'secretName');
      const pod = at(deployment(docs), 'spec', 'template', 'spec');
      expect(pod.volumes.find((v: any) => v.name === 'tls').secret.secretName).toBe(secretName);
      expect(at(serving, 'spec', 'dnsNames')).toContain(`portcullis.${NAMESPACE}.svc`);
      expect(at(serving, 'spec', 'issuerRef', 'name')).toBe('portcullis-ca');
      for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
        expect(at(only(docs, kind), 'metadata', 'annotations', 'cert-manager.io/inject-ca-from')).toBe(
          `${NAMESPACE}/portcullis`,
        );
        expect(webhookOf(docs, kind).clientConfig.caBundle).toBeUndefined();
      }
      expect(renderError(...WITH_CERT_MANAGER, '--set', 'gatekeeper.enabled=true')).toContain(
        'gatekeeper.caBundle is required',
      );

      const ownIssuer = values(
        ...WITH_CERT_MANAGER,
        '--set',
        'certManager.issuerRef.name=corp-ca',
        '--set',
        'certManager.issuerRef.kind=ClusterIssuer',
      );
      expect(kinds(ownIssuer).filter((k) => k === 'Issuer' || k === 'Certificate')).toEqual(['Certificate']);
      expect(at(only(ownIssuer, 'Certificate'), 'spec', 'issuerRef')).toEqual({
        name: 'corp-ca',
        kind: 'ClusterIssuer',
      });
    });

    it('certificates.existingSecret uses that Secret and the given caBundle', () => {
      const docs = values('--set', 'certificates.existingSecret=my-tls', '--set', 'certificates.caBundle=Q0E=');
      expect(kinds(docs)).not.toContain('Secret');
      expect(at(deployment(docs), 'spec', 'template', 'spec', 'volumes', 0, 'secret', 'secretName')).toBe('my-tls');
      expect(webhookOf(docs).clientConfig.caBundle).toBe('Q0E=');
      expect(renderError('--set', 'certificates.existingSecret=my-tls')).toContain('certificates.caBundle');
    });

    it('webhook.enabled=false leaves the webhook out (Gatekeeper-only installs)', () => {
      expect(kinds(values('--set', 'webhook.enabled=false', '--set', 'gatekeeper.enabled=true'))).not.toContain(
        'ValidatingWebhookConfiguration',
      );
    });

    it('rbac.readSecrets=false grants no access to Secrets; rbac.create=false grants nothing', () => {
      const rules = at(only(values('--set', 'rbac.readSecrets=false'), 'ClusterRole'), 'rules') as any[];
      expect(rules.flatMap((r) => r.resources)).not.toContain('secrets');
      expect(kinds(values('--set', 'rbac.create=false')).filter((k) => k.startsWith('ClusterRole'))).toEqual([]);
    });

    it('uses policy/v1 PodDisruptionBudgets (served from 1.21, the oldest version supported), and none when disabled', () => {
      expect(only(values('--kube-version', '1.21.0'), 'PodDisruptionBudget')['apiVersion']).toBe('policy/v1');
      expect(kinds(values('--set', 'podDisruptionBudget.enabled=false'))).not.toContain('PodDisruptionBudget');
    });

    it('autoscaling.enabled adds a HorizontalPodAutoscaler on CPU per replica and leaves the replica count to it', () => {
      expect(kinds(values())).not.toContain('HorizontalPodAutoscaler');
      expect(at(deployment(values()), 'spec', 'replicas')).toBe(2);
      const docs = values('--set', 'autoscaling.enabled=true', '--set', 'autoscaling.maxReplicas=9');
      const hpa = only(docs, 'HorizontalPodAutoscaler');
      expect(hpa['apiVersion']).toBe('autoscaling/v2');
      expect(at(hpa, 'spec', 'scaleTargetRef')).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: at(deployment(docs), 'metadata', 'name'),
      });
      expect(at(hpa, 'spec', 'minReplicas')).toBe(2);
      expect(at(hpa, 'spec', 'maxReplicas')).toBe(9);
      expect(at(hpa, 'spec', 'metrics', 0)).toEqual({
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'AverageValue', averageValue: '600m' } },
      });
      expect(at(hpa, 'spec', 'behavior', 'scaleDown', 'stabilizationWindowSeconds')).toBe(300);
      // The HPA owns the count: a replicas field would fight it on every helm upgrade.
      expect(at(deployment(docs), 'spec', 'replicas')).toBeUndefined();
      // 1.21 and 1.22 serve the same schema as autoscaling/v2beta2.
      const old = only(
        values('--set', 'autoscaling.enabled=true', '--kube-version', '1.22.0'),
        'HorizontalPodAutoscaler',
      );
      expect(old['apiVersion']).toBe('autoscaling/v2beta2');
    });

    it('ANDs webhook.namespaceSelector with the exclusions', () => {
      const docs = values(
        '--set-string',
        'webhook.namespaceSelector.matchLabels.portcullis\\.dev/enforce=true',
        '--set',
        'webhook.excludedNamespaces={kube-system,kube-public}',
      );
      expect(webhookOf(docs).namespaceSelector).toEqual({
        matchLabels: { 'portcullis.dev/enforce': 'true' },
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kube-public', NAMESPACE] },
        ],
      });
    });

    it('tls.clientCA and registryCredentials mount their Secrets and set the server config; probes stay HTTPS (they need no client certificate)', () => {
      const docs = values(...EVERYTHING);
      const config = resolveServeConfig(serverConfig(docs));
      expect(config.tls.clientCaFile).toBe('/var/run/portcullis/client-ca/ca.crt');
      expect(config.registries.defaultDockerConfig).toBe('/var/run/portcullis/registry/config.json');
      const c = container(docs);
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'https', scheme: 'HTTPS' });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'https', scheme: 'HTTPS' });
      const pod = at(deployment(docs), 'spec', 'template', 'spec');
      expect(pod.volumes.map((v: any) => v.secret?.secretName).filter(Boolean)).toEqual([
        'portcullis-tls',
        'gk-ca',
        'regcred',
      ]);
    });

    it('verificationPlugins.volume mounts the plugins read-only and sets plugins.* in the server config; without it nothing is mounted', () => {
      const docs = values(
        '--set',
        'verificationPlugins.volume.persistentVolumeClaim.claimName=notation-plugins',
        '--set',
        'verificationPlugins.timeoutSeconds=3',
        '--set',
        'verificationPlugins.environment[0]=AWS_REGION',
      );
      const config = resolveServeConfig(serverConfig(docs));
      expect(config.plugins).toEqual({
        directory: '/var/run/portcullis/plugins',
        timeoutSeconds: 3,
        maxConcurrent: 4,
        environment: ['AWS_REGION'],
      });
      expect(container(docs).volumeMounts).toContainEqual({
        name: 'verification-plugins',
        mountPath: '/var/run/portcullis/plugins',
        readOnly: true,
      });
      expect(at(deployment(docs), 'spec', 'template', 'spec', 'volumes')).toContainEqual({
        name: 'verification-plugins',
        persistentVolumeClaim: { claimName: 'notation-plugins' },
      });
      const plain = values();
      expect(resolveServeConfig(serverConfig(plain)).plugins.directory).toBeUndefined();
      expect(JSON.stringify(deployment(plain))).not.toContain('verification-plugins');
    });

    it('image.digest pins the image', () => {
      const digest = `sha256:${'a'.repeat(64)}`;
      expect(container(values('--set', `image.digest=${digest}`)).image).toBe(
        `ghcr.io/portcullis/portcullis@${digest}`,
      );
      expect(container(values()).image).toBe('ghcr.io/portcullis/portcullis:0.1.0');
    });

    it('a config change changes the pod template (rolling restart)', () => {
      const checksum = (docs: readonly Doc[]): unknown =>
        at(deployment(docs), 'spec', 'template', 'metadata', 'annotations', 'checksum/config');
      expect(checksum(values('--set', 'config.logging.level=debug'))).not.toBe(checksum(values()));
      expect(checksum(values())).toBe(checksum(values('--namespace', NAMESPACE)));
    });
  });

  describe('values.yaml and values.schema.json', () => {
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as Record<string, unknown>;
    const defaults = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as unknown;

    it('the default values satisfy the schema', () => {
      expect(validate(schema, defaults)).toEqual([]);
    });

    it('the schema rejects typos and wrong values', () => {
      const bad = (patch: (v: any) => void): string[] => {
        const v = structuredClone(defaults) as any;
        patch(v);
        return validate(schema, v);
      };
      expect(bad((v) => (v.webhook.failurePolicy = 'fail'))).toHaveLength(1);
      expect(bad((v) => (v.webhook.timeoutSeconds = 31))).toHaveLength(1);
      expect(bad((v) => (v.webhook.timeoutSecond = 5))).toHaveLength(1);
      expect(bad((v) => (v.config.webhook.timeoutSeconds = 5))).toHaveLength(1);
      expect(bad((v) => (v.config.logging.level = 'verbose'))).toHaveLength(1);
      expect(bad((v) => (v.replicas = 3))).toHaveLength(1);
    });

    it('documents every value with a comment', () => {
      const doc = parseDocument(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
      const undocumented: string[] = [];
      // A map whose entries carry comments must comment each entry; a map whose entries carry none
      // is documented as a whole by the comment on its key.
      const check = (map: YAMLMap, documentedByParent: boolean, path: string): void => {
        const commented = (i: number): boolean => {
          const pair = map.items[i] as any;
          return Boolean(pair.key?.commentBefore) || (i === 0 && Boolean(map.commentBefore));
        };
        const any = map.items.some((_, i) => commented(i));
        map.items.forEach((pair: any, i) => {
          const key = `${path}${isScalar(pair.key) ? String(pair.key.value) : '?'}`;
          if (commented(i)) {
            if (isMap(pair.value)) check(pair.value, true, `${key}.`);
            return;
          }
          const inBlock = documentedByParent && !any;
          if (isMap(pair.value) && pair.value.items.length > 0) check(pair.value, inBlock, `${key}.`);
          else if (!inBlock) undocumented.push(key);
        });
      };
      check(doc.contents as YAMLMap, false, '');
      expect(undocumented).toEqual([]);
    });
  });

  describe('scripts/chart/package.sh', () => {
    it('packages the chart as helm package lays it out: <name>-<version>.tgz with everything under <name>/', () => {
      const out = mkdtempSync(join(tmpdir(), 'portcullis-chart-'));
      try {
        const file = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'chart', 'package.sh'), out], {
          encoding: 'utf8',
        }).trim();
        expect(file).toBe(join(out, 'portcullis-0.1.0.tgz'));
        const entries = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).trim().split('\n');
        for (const entry of entries) expect(entry.startsWith('portcullis/'), entry).toBe(true);
        for (const needed of [
          'Chart.yaml',
          'values.yaml',
          'values.schema.json',
          'templates/crds/trustpolicies.portcullis.dev.yaml',
          'templates/crds/policyreports.wgpolicyk8s.io.yaml',
          'templates/_helpers.tpl',
          'templates/NOTES.txt',
          'templates/deployment.yaml',
        ]) {
          expect(entries).toContain(`portcullis/${needed}`);
        }
        execFileSync('tar', ['-xzf', file, '-C', out]);
        const extracted = execFileSync(
          'bash',
          [
            join(REPO_ROOT, 'scripts', 'chart', 'render.sh'),
            '--namespace',
            NAMESPACE,
            '--set',
            'certificates.existingSecret=x',
            '--set',
            'certificates.caBundle=eA==',
            join(out, 'portcullis'),
          ],
          { encoding: 'utf8' },
        );
        const original = execFileSync(
          'bash',
          [
            join(REPO_ROOT, 'scripts', 'chart', 'render.sh'),
            '--namespace',
            NAMESPACE,
            '--set',
            'certificates.existingSecret=x',
            '--set',
            'certificates.caBundle=eA==',
          ],
          { encoding: 'utf8' },
        );
        expect(extracted).toBe(original);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  });
});
