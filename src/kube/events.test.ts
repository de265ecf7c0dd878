import { describe, expect, it } from 'vitest';
import { EventRecorder, type EventInput } from './events.js';

const denial = (name: string, note = 'image r/a:1 denied'): EventInput => ({
  regarding: { apiVersion: 'portcullis.dev/v1alpha1', kind: 'TrustPolicy', namespace: 'team-a', name },
  reason: 'ImageDenied',
  action: 'Deny',
  note,
  type: 'Warning',
});

describe('Events on policy resources, bounded', () => {
  it('writes a v1 Event in the object namespace (default for cluster-scoped objects)', async () => {
    const written: [string, Record<string, unknown>][] = [];
    const recorder = new EventRecorder({
      api: { create: async (ns, e) => void written.push([ns, e]) },
      instance: 'pod-1',
    });
    recorder.record(denial('prod'));
    recorder.record({
      ...denial('x'),
      regarding: { apiVersion: 'portcullis.dev/v1alpha1', kind: 'ClusterTrustPolicy', name: 'base' },
    });
    await recorder.idle();
    expect(written.map(([ns]) => ns)).toEqual(['team-a', 'default']);
    expect(written[0]?.[1]).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      reportingComponent: 'portcullis.dev/portcullis',
      reportingInstance: 'pod-1',
      reason: 'ImageDenied',
      action: 'Deny',
      type: 'Warning',
      message: 'image r/a:1 denied',
      count: 1,
      involvedObject: { kind: 'TrustPolicy', namespace: 'team-a', name: 'prod' },
    });
    expect(written[1]?.[1]).toMatchObject({ involvedObject: { kind: 'ClusterTrustPolicy', name: 'base' } });
    expect(String((written[0]?.[1] as { firstTimestamp: string }).firstTimestamp)).toMatch(/:\d{2}Z$/);
  });

  it('writes a repeated event once per window, and no more than the burst at once', async () => {
    let now = 0;
    const written: string[] = [];
    const recorder = new EventRecorder({
      api: { create: async (_ns, e) => void written.push(String((e.involvedObject as { name: string }).name)) },
      instance: 'i',
      burst: 3,
      perSecond: 0.001,
      maxQueued: 4,
      dedupeWindowMs: 1000,
      now: () => now,
    });
    for (let i = 0; i < 5; i++) recorder.record(denial('same'));
    for (let i = 0; i < 10; i++) recorder.record(denial(`p${i}`));
    await new Promise((r) => setTimeout(r, 50));
    expect(written).toEqual(['same', 'p0', 'p1']);
    expect(recorder.stats).toMatchObject({ written: 3, deduplicated: 4 });
    expect(recorder.stats.dropped).toBeGreaterThan(0);
    now += 2000;
    await recorder.stop();
  });
});
