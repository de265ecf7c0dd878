import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CERT_MANAGER_ARGS, deployFiles, forDeploy, isGeneratedTlsSecret } from '../../scripts/chart/manifests.js';
import { NAMESPACE, REPO_ROOT, at, idOf, kindOf, kustomize, render, type Doc, type RenderedDoc } from './helpers.js';

/**
 * deploy/ must install what the chart installs with its default values in portcullis-system.
 * Compared document by document after taking out what plain manifests cannot carry (the
 * generated TLS Secret and the caBundle values, see deploy/README.md) and what only deploy/ has
 * (the Namespace: Helm creates it with --create-namespace).
 */

const DEPLOY = join(REPO_ROOT, 'deploy');

/** Documents keyed by kind/namespace/name; CRDs and the Namespace set aside. */
function index(docs: readonly RenderedDoc[]): Map<string, Doc> {
  const out = new Map<string, Doc>();
  for (const { value } of docs) {
    if (kindOf(value) === 'CustomResourceDefinition' || kindOf(value) === 'Namespace') continue;
    const id = idOf(value);
    if (out.has(id)) throw new Error(`${id} twice`);
    out.set(id, stripCaBundles(value));
  }
  return out;
}

/** A copy without webhooks' and Providers' caBundle (generated or injected material). */
function stripCaBundles(doc: Doc): Doc {
  const copy = structuredClone(doc);
  for (const webhook of (copy['webhooks'] as Record<string, any>[] | undefined) ?? [])
    delete webhook['clientConfig']?.['caBundle'];
  if (kindOf(copy) === 'Provider') delete (copy['spec'] as Record<string, unknown>)['caBundle'];
  return copy;
}

