import { describe, expect, it } from 'vitest';
import { LeaderElector, microTime, type LeaseApi, type LeaseObject } from './lease.js';

/** A Lease store that keeps the API server's optimistic concurrency (409 on a stale resourceVersion). */
function memoryLeases(): LeaseApi & { current(): LeaseObject | undefined } {
  let stored: LeaseObject | undefined;
  let version = 0;
  const conflict = (): Error => Object.assign(new Error('conflict'), { code: 409 });
  return {
    current: () => stored,
    get: async () => (stored === undefined ? undefined : structuredClone(stored)),
    create: async (_ns, lease) => {
      if (stored !== undefined) throw conflict();
      stored = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(++version) } };
    },
    replace: async (_ns, lease) => {
      if (lease.metadata.resourceVersion !== stored?.metadata.resourceVersion) throw conflict();
      stored = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(++version) } };
    },
  };
}

describe('leader election over a Lease', () => {
  it('writes MicroTime with six fraction digits', () => {
    expect(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 67))).toBe('2026-01-02T03:04:05.067000Z');
  });

  it('lets one replica lead; the other takes over once the lease expires, counting the transition', async () => {
    const api = memoryLeases();
    let now = 1_000_000;
    const make = (identity: string): LeaderElector =>
      new LeaderElector({ api, namespace: 'p', name: 'audit', identity, leaseDurationSeconds: 10, now: () => now });
    const a = make('a');
    const b = make('b');
    expect(await a.tryOnce()).toBe(true);
    expect(await b.tryOnce()).toBe(false);
    now += 5_000;
    expect(await a.tryOnce()).toBe(true); // renewed
    now += 9_000;
    expect(await b.tryOnce()).toBe(false); // b sees the renewal now: its 10 s start here, by b's clock
    now += 9_000;
    expect(await b.tryOnce()).toBe(false);
    now += 1_000;
    expect(await b.tryOnce()).toBe(true);
    expect(api.current()?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(await a.tryOnce()).toBe(false);
    expect(a.leading).toBe(false);
  });

  it('tells its subscribers (the status writer) when it gains and loses leadership', async () => {
    const api = memoryLeases();
    let now = 0;
    const make = (identity: string): LeaderElector =>
      new LeaderElector({ api, namespace: 'p', name: 'audit', identity, leaseDurationSeconds: 10, now: () => now });
    const a = make('a');
    const b = make('b');
    const seen: string[] = [];
    a.subscribe((leader) => seen.push(`a:${leader}`));
    const unsubscribe = b.subscribe((leader) => seen.push(`b:${leader}`));
    await a.tryOnce();
    await b.tryOnce();
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    now += 30_000;
    await b.tryOnce(); // b first sees a's lease now
    now += 11_000;
    await b.tryOnce(); // expired by b's clock: b takes it
    await a.tryOnce();
    expect(seen).toEqual(['a:true', 'b:true', 'a:false']);
    unsubscribe();
    await b.stop();
    expect(seen).toEqual(['a:true', 'b:true', 'a:false']);
  });

  it("does not trust the holder's clock: a renewTime far in the past still counts from when it was seen", async () => {
    const api = memoryLeases();
    await new LeaderElector({ api, namespace: 'p', name: 'audit', identity: 'a', now: () => 0 }).tryOnce();
    const b = new LeaderElector({
      api,
      namespace: 'p',
      name: 'audit',
      identity: 'b',
      leaseDurationSeconds: 10,
      now: () => 1e12,
    });
    expect(await b.tryOnce()).toBe(false);
  });

  it('loses the race when another replica wrote first (409), without reporting an error', async () => {
    const api = memoryLeases();
    const errors: unknown[] = [];
    const a = new LeaderElector({ api, namespace: 'p', name: 'audit', identity: 'a', onError: (e) => errors.push(e) });
    const stale = api.get.bind(api);
    await new LeaderElector({ api, namespace: 'p', name: 'audit', identity: 'b', now: () => 0 }).tryOnce();
    // a reads the expired lease, then b renews before a writes.
    const racing: LeaseApi = {
      ...api,
      get: async (ns, name) => {
        const read = await stale(ns, name);
        await api.replace(ns, { ...(read as LeaseObject), spec: { ...read?.spec, renewTime: microTime(Date.now()) } });
        return read;
      },
    };
    const racer = new LeaderElector({
      api: racing,
      namespace: 'p',
      name: 'audit',
      identity: 'a',
      onError: (e) => errors.push(e),
    });
    expect(await racer.tryOnce()).toBe(false);
    expect(errors).toEqual([]);
    expect(a.leading).toBe(false);
  });

  it('releases the lease on stop, so another replica takes over at its next try', async () => {
    const api = memoryLeases();
    const stopped: string[] = [];
    const a = new LeaderElector({
      api,
      namespace: 'p',
      name: 'audit',
      identity: 'a',
      onStoppedLeading: () => stopped.push('a'),
    });
    expect(await a.tryOnce()).toBe(true);
    await a.stop();
    expect(stopped).toEqual(['a']);
    expect(api.current()?.spec.holderIdentity).toBe('');
    expect(await new LeaderElector({ api, namespace: 'p', name: 'audit', identity: 'b' }).tryOnce()).toBe(true);
  });
});
