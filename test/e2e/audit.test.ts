import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVE_CONFIG, type ServeConfig } from '../../src/config/serve-config.js';
import { RegistryClient } from '../../src/registry/index.js';
import { startWebhook, type RunningWebhook } from '../../src/cli/serve.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { KubeCluster } from '../helpers/kube/cluster.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { pushImage } from '../helpers/registry/seed.js';
import { waitUntil } from '../helpers/wait-until.js';
import { indent } from '../helpers/indent.js';
import { kubectlFor } from '../helpers/kube/kubectl.js';
import { brokenTrustPolicy } from '../helpers/kube/broken-trust-policy.js';

const ROOT = resolve(import.meta.dirname, '../..');

interface AuditJson {
  namespaces: string[];
  results: {
    namespace: string;
    owner: string;
    ownedBy?: string;
    container: string;
    image: string;
    digest?: string;
    decision: string;
    result: string;
    policy?: string;
    rule?: string;
    code?: string;
    reason: string;
  }[];
  covered: { namespace: string; object: string; coveredBy: string }[];
}

/**
 * Safe rollout on a real API server (v1.20; no kubelet: Pods stay Pending, Deployments make no
 * Pods): `portcullis audit` over the workloads before and after a policy change, `explain` for
 * an allowed and a denied image against the real registry, the background audit's
 * PolicyReports read back with kubectl, two servers electing one writer through a Lease, and
 * Events on the policies.
 */
