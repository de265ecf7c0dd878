import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { KubeCluster } from '../helpers/kube/cluster.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { pushImage } from '../helpers/registry/seed.js';
import { NAMESPACE, at, kindOf, values, type Doc } from '../packaging/helpers.js';
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js';
import { waitUntil } from '../helpers/wait-until.js';
import { indent } from '../helpers/indent.js';
import { kubectlFor } from '../helpers/kube/kubectl.js';
import { brokenTrustPolicy } from '../helpers/kube/broken-trust-policy.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

type Obj = Record<string, any>;

interface AuditEvent {
  readonly verb: string;
  readonly user: { readonly username: string };
  readonly objectRef?: {
    readonly apiGroup?: string;
    readonly resource?: string;
    readonly subresource?: string;
    readonly namespace?: string;
    readonly name?: string;
  };
  readonly responseStatus?: { readonly code?: number };
  readonly requestURI: string;
  readonly stage: string;
  readonly userAgent?: string;
}

/** `group/resource[/subresource]:verb`, the unit RBAC grants. */
const grantKey = (group: string, resource: string, verb: string): string =>
  `${group === '' ? 'core' : group}/${resource}:${verb}`;

/**
 * The chart's RBAC is enough and no more. The ServiceAccount, ClusterRole and ClusterRoleBinding
 * come from the chart (rendered by scripts/chart/render.sh with default values); `portcullis
 * serve --kubeconfig` runs with a token of that ServiceAccount (TokenRequest API) and the chart's
 * config.yaml against the real kube-apiserver 1.20, whose audit log records every request the
 * server makes. The scenario makes the server use everything it reads in a cluster: the four
 * policy kinds and Namespaces (informers: list + watch), trust material in labelled Secrets and
 * ConfigMaps, status written back, registry credentials from a pod's imagePullSecrets and from its
 * ServiceAccount's. Then: no request of the server was forbidden, and every verb the chart grants
 * was used (nothing granted for nothing).
 *
 * The background audit runs too (every 2 s here): it lists the workloads, writes PolicyReports
 * and a ClusterPolicyReport, and elects its writer with a Lease in the release namespace (the
 * chart's Role); an invalid policy makes an Event. This test fails if the server uses anything
 * the chart does not grant, or the chart grants what the server does not use.
 */
