import { describe, expect, it } from 'vitest';
import type { ImageVerifier, ReviewDecisions } from '../executor/index.js';
import { IdleCollector, withIdleTracking } from './idle-collector.js';

/** A clock and timers the test moves by hand. */
function fakeTime() {
  let now = 0;
  let nextId = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    timers: {
      set(fn: () => void, ms: number): unknown {
        const id = ++nextId;
        pending.set(id, { at: now + ms, fn });
        return id;
      },
      clear(handle: unknown): void {
        pending.delete(handle as number);
      },
    },
    /** Moves the clock on, firing each timer due, in order. */
    advance(ms: number): void {
      const until = now + ms;
      for (;;) {
        const due = [...pending].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (due === undefined) break;
        pending.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = until;
    },
    get armed(): number {
      return pending.size;
    },
  };
}

function collector(idleMs: number, minReviews = 3) {
  const time = fakeTime();
  let collections = 0;
  const idle = new IdleCollector({ idleMs, minReviews, collect: () => collections++, ...time });
  const reviews = (n: number): void => {
    for (let i = 0; i < n; i++) {
      idle.begin();
      idle.end();
    }
  };
  return { idle, time, reviews, collections: () => collections };
}

describe('the idle collection after a burst of reviews', () => {
  it('collects once, idleMs after the last review of a burst', () => {
    const { time, reviews, collections } = collector(5000);
    reviews(10);
    time.advance(4999);
    expect(collections()).toBe(0);
    time.advance(1);
    expect(collections()).toBe(1);
  });

  it('does not collect while reviews keep coming, and measures the quiet time from the last one', () => {
    const { time, reviews, collections } = collector(5000);
    for (let s = 0; s < 60; s++) {
      reviews(5);
      time.advance(1000); // one burst a second for a minute: never 5 s quiet
    }
    expect(collections()).toBe(0);
    time.advance(3999); // the last review ended 1 s before this, so 4,999 ms of quiet
    expect(collections()).toBe(0);
    time.advance(1);
    expect(collections()).toBe(1);
  });

  it('does not collect while a review is in flight, however long it takes', () => {
    const { idle, time, reviews, collections } = collector(5000);
    reviews(5);
    idle.begin(); // a slow one: the registry far away
    time.advance(20_000);
    expect(collections()).toBe(0);
    idle.end();
    time.advance(4999);
    expect(collections()).toBe(0);
    time.advance(1);
    expect(collections()).toBe(1);
  });

  it('does not collect twice without new reviews, and no timer runs while idle', () => {
    const { time, reviews, collections } = collector(5000);
    reviews(10);
    time.advance(5000);
    expect(collections()).toBe(1);
    expect(time.armed).toBe(0);
    time.advance(3_600_000);
    expect(collections()).toBe(1);
    reviews(10); // the next burst: collected once more
    time.advance(5000);
    expect(collections()).toBe(2);
  });

  it('needs minReviews reviews since the last collection: a trickle never makes one', () => {
    const { time, reviews, collections } = collector(5000, 3);
    reviews(2);
    time.advance(60_000);
    expect(collections()).toBe(0);
    expect(time.armed).toBe(0);
    reviews(1); // the third since start
    time.advance(5000);
    expect(collections()).toBe(1);
    reviews(2);
    time.advance(60_000);
    expect(collections()).toBe(1);
  });

  it('never collects with idleMs 0 (off), nor after stop', () => {
    const off = collector(0, 1);
    off.reviews(100);
    off.time.advance(3_600_000);
    expect(off.collections()).toBe(0);
    expect(off.time.armed).toBe(0);
    expect(off.idle.enabled).toBe(false);

    const stopped = collector(5000, 1);
    stopped.reviews(10);
    stopped.idle.stop();
    expect(stopped.time.armed).toBe(0);
    stopped.reviews(10);
    stopped.time.advance(60_000);
    expect(stopped.collections()).toBe(0);
  });
});

describe('the settling pass some seconds after the idle collection', () => {
  function settling(idleMs = 5000, minReviews = 3) {
    const time = fakeTime();
    let collections = 0;
    let settles = 0;
    const idle = new IdleCollector({
      idleMs,
      minReviews,
      collect: () => collections++,
      settle: () => settles++,
      settleMs: 6000,
      ...time,
    });
    const reviews = (n: number): void => {
      for (let i = 0; i < n; i++) {
        idle.begin();
        idle.end();
      }
    };
    return { time, reviews, counts: () => [collections, settles] };
  }

  it('runs once, settleMs after the collection, when no review came since; then no timer runs', () => {
    const { time, reviews, counts } = settling();
    reviews(10);
    time.advance(5000);
    expect(counts()).toEqual([1, 0]);
    time.advance(5999);
    expect(counts()).toEqual([1, 0]);
    time.advance(1);
    expect(counts()).toEqual([1, 1]);
    expect(time.armed).toBe(0);
    time.advance(3_600_000);
    expect(counts()).toEqual([1, 1]);
  });

  it('is skipped when reviews came in between; a new burst gets its own collection and settling', () => {
    const { time, reviews, counts } = settling();
    reviews(10);
    time.advance(5000);
    time.advance(3000);
    reviews(1); // fewer than minReviews: no settling, no collection, nothing armed
    time.advance(60_000);
    expect(counts()).toEqual([1, 0]);
    expect(time.armed).toBe(0);
    reviews(10); // a burst: collected and settled
    time.advance(5000 + 6000);
    expect(counts()).toEqual([2, 1]);
  });

  it('becomes the wait for the next collection when a burst starts before it', () => {
    const { time, reviews, counts } = settling();
    reviews(10);
    time.advance(5000);
    time.advance(4000);
    reviews(10); // a burst 4 s after the collection: the settling timer fires 2 s later, mid-quiet
    time.advance(2000);
    expect(counts()).toEqual([1, 0]);
    time.advance(2999); // 5 s after the burst's last review, less 1 ms
    expect(counts()).toEqual([1, 0]);
    time.advance(1);
    expect(counts()).toEqual([2, 0]);
    time.advance(6000);
    expect(counts()).toEqual([2, 1]);
  });
});

describe('withIdleTracking (the webhook verifier serve builds)', () => {
  const decisions: ReviewDecisions = new Map();
  const review = { images: ['a'], namespace: 'ns', deadline: 0 };

  it('counts a warm review (answered at once) and a cold one (a promise) from start to answer', async () => {
    const { idle, time, collections } = collector(1000, 2);
    let settle: (d: ReviewDecisions) => void = () => undefined;
    let cold = false;
    const inner: ImageVerifier = {
      ready: () => true,
      decide: () => (cold ? new Promise<ReviewDecisions>((r) => (settle = r)) : decisions),
    };
    const verifier = withIdleTracking(inner, idle);
    expect(verifier.decide(review)).toBe(decisions); // warm: still no promise
    cold = true;
    const answer = verifier.decide(review);
    time.advance(10_000);
    expect(collections()).toBe(0); // the cold review is still in flight
    settle(decisions);
    expect(await answer).toBe(decisions);
    time.advance(1000);
    expect(collections()).toBe(1);
    expect(verifier.ready()).toBe(true);
  });

  it('is the verifier itself when the collection is off', () => {
    const { idle } = collector(0);
    const inner: ImageVerifier = { ready: () => true, decide: () => decisions };
    expect(withIdleTracking(inner, idle)).toBe(inner);
  });
});
