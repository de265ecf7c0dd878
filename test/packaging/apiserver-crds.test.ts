import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { renderChart } from '../../scripts/chart/manifests.js';
import { KubeCluster } from '../helpers/kube/cluster.js';
import { REPO_ROOT, kindOf, splitDocs, type Doc } from './helpers.js';

/**
 * The chart's CRD handling against a real API server (kube-apiserver v1.20.2): CRDs created the
 * way the previous chart did (its crds/, no Helm metadata, an older schema) are updated by the
 * chart's templates as `helm upgrade` applies them, with the objects kept; the wg-policy
 * PolicyReport CRDs are established and store reports; the NetworkPolicy is accepted.
 */

let cluster: KubeCluster;
beforeAll(async () => {
  cluster = await KubeCluster.start();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

async function kubectl(args: string[], input?: string): Promise<string> {
  return (await cluster.kubectl(args, input === undefined ? {} : { input })).stdout;
}

const crdDocs = (args: string[] = []): Doc[] =>
  splitDocs(renderChart(['--kube-version', '1.21.0', ...args]))
    .map((d) => d.value)
    .filter((d) => kindOf(d) === 'CustomResourceDefinition');
const stream = (docs: readonly Doc[]): string => docs.map((d) => stringify(d)).join('---\n');

describe("the chart's CRDs on kube-apiserver 1.20", () => {
  it('updates CRDs an earlier install created (older schema, no Helm metadata) as helm upgrade applies its templates, keeping the policies', async () => {
    // The earlier chart's crds/ as Helm created them: plain objects. Make the schema older: no
    // default for enforcementAction.
    for (const name of ['trustpolicies', 'clustertrustpolicies', 'truststores', 'clustertruststores']) {
      const crd = parse(readFileSync(join(REPO_ROOT, 'deploy', 'crds', `${name}.portcullis.dev.yaml`), 'utf8')) as any;
      const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties;
      if (spec.enforcementAction !== undefined) delete spec.enforcementAction.default;
      await kubectl(['create', '-f', '-'], stringify(crd));
    }
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd',
      '-l',
      'app.kubernetes.io/part-of=portcullis',
    ]);
    await kubectl(['apply', '-f', join(REPO_ROOT, 'examples', 'policies')]);
    const before = JSON.parse(await kubectl(['get', 'clustertrustpolicy', 'baseline', '-o', 'json'])) as any;

    // helm upgrade: the rendered templates applied over them.
    const rendered = crdDocs(['--upgrade']);
    await kubectl(['apply', '-f', '-'], stream(rendered));
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd',
      '-l',
      'app.kubernetes.io/managed-by=Helm',
    ]);

    const stored = JSON.parse(
      await kubectl(['get', 'crd', 'clustertrustpolicies.portcullis.dev', '-o', 'json']),
    ) as any;
    expect(stored.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    expect(stored.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
    expect(stored.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.enforcementAction.default).toBe(
      'deny',
    );
    // The policies survived, and the new schema is in force for new objects.
    const after = JSON.parse(await kubectl(['get', 'clustertrustpolicy', 'baseline', '-o', 'json'])) as any;
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.spec.trustPolicies).toEqual(before.spec.trustPolicies);
    await kubectl(
      ['apply', '-f', '-'],
      stringify({
        apiVersion: 'portcullis.dev/v1alpha1',
        kind: 'ClusterTrustPolicy',
        metadata: { name: 'after-upgrade' },
        spec: { version: '1.0', trustPolicies: [] },
      }),
    );
    expect(
      JSON.parse(await kubectl(['get', 'clustertrustpolicy', 'after-upgrade', '-o', 'json'])).spec.enforcementAction,
    ).toBe('deny');
  });

  it('installs the PolicyReport and ClusterPolicyReport CRDs, which store reports and print their counts', async () => {
    const reports = crdDocs().filter((d) =>
      String((d['metadata'] as { name: string }).name).endsWith('.wgpolicyk8s.io'),
    );
    expect(reports).toHaveLength(2);
    await kubectl(['apply', '-f', '-'], stream(reports));
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd',
      'policyreports.wgpolicyk8s.io',
      'clusterpolicyreports.wgpolicyk8s.io',
    ]);
    const crd = JSON.parse(await kubectl(['get', 'crd', 'policyreports.wgpolicyk8s.io', '-o', 'json'])) as any;
    const conditions = (crd.status.conditions as { type: string; status: string }[]).filter((c) => c.status === 'True');
    expect(conditions.map((c) => c.type).sort()).toEqual(['Established', 'NamesAccepted']);

    await kubectl(['create', 'namespace', 'audited']);
    const report = {
      apiVersion: 'wgpolicyk8s.io/v1alpha2',
      kind: 'PolicyReport',
      metadata: { name: 'portcullis-app', namespace: 'audited' },
      scope: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'app', namespace: 'audited' },
      summary: { pass: 1, fail: 1, warn: 0, error: 0, skip: 0 },
      results: [
        {
          source: 'portcullis',
          policy: 'ClusterTrustPolicy baseline',
          rule: 'example-signer',
          result: 'fail',
          message: 'no signature is associated with the image',
          properties: { image: 'registry.example/app:1', code: 'ERR_NO_SIGNATURE' },
          resources: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'app', namespace: 'audited' }],
          timestamp: { seconds: 1700000000, nanos: 0 },
        },
      ],
    };
    await kubectl(['apply', '-f', '-'], stringify(report));
    const stored = JSON.parse(
      await kubectl(['get', 'policyreport', 'portcullis-app', '-n', 'audited', '-o', 'json']),
    ) as any;
    expect(stored.results).toEqual(report.results);
    const table = await kubectl(['get', 'policyreports', '-A']);
    expect(table.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+PASS\s+FAIL\s+WARN\s+ERROR\s+SKIP\s+AGE$/);
    expect(table.split('\n')[1]).toMatch(/^audited\s+portcullis-app\s+1\s+1\s+0\s+0\s+0\s+\S+$/);
    const bad = await cluster.kubectl(['apply', '-f', '-'], {
      input: stringify({
        ...report,
        metadata: { name: 'bad', namespace: 'audited' },
        results: [{ policy: 'p', result: 'denied' }],
      }),
      allowFail: true,
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('results');
  });

  it('accepts the NetworkPolicy (server-side dry run)', async () => {
    const docs = splitDocs(
      renderChart([
        '--set',
        'networkPolicy.enabled=true',
        '--set',
        'networkPolicy.ingressFrom[0].ipBlock.cidr=10.0.0.0/8',
      ]),
    ).filter((d) => kindOf(d.value) === 'NetworkPolicy');
    expect(docs).toHaveLength(1);
    await kubectl(['create', 'namespace', 'portcullis-system']);
    const out = await kubectl(['apply', '--dry-run=server', '-f', '-'], docs[0]?.text ?? '');
    expect(out).toContain('networkpolicy.networking.k8s.io/portcullis created (server dry run)');
  });
});
