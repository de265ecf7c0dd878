import { describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soak/run.js';

/**
 * `npm run soak`, short: 25 s at 100 reviews/s against two real docker-registry instances, each
 * slowed down, rate-limited, made to answer garbage and restarted within the run. The full run
 * (30 minutes at 500/s) is in the README; this one keeps the machinery honest in `make test`.
 */
describe('the soak, short', () => {
  it('judges every answer right, none past the deadline, through every kind of registry trouble', async () => {
    const report = await runSoak({ durationMs: 25_000, rate: 100, registries: 2, cycleMs: 10_000, warmupMs: 5_000 });
    console.log(JSON.stringify(report));
    expect(report.sent).toBeGreaterThan(2_000);
    expect(report.wrongExamples).toEqual([]);
    expect(report.wrong).toBe(0);
    expect(report.pastDeadline).toBe(0);
    expect(report.errors).toBe(0);
    expect(report.allowed).toBeGreaterThan(0);
    expect(report.denied).toBeGreaterThan(0);
    // every kind of trouble really happened
    expect(report.restarts).toBeGreaterThanOrEqual(2);
    for (const mode of ['slow', 'rate-limit', 'garbage', 'restart'])
      expect(report.chaos[`windows:${mode}`], mode).toBeGreaterThan(0);
    // and some registry traffic met it (warm caches answer most reviews without any)
    const hit = Object.entries(report.chaos)
      .filter(([k]) => /^(slow|rate-limit|garbage|cut)@/.test(k))
      .reduce((n, [, v]) => n + v, 0);
    expect(hit).toBeGreaterThan(0);
    expect(Number.isFinite(report.rssMiB.end)).toBe(true);
  }, 120_000);
});
