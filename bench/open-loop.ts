import { Pool } from 'undici';

/**
 * An open-loop load generator for latency at a fixed rate: requests leave on a schedule (not
 * when the previous answer arrives), `burst` at a time, over a pool of kept-alive HTTPS
 * connections, and each latency is timed to the microsecond from the moment the request is
 * handed to the connection to the end of the answer's body. autocannon reports whole
 * milliseconds and paces per connection, which makes a sub-millisecond p99 unmeasurable.
 */

export interface OpenLoopOptions {
  readonly url: string;
  readonly path: string;
  readonly ca: string;
  readonly body: string;
  /** Requests per second. */
  readonly rate: number;
  readonly durationS: number;
  /** Requests leaving together at each tick (1 = evenly spread). Default 1. */
  readonly burst?: number;
  readonly connections?: number;
}

export interface OpenLoopResult {
  readonly sent: number;
  readonly errors: number;
  /** Milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const pool = new Pool(o.url, { connections: o.connections ?? 16, connect: { ca: o.ca } });
  const burst = o.burst ?? 1;
  const tickMs = (1000 * burst) / o.rate;
  const ticks = Math.round((o.durationS * o.rate) / burst);
  const latencies: number[] = [];
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  const one = async (): Promise<void> => {
    const started = performance.now();
    try {
      const res = await pool.request({
        path: o.path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: o.body,
      });
      await res.body.text();
      if (res.statusCode !== 200) errors++;
      else latencies.push(performance.now() - started);
    } catch {
      errors++;
    }
  };
  // Warm the connections first, so the first ticks do not pay for TLS handshakes.
  await Promise.all(Array.from({ length: o.connections ?? 16 }, one));
  latencies.length = 0;
  const t0 = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    const due = t0 + tick * tickMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (let i = 0; i < burst; i++) inFlight.push(one());
  }
  await Promise.all(inFlight);
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    sent: ticks * burst,
    errors,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies[latencies.length - 1] ?? NaN,
  };
}
