import { join } from 'node:path';
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
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=portcullis']);
    const list = JSON.parse(await kubectl(['get', 'crd', '-l', 'app.kubernetes.io/part-of=portcullis', '-o', 'json'])) as { items: any[] };
    expect(list.items).toHaveLength(4);
    for (const crd of list.items) {
      const types = (crd.status.conditions as { type: string; status: string }[]).filter((c) => c.status === 'True').map((c) => c.type).sort();
      expect(types, crd.metadata.name).toEqual(['Established', 'NamesAccepted']);
    }
  });

  it('stores the examples, defaults enforcementAction to deny, and shows the printer columns and status', async () => {
    await kubectl(['apply', '-f', join(REPO_ROOT, 'examples', 'policies')]);
    const baseline = JSON.parse(await kubectl(['get', 'clustertrustpolicy', 'baseline', '-o', 'json'])) as any;
    expect(baseline.spec.enforcementAction).toBe('deny');
    await kubectl([
      'patch', 'trustpolicy', 'strict', '-n', 'secured', '--subresource=status', '--type=merge', '-p',
      JSON.stringify({ status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'False', reason: 'Invalid', message: 'trust store ca:x not found', lastTransitionTime: '2025-01-01T00:00:00Z' }] } }),
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
    for (const args of [[], ['--set', 'mutate.enabled=true', '--set', 'rbac.readSecrets=false', '--set', 'tls.clientCA.secretName=ca']]) {
      const stream = renderChart(['--kube-version', '1.20.2', ...args]);
      const out = await kubectl(['apply', '--dry-run=server', '-f', '-'], stream);
      const count = stream.split('\n---\n').length;
      expect(out.trim().split('\n')).toHaveLength(count);
      expect(out).toContain('validatingwebhookconfiguration.admissionregistration.k8s.io/portcullis created (server dry run)');
    }
  });

  it('the rendered webhook is stored with the selector, rules and timeout as rendered', async () => {
    const stream = renderChart(['--kube-version', '1.20.2']);
    const webhookDoc = stream.split('\n---\n').find((d) => d.includes('kind: ValidatingWebhookConfiguration')) as string;
    const stored = JSON.parse(await kubectl(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], webhookDoc)) as any;
    const rendered = parse(webhookDoc) as any;
    expect(stored.webhooks[0].namespaceSelector).toEqual(rendered.webhooks[0].namespaceSelector);
    expect(stored.webhooks[0].timeoutSeconds).toBe(10);
    expect(stored.webhooks[0].rules).toHaveLength(4);
  });
});
