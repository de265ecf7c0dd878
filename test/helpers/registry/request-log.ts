import type { ProxiedRequest } from './chaos-proxy.js';

/**
 * What a proxy's request log says about a client: how many round trips it made one after
 * another, and whether it fetched any object more than once.
 */

/**
 * The longest chain of requests each sent after the previous one's answer had arrived: the
 * round trips a client made in sequence (requests in flight together count once). Handshakes
 * are not requests: they show as time, not here.
 */
export function sequentialRoundTrips(entries: readonly Pick<ProxiedRequest, 'start' | 'end'>[]): number {
  const sorted = [...entries].sort((a, b) => a.start - b.start);
  const depth: number[] = [];
  let longest = 0;
  for (let i = 0; i < sorted.length; i++) {
    const current = sorted[i] as Pick<ProxiedRequest, 'start' | 'end'>;
    let before = 0;
    for (let j = 0; j < i; j++) {
      if ((sorted[j] as Pick<ProxiedRequest, 'end'>).end <= current.start)
        before = Math.max(before, depth[j] as number);
    }
    depth.push(before + 1);
    longest = Math.max(longest, before + 1);
  }
  return longest;
}

export interface RequestCounts {
  readonly total: number;
  /** Answers by status (0: the connection was cut). */
  readonly byStatus: Readonly<Record<number, number>>;
  /** Distinct `METHOD path` answered 2xx. */
  readonly objects: number;
  /** 2xx answers beyond the first for the same `METHOD path`: objects fetched again. */
  readonly refetched: number;
  /** The most fetched object and how often, when one was fetched again. */
  readonly worst?: { readonly request: string; readonly times: number };
}

export function requestCounts(entries: readonly Pick<ProxiedRequest, 'method' | 'path' | 'status'>[]): RequestCounts {
  const byStatus: Record<number, number> = {};
  const fetched = new Map<string, number>();
  for (const e of entries) {
    byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
    if (e.status >= 200 && e.status < 300) {
      const key = `${e.method} ${e.path}`;
      fetched.set(key, (fetched.get(key) ?? 0) + 1);
    }
  }
  let refetched = 0;
  let worst: { request: string; times: number } | undefined;
  for (const [request, times] of fetched) {
    refetched += times - 1;
    if (times > 1 && (worst === undefined || times > worst.times)) worst = { request, times };
  }
  return {
    total: entries.length,
    byStatus,
    objects: fetched.size,
    refetched,
    ...(worst === undefined ? {} : { worst }),
  };
}