/** A readable difference of two document sets, or '' when they are equal. */
function difference(chart: Map<string, Doc>, deploy: Map<string, Doc>): string {
  const lines: string[] = [];
  for (const id of chart.keys()) if (!deploy.has(id)) lines.push(`only in the chart: ${id}`);
  for (const id of deploy.keys()) if (!chart.has(id)) lines.push(`only in deploy/: ${id}`);
  for (const [id, doc] of chart) {
    const other = deploy.get(id);
    if (other === undefined) continue;
    const a = stringify(doc, { sortMapEntries: true }).split('\n');
    const b = stringify(other, { sortMapEntries: true }).split('\n');
    if (a.join('\n') === b.join('\n')) continue;
    lines.push(`${id} differs (- chart, + deploy/):`);
    const max = Math.max(a.length, b.length);
    for (let i = 0; i < max; i++) {
      if (a[i] === b[i]) continue;
      if (a[i] !== undefined) lines.push(`  - ${a[i]}`);
      if (b[i] !== undefined) lines.push(`  + ${b[i]}`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n(regenerate with: npx tsx scripts/chart/manifests.ts)`;
}

describe('deploy/ and the chart', () => {
  it('deploy/ holds the chart rendered with the default values in portcullis-system (kubectl kustomize deploy/)', () => {
    const chart = index(render().filter((d) => !isGeneratedTlsSecret(d.value)));
    const deploy = index(kustomize(DEPLOY));
    expect(difference(chart, deploy)).toBe('');
    // The comparison sees a changed field.
    const changed = new Map(deploy);
    const id = `Deployment ${NAMESPACE}/portcullis`;
    const d = structuredClone(changed.get(id)) as any;
    d.spec.replicas = 3;
    changed.set(id, d);
    expect(difference(chart, changed)).toContain(
      'Deployment portcullis-system/portcullis differs (- chart, + deploy/):\n  -   replicas: 2\n  +   replicas: 3',
    );
  });

  it('only the generated TLS Secret, the caBundle and the CRDs (deploy/crds has them) were left out', () => {
    const rendered = render();
    const removed = rendered.filter((d) => !forDeploy(rendered).some((k) => idOf(k.value) === idOf(d.value)));
    expect(removed.map((d) => idOf(d.value)).sort()).toEqual([
      'CustomResourceDefinition clusterpolicyreports.wgpolicyk8s.io',
      'CustomResourceDefinition clustertrustpolicies.portcullis.dev',
      'CustomResourceDefinition clustertruststores.portcullis.dev',
      'CustomResourceDefinition policyreports.wgpolicyk8s.io',
      'CustomResourceDefinition trustpolicies.portcullis.dev',
      'CustomResourceDefinition truststores.portcullis.dev',
      `Secret ${NAMESPACE}/portcullis-tls`,
    ]);
    const deployed = kustomize(DEPLOY).map((d) => d.value);
    expect(JSON.stringify(deployed)).not.toContain('caBundle');
    expect(deployed.filter((d) => kindOf(d) === 'Secret')).toEqual([]);
  });

  it('the generated files are up to date (scripts/chart/manifests.ts)', () => {
    for (const [path, text] of deployFiles()) {
      expect(readFileSync(join(REPO_ROOT, path), 'utf8'), `${path}: run npx tsx scripts/chart/manifests.ts`).toBe(text);
    }
  });

  it('deploy/ installs the CRDs of deploy/crds and the namespace, labelled for the webhook exclusion', () => {
    const docs = kustomize(DEPLOY).map((d) => d.value);
    const crds = docs.filter((d) => kindOf(d) === 'CustomResourceDefinition');
    expect(crds.map((d) => at(d, 'metadata', 'name')).sort()).toEqual([
      'clustertrustpolicies.portcullis.dev',
      'clustertruststores.portcullis.dev',
      'trustpolicies.portcullis.dev',
      'truststores.portcullis.dev',
    ]);
    const namespace = docs.find((d) => kindOf(d) === 'Namespace');
    expect(at(namespace, 'metadata')).toMatchObject({
      name: NAMESPACE,
      labels: { 'kubernetes.io/metadata.name': NAMESPACE },
    });
  });

  it('deploy/overlays/cert-manager holds the chart rendered with certManager.enabled', () => {
    const chart = index(render(...CERT_MANAGER_ARGS));
    const overlay = index(kustomize(join(DEPLOY, 'overlays', 'cert-manager')));
    expect(difference(chart, overlay)).toBe('');
  });

  describe('deploy/gen-certs.sh', () => {
    const out = mkdtempSync(join(tmpdir(), 'portcullis-gen-certs-'));
    afterAll(() => rmSync(out, { recursive: true, force: true }));

    it('makes an overlay with the TLS Secret and the caBundle of a CA that signed the serving certificate', () => {
      execFileSync('bash', [join(DEPLOY, 'gen-certs.sh'), out], { stdio: ['ignore', 'ignore', 'pipe'] });
      const docs = kustomize(out).map((d) => d.value);
      const secret = docs.find((d) => kindOf(d) === 'Secret') as Doc;
      expect(at(secret, 'metadata')).toMatchObject({ name: 'portcullis-tls', namespace: NAMESPACE });
      expect(secret['type']).toBe('kubernetes.io/tls');
      const data = secret['data'] as Record<string, string>;
      const pem = (key: string): string =>
        Buffer.from((data[key] as string).replace(/\s/g, ''), 'base64').toString('utf8');
      const ca = new X509Certificate(pem('ca.crt'));
      const cert = new X509Certificate(pem('tls.crt'));
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.checkHost(`portcullis.${NAMESPACE}.svc`)).toBeDefined();
      // Both webhooks: the validating one and the mutating one that pins digests (on by default).
      for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
        const webhook = docs.find((d) => kindOf(d) === kind);
        expect(
          Buffer.from(at(webhook, 'webhooks', 0, 'clientConfig', 'caBundle') as string, 'base64').toString('utf8'),
          kind,
        ).toBe(pem('ca.crt'));
      }
      // Everything else is deploy/ unchanged.
      const withoutCerts = (docs2: readonly Doc[]): Map<string, Doc> =>
        index(docs2.filter((d) => kindOf(d) !== 'Secret').map((value) => ({ source: undefined, text: '', value })));
      expect(difference(withoutCerts(kustomize(DEPLOY).map((d) => d.value)), withoutCerts(docs))).toBe('');
    });
  });
});
