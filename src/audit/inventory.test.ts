import { describe, expect, it } from 'vitest';
import { inventory, type ListedObject, type WorkloadKind } from './inventory.js';

const podSpec = (images: string[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  containers: images.map((image, i) => ({ name: `c${i}`, image })),
  ...extra,
});
const obj = (
  kind: WorkloadKind,
  name: string,
  spec: unknown,
  meta: Partial<NonNullable<ListedObject['metadata']>> = {},
): { kind: WorkloadKind; object: ListedObject } => ({
  kind,
  object: { metadata: { name, namespace: 'team-a', uid: `uid-${kind}-${name}`, ...meta }, spec },
});
const template = (images: string[], extra: Record<string, unknown> = {}): unknown => ({
  template: { spec: podSpec(images, extra) },
});
const ownedBy = (kind: string, name: string) => ({
  ownerReferences: [{ kind, name, uid: `uid-${kind}-${name}`, controller: true }],
});

describe('audit inventory: what runs, one target per container image', () => {
  it('reads every container list and image volume of a pod, with its pull secrets and service account', () => {
    const { targets } = inventory([
      obj('Pod', 'debug', {
        containers: [{ name: 'app', image: 'registry.example/app:v1' }],
        initContainers: [{ name: 'init', image: 'registry.example/init:v1' }],
        ephemeralContainers: [{ name: 'dbg', image: 'registry.example/dbg:v1' }],
        volumes: [
          { name: 'data', image: { reference: 'registry.example/data:v1' } },
          { name: 'empty', emptyDir: {} },
        ],
        imagePullSecrets: [{ name: 'regcred' }],
        serviceAccountName: 'runner',
      }),
    ]);
    expect(targets.map((t) => [t.source, t.container, t.image])).toEqual([
      ['containers', 'app', 'registry.example/app:v1'],
      ['initContainers', 'init', 'registry.example/init:v1'],
      ['ephemeralContainers', 'dbg', 'registry.example/dbg:v1'],
      ['volumes', 'data', 'registry.example/data:v1'],
    ]);
    expect(targets[0]).toMatchObject({ pullSecretNames: ['regcred'], serviceAccountName: 'runner' });
  });

  it('reads the pod template of each workload kind, CronJobs through their job template', () => {
    const { targets } = inventory([
      obj('Deployment', 'web', template(['r/web:1'])),
      obj('StatefulSet', 'db', template(['r/db:1'])),
      obj('DaemonSet', 'agent', template(['r/agent:1'])),
      obj('Job', 'once', template(['r/once:1'])),
      obj('CronJob', 'nightly', { jobTemplate: { spec: template(['r/nightly:1']) } }),
    ]);
    expect(targets.map((t) => `${t.workload.kind}/${t.workload.name} ${t.image}`).sort()).toEqual([
      'CronJob/nightly r/nightly:1',
      'DaemonSet/agent r/agent:1',
      'Deployment/web r/web:1',
      'Job/once r/once:1',
      'StatefulSet/db r/db:1',
    ]);
  });

  it('does not audit twice what a listed owner runs, and says which owner covers it', () => {
    const { targets, covered } = inventory([
      obj('Deployment', 'web', template(['r/web:1'])),
      obj('ReplicaSet', 'web-1', { replicas: 2, ...(template(['r/web:1']) as object) }, ownedBy('Deployment', 'web')),
      obj('Pod', 'web-1-x', podSpec(['r/web:1']), ownedBy('ReplicaSet', 'web-1')),
    ]);
    expect(targets.map((t) => `${t.workload.kind}/${t.workload.name}`)).toEqual(['Deployment/web']);
    expect(covered).toEqual([
      { namespace: 'team-a', object: 'Pod/web-1-x', coveredBy: 'ReplicaSet/web-1' },
      { namespace: 'team-a', object: 'ReplicaSet/web-1', coveredBy: 'Deployment/web' },
    ]);
  });

  it('audits an owned object that runs other images than its owner (an old revision still running), naming the owner', () => {
    const { targets } = inventory([
      obj('Deployment', 'web', template(['r/web:2'])),
      obj('ReplicaSet', 'web-1', { replicas: 1, ...(template(['r/web:1']) as object) }, ownedBy('Deployment', 'web')),
      obj('ReplicaSet', 'web-0', { replicas: 0, ...(template(['r/web:0']) as object) }, ownedBy('Deployment', 'web')),
      obj('Pod', 'orphan', podSpec(['r/x:1']), ownedBy('Operator', 'thing')),
    ]);
    expect(targets.map((t) => [`${t.workload.kind}/${t.workload.name}`, t.image, t.ownedBy])).toEqual([
      ['Deployment/web', 'r/web:2', undefined],
      ['Pod/orphan', 'r/x:1', 'Operator/thing'],
      ['ReplicaSet/web-1', 'r/web:1', 'Deployment/web'],
    ]);
  });

  it('ignores objects without a name, a namespace or a pod spec', () => {
    const { targets } = inventory([
      { kind: 'Pod', object: { metadata: { namespace: 'a' }, spec: podSpec(['r/a:1']) } },
      { kind: 'Pod', object: { metadata: { name: 'b' }, spec: podSpec(['r/b:1']) } },
      { kind: 'Deployment', object: { metadata: { name: 'c', namespace: 'a' }, spec: { template: 'nonsense' } } },
    ]);
    expect(targets).toEqual([]);
  });
});
