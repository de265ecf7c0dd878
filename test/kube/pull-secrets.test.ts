import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../src/kube/client.js';
import { KubernetesPullSecretResolver } from '../../src/kube/pull-secrets.js';
import { KubeCluster } from '../helpers/kube/cluster.js';

// Pull secrets read from a real kube-apiserver: a pod's dockerconfigjson and legacy dockercfg
// Secrets, a ServiceAccount's imagePullSecrets (created explicitly: nothing creates service
// accounts on this server), and the cluster-wide default Secret. Fresh names per run.

const run = Date.now().toString(36);
const ns = `kube-pull-${run}`;
const system = `kube-pull-sys-${run}`;

let cluster: KubeCluster;

const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function resourceVersion(namespace: string, name: string): Promise<string> {
  const r = await cluster.kubectl([
    'get',
    'secret',
    name,
    '-n',
    namespace,
    '-o',
    'jsonpath={.metadata.resourceVersion}',
  ]);
  return r.stdout.trim();
}

beforeAll(async () => {
  cluster = await KubeCluster.start();
  await cluster.kubectl(['create', 'namespace', ns]);
  await cluster.kubectl(['create', 'namespace', system]);
  await cluster.kubectl([
    'create',
    'secret',
    'docker-registry',
    'regcred',
    '-n',
    ns,
    '--docker-server=registry.example.com',
    '--docker-username=alice',
    '--docker-password=s3cret',
  ]);
  await cluster.kubectl([
    'create',
    'secret',
    'docker-registry',
    'sa-cred',
    '-n',
    ns,
    '--docker-server=sa.example.com',
    '--docker-username=bob',
    '--docker-password=pw',
  ]);
  await cluster.kubectl([
    'create',
    'secret',
    'docker-registry',
    'cluster-default',
    '-n',
    system,
    '--docker-server=mirror.example.com',
    '--docker-username=node',
    '--docker-password=npw',
  ]);
  await cluster.kubectl(['create', 'secret', 'generic', 'opaque', '-n', ns, '--from-literal=x=y']);
  await cluster.kubectl(['apply', '-f', '-'], {
    input: `
apiVersion: v1
kind: Secret
metadata: { name: legacy, namespace: ${ns} }
type: kubernetes.io/dockercfg
data:
  .dockercfg: ${b64(JSON.stringify({ 'old.example.com': { auth: b64('carol:pw2') } }))}
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: builder, namespace: ${ns} }
imagePullSecrets:
  - name: sa-cred
  - name: not-there
`,
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('KubernetesPullSecretResolver against a real API server', () => {
  it("resolves a pod's dockerconfigjson and dockercfg Secrets, skipping missing and non-docker ones", async () => {
    const resolver = new KubernetesPullSecretResolver({
      kubeConfig: loadKubeConfig({ kubeconfig: cluster.kubeconfig }),
    });
    const got = await resolver.resolve(ns, ['regcred', 'missing', 'opaque', 'legacy']);
    expect(got.map((c) => c.identity)).toEqual([
      `secret:${ns}/regcred@${await resourceVersion(ns, 'regcred')}`,
      `secret:${ns}/legacy@${await resourceVersion(ns, 'legacy')}`,
    ]);
    expect(got[0]?.auths['registry.example.com']).toMatchObject({ username: 'alice', password: 's3cret' });
    expect(got[1]?.auths['old.example.com']).toEqual({ auth: b64('carol:pw2') });
    for (const c of got) expect(c.identity).not.toContain('s3cret');
  });

  it("uses the service account's imagePullSecrets when the pod names none, then the cluster default", async () => {
    const resolver = new KubernetesPullSecretResolver({
      kubeConfig: loadKubeConfig({ kubeconfig: cluster.kubeconfig }),
      defaultSecret: `${system}/cluster-default`,
    });
    const viaAccount = await resolver.resolve(ns, [], { serviceAccountName: 'builder' });
    expect(viaAccount.map((c) => c.identity)).toEqual([
      `secret:${ns}/sa-cred@${await resourceVersion(ns, 'sa-cred')}`,
      `secret:${system}/cluster-default@${await resourceVersion(system, 'cluster-default')}`,
    ]);
    // The pod's own pull secrets replace the service account's (as the ServiceAccount admission plugin does).
    const viaPod = await resolver.resolve(ns, ['regcred'], { serviceAccountName: 'builder' });
    expect(viaPod.map((c) => c.identity.split('@')[0])).toEqual([
      `secret:${ns}/regcred`,
      `secret:${system}/cluster-default`,
    ]);
    // No `default` service account exists here: only the cluster default remains.
    const none = await resolver.resolve(ns, []);
    expect(none.map((c) => c.identity.split('@')[0])).toEqual([`secret:${system}/cluster-default`]);
  });

  it('sees a rotated Secret after the cache TTL, with a new identity', async () => {
    // An injected clock: kubectl alone can take longer than a wall-clock TTL on a busy machine.
    let clock = 1_000_000;
    const resolver = new KubernetesPullSecretResolver({
      kubeConfig: loadKubeConfig({ kubeconfig: cluster.kubeconfig }),
      ttlMs: 300,
      now: () => clock,
    });
    const [before] = await resolver.resolve(ns, ['regcred']);
    await cluster
      .kubectl([
        'create',
        'secret',
        'docker-registry',
        'regcred',
        '-n',
        ns,
        '--docker-server=registry.example.com',
        '--docker-username=alice',
        '--docker-password=rotated',
        '--dry-run=client',
        '-o',
        'yaml',
      ])
      .then((r) => cluster.kubectl(['apply', '-f', '-'], { input: r.stdout }));
    const [cached] = await resolver.resolve(ns, ['regcred']);
    expect(cached?.identity).toBe(before?.identity);
    clock += 400;
    const [after] = await resolver.resolve(ns, ['regcred']);
    expect(after?.identity).not.toBe(before?.identity);
    expect(after?.identity).toBe(`secret:${ns}/regcred@${await resourceVersion(ns, 'regcred')}`);
    expect(after?.auths['registry.example.com']).toMatchObject({ password: 'rotated' });
  });
});
