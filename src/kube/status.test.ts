import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildSnapshot } from '../policyset/build.js';
import type { TrimmedObject } from './objects.js';
import { desiredStatus, formatTime, statusMessage, statusPatch, type StatusApi, type StatusPatch } from './status.js';
import { StatusWriter, staticLeadership, type Leadership } from './status-writer.js';

// Status diffing and the writer's behaviour with a fake API (the real status subresource is
// exercised in test/kube/source.test.ts).

const T0 = Date.parse('2025-01-02T03:04:05.678Z');

function policyObject(name: string, store: string, extra: Partial<TrimmedObject> = {}): TrimmedObject {
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'TrustPolicy',
    metadata: { name, namespace: 'team-a', uid: `uid-${name}`, resourceVersion: '10', generation: 3 },
    spec: {
      version: '1.0',
      trustPolicies: [
        {
          name: 'p',
          registryScopes: ['*'],
          signatureVerification: { level: 'strict' },
          trustStores: [store],
          trustedIdentities: ['*'],
        },
      ],
    },
    ...extra,
  };
}

const PEM = readFileSync(new URL('../../examples/config/truststore/x509/ca/e2e/e2e.crt', import.meta.url), 'utf8');
const STORE = {
  apiVersion: 'portcullis.dev/v1alpha1',
  kind: 'ClusterTrustStore',
  metadata: { name: 'roots' },
  spec: { type: 'ca', certificates: PEM },
};

const resource = (o: TrimmedObject) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  metadata: { name: o.metadata.name, namespace: o.metadata.namespace, generation: o.metadata.generation },
  spec: o.spec,
});

describe('desiredStatus and statusPatch', () => {
  const good = policyObject('good', 'ca:roots');
  const bad = policyObject('bad', 'ca:missing');
  const snapshot = buildSnapshot({ resources: [STORE, resource(good), resource(bad)], revision: 1 });

  it('is Ready=True/Valid for a policy in force and Ready=False/Invalid with the reason otherwise', () => {
    expect(desiredStatus(snapshot, good)).toEqual({
      status: 'True',
      reason: 'Valid',
      message: 'the TrustPolicy is valid and in force',
      observedGeneration: 3,
    });
    const reason = snapshot.invalid.find((e) => e.id.name === 'bad')?.reason as string;
    expect(reason).toContain('trust store ca:missing not found');
    expect(desiredStatus(snapshot, bad)).toEqual({
      status: 'False',
      reason: 'Invalid',
      message: reason,
      observedGeneration: 3,
    });
  });

  it('says nothing about a policy the snapshot does not know', () => {
    expect(desiredStatus(snapshot, policyObject('unknown', 'ca:roots'))).toBeUndefined();
  });

  it('hints at the label for a Secret or ConfigMap that is not found, and caps the length', () => {
    expect(statusMessage('spec.certificateRefs[0] (Secret a/b key "k"): Secret a/b not found')).toContain(
      'labelled portcullis.dev/trust-material=true',
    );
    expect(statusMessage('other')).toBe('other');
    expect(statusMessage('x'.repeat(10_000))).toHaveLength(4096);
  });

  it('writes the condition and observedGeneration, keeping other conditions', () => {
    const withOther = { ...good, status: { conditions: [{ type: 'Other', status: 'True' }] } };
    const desired = desiredStatus(snapshot, good);
    expect(desired).toBeDefined();
    expect(statusPatch(withOther, desired!, T0)).toEqual({
      status: {
        observedGeneration: 3,
        conditions: [
          { type: 'Other', status: 'True' },
          {
            type: 'Ready',
            status: 'True',
            reason: 'Valid',
            message: 'the TrustPolicy is valid and in force',
            observedGeneration: 3,
            lastTransitionTime: '2025-01-02T03:04:05Z',
          },
        ],
      },
    });
  });

  it('returns nothing when the object already shows the status, whatever its transition time', () => {
    const desired = desiredStatus(snapshot, good)!;
    const current = {
      ...good,
      status: {
        observedGeneration: 3,
        conditions: [{ type: 'Ready', ...desired, lastTransitionTime: '2020-01-01T00:00:00Z' }],
      },
    };
    expect(statusPatch(current, desired, T0)).toBeUndefined();
  });

  it('keeps lastTransitionTime when only the message or generation changes, and moves it when the status flips', () => {
    const desired = desiredStatus(snapshot, good)!;
    const old = '2020-01-01T00:00:00Z';
    const sameStatus = {
      ...good,
      status: {
        observedGeneration: 2,
        conditions: [{ type: 'Ready', ...desired, observedGeneration: 2, lastTransitionTime: old }],
      },
    };
    const conditionOf = (p: StatusPatch | undefined) => p?.status.conditions.find((c) => c['type'] === 'Ready');
    expect(conditionOf(statusPatch(sameStatus, desired, T0))?.['lastTransitionTime']).toBe(old);
    const flipped = {
      ...good,
      status: {
        observedGeneration: 3,
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'Invalid',
            message: 'x',
            observedGeneration: 3,
            lastTransitionTime: old,
          },
        ],
      },
    };
    expect(conditionOf(statusPatch(flipped, desired, T0))?.['lastTransitionTime']).toBe(formatTime(T0));
  });
});

