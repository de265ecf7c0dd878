import { describe, expect, it } from 'vitest';
import { buildSnapshot } from './build.js';
import { coverage } from './coverage.js';
import { API_VERSION } from './resources.js';

const skipDocument = {
  version: '1.0',
  trustPolicies: [{ name: 'all', registryScopes: ['*'], signatureVerification: { level: 'skip' } }],
};
const policy = (kind: string, name: string, namespace?: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name, ...(namespace === undefined ? {} : { namespace }) },
  spec: { ...skipDocument, ...spec },
});
const ns = (name: string, labels: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});

describe('coverage: which policies cover a namespace, and why', () => {
  const snapshot = buildSnapshot({
    revision: 1,
    resources: [
      ns('team-a', { env: 'prod' }),
      ns('team-b', { env: 'dev' }),
      policy('ClusterTrustPolicy', 'everywhere'),
      policy('ClusterTrustPolicy', 'prod-only', undefined, { namespaceSelector: { matchLabels: { env: 'prod' } } }),
      policy('TrustPolicy', 'mine', 'team-a'),
      policy('TrustPolicy', 'theirs', 'team-b'),
      policy('TrustPolicy', 'broken', 'team-a', { enforcementAction: 'sometimes' }),
    ],
  });

  it('says why each document applies or not, in agreement with the snapshot the executor decides from', () => {
    for (const namespace of ['team-a', 'team-b', 'unknown']) {
      const c = coverage(snapshot, namespace);
      const applying = c.filter((x) => x.applies && x.kind !== 'Invalid').map((x) => x.policy);
      expect(applying.sort()).toEqual(
        snapshot
          .documentsFor(namespace)
          .map((d) => `${d.id.kind} ${d.id.namespace === undefined ? '' : `${d.id.namespace}/`}${d.id.name}`)
          .sort(),
      );
      expect(c.filter((x) => x.applies && x.kind === 'Invalid').length).toBe(snapshot.invalidFor(namespace).length);
    }
    const a = coverage(snapshot, 'team-a');
    expect(a.find((x) => x.policy === 'ClusterTrustPolicy prod-only')?.why).toBe(
      'namespaceSelector env=prod matches the namespace labels env=prod,kubernetes.io/metadata.name=team-a',
    );
    expect(a.find((x) => x.policy === 'ClusterTrustPolicy everywhere')?.why).toContain('every namespace');
    expect(a.find((x) => x.policy === 'TrustPolicy team-b/theirs')).toMatchObject({
      applies: false,
      why: 'a TrustPolicy of namespace team-b',
    });
    expect(a.find((x) => x.policy === 'TrustPolicy team-a/broken')).toMatchObject({
      applies: true,
      kind: 'Invalid',
      invalid: { code: 'ERR_RESOURCE_INVALID' },
    });
    const b = coverage(snapshot, 'team-b');
    expect(b.find((x) => x.policy === 'ClusterTrustPolicy prod-only')).toMatchObject({ applies: false });
    expect(b.find((x) => x.policy === 'TrustPolicy team-a/broken')).toMatchObject({ applies: false });
  });
});
