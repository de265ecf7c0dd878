import { describe, expect, it } from 'vitest';
import { Budget } from './budget.js';
import { HostLimiter } from './limiter.js';
import { SharedWork } from './single-flight.js';

const budget = (ms: number): Budget => new Budget(Date.now() + ms, Date.now, 0, 5);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('HostLimiter', () => {
  it('runs at most N per host, FIFO, and hosts do not share slots', async () => {
    const limiter = new HostLimiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const job = (i: number) => async (): Promise<number> => {
      active++;
      peak = Math.max(peak, active);
      await sleep(20);
      active--;
      order.push(i);
      return i;
    };
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => limiter.run('a', budget(5000), 'x', job(i))));
    expect(results).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(order.slice(0, 2).sort()).toEqual([0, 1]);
    expect(limiter.stats('a')).toEqual({ active: 0, queued: 0 });
    let other = false;
    const blocker = limiter.run('a', budget(5000), 'x', () => sleep(50));
    const blocker2 = limiter.run('a', budget(5000), 'x', () => sleep(50));
    await limiter.run('b', budget(5000), 'x', async () => void (other = true));
    expect(other).toBe(true);
    await Promise.all([blocker, blocker2]);
  });

  it('a waiter still queued at its deadline gives up, and frees nothing it did not hold', async () => {
    const limiter = new HostLimiter(1);
    const long = limiter.run('h', budget(5000), 'long', () => sleep(200));
    const started = Date.now();
    await expect(limiter.run('h', budget(50), 'resolve x', async () => 1)).rejects.toMatchObject({
      code: 'ERR_DEADLINE_EXCEEDED',
      message: expect.stringContaining('queued behind 1'),
    });
    expect(Date.now() - started).toBeLessThan(150);
    expect(limiter.stats('h')).toEqual({ active: 1, queued: 0 });
    await long;
    expect(await limiter.run('h', budget(1000), 'after', async () => 2)).toBe(2);
  });
});

describe('SharedWork (single flight)', () => {
  it('shares one run among concurrent callers and forgets it afterwards', async () => {
    const flights = new SharedWork();
    let runs = 0;
    const work = async (): Promise<number> => {
      runs++;
      await sleep(10);
      return 7;
    };
    expect(await Promise.all([flights.run('k', work), flights.run('k', work), flights.run('k', work)])).toEqual([
      7, 7, 7,
    ]);
    expect(runs).toBe(1);
    expect(flights.size).toBe(0);
    await flights.run('k', work);
    expect(runs).toBe(2);
  });

  it("a caller with time left retries when the shared run failed on another caller's short deadline", async () => {
    const flights = new SharedWork();
    let runs = 0;
    const slow = (b: Budget) => async (): Promise<string> => {
      runs++;
      await sleep(60);
      if (b.remaining() <= 0) throw b.exceeded('slow work');
      return 'done';
    };
    const short = budget(30);
    const long = budget(2000);
    const first = flights.shared('k', short, 'w', slow(short));
    await sleep(5);
    const second = flights.shared('k', long, 'w', slow(long));
    await expect(first).rejects.toMatchObject({ code: 'ERR_DEADLINE_EXCEEDED' });
    expect(await second).toBe('done');
    expect(runs).toBe(2);
  });
});

describe('HostLimiter fairness', () => {
  it('serves the queues of different owners in turn, each in order', async () => {
    const limiter = new HostLimiter(1);
    const order: string[] = [];
    const job = (name: string) => async (): Promise<void> => {
      order.push(name);
      await sleep(5);
    };
    const big = {};
    const small = {};
    const blocker = limiter.run('h', budget(5000), 'x', () => sleep(30));
    const bigJobs = [1, 2, 3, 4, 5].map((i) => limiter.run('h', budget(5000), 'x', job(`big ${i}`), big));
    await sleep(5);
    const smallJobs = [1, 2].map((i) => limiter.run('h', budget(5000), 'x', job(`small ${i}`), small));
    expect(limiter.stats('h')).toEqual({ active: 1, queued: 7 });
    await Promise.all([blocker, ...bigJobs, ...smallJobs]);
    // The small review's first request waits behind one of the big review's, not all five.
    expect(order).toEqual(['big 1', 'small 1', 'big 2', 'small 2', 'big 3', 'big 4', 'big 5']);
    expect(limiter.stats('h')).toEqual({ active: 0, queued: 0 });
  });

  it('an owner whose waiter gives up at its deadline keeps its other waiters, and the queue stays consistent', async () => {
    const limiter = new HostLimiter(1);
    const owner = {};
    const blocker = limiter.run('h', budget(5000), 'x', () => sleep(100));
    const late = limiter.run('h', budget(5000), 'late', async () => 'late', owner);
    const soon = limiter.run('h', budget(30), 'soon', async () => 'soon', owner);
    await expect(soon).rejects.toMatchObject({ code: 'ERR_DEADLINE_EXCEEDED' });
    expect(limiter.stats('h')).toEqual({ active: 1, queued: 1 });
    await blocker;
    expect(await late).toBe('late');
    expect(limiter.stats('h')).toEqual({ active: 0, queued: 0 });
  });
});