describe("the chart's RBAC, with the chart's own ServiceAccount", () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-rbac-'));
  const signer = new ConfigDir();
  let cluster: KubeCluster;
  let registry: ReferrersRegistry;
  let privateRegistry: ReferrersRegistry;
  let server: ServeProcess | undefined;
  let saUser: string;
  let rbacDocs: Doc[];
  let rules: Obj[];
  let signed: string;
  let privateSigned: string;

  const { kubectl, apply, installCrds } = kubectlFor(() => cluster);
  const eventually = (check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> =>
    waitUntil(check, what, { ms, context: () => `; server stderr:\n${server?.stderr().slice(-3000) ?? ''}` });
  /** Admission through the API server without creating anything. */
  const tryPod = (ns: string, name: string, image: string, spec: Obj = {}) =>
    kubectl(
      ['apply', '--dry-run=server', '-f', '-'],
      stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: ns },
        spec: { containers: [{ name: 'app', image }], ...spec },
      }),
    );
  /**
   * The server's requests as the audit log has them, read once the server has stopped: this API
   * server writes a watch's events only when the watch ends. kubectl calls made with the
   * ServiceAccount's kubeconfig (auth can-i) are not the server's.
   */
  let serverEvents: AuditEvent[] | undefined;
  const auditEvents = async (): Promise<AuditEvent[]> => {
    if (serverEvents === undefined) {
      await stopServer();
      const until = Date.now() + 10_000;
      for (;;) {
        const events = readFileSync(cluster.auditLog, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as AuditEvent)
          .filter((e) => e.user.username === saUser && !(e.userAgent ?? '').startsWith('kubectl/'));
        // All seven informers' watches have ended (and were logged).
        if (
          events.filter((e) => e.verb === 'watch' && e.stage === 'ResponseComplete').length >= 7 ||
          Date.now() > until
        ) {
          serverEvents = events;
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return serverEvents;
  };
  /** Used `group/resource[/subresource]:verb`s. */
  const usedGrants = (events: readonly AuditEvent[]): Set<string> =>
    new Set(
      events
        .filter((e) => e.objectRef?.resource !== undefined)
        .map((e) =>
          grantKey(
            e.objectRef?.apiGroup ?? '',
            `${e.objectRef?.resource}${e.objectRef?.subresource === undefined ? '' : `/${e.objectRef.subresource}`}`,
            e.verb,
          ),
        ),
    );
  const grantedList = (): string[] =>
    rules.flatMap((r) =>
      (r['apiGroups'] as string[]).flatMap((g) =>
        (r['resources'] as string[]).flatMap((res) => (r['verbs'] as string[]).map((v) => grantKey(g, res, v))),
      ),
    );
  const stopServer = async (): Promise<void> => void (await server?.stop());

  beforeAll(async () => {
    // Only the service account's requests are audited (Metadata: no bodies, so no secret content in the log).
    cluster = await KubeCluster.start({
      auditPolicy: stringify({
        apiVersion: 'audit.k8s.io/v1',
        kind: 'Policy',
        omitStages: ['RequestReceived'],
        rules: [{ level: 'Metadata', userGroups: ['system:serviceaccounts'] }, { level: 'None' }],
      }),
    });

    // Images: net-monitor:v1 signed by the trusted signer, in a public and in a private registry.
    registry = await ReferrersRegistry.start();
    privateRegistry = await ReferrersRegistry.start({ basicAuth: { alice: 'wonderland' } });
    const client = new RegistryClient();
    await pushImage(client, { registry: registry.host, repository: 'net-monitor' }, 'v1');
    await client.close();
    const privateClient = new RegistryClient({
      credentials: { get: async () => ({ username: 'alice', password: 'wonderland' }) },
    });
    await pushImage(privateClient, { registry: privateRegistry.host, repository: 'net-monitor' }, 'v1');
    await privateClient.close();
    signed = `${registry.host}/net-monitor:v1`;
    privateSigned = `${privateRegistry.host}/net-monitor:v1`;
    expect(
      (
        await cli([
          'cert',
          'generate-test',
          '--config-dir',
          signer.path,
          '--key-type',
          'ec',
          '--default',
          'wabbit-networks.io',
        ])
      ).status,
    ).toBe(0);
    expect((await cli(['sign', '--config-dir', signer.path, signed])).status).toBe(0);
    expect(
      (await cli(['sign', '--config-dir', signer.path, '-u', 'alice', '-p', 'wonderland', privateSigned])).status,
    ).toBe(0);
    const pem = readFileSync(join(signer.path, 'localkeys/wabbit-networks.io.crt'), 'utf8');

    // The chart: CRDs, and its ServiceAccount and RBAC exactly as rendered.
    await installCrds(['deploy/crds', 'deploy/policyreport-crds']);
    // The default values, with audits close together so that the test sees a report written twice.
    const docs = values('--set', 'config.audit.intervalSeconds=2', '--set', 'config.audit.minGapSeconds=0');
    rbacDocs = docs.filter((d) =>
      ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(kindOf(d)),
    );
    expect(rbacDocs.map(kindOf).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      'ServiceAccount',
    ]);
    rules = rbacDocs
      .filter((d) => kindOf(d) === 'ClusterRole' || kindOf(d) === 'Role')
      .flatMap((d) => d['rules'] as Obj[]);
    const sa = rbacDocs.find((d) => kindOf(d) === 'ServiceAccount') as Doc;
    const saName = at(sa, 'metadata', 'name') as string;
    saUser = `system:serviceaccount:${NAMESPACE}:${saName}`;
    await apply(
      stringify({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: NAMESPACE, labels: { 'kubernetes.io/metadata.name': NAMESPACE } },
      }),
    );
    await apply(rbacDocs.map((d) => stringify(d)).join('---\n'));

    // A token for the ServiceAccount (TokenRequest; no token controller runs here), and a kubeconfig with only that.
    const token = await kubectl(['create', 'token', saName, '-n', NAMESPACE, '--duration=1h']);
    expect(token.code, token.stderr).toBe(0);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'e2e', cluster: { server: cluster.server, 'certificate-authority': cluster.caFile } }],
        users: [{ name: saName, user: { token: token.stdout.trim() } }],
        contexts: [{ name: 'sa', context: { cluster: 'e2e', user: saName } }],
        'current-context': 'sa',
      }),
      { mode: 0o600 },
    );
    const whoami = await kubectl([
      '--kubeconfig',
      kubeconfig,
      'auth',
      'can-i',
      'list',
      'clustertrustpolicies.portcullis.dev',
    ]);
    expect(whoami.stdout.trim(), whoami.stderr).toBe('yes');

    // Policies that need every kind of read: inline, Secret- and ConfigMap-held trust material.
    for (const [ns, labels] of [
      ['secured', { 'portcullis.dev/enforce': 'true' }],
      ['team', {}],
    ] as const) {
      await apply(
        stringify({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns, ...labels } },
        }),
      );
    }
    await apply(`apiVersion: v1
kind: ConfigMap
metadata: { name: wabbit-roots, namespace: ${NAMESPACE}, labels: { portcullis.dev/trust-material: "true" } }
data:
  root.pem: |
${indent(pem, 4)}
---
apiVersion: v1
kind: Secret
metadata: { name: team-roots, namespace: team, labels: { portcullis.dev/trust-material: "true" } }
data:
  ca.crt: ${b64(pem)}
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustStore
metadata: { name: wabbit-networks }
spec:
  type: ca
  certificateRefs: [{ kind: ConfigMap, namespace: ${NAMESPACE}, name: wabbit-roots, key: root.pem }]
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustPolicy
metadata: { name: baseline }
spec:
  namespaceSelector: { matchLabels: { portcullis.dev/enforce: "true" } }
  version: "1.0"
  trustPolicies:
    - name: wabbit
      registryScopes: ["*"]
      signatureVerification: { level: strict }
      trustStores: ["ca:wabbit-networks"]
      trustedIdentities: ["*"]
---
apiVersion: portcullis.dev/v1alpha1
kind: TrustStore
metadata: { name: team-signers, namespace: team }
spec:
  type: ca
  certificateRefs: [{ kind: Secret, name: team-roots, key: ca.crt }]
---
apiVersion: portcullis.dev/v1alpha1
kind: TrustPolicy
metadata: { name: team-policy, namespace: team }
spec:
  version: "1.0"
  trustPolicies:
    - name: team
      registryScopes: ["*"]
      signatureVerification: { level: strict }
      trustStores: ["ca:team-signers"]
      trustedIdentities: ["*"]
---
apiVersion: v1
kind: Secret
metadata: { name: regcred, namespace: secured }
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: ${b64(JSON.stringify({ auths: { [privateRegistry.host]: { auth: b64('alice:wonderland') } } }))}
---
apiVersion: v1
kind: Secret
metadata: { name: regcred, namespace: team }
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: ${b64(JSON.stringify({ auths: { [privateRegistry.host]: { auth: b64('alice:wonderland') } } }))}
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: default, namespace: team }
imagePullSecrets: [{ name: regcred }]
`);

    // `portcullis serve --kubeconfig` with the chart's config.yaml, as its own process.
    server = await startServeProcess({
      kubeconfig,
      config: at(
        docs.find((d) => kindOf(d) === 'ConfigMap'),
        'data',
        'config.yaml',
      ) as string,
      env: { DOCKER_CONFIG: join(dir, 'no-docker-config') },
    });

    // The chart's webhook configuration, pointed at this process.
    const hook = docs.find((d) => kindOf(d) === 'ValidatingWebhookConfiguration') as Obj;
    for (const w of hook['webhooks'] as Obj[]) {
      w['clientConfig'] = {
        url: `${server.url}/validate`,
        caBundle: b64(server.caPem),
      };
    }
    await apply(stringify(hook));
  }, 120_000);

  afterAll(async () => {
    await cluster?.kubectl(['delete', 'validatingwebhookconfigurations', '--all'], { allowFail: true });
    await stopServer();
    await cluster?.stop();
    await registry?.stop();
    await privateRegistry?.stop();
    signer.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the policies through its informers, trust material from a labelled ConfigMap and Secret included', async () => {
    await eventually(
      async () =>
        (await kubectl(['get', 'clustertrustpolicy', 'baseline', '-o', 'jsonpath={.status.conditions[0].status}']))
          .stdout === 'True',
      'baseline Ready',
    );
    expect((await tryPod('secured', 'signed', signed)).code).toBe(0);
    const denied = await tryPod('secured', 'unsigned', `${registry.host}/net-monitor:unknown-tag`);
    expect(denied.code).not.toBe(0);
  });

  it('writes the status of all four kinds', async () => {
    for (const [kind, ns, name] of [
      ['clustertrustpolicy', undefined, 'baseline'],
      ['clustertruststore', undefined, 'wabbit-networks'],
      ['trustpolicy', 'team', 'team-policy'],
      ['truststore', 'team', 'team-signers'],
    ] as const) {
      await eventually(
        async () =>
          (
            await kubectl([
              'get',
              kind,
              name,
              ...(ns === undefined ? [] : ['-n', ns]),
              '-o',
              'jsonpath={.status.conditions[0].reason}',
            ])
          ).stdout === 'Valid',
        `${kind} ${name} Valid`,
      );
    }
  });

  it("reads registry credentials from the pod's imagePullSecrets, and from its ServiceAccount's", async () => {
    // secured: the pod names the Secret. Without it, the registry refuses Portcullis.
    expect((await tryPod('secured', 'private', privateSigned, { imagePullSecrets: [{ name: 'regcred' }] })).code).toBe(
      0,
    );
    const without = await tryPod('secured', 'private', privateSigned);
    expect(without.code).not.toBe(0);
    expect(without.stderr).toContain('ERR_REGISTRY_UNAUTHORIZED');
    // team: the pod names none; its ServiceAccount (default) does.
    const viaSa = await tryPod('team', 'private', privateSigned);
    expect(viaSa.code, viaSa.stderr).toBe(0);
  });

  it('grants nothing that writes, deletes or reads outside what it needs', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    for (const [verb, resource] of [
      ['create', 'pods'],
      ['create', 'secrets'],
      ['update', 'secrets'],
      ['delete', 'configmaps'],
      ['update', 'clustertrustpolicies.portcullis.dev'],
      ['delete', 'trustpolicies.portcullis.dev'],
      ['create', 'leases.coordination.k8s.io'], // only in the release namespace (below)
      ['update', 'deployments.apps'],
      ['delete', 'policyreports.wgpolicyk8s.io'],
      ['create', 'events.events.k8s.io'],
      ['watch', 'pods'],
      ['update', 'validatingwebhookconfigurations.admissionregistration.k8s.io'],
      ['escalate', 'clusterroles.rbac.authorization.k8s.io'],
      ['create', 'serviceaccounts/token'],
    ] as const) {
      const r = await kubectl(['--kubeconfig', kubeconfig, 'auth', 'can-i', verb, resource, '--all-namespaces']);
      expect(`${verb} ${resource}: ${r.stdout.trim()}`).toBe(`${verb} ${resource}: no`);
    }
  });

  it('audits what runs: PolicyReports written and rewritten, a Lease held, an Event on an invalid policy', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    const leaseOnly = await kubectl([
      '--kubeconfig',
      kubeconfig,
      'auth',
      'can-i',
      'update',
      'leases.coordination.k8s.io',
      '-n',
      NAMESPACE,
    ]);
    expect(leaseOnly.stdout.trim()).toBe('yes');
    await apply(brokenTrustPolicy('team'));
    await eventually(async () => {
      const r = await kubectl(['get', 'events', '-n', 'team', '-o', 'json']);
      return r.code === 0 && (JSON.parse(r.stdout).items as Obj[]).some((e) => e['reason'] === 'PolicyInvalid');
    }, 'the PolicyInvalid event');
    const version = async (): Promise<string> =>
      (
        await kubectl([
          'get',
          'policyreport',
          'portcullis-audit',
          '-n',
          'secured',
          '-o',
          'jsonpath={.metadata.resourceVersion}',
        ])
      ).stdout;
    await eventually(async () => (await version()) !== '', 'a PolicyReport in secured');
    // Something starts running: the next audit rewrites the report with its result.
    const created = await kubectl(['create', 'deployment', 'web', `--image=${signed}`, '-n', 'secured']);
    expect(created.code, created.stderr).toBe(0);
    await eventually(async () => {
      const r = await kubectl(['get', 'policyreport', 'portcullis-audit', '-n', 'secured', '-o', 'json']);
      const report = JSON.parse(r.stdout) as Obj;
      return (report['results'] as Obj[] | undefined)?.[0]?.['result'] === 'pass' && report['summary']['pass'] === 1;
    }, 'the PolicyReport rewritten by the next audit with the Deployment passing');
    await eventually(
      async () =>
        (await kubectl(['get', 'clusterpolicyreport', 'portcullis-audit', '-o', 'jsonpath={.summary.pass}'])).stdout ===
        '1',
      'the ClusterPolicyReport rewritten',
    );
  });

  // The audit checks stop the server first (see auditEvents): keep them last.
  it('was never refused by the API server: the chart grants every verb the server uses', async () => {
    const events = await auditEvents();
    expect(events.length).toBeGreaterThan(10);
    const forbidden = events.filter((e) => e.responseStatus?.code === 403).map((e) => `${e.verb} ${e.requestURI}`);
    expect(forbidden).toEqual([]);
    const granted = new Set(grantedList());
    expect([...usedGrants(events)].filter((u) => !granted.has(u))).toEqual([]);
    // The Lease is the release namespace's only.
    const leases = events.filter((e) => e.objectRef?.apiGroup === 'coordination.k8s.io');
    expect(leases.length).toBeGreaterThan(0);
    expect(new Set(leases.map((e) => e.objectRef?.namespace))).toEqual(new Set([NAMESPACE]));
  });

  it('used every verb the chart grants: nothing is granted for nothing', async () => {
    const used = usedGrants(await auditEvents());
    // Every informer listed and watched; status was patched; secrets and service accounts read.
    expect(grantedList().filter((g) => !used.has(g))).toEqual([]);
  });
});
