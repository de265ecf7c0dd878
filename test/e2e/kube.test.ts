import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVE_CONFIG } from '../../src/config/serve-config.js';
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

/**
 * The Notary v2 demo on a real Kubernetes API server (v1.20, etcd, no kubelet: pods stay
 * Pending, admission runs). The CRDs and the ValidatingWebhookConfiguration come from the
 * project's manifests (deploy/); `portcullis serve --kubeconfig` runs here and the webhook
 * configuration points at it over HTTPS (clientConfig.url + caBundle instead of the in-cluster
 * Service, since nothing here routes Services).
 */
describe('Portcullis on a real Kubernetes API server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-kube-'));
  const wabbit = new ConfigDir();
  const mallory = new ConfigDir();
  let cluster: KubeCluster;
  let registry: ReferrersRegistry;
  let webhook: RunningWebhook;
  let signed: string;
  let unsigned: string;
  let byMallory: string;

  const { kubectl, apply, installCrds } = kubectlFor(() => cluster);
  /** Admission through the API server, without creating anything (dry-run runs the webhooks). */
  const tryRun = (ns: string, name: string, image: string) =>
    kubectl(['run', name, `--image=${image}`, '-n', ns, '--dry-run=server', '-o', 'name']);
  const eventually = (check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> =>
    waitUntil(check, what, { ms });

  beforeAll(async () => {
    cluster = await KubeCluster.start();
    // Images: net-monitor:v1 signed by wabbit-networks.io, nginx unsigned, other:v1 signed by mallory.
    registry = await ReferrersRegistry.start();
    const client = new RegistryClient();
    await pushImage(client, { registry: registry.host, repository: 'net-monitor' }, 'v1');
    await pushImage(client, { registry: registry.host, repository: 'nginx' }, 'latest');
    await pushImage(client, { registry: registry.host, repository: 'other' }, 'v1');
    await client.close();
    signed = `${registry.host}/net-monitor:v1`;
    unsigned = `${registry.host}/nginx:latest`;
    byMallory = `${registry.host}/other:v1`;
    expect(
      (
        await cli([
          'cert',
          'generate-test',
          '--config-dir',
          wabbit.path,
          '--key-type',
          'ec',
          '--default',
          'wabbit-networks.io',
        ])
      ).status,
    ).toBe(0);
    expect(
      (await cli(['cert', 'generate-test', '--config-dir', mallory.path, '--key-type', 'ec', '--default', 'mallory']))
        .status,
    ).toBe(0);
    expect((await cli(['sign', '--config-dir', wabbit.path, signed])).status).toBe(0);
    expect((await cli(['sign', '--config-dir', mallory.path, byMallory])).status).toBe(0);

    // The project's CRDs, and namespaces (1.20 does not set kubernetes.io/metadata.name itself).
    await installCrds(['deploy/crds']);
    for (const [ns, enforce] of [
      ['secured', true],
      ['not-secured', false],
      ['team', false],
      ['kube-system', false],
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
    const wabbitPem = readFileSync(join(wabbit.path, 'localkeys/wabbit-networks.io.crt'), 'utf8');
    await apply(`apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustStore
metadata: { name: wabbit-networks }
spec:
  type: ca
  certificates: |
${indent(wabbitPem, 4)}
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustPolicy
metadata: { name: baseline }
spec:
  namespaceSelector: { matchLabels: { portcullis.dev/enforce: "true" } }
  version: "1.0"
  trustPolicies:
    - name: wabbit-networks-images
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
  certificates: |
${indent(wabbitPem, 4)}
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
`);

    webhook = await startWebhook({
      kubernetes: { kubeconfig: cluster.kubeconfig },
      port: 0,
      host: '127.0.0.1',
      devCertDir: join(dir, 'cert'),
      config: {
        ...DEFAULT_SERVE_CONFIG,
        webhook: { ...DEFAULT_SERVE_CONFIG.webhook, timeoutSeconds: 10, shutdownDelaySeconds: 0 },
        verification: { ...DEFAULT_SERVE_CONFIG.verification, revocation: 'offline' },
        logging: { level: 'silent' },
      },
    });
    await eventually(
      async () => webhook.executor.ready() && (webhook.executor.snapshot?.documents.length ?? 0) >= 2,
      'the first policy snapshot',
    );

    // The project's webhook configuration, pointed at this process.
    const docs = parseAllDocuments(readFileSync(join(ROOT, 'deploy/base/portcullis.yaml'), 'utf8')).map(
      (d) => d.toJSON() as Record<string, any>,
    );
    const config = docs.find((d) => d?.kind === 'ValidatingWebhookConfiguration');
    expect(config).toBeDefined();
    for (const hook of config?.webhooks ?? []) {
      hook.clientConfig = {
        url: `${webhook.url}/validate`,
        caBundle: Buffer.from(readFileSync(webhook.devCaFile as string)).toString('base64'),
      };
    }
    await apply(stringify(config));
  });

  afterAll(async () => {
    // A webhook configuration left behind with failurePolicy Fail would block every later create.
    await cluster?.kubectl(['delete', 'validatingwebhookconfigurations', '--all'], { allowFail: true });
    await webhook?.stop();
    await cluster?.stop();
    await registry?.stop();
    wabbit.cleanup();
    mallory.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl run of an unsigned image is allowed in not-secured', async () => {
    const r = await kubectl(['run', 'nginx', `--image=${unsigned}`, '-n', 'not-secured']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('kubectl run of an unsigned image is denied in secured, with the actionable message', async () => {
    const r = await kubectl(['run', 'nginx', `--image=${unsigned}`, '-n', 'secured']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('denied the request');
    expect(r.stderr).toContain('container "nginx"');
    expect(r.stderr).toContain(unsigned);
    expect(r.stderr).toContain('ClusterTrustPolicy baseline');
    expect(r.stderr).toContain('ERR_NO_SIGNATURE');
  });

  it('the signed net-monitor:v1 is allowed in secured', async () => {
    const r = await kubectl(['run', 'net-monitor', `--image=${signed}`, '-n', 'secured']);
    expect(r.code, r.stderr).toBe(0);
    const pod = await kubectl(['get', 'pod', 'net-monitor', '-n', 'secured', '-o', 'jsonpath={.status.phase}']);
    expect(pod.stdout).toBe('Pending'); // no kubelet here: admitted and stored
  });

  it('a Deployment with an unsigned image is denied', async () => {
    const r = await kubectl(['create', 'deployment', 'web', `--image=${unsigned}`, '-n', 'secured']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ERR_NO_SIGNATURE');
  });

  it('an invalid TrustPolicy shows Invalid in kubectl get and changes nothing', async () => {
    await apply(brokenTrustPolicy('secured'));
    await eventually(
      async () =>
        (
          await kubectl([
            'get',
            'trustpolicy',
            'broken',
            '-n',
            'secured',
            '-o',
            'jsonpath={.status.conditions[0].reason}',
          ])
        ).stdout === 'Invalid',
      'status Invalid',
    );
    const table = await kubectl(['get', 'trustpolicies', '-n', 'secured']);
    expect(table.stdout).toMatch(/broken\s+deny\s+strict\s+False\s+Invalid/);
    const message = await kubectl([
      'get',
      'trustpolicy',
      'broken',
      '-n',
      'secured',
      '-o',
      'jsonpath={.status.conditions[0].message}',
    ]);
    expect(message.stdout).toContain('does-not-exist');
    // Nothing changed: the signed image is still allowed, the unsigned one still denied.
    expect((await tryRun('secured', 'again', signed)).code).toBe(0);
    expect((await tryRun('secured', 'again', unsigned)).code).not.toBe(0);
  });

  it('a new TrustStore certificate takes effect without a restart', async () => {
    const denied = await tryRun('team', 'other', byMallory);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('ERR_CHAIN_UNTRUSTED');
    const both =
      readFileSync(join(wabbit.path, 'localkeys/wabbit-networks.io.crt'), 'utf8') +
      readFileSync(join(mallory.path, 'localkeys/mallory.crt'), 'utf8');
    await apply(`apiVersion: portcullis.dev/v1alpha1
kind: TrustStore
metadata: { name: team-signers, namespace: team }
spec:
  type: ca
  certificates: |
${indent(both, 4)}
`);
    await eventually(
      async () => (await tryRun('team', 'other', byMallory)).code === 0,
      'the new certificate to be trusted',
    );
  });

  it('spec.statementOptions survives the API server (the CRD schema keeps it) and takes effect: a required SBOM', async () => {
    await apply(`apiVersion: v1
kind: Namespace
metadata: { name: attested, labels: { kubernetes.io/metadata.name: attested } }
---
apiVersion: portcullis.dev/v1alpha1
kind: TrustStore
metadata: { name: signers, namespace: attested }
spec:
  type: ca
  certificates: |
${indent(readFileSync(join(wabbit.path, 'localkeys/wabbit-networks.io.crt'), 'utf8'), 4)}
---
apiVersion: portcullis.dev/v1alpha1
kind: TrustPolicy
metadata: { name: sbom-required, namespace: attested }
spec:
  version: "1.0"
  trustPolicies:
    - name: images
      registryScopes: ["*"]
      signatureVerification: { level: strict }
      trustStores: ["ca:signers"]
      trustedIdentities: ["*"]
  statementOptions:
    - statement: images
      platforms: index
      requiredArtifacts:
        - { artifactType: application/spdx+json, maxAge: 720h }
`);
    const stored = await kubectl([
      'get',
      'trustpolicy',
      'sbom-required',
      '-n',
      'attested',
      '-o',
      'jsonpath={.spec.statementOptions[0].requiredArtifacts[0].artifactType} {.spec.statementOptions[0].platforms}',
    ]);
    expect(stored.stdout).toBe('application/spdx+json index');
    await eventually(async () => {
      const r = await tryRun('attested', 'app', signed);
      return r.code !== 0 && r.stderr.includes('ERR_ATTESTATION_MISSING');
    }, 'the signed image without an SBOM to be denied for the missing SBOM');
  });

  it('writes Ready to valid resources', async () => {
    const r = await kubectl(['get', 'clustertrustpolicy', 'baseline', '-o', 'jsonpath={.status.conditions[0].status}']);
    expect(r.stdout).toBe('True');
  });
});