describe('audit, explain, PolicyReports, leader election and Events on a real API server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-'));
  const wabbit = new ConfigDir();
  const mallory = new ConfigDir();
  let cluster: KubeCluster;
  let registry: ReferrersRegistry;
  let signed: string;
  let unsigned: string;
  let byMallory: string;
  let wabbitPem: string;
  let malloryPem: string;
  let configFile: string;
  const servers: RunningWebhook[] = [];

  const { kubectl, apply, installCrds } = kubectlFor(() => cluster);
  const eventually = (check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> =>
    waitUntil(check, what, { ms });
  const baseline = (enforcementAction: string, stores: string[]): string => `apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustPolicy
metadata: { name: baseline }
spec:
  enforcementAction: ${enforcementAction}
  namespaceSelector: { matchLabels: { portcullis.dev/enforce: "true" } }
  version: "1.0"
  trustPolicies:
    - name: signed-images
      registryScopes: ["*"]
      signatureVerification: { level: strict }
      trustStores: [${stores.map((s) => `"ca:${s}"`).join(', ')}]
      trustedIdentities: ["*"]
`;
  const store = (name: string, pem: string): string => `apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustStore
metadata: { name: ${name} }
spec:
  type: ca
  certificates: |
${indent(pem, 4)}
`;
  const audit = async (...args: string[]) =>
    cli(['audit', '--kubeconfig', cluster.kubeconfig, '--config', configFile, ...args]);
  const auditJson = async (...args: string[]): Promise<{ status: number; doc: AuditJson }> => {
    const r = await audit('-o', 'json', ...args);
    expect(r.status, r.stderr).toBeLessThan(2);
    return { status: r.status, doc: r.json<AuditJson>() };
  };
  const row = (doc: AuditJson, owner: string) => doc.results.find((r) => r.owner === owner);

  const serveConfig: ServeConfig = {
    ...DEFAULT_SERVE_CONFIG,
    webhook: { ...DEFAULT_SERVE_CONFIG.webhook, timeoutSeconds: 10, shutdownDelaySeconds: 0 },
    verification: { ...DEFAULT_SERVE_CONFIG.verification, revocation: 'offline' },
    logging: { level: 'info' },
    audit: {
      ...DEFAULT_SERVE_CONFIG.audit,
      intervalSeconds: 2,
      minGapSeconds: 0,
      leaseNamespace: 'portcullis-system',
      leaseDurationSeconds: 3,
    },
    events: { enabled: true, burst: 50, perSecond: 10 },
  };
  const startServer = async (identity: string, logFile: string): Promise<RunningWebhook> => {
    const { openSync } = await import('node:fs');
    const server = await startWebhook({
      kubernetes: { kubeconfig: cluster.kubeconfig },
      port: 0,
      host: '127.0.0.1',
      devCertDir: join(dir, 'cert'),
      config: serveConfig,
      identity,
      logFd: openSync(logFile, 'a'),
    });
    servers.push(server);
    return server;
  };
  const leaseHolder = async (): Promise<string> =>
    (
      await kubectl([
        'get',
        'lease',
        'portcullis-audit',
        '-n',
        'portcullis-system',
        '-o',
        'jsonpath={.spec.holderIdentity}',
      ])
    ).stdout;

  beforeAll(async () => {
    cluster = await KubeCluster.start();
    registry = await ReferrersRegistry.start();
    const client = new RegistryClient();
    await pushImage(client, { registry: registry.host, repository: 'web' }, 'v1');
    await pushImage(client, { registry: registry.host, repository: 'legacy' }, 'v1');
    await pushImage(client, { registry: registry.host, repository: 'nightly' }, 'v1');
    await client.close();
    signed = `${registry.host}/web:v1`;
    unsigned = `${registry.host}/legacy:v1`;
    byMallory = `${registry.host}/nightly:v1`;
    for (const [who, name] of [
      [wabbit, 'wabbit-networks.io'],
      [mallory, 'mallory'],
    ] as const) {
      const r = await cli(['cert', 'generate-test', '--config-dir', who.path, '--key-type', 'ec', '--default', name]);
      expect(r.status).toBe(0);
    }
    expect((await cli(['sign', '--config-dir', wabbit.path, signed])).status).toBe(0);
    expect((await cli(['sign', '--config-dir', mallory.path, byMallory])).status).toBe(0);
    wabbitPem = readFileSync(join(wabbit.path, 'localkeys/wabbit-networks.io.crt'), 'utf8');
    malloryPem = readFileSync(join(mallory.path, 'localkeys/mallory.crt'), 'utf8');
    configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, stringify({ verification: { revocation: 'offline' }, webhook: { timeoutSeconds: 10 } }));

    await installCrds(['deploy/crds', 'deploy/policyreport-crds']);
    for (const [ns, enforce] of [
      ['shop', true],
      ['other', false],
      ['portcullis-system', false],
    ] as const) {
      await apply(
        stringify({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: {
            name: ns,
            labels: { 'kubernetes.io/metadata.name': ns, ...(enforce ? { 'portcullis.dev/enforce': 'true' } : {}) },
          },
        }),
      );
    }
    // The policies in dryrun first: nothing is denied yet, the audit shows what would be.
    await apply(`${store('wabbit-networks', wabbitPem)}---\n${baseline('dryrun', ['wabbit-networks'])}`);

    // What runs: a Deployment with its ReplicaSet and Pod (made here by hand: no controllers run),
    // a legacy Deployment with an unsigned image, a CronJob signed by the wrong key, a bare Pod.
    const deployment = (name: string, image: string) =>
      stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: 'shop' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
        },
      });
    await apply(deployment('web', signed));
    await apply(deployment('legacy', unsigned));
    const uid = async (kind: string, name: string): Promise<string> =>
      (await kubectl(['get', kind, name, '-n', 'shop', '-o', 'jsonpath={.metadata.uid}'])).stdout;
    await apply(
      stringify({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: 'web-1',
          namespace: 'shop',
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: 'web',
              uid: await uid('deployment', 'web'),
              controller: true,
            },
          ],
        },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: signed }] } },
        },
      }),
    );
    await apply(
      stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'web-1-abcde',
          namespace: 'shop',
          labels: { app: 'web' },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: 'web-1',
              uid: await uid('replicaset', 'web-1'),
              controller: true,
            },
          ],
        },
        spec: { containers: [{ name: 'app', image: signed }] },
      }),
    );
    await apply(
      stringify({
        apiVersion: 'batch/v1beta1',
        kind: 'CronJob',
        metadata: { name: 'nightly', namespace: 'shop' },
        spec: {
          schedule: '0 3 * * *',
          jobTemplate: {
            spec: {
              template: { spec: { restartPolicy: 'Never', containers: [{ name: 'job', image: byMallory }] } },
            },
          },
        },
      }),
    );
    await apply(
      stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'debug', namespace: 'other' },
        spec: { containers: [{ name: 'sh', image: unsigned }] },
      }),
    );
  }, 240_000);

  afterAll(async () => {
    for (const s of servers) await s.stop().catch(() => undefined);
    await cluster?.kubectl(['delete', 'validatingwebhookconfigurations', '--all'], { allowFail: true });
    await cluster?.stop();
    await registry?.stop();
    wabbit.cleanup();
    mallory.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('audit lists what runs where the policies apply, says what a dryrun policy would deny, and exits 1', async () => {
    const { status, doc } = await auditJson();
    expect(status).toBe(1);
    expect(doc.namespaces).toEqual(['shop']); // "other" is covered by no policy
    expect(doc.results.map((r) => `${r.owner} ${r.decision}`).sort()).toEqual([
      'CronJob/nightly dryrun-denied',
      'Deployment/legacy dryrun-denied',
      'Deployment/web allowed',
    ]);
    expect(row(doc, 'Deployment/web')).toMatchObject({
      result: 'pass',
      policy: 'ClusterTrustPolicy baseline',
      rule: 'signed-images',
    });
    expect(row(doc, 'Deployment/web')?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(row(doc, 'Deployment/legacy')).toMatchObject({ code: 'ERR_NO_SIGNATURE', result: 'fail' });
    expect(row(doc, 'CronJob/nightly')).toMatchObject({ code: 'ERR_CHAIN_UNTRUSTED', result: 'fail' });
    expect(doc.covered).toEqual([
      { namespace: 'shop', object: 'Pod/web-1-abcde', coveredBy: 'ReplicaSet/web-1' },
      { namespace: 'shop', object: 'ReplicaSet/web-1', coveredBy: 'Deployment/web' },
    ]);
  });

  it('audit prints a table, reads one namespace with -n, every namespace with -A, and YAML with -o yaml', async () => {
    // As the README writes it: the cluster's policies, the server's default settings.
    const t = await cli(['audit', '--kubeconfig', cluster.kubeconfig]);
    expect(t.status).toBe(1);
    const lines = t.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+OWNER\s+CONTAINER\s+IMAGE\s+DIGEST\s+DECISION\s+CODE\s+REASON$/);
    expect(lines.find((l) => l.includes('Deployment/legacy'))).toMatch(/dryrun-denied\s+ERR_NO_SIGNATURE/);
    expect(t.stderr).toContain('shop/Pod/web-1-abcde (by ReplicaSet/web-1)');
    expect(t.stderr).not.toContain('verifying'); // no terminal: no progress line
    // On a terminal, a progress line is drawn (and cleared) on it.
    let drawn = '';
    const tty = new Writable({
      write(chunk: Buffer, _encoding, done) {
        drawn += chunk.toString();
        done();
      },
    });
    const onTty = await cli(['audit', '--kubeconfig', cluster.kubeconfig, '-o', 'json'], { tty });
    expect(onTty.status).toBe(1);
    expect(drawn).toMatch(/verifying: \d+\/\d+ images/);
    expect(drawn.endsWith('\r\u001b[K')).toBe(true);
    const other = await auditJson('-n', 'other');
    expect(other.doc.results).toEqual([
      expect.objectContaining({ owner: 'Pod/debug', decision: 'allowed', result: 'skip' }),
    ]);
    expect(other.status).toBe(0);
    const all = await auditJson('-A');
    expect(all.doc.namespaces).toEqual(expect.arrayContaining(['shop', 'other', 'portcullis-system']));
    const y = await audit('-o', 'yaml', '-n', 'shop');
    expect(parseAllDocuments(y.stdout)[0]?.toJS().results).toHaveLength(3);
  });

  it('audit after a policy change: the fixed CronJob passes, the unsigned image is now denied', async () => {
    await apply(`${store('mallory', malloryPem)}---\n${baseline('deny', ['wabbit-networks', 'mallory'])}`);
    await eventually(async () => {
      const { doc } = await auditJson();
      return row(doc, 'CronJob/nightly')?.result === 'pass';
    }, 'the audit to see the new policy');
    const { status, doc } = await auditJson();
    expect(status).toBe(1);
    expect(row(doc, 'Deployment/legacy')).toMatchObject({ decision: 'denied', code: 'ERR_NO_SIGNATURE' });
    expect(row(doc, 'Deployment/web')).toMatchObject({ decision: 'allowed' });
  });

  it('audit --policies DIR tries policies not applied yet against what runs (namespace labels from the cluster)', async () => {
    const policies = join(dir, 'try');
    mkdirSync(policies, { recursive: true });
    writeFileSync(
      join(policies, 'policy.yaml'),
      // Policies only, as an admin keeps them: the namespaces (and their labels) are the cluster's.
      `${store('wabbit-networks', wabbitPem)}---\n${baseline('deny', ['wabbit-networks'])}\n`,
    );
    const { doc } = await auditJson('--policies', policies);
    expect(row(doc, 'CronJob/nightly')).toMatchObject({ decision: 'denied', code: 'ERR_CHAIN_UNTRUSTED' });
  });

  it('explain an allowed image: the policy, why it applies, the statement, the signature and every check', async () => {
    const r = await cli([
      'explain',
      '--kubeconfig',
      cluster.kubeconfig,
      '--config',
      configFile,
      '--namespace',
      'shop',
      '--image',
      signed,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`image "${signed}" in namespace shop`);
    expect(r.stdout).toContain('decision: ALLOWED');
    expect(r.stdout).toMatch(
      /\+ ClusterTrustPolicy baseline \[deny\]: applies to the namespace \(namespaceSelector portcullis\.dev\/enforce=true matches/,
    );
    expect(r.stdout).toContain(
      'statement "signed-images": scopes *; level strict; trust stores ca:wabbit-networks, ca:mallory',
    );
    expect(r.stdout).toContain('signatures found: 1');
    expect(r.stdout).toMatch(/authenticity\s+passed/);
    expect(r.stdout).toMatch(/integrity\s+passed/);
    expect(r.stdout).toContain('verdict: ADMITS');
  });

  it('explain a denied image (-f pod.yaml, JSON): the failed check and what would make it pass', async () => {
    await apply(`${store('wabbit-networks', wabbitPem)}---\n${baseline('deny', ['wabbit-networks'])}`);
    const pod = join(dir, 'pod.yaml');
    writeFileSync(
      pod,
      stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'job', namespace: 'shop' },
        spec: { containers: [{ name: 'job', image: byMallory }] },
      }),
    );
    let explained: any[] = [];
    await eventually(async () => {
      const r = await cli([
        'explain',
        '--kubeconfig',
        cluster.kubeconfig,
        '--config',
        configFile,
        '-f',
        pod,
        '-o',
        'json',
      ]);
      explained = JSON.parse(r.stdout);
      return r.status === 1;
    }, 'the policy without mallory');
    const [e] = explained;
    expect(e).toMatchObject({ subject: 'Pod/job container "job"', namespace: 'shop', decision: 'denied' });
    const p = e.policies.find((x: any) => x.policy === 'ClusterTrustPolicy baseline');
    expect(p).toMatchObject({
      appliesToNamespace: true,
      appliesToImage: true,
      verdict: { verified: false, failedCheck: 'authenticity', code: 'ERR_CHAIN_UNTRUSTED' },
    });
    expect(p.signatures).toHaveLength(1);
    expect(p.signatures[0].checks).toContainEqual(
      expect.objectContaining({ check: 'authenticity', status: 'failed', code: 'ERR_CHAIN_UNTRUSTED' }),
    );
    expect(p.toPass[0]).toContain('mallory');
    expect(p.toPass[0]).toContain('ClusterTrustStore wabbit-networks (ca:wabbit-networks)');
    const text = await cli(['explain', '--kubeconfig', cluster.kubeconfig, '--config', configFile, '-f', pod]);
    expect(text.stdout).toContain('REJECTS at authenticity');
    expect(text.stdout).toContain('to pass:');
  });

  it('two servers: only the Lease holder writes PolicyReports, kubectl reads them, the other takes over', async () => {
    const logA = join(dir, 'a.log');
    const logB = join(dir, 'b.log');
    const a = await startServer('replica-a', logA);
    await eventually(async () => (await leaseHolder()) === 'replica-a', 'replica-a to lead');
    const b = await startServer('replica-b', logB);
    await eventually(async () => {
      const r = await kubectl(['get', 'policyreports', '-A', '-o', 'json']);
      return r.code === 0 && JSON.parse(r.stdout).items.some((i: any) => i.metadata.namespace === 'shop');
    }, 'a PolicyReport in shop');
    const table = await kubectl(['get', 'policyreports', '-A']);
    // web passes; legacy (unsigned) and nightly (mallory, no longer trusted) fail
    expect(table.stdout).toMatch(/shop\s+portcullis-audit\s+1\s+2\s+0\s+0\s+0/); // pass fail warn error skip
    const report = JSON.parse(
      (await kubectl(['get', 'policyreport', 'portcullis-audit', '-n', 'shop', '-o', 'json'])).stdout,
    );
    expect(report.results).toContainEqual(
      expect.objectContaining({
        policy: 'ClusterTrustPolicy baseline',
        rule: 'signed-images',
        result: 'fail',
        source: 'portcullis',
        resources: [expect.objectContaining({ kind: 'CronJob', name: 'nightly', namespace: 'shop' })],
        properties: expect.objectContaining({ image: byMallory, code: 'ERR_CHAIN_UNTRUSTED' }),
      }),
    );
    const asYaml = await kubectl(['get', 'policyreport', 'portcullis-audit', '-n', 'shop', '-o', 'yaml']);
    expect(parseAllDocuments(asYaml.stdout)[0]?.toJS().results).toHaveLength(3);
    const cpolr = JSON.parse((await kubectl(['get', 'clusterpolicyreport', 'portcullis-audit', '-o', 'json'])).stdout);
    expect(cpolr.summary).toMatchObject({ pass: 1, fail: 2 });
    // replica-b holds no Lease and writes nothing.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await leaseHolder()).toBe('replica-a');
    expect(readFileSync(logB, 'utf8')).not.toContain('PolicyReports written');
    expect(readFileSync(logA, 'utf8')).toContain('PolicyReports written');
    // The leader's metrics: the audit's results, the snapshot in force.
    const metrics = await new Promise<string>((resolveBody, reject) => {
      const req = httpsRequest(`${a.url}/metrics`, { ca: readFileSync(a.devCaFile as string) }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolveBody(body));
      });
      req.on('error', reject);
      req.end();
    });
    expect(metrics).toContain('portcullis_audit_results{result="fail"} 2');
    expect(metrics).toContain('portcullis_audit_results{result="pass"} 1');
    expect(metrics).toMatch(/portcullis_policy_snapshot_revision [1-9]/);
    expect(metrics).toMatch(/portcullis_build_info\{version="[^"]+"/);
    // replica-a stops: it releases the Lease, replica-b takes over and writes.
    await a.stop();
    servers.splice(servers.indexOf(a), 1);
    await eventually(async () => (await leaseHolder()) === 'replica-b', 'replica-b to take over');
    await eventually(
      async () => readFileSync(logB, 'utf8').includes('PolicyReports written'),
      'replica-b to write the reports',
    );
    expect(b.audit?.runs).toBeGreaterThan(0);
  });

  it('Events on the policy that denied an image and on an invalid policy', async () => {
    const [server] = servers;
    expect(server).toBeDefined();
    const docs = parseAllDocuments(readFileSync(join(ROOT, 'deploy/base/portcullis.yaml'), 'utf8')).map(
      (d) => d.toJSON() as Record<string, any>,
    );
    const config = docs.find((d) => d?.kind === 'ValidatingWebhookConfiguration') as Record<string, any>;
    for (const hook of config.webhooks ?? []) {
      hook.clientConfig = {
        url: `${server?.url}/validate`,
        caBundle: Buffer.from(readFileSync(server?.devCaFile as string)).toString('base64'),
      };
    }
    await apply(stringify(config));
    try {
      const denied = await kubectl(['run', 'intruder', `--image=${byMallory}`, '-n', 'shop']);
      expect(denied.code).not.toBe(0);
      // The denial ends with the command that explains it.
      expect(denied.stderr).toContain(`to see why: portcullis explain --namespace shop --image ${byMallory}`);
      // Pasted as printed, with the cluster found as kubectl finds it ($KUBECONFIG).
      const pasted = /to see why: portcullis (.*)$/m.exec(denied.stderr)?.[1] ?? '';
      const explained = await cli(pasted.split(' '), { env: { KUBECONFIG: cluster.kubeconfig } });
      expect(explained.status, explained.stderr).toBe(1);
      expect(explained.stdout).toContain('ERR_CHAIN_UNTRUSTED');
      await apply(brokenTrustPolicy('shop'));
      await eventually(async () => {
        const shop = await kubectl(['get', 'events', '-n', 'shop', '-o', 'json']);
        const items = JSON.parse(shop.stdout).items as any[];
        return items.some((e) => e.reason === 'PolicyInvalid' && e.involvedObject?.name === 'broken');
      }, 'the PolicyInvalid event');
      const defaultEvents = JSON.parse((await kubectl(['get', 'events', '-n', 'default', '-o', 'json'])).stdout)
        .items as any[];
      const denial = defaultEvents.find((e) => e.reason === 'ImageDenied');

      expect(denial).toMatchObject({
        type: 'Warning',
        involvedObject: { kind: 'ClusterTrustPolicy', name: 'baseline' },
        reportingComponent: 'portcullis.dev/portcullis',
      });
      expect(denial.message).toContain(byMallory);
      expect(denial.message).toContain('ERR_CHAIN_UNTRUSTED');
      // What the README tells an admin to run.
      const described = await kubectl(['describe', 'clustertrustpolicy', 'baseline']);
      expect(described.stdout.slice(-800)).toMatch(/Warning\s+ImageDenied/);
    } finally {
      await kubectl(['delete', 'validatingwebhookconfigurations', '--all']);
    }
  });

  it('a namespace no longer covered keeps an emptied PolicyReport (the server deletes nothing)', async () => {
    await kubectl(['delete', 'trustpolicy', 'broken', '-n', 'shop']);
    const r = await kubectl(['label', 'namespace', 'shop', 'portcullis.dev/enforce-', '--overwrite']);
    expect(r.code, r.stderr).toBe(0);
    await eventually(async () => {
      const report = JSON.parse(
        (await kubectl(['get', 'policyreport', 'portcullis-audit', '-n', 'shop', '-o', 'json'])).stdout,
      );
      return (report.results ?? []).length === 0 && report.summary.fail === 0;
    }, 'the report of shop emptied');
  });
});
