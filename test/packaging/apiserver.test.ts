import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevCertificate } from '../../src/http/dev-cert.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KubeCluster } from '../helpers/kube/cluster.js';
import { renderChart } from '../../scripts/chart/manifests.js';
import { NAMESPACE, REPO_ROOT } from './helpers.js';

/**
 * The packaging against a real API server (kube-apiserver v1.20.2, test/helpers/kube): the CRDs
 * are accepted as structural and established, their schemas and printer columns behave, and
 * every object the chart renders passes the API server's validation (server-side dry run).
 * Like the e2e tests this needs the cached kube-apiserver (scripts/kube/build-apiserver.sh).
 */

let cluster: KubeCluster;

beforeAll(async () => {
  cluster = await KubeCluster.start();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await cluster.kubectl(args, input === undefined ? {} : { input });
  return r.stdout;
}

async function kubectlFails(args: string[], input: string): Promise<string> {
  const r = await cluster.kubectl(args, { input, allowFail: true });
  expect(r.code, r.stdout).not.toBe(0);
  return r.stderr;
}

describe('the packaging on kube-apiserver 1.20', () => {
  it('the CRDs are established, with no NonStructuralSchema condition', async () => {
    await kubectl(['apply', '-k', join(REPO_ROOT, 'deploy', 'crds')]);
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd',
      '-l',
      'app.kubernetes.io/part-of=portcullis',
    ]);
    const list = JSON.parse(
      await kubectl(['get', 'crd', '-l', 'app.kubernetes.io/part-of=portcullis', '-o', 'json']),
    ) as { items: any[] };
    expect(list.items).toHaveLength(4);
    for (const crd of list.items) {
      const types = (crd.status.conditions as { type: string; status: string }[])
        .filter((c) => c.status === 'True')
        .map((c) => c.type)
        .sort();
      expect(types, crd.metadata.name).toEqual(['Established', 'NamesAccepted']);
    }
  });

  it('stores the examples, defaults enforcementAction to deny, and shows the printer columns and status', async () => {
    await kubectl(['apply', '-f', join(REPO_ROOT, 'examples', 'policies')]);
    const baseline = JSON.parse(await kubectl(['get', 'clustertrustpolicy', 'baseline', '-o', 'json'])) as any;
    expect(baseline.spec.enforcementAction).toBe('deny');
    await kubectl([
      'patch',
      'trustpolicy',
      'strict',
      '-n',
      'secured',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          observedGeneration: 1,
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              reason: 'Invalid',
              message: 'trust store ca:x not found',
              lastTransitionTime: '2025-01-01T00:00:00Z',
            },
          ],
        },
      }),
    ]);
    const table = await kubectl(['get', 'trustpolicies', '-A']);
    expect(table.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+ENFORCEMENT\s+LEVEL\s+READY\s+REASON\s+AGE$/);
    expect(table.split('\n')[1]).toMatch(/^secured\s+strict\s+deny\s+strict\s+False\s+Invalid\s+\S+$/);
    expect(await kubectl(['get', 'clustertruststores'])).toMatch(/\ne2e\s+ca\s+/);
  });

  it('rejects what the schema forbids, with the field named', async () => {
    const bad = `apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustPolicy
metadata: {name: bad}
spec:
  enforcementAction: block
  version: "1.0"
  trustPolicies:
    - {name: s, registryScopes: ["*"], signatureVerification: {level: lenient}}
`;
    const stderr = await kubectlFails(['apply', '--validate=false', '-f', '-'], bad);
    expect(stderr).toContain('spec.enforcementAction');
    expect(stderr).toContain('signatureVerification.level');
  });

  it('accepts every object of the chart (server-side dry run), for the default values and with everything on', async () => {
    await kubectl(['create', 'namespace', NAMESPACE]);
    for (const args of [
      [],
      ['--set', 'mutate.enabled=true', '--set', 'rbac.readSecrets=false', '--set', 'tls.clientCA.secretName=ca'],
    ]) {
      // Rendered for 1.21, the oldest version the chart supports; this API server is 1.20, which
      // does not serve policy/v1 yet, so the PodDisruptionBudget is left out of the dry run.
      const docs = renderChart(['--kube-version', '1.21.0', ...args])
        .split('\n---\n')
        .filter((d) => !d.includes('kind: PodDisruptionBudget'));
      const out = await kubectl(['apply', '--dry-run=server', '-f', '-'], docs.join('\n---\n'));
      expect(out.trim().split('\n')).toHaveLength(docs.length);
      expect(out).toContain(
        'validatingwebhookconfiguration.admissionregistration.k8s.io/portcullis created (server dry run)',
      );
    }
  });

  it('the rendered webhook is stored with the selector, rules and timeout as rendered', async () => {
    const stream = renderChart(['--kube-version', '1.21.0']);
    const webhookDoc = stream
      .split('\n---\n')
      .find((d) => d.includes('kind: ValidatingWebhookConfiguration')) as string;
    const stored = JSON.parse(await kubectl(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], webhookDoc)) as any;
    const rendered = parse(webhookDoc) as any;
    expect(stored.webhooks[0].namespaceSelector).toEqual(rendered.webhooks[0].namespaceSelector);
    expect(stored.webhooks[0].timeoutSeconds).toBe(10);
    expect(stored.webhooks[0].rules).toHaveLength(4);
  });

  // Why the chart claims 1.21 and later (docs/install.md, "Kubernetes versions"), shown on this 1.20 server.
  it('1.20 does not label namespaces with kubernetes.io/metadata.name, which the exclusion needs', async () => {
    await kubectl(['create', 'namespace', 'labels-120']);
    const ns = JSON.parse(await kubectl(['get', 'namespace', 'labels-120', '-o', 'json'])) as any;
    expect(ns.metadata.labels?.['kubernetes.io/metadata.name']).toBeUndefined();
    const system = JSON.parse(await kubectl(['get', 'namespace', 'kube-system', '-o', 'json'])) as any;
    expect(system.metadata.labels?.['kubernetes.io/metadata.name']).toBeUndefined();
  });

  it("the chart's webhook is never called for kube-system or its own namespace where namespaces carry the label (as from 1.21)", async () => {
    const denier = await DenyAllWebhook.start();
    try {
      const stream = renderChart(['--kube-version', '1.21.0']);
      const config = parse(
        stream.split('\n---\n').find((d) => d.includes('kind: ValidatingWebhookConfiguration')) as string,
      ) as any;
      config.webhooks[0].clientConfig = { url: `${denier.url}/validate`, caBundle: denier.caBundle };
      await kubectl(['apply', '-f', '-'], JSON.stringify(config));
      // What the API server does by itself from 1.21 on: every namespace labelled with its name.
      for (const ns of ['kube-system', NAMESPACE, 'team-x']) {
        if (ns === 'team-x') await kubectl(['create', 'namespace', ns]);
        await kubectl(['label', 'namespace', ns, `kubernetes.io/metadata.name=${ns}`, '--overwrite']);
      }
      const run = (ns: string, name: string) =>
        cluster.kubectl(['run', name, '--image=registry.example/app:1', '-n', ns, '--dry-run=server', '-o', 'name'], {
          allowFail: true,
        });
      expect((await run('kube-system', 'sys')).code).toBe(0);
      expect((await run(NAMESPACE, 'own')).code).toBe(0);
      expect(denier.calls).toEqual([]);
      const denied = await run('team-x', 'app');
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toContain('denied by the test webhook');
      expect(denier.calls).toEqual(['team-x']);
      // Without the label (1.20), the exclusion does not hold: Portcullis would judge its own pods.
      await kubectl(['label', 'namespace', NAMESPACE, 'kubernetes.io/metadata.name-']);
      expect((await run(NAMESPACE, 'own-unlabelled')).code).not.toBe(0);
      expect(denier.calls).toEqual(['team-x', NAMESPACE]);
    } finally {
      await cluster.kubectl(['delete', 'validatingwebhookconfiguration', 'portcullis'], { allowFail: true });
      await denier.stop();
    }
  });
});

/** An HTTPS admission webhook that denies everything and records the namespaces it was asked about. */
class DenyAllWebhook {
  readonly calls: string[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly caBundle: string,
    private readonly dir: string,
  ) {}

  static async start(): Promise<DenyAllWebhook> {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-deny-'));
    const cert = await ensureDevCertificate(dir);
    const holder: { self?: DenyAllWebhook } = {};
    const server = createServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as any;
        holder.self?.calls.push(review.request.namespace);
        const body = JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: {
            uid: review.request.uid,
            allowed: false,
            status: { code: 403, message: 'denied by the test webhook' },
          },
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    holder.self = new DenyAllWebhook(
      server,
      `https://127.0.0.1:${port}`,
      readFileSync(cert.caFile).toString('base64'),
      dir,
    );
    return holder.self;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
