import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { NAMESPACE, REPO_ROOT, at, kindOf, only, values, type Doc } from './helpers.js';

/**
 * The chart's CRDs (templates, so `helm upgrade` updates them), the optional wg-policy
 * PolicyReport CRDs (left alone when another installation owns them), the ServiceMonitor and the
 * NetworkPolicy. The API server side is in apiserver.test.ts.
 */

const crds = (docs: readonly Doc[]): Doc[] => docs.filter((d) => kindOf(d) === 'CustomResourceDefinition');
const names = (docs: readonly Doc[]): string[] =>
  crds(docs)
    .map((d) => String(at(d, 'metadata', 'name')))
    .sort();
const PORTCULLIS_CRDS = [
  'clustertrustpolicies.portcullis.dev',
  'clustertruststores.portcullis.dev',
  'trustpolicies.portcullis.dev',
  'truststores.portcullis.dev',
];
const REPORT_CRDS = ['clusterpolicyreports.wgpolicyk8s.io', 'policyreports.wgpolicyk8s.io'];

const dir = mkdtempSync(join(tmpdir(), 'portcullis-chart-lookup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** A --lookup file: CRDs the cluster is pretended to hold, with the Helm release annotations given. */
function cluster(file: string, owners: Record<string, [release: string, namespace: string] | null>): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    Object.entries(owners)
      .map(([name, owner]) =>
        stringify({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          metadata: {
            name,
            ...(owner === null
              ? {}
              : { annotations: { 'meta.helm.sh/release-name': owner[0], 'meta.helm.sh/release-namespace': owner[1] } }),
          },
        }),
      )
      .join('---\n'),
  );
  return path;
}

describe('the chart installs and upgrades the CRDs', () => {
  const docs = values();

  it('renders the four portcullis.dev CRDs with the same spec as deploy/crds', () => {
    expect(names(docs)).toEqual([...REPORT_CRDS, ...PORTCULLIS_CRDS].sort());
    for (const name of PORTCULLIS_CRDS) {
      const deployed = parse(readFileSync(join(REPO_ROOT, 'deploy', 'crds', `${name}.yaml`), 'utf8')) as Doc;
      expect(only(docs, 'CustomResourceDefinition', name)['spec'], name).toEqual(deployed['spec']);
    }
  });

  it('keeps them on uninstall (helm.sh/resource-policy: keep) unless crds.keep=false, and leaves them out with crds.install=false', () => {
    for (const crd of crds(docs)) {
      expect(at(crd, 'metadata', 'annotations', 'helm.sh/resource-policy')).toBe('keep');
      expect(at(crd, 'metadata', 'labels', 'app.kubernetes.io/managed-by')).toBe('Helm');
    }
    const noKeep = values('--set', 'crds.keep=false');
    for (const name of PORTCULLIS_CRDS) {
      expect(at(only(noKeep, 'CustomResourceDefinition', name), 'metadata', 'annotations')).toBeUndefined();
    }
    expect(names(values('--set', 'crds.install=false'))).toEqual(REPORT_CRDS);
  });

  it('renders them on helm upgrade as on install (templates, not crds/)', () => {
    expect(names(values('--upgrade'))).toEqual(names(docs));
    expect(readdirSync(join(REPO_ROOT, 'charts', 'portcullis'))).not.toContain('crds');
  });
});

describe('the wg-policy PolicyReport CRDs are optional', () => {
  it('renders PolicyReport and ClusterPolicyReport (wgpolicyk8s.io/v1alpha2) when the cluster has none', () => {
    const docs = values();
    const report = only(docs, 'CustomResourceDefinition', 'policyreports.wgpolicyk8s.io');
    expect(at(report, 'spec', 'scope')).toBe('Namespaced');
    expect(at(report, 'spec', 'versions', 0, 'name')).toBe('v1alpha2');
    expect(at(only(docs, 'CustomResourceDefinition', 'clusterpolicyreports.wgpolicyk8s.io'), 'spec', 'scope')).toBe(
      'Cluster',
    );
  });

  it('leaves out a CRD another installation owns (Kyverno), and keeps rendering the one this release owns on upgrade', () => {
    const lookup = cluster('kyverno.yaml', {
      'policyreports.wgpolicyk8s.io': ['kyverno', 'kyverno'],
      'clusterpolicyreports.wgpolicyk8s.io': ['portcullis', NAMESPACE],
    });
    expect(names(values('--upgrade', '--lookup', lookup))).toEqual([
      'clusterpolicyreports.wgpolicyk8s.io',
      ...PORTCULLIS_CRDS,
    ]);
  });

  it('leaves out CRDs installed without Helm (kubectl apply) and a release of the same name in another namespace', () => {
    const lookup = cluster('other.yaml', {
      'policyreports.wgpolicyk8s.io': null,
      'clusterpolicyreports.wgpolicyk8s.io': ['portcullis', 'elsewhere'],
    });
    expect(names(values('--lookup', lookup))).toEqual(PORTCULLIS_CRDS);
  });

  it('policyReports.installCRDs=false never renders them', () => {
    expect(names(values('--set', 'policyReports.installCRDs=false'))).toEqual(PORTCULLIS_CRDS);
  });
});

