import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OriginThrottle, ThrottledTooLong } from './throttle.js';

// The per-registry pacing the transport applies after 429s (fake clock and timers).

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

const never = new AbortController().signal;
const now = (): number => Date.now();

/** Starts `n` acquisitions; returns the start times of those that got a turn so far (in order). */
function acquireMany(t: OriginThrottle, n: number, retry = false) {
  const started: number[] = [];
  const all = Array.from({ length: n }, () => t.acquire(never, { retry }).then((at) => void started.push(at)));
  return { started, all };
}

describe('OriginThrottle', () => {
  it('lets everything through until the registry first answers 429', async () => {
    const t = new OriginThrottle(now);
    const { started } = acquireMany(t, 50);
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toHaveLength(50);
    expect(t.state).toMatchObject({ active: 50, limit: undefined, waiting: 0 });
  });

  it('after a 429, halves what may be in flight and sends nothing new before Retry-After has passed', async () => {
    const t = new OriginThrottle(now);
    const first = acquireMany(t, 8);
    await vi.advanceTimersByTimeAsync(0);
    const startedAt = first.started[0] as number;
    t.release(startedAt, 1000); // one of the 8 refused: Retry-After 1 s
    for (let i = 0; i < 7; i++) t.release(startedAt); // the rest answered
    expect(t.state).toMatchObject({ active: 0, limit: 4 });
    const next = acquireMany(t, 6);
    await vi.advanceTimersByTimeAsync(999);
    expect(next.started).toHaveLength(0);
    expect(t.state.waiting).toBe(6);
    await vi.advanceTimersByTimeAsync(1);
    expect(next.started).toHaveLength(4);
    t.release(next.started[0] as number);
    await vi.advanceTimersByTimeAsync(0);
    expect(next.started).toHaveLength(5);
  });

  it('halves once for a burst: 429s of requests sent before the reduction say nothing new', async () => {
    const t = new OriginThrottle(now);
    const burst = acquireMany(t, 16);
    await vi.advanceTimersByTimeAsync(0);
    const sent = burst.started[0] as number;
    vi.advanceTimersByTime(10);
    for (let i = 0; i < 16; i++) t.release(sent, 500);
    expect(t.state.limit).toBe(8);
    await vi.advanceTimersByTimeAsync(500);
    const later = acquireMany(t, 8);
    await vi.advanceTimersByTimeAsync(0);
    t.release(later.started[0] as number, 500); // sent after the reduction: halves again
    expect(t.state.limit).toBe(4);
  });

  it('allows one more per window of answers without a 429, and no limit once past the peak', async () => {
    const t = new OriginThrottle(now);
    const burst = acquireMany(t, 4);
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 4; i++) t.release(burst.started[0] as number, i === 0 ? 100 : undefined);
    expect(t.state.limit).toBe(2);
    await vi.advanceTimersByTimeAsync(100);
    const answer = async (): Promise<void> => {
      const at = await t.acquire(never);
      t.release(at);
    };
    await answer();
    expect(t.state.limit).toBe(2);
    await answer();
    expect(t.state.limit).toBe(3);
    for (let i = 0; i < 3; i++) await answer();
    expect(t.state.limit).toBe(4);
    for (let i = 0; i < 4; i++) await answer();
    expect(t.state.limit).toBeUndefined();
    expect(t.idle).toBe(true);
  });

  it('serves a retry before requests not yet sent', async () => {
    const t = new OriginThrottle(now);
    const a = await t.acquire(never);
    t.release(a, 200); // limit 1 from now on
    const order: string[] = [];
    const fresh = t.acquire(never).then((at) => {
      order.push('fresh');
      t.release(at);
    });
    const retry = t.acquire(never, { retry: true }).then((at) => {
      order.push('retry');
      t.release(at);
    });
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all([fresh, retry]);
    expect(order).toEqual(['retry', 'fresh']);
  });

  it('gives up a wait when its signal aborts, with its reason, and forgets the waiter', async () => {
    const t = new OriginThrottle(now);
    t.release(await t.acquire(never), 5000);
    const controller = new AbortController();
    const waiting = t.acquire(controller.signal);
    expect(t.state.waiting).toBe(1);
    controller.abort(new Error('deadline'));
    await expect(waiting).rejects.toThrow('deadline');
    expect(t.state.waiting).toBe(0);
    expect(t.state.pausedForMs).toBe(5000);
    // A request whose deadline comes before the pause ends does not wait at all.
    await expect(t.acquire(never, { deadline: now() + 4000 })).rejects.toBeInstanceOf(ThrottledTooLong);
    expect(t.state.waiting).toBe(0);
    const fits = t.acquire(never, { deadline: now() + 6000 });
    expect(t.state.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    await expect(fits).resolves.toBe(now());
  });
});
