import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { Child } from './server-process.js';

export interface LoadResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
  /** Server CPU time (all threads, user + system) per answered request, µs. */
  readonly serverCpuMicros: number;
  /** Context switches on the whole machine per answered request (Linux; undefined elsewhere). */
  readonly switches: number | undefined;
}

/** The machine's context switches so far (`ctxt` of /proc/stat), or undefined off Linux. */
function contextSwitches(): number | undefined {
  try {
    const match = /^ctxt (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** Closed-loop throughput with autocannon (32 connections), and what each request cost the server in CPU. */
export async function load(
  child: Child,
  payload: string,
  opts: { connections: number; durationS: number },
): Promise<LoadResult> {
  const options = {
    url: `${child.info.url}/validate?timeout=10s`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: payload,
    connections: opts.connections,
    tlsOptions: { ca: readFileSync(child.info.ca) },
  } as const;
  // Steady state: the same load for 2 s first (JIT, connection set-up), then the measured run.
  await autocannon({ ...options, duration: 2 } as autocannon.Options);
  const before = await child.cpu();
  const switchesBefore = contextSwitches();
  const result = await autocannon({ ...options, duration: opts.durationS } as autocannon.Options);
  const switchesAfter = contextSwitches();
  const used = (await child.cpu()) - before;
  const answered = Math.max(1, result.requests.total);
  const switches =
    switchesBefore === undefined || switchesAfter === undefined
      ? undefined
      : (switchesAfter - switchesBefore) / answered;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    serverCpuMicros: used / answered,
    switches,
  };
}