class FakeStatusApi implements StatusApi {
  calls: { kind: string; namespace: string | undefined; name: string; patch: StatusPatch; at: number }[] = [];
  failures: ({ code: number } | Error)[] = [];
  async patchStatus(kind: string, namespace: string | undefined, name: string, patch: StatusPatch): Promise<void> {
    this.calls.push({ kind, namespace, name, patch, at: Date.now() });
    const failure = this.failures.shift();
    if (failure !== undefined) throw failure;
  }
}

describe('StatusWriter', () => {
  const good = policyObject('good', 'ca:roots');
  const bad = policyObject('bad', 'ca:missing');
  const snapshot = buildSnapshot({ resources: [STORE, resource(good), resource(bad)], revision: 1 });

  it('writes each object once, and not again while the cache still shows the old version', async () => {
    const api = new FakeStatusApi();
    const writer = new StatusWriter({ api });
    writer.reconcile(snapshot, [good, bad]);
    await writer.idle();
    expect(api.calls.map((c) => `${c.kind} ${c.namespace}/${c.name}`).sort()).toEqual([
      'TrustPolicy team-a/bad',
      'TrustPolicy team-a/good',
    ]);
    // The informer has not seen the writes yet: same objects, nothing written.
    writer.reconcile(snapshot, [good, bad]);
    writer.reconcile(snapshot, [good, bad]);
    await writer.idle();
    expect(api.calls).toHaveLength(2);
    // The informer sees the written status: still nothing to write.
    const seen = api.calls.map((c) => ({
      ...(c.name === 'good' ? good : bad),
      metadata: { ...(c.name === 'good' ? good : bad).metadata, resourceVersion: '11' },
      status: c.patch.status,
    }));
    writer.reconcile(snapshot, seen);
    await writer.idle();
    expect(api.calls).toHaveLength(2);
    expect(writer.stats()).toEqual({ writes: 2, failures: 0, queued: 0 });
    // Someone else changed the status: it is written back.
    writer.reconcile(snapshot, [
      {
        ...(seen[0] as TrimmedObject),
        metadata: { ...good.metadata, resourceVersion: '12' },
        status: { conditions: [] },
      },
      seen[1] as TrimmedObject,
    ]);
    await writer.idle();
    expect(api.calls).toHaveLength(3);
    await writer.stop();
  });

  it('ignores not-found and conflicts, retries other failures with backoff', async () => {
    const api = new FakeStatusApi();
    const errors: string[] = [];
    const writer = new StatusWriter({ api, retryInitialMs: 30, onError: (e) => errors.push(e.message) });
    api.failures.push({ code: 404 }, { code: 409 });
    writer.reconcile(snapshot, [good, bad]);
    await writer.idle();
    expect(errors).toEqual([]);
    expect(writer.stats().failures).toBe(0);

    const other = new FakeStatusApi();
    const writer2 = new StatusWriter({ api: other, retryInitialMs: 30, onError: (e) => errors.push(e.message) });
    other.failures.push(Object.assign(new Error('boom'), { code: 500, body: '{"message":"etcd down"}' }));
    writer2.reconcile(snapshot, [good]);
    await writer2.idle();
    expect(errors).toEqual(['cannot write the status of TrustPolicy team-a/good: HTTP 500: etcd down']);
    await new Promise((r) => setTimeout(r, 80));
    await writer2.idle();
    expect(other.calls).toHaveLength(2); // retried without a new event
    expect(writer2.stats().writes).toBe(1);
    await writer.stop();
    await writer2.stop();
  });

  it('is rate-limited', async () => {
    const api = new FakeStatusApi();
    const writer = new StatusWriter({ api, qps: 20, burst: 2 });
    const objects = Array.from({ length: 6 }, (_, i) => policyObject(`p${i}`, 'ca:roots'));
    const snap = buildSnapshot({ resources: [STORE, ...objects.map(resource)], revision: 1 });
    const start = Date.now();
    writer.reconcile(snap, objects);
    await writer.idle();
    expect(api.calls).toHaveLength(6);
    // 2 at once, then 4 at 20/s: at least ~200 ms.
    expect(Date.now() - start).toBeGreaterThanOrEqual(180);
    await writer.stop();
  });

  it('writes nothing when disabled, and forgets deleted objects', async () => {
    const api = new FakeStatusApi();
    const disabled = new StatusWriter({ api, enabled: false });
    disabled.reconcile(snapshot, [good, bad]);
    await disabled.idle();
    expect(api.calls).toEqual([]);

    const writer = new StatusWriter({ api, qps: 1, burst: 1 });
    writer.reconcile(snapshot, [good, bad]);
    writer.reconcile(snapshot, [good]); // bad was deleted before its turn
    await writer.idle();
    expect(api.calls.map((c) => c.name)).toEqual(['good']);
    await writer.stop();
  });

  it('keeps at most maxInFlight writes awaiting answers, and writes the rest as answers come', async () => {
    let inFlight = 0;
    let most = 0;
    const names: string[] = [];
    const api: StatusApi = {
      async patchStatus(_kind, _namespace, name) {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        names.push(name);
        inFlight -= 1;
      },
    };
    const objects = Array.from({ length: 20 }, (_, i) => policyObject(`p${i}`, 'ca:roots'));
    const snap = buildSnapshot({ resources: [STORE, ...objects.map(resource)], revision: 1 });
    const writer = new StatusWriter({ api, maxInFlight: 3, qps: 1000, burst: 1000 });
    writer.reconcile(snap, objects);
    await writer.idle();
    expect(names.sort()).toEqual(objects.map((o) => o.metadata.name).sort());
    expect(most).toBe(3);
    await writer.stop();
  });

  it('writes only while it leads: nothing as a follower, everything on taking over, nothing more after losing', async () => {
    const api = new FakeStatusApi();
    let leader = false;
    let notify: (leads: boolean) => void = () => undefined;
    const leadership: Leadership = {
      isLeader: () => leader,
      subscribe: (listener) => {
        notify = listener;
        return () => (notify = () => undefined);
      },
    };
    const writer = new StatusWriter({ api, leadership });
    writer.reconcile(snapshot, [good, bad]);
    await writer.idle();
    expect(api.calls).toEqual([]);
    leader = true;
    notify(true); // the objects of the last reconcile are written at once
    await writer.idle();
    expect(api.calls.map((c) => c.name).sort()).toEqual(['bad', 'good']);
    leader = false;
    notify(false);
    const changed = { ...good, metadata: { ...good.metadata, resourceVersion: '20', generation: 4 } };
    writer.reconcile(snapshot, [changed, bad]);
    await writer.idle();
    expect(api.calls).toHaveLength(2);
    await writer.stop();
    expect(staticLeadership(false).isLeader()).toBe(false);
  });

  it('observe() compares one changed object: its own write arriving is skipped, a status changed by others is written back', async () => {
    const api = new FakeStatusApi();
    const writer = new StatusWriter({ api });
    writer.reconcile(snapshot, [good]);
    await writer.idle();
    expect(api.calls).toHaveLength(1);
    const written = {
      ...good,
      metadata: { ...good.metadata, resourceVersion: '11' },
      status: api.calls[0]?.patch.status,
    };
    writer.observe(snapshot, written);
    await writer.idle();
    expect(api.calls).toHaveLength(1);
    writer.observe(snapshot, { ...written, metadata: { ...good.metadata, resourceVersion: '12' }, status: {} });
    await writer.idle();
    expect(api.calls).toHaveLength(2);
    await writer.stop();
  });
});