describe('metrics.serviceMonitor', () => {
  it('is off by default', () => {
    expect(values().filter((d) => kindOf(d) === 'ServiceMonitor')).toEqual([]);
  });

  it('scrapes /metrics over HTTPS on the Service port, trusting the serving certificate CA for the Service name', () => {
    const docs = values(
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'metrics.serviceMonitor.labels.release=prom',
    );
    const monitor = only(docs, 'ServiceMonitor');
    const service = only(docs, 'Service');
    expect(at(monitor, 'metadata', 'labels', 'release')).toBe('prom');
    const selector = at(monitor, 'spec', 'selector', 'matchLabels') as Record<string, string>;
    for (const [k, v] of Object.entries(selector)) expect(at(service, 'metadata', 'labels', k)).toBe(v);
    expect(at(monitor, 'spec', 'namespaceSelector')).toEqual({ matchNames: [NAMESPACE] });
    const endpoint = at(monitor, 'spec', 'endpoints', 0) as Record<string, unknown>;
    expect(endpoint).toMatchObject({ port: 'https', path: '/metrics', scheme: 'https', interval: '30s' });
    expect((at(service, 'spec', 'ports') as { name: string }[]).map((p) => p.name)).toContain('https');
    const secret = only(docs, 'Secret');
    expect(endpoint['tlsConfig']).toEqual({
      serverName: `portcullis.${NAMESPACE}.svc`,
      ca: { secret: { name: at(secret, 'metadata', 'name'), key: 'ca.crt' } },
    });
    expect(Object.keys(at(secret, 'data') as object)).toContain('ca.crt');
  });

  it('takes a tlsConfig of its own (certificates.existingSecret without ca.crt)', () => {
    const docs = values(
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'metrics.serviceMonitor.tlsConfig.insecureSkipVerify=true',
    );
    expect(at(only(docs, 'ServiceMonitor'), 'spec', 'endpoints', 0, 'tlsConfig')).toEqual({ insecureSkipVerify: true });
  });
});

describe('networkPolicy', () => {
  it('is off by default', () => {
    expect(values().filter((d) => kindOf(d) === 'NetworkPolicy')).toEqual([]);
  });

  it('admits the HTTPS port from anywhere by default and restricts no egress', () => {
    const docs = values('--set', 'networkPolicy.enabled=true');
    const policy = only(docs, 'NetworkPolicy');
    expect(at(policy, 'spec', 'podSelector', 'matchLabels')).toEqual(
      at(only(docs, 'Deployment'), 'spec', 'selector', 'matchLabels'),
    );
    expect(at(policy, 'spec', 'policyTypes')).toEqual(['Ingress']);
    expect(at(policy, 'spec', 'ingress')).toEqual([{ ports: [{ port: 'https', protocol: 'TCP' }] }]);
  });

  it('takes the peers allowed in, and with egress rules restricts egress to them and DNS', () => {
    const file = join(dir, 'np.yaml');
    writeFileSync(
      file,
      stringify({
        networkPolicy: {
          enabled: true,
          ingressFrom: [{ ipBlock: { cidr: '10.0.0.0/8' } }],
          egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] }],
        },
      }),
    );
    const policy = only(values('-f', file), 'NetworkPolicy');
    expect(at(policy, 'spec', 'policyTypes')).toEqual(['Ingress', 'Egress']);
    expect(at(policy, 'spec', 'ingress', 0, 'from')).toEqual([{ ipBlock: { cidr: '10.0.0.0/8' } }]);
    expect(at(policy, 'spec', 'egress')).toEqual([
      {
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
      { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] },
    ]);
  });
});
