import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * One full garbage collection, for after the start-up burst. Reading thousands of policies from
 * the API and writing their statuses leaves tens of MiB of garbage in V8's old space, and an idle
 * process never collects it: RSS stays where the burst left it (`npm run bench -- policies`).
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
