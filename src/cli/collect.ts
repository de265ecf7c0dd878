import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * One full garbage collection, for after the start-up burst. Reading thousands of policies from
 * the API and writing their statuses leaves tens of MiB of garbage in V8's old space, which an idle
 * process collects only when V8's memory reducer runs, some 15-40 s later: until then RSS stays
 * where the burst left it (`npm run bench -- policies`).
 * Called once per burst, never on the review path. Returns false where V8 refuses.
 */
export function collectGarbage(): boolean {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc !== 'function') return false;
    // Each full collection compacts only the most fragmented pages: three leave the heap close
    // to its live size (one gave back about half as much, measured).
    for (let i = 0; i < 3; i++) (gc as () => void)();
    return true;
  } catch {
    return false;
  }
}

/**
 * One young-generation collection (a scavenge, a few ms), for some seconds after collectGarbage
 * while still idle. V8 shrinks the young generation (two 16 MiB semi-spaces once a burst grew
 * them) only at a collection that finds the allocation rate of the last 5 s low; the full
 * collection right after a burst counts the burst's allocations and keeps it (measured: 32 MiB
 * before and after; this one, 6 s later, takes it to 1 MiB). Returns false where V8 refuses.
 */
export function shrinkYoungGeneration(): boolean {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc !== 'function') return false;
    (gc as (options: { type: string; execution: string }) => void)({ type: 'minor', execution: 'sync' });
    return true;
  } catch {
    return false;
  }
}
