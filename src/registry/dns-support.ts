import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import type { HostsTable, ResolvConf } from './dns-config.js';

/** The resolver's types, errors and helpers (dns.ts has the resolver itself). */

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export interface HostResolverOptions {
  /** Name servers (`ip` or `ip:port`, `[ip6]:port`) instead of resolv.conf's. */
  readonly servers?: readonly string[];
  /** Default `/etc/resolv.conf`. */
  readonly resolvConfPath?: string;
  /** Default `/etc/hosts`. */
  readonly hostsPath?: string;
  /** Per query attempt, ms. Default resolv.conf's `options timeout`, else 2000. */
  readonly timeoutMs?: number;
  /** Attempts per query. Default resolv.conf's `options attempts`, else 2. */
  readonly attempts?: number;
  /** Answers are cached for their TTL, at most this long, ms. Default 300000. */
  readonly maxTtlMs?: number;
  /** Failures (no such host, no answer) are cached this long, ms. Default 5000. */
  readonly negativeTtlMs?: number;
  /** Cached hosts. Default 10000. */
  readonly maxEntries?: number;
  /** Lookups that get a c-ares channel of their own (cancellable); more share one channel. Default 64. */
  readonly maxChannels?: number;
  /** How often, at most, the two files are checked for changes, ms. Default 5000. */
  readonly configCheckIntervalMs?: number;
  /** Clock for TTLs, ms. Default Date.now. */
  readonly now?: () => number;
}

/** A failed lookup: `code` as Node's dns module names it (ENOTFOUND, ETIMEOUT, ESERVFAIL, ECANCELLED…). */
export class DnsLookupError extends Error {
  readonly code: string;
  readonly hostname: string;

  constructor(hostname: string, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DnsLookupError';
    this.code = code;
    this.hostname = hostname;
  }
}

/** Whether an error is the resolver's (a DNS failure) rather than a connection's. */
export function isDnsLookupError(error: unknown): error is DnsLookupError {
  return error instanceof DnsLookupError;
}

export type CacheEntry = { readonly expires: number } & (
  { readonly addresses: readonly ResolvedAddress[] } | { readonly error: DnsLookupError }
);

export interface Flight {
  readonly promise: Promise<readonly ResolvedAddress[]>;
  readonly controller: AbortController;
  waiters: number;
  settled: boolean;
}

export interface SystemConfig {
  readonly hosts: HostsTable;
  readonly conf: ResolvConf;
  readonly hostsStamp: string;
  readonly confStamp: string;
}

/** Once one family has answered, how long the other may still take before the answer goes out without it. */
export const OTHER_FAMILY_GRACE_MS = 100;
/** c-ares answers that end the search for a name: the name does not exist, or has no address of that family. */
export const MISSES: ReadonlySet<string> = new Set(['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA']);

export const WORDS: Readonly<Record<string, string>> = {
  ENOTFOUND: 'no such host (NXDOMAIN)',
  ENODATA: 'the name has no address records',
  ETIMEOUT: 'no answer from the name servers',
  ESERVFAIL: 'the name server failed (SERVFAIL)',
  EREFUSED: 'the name server refused the query',
  ECONNREFUSED: 'the name server could not be contacted (connection refused)',
  ECANCELLED: 'the lookup was cancelled',
  EBADNAME: 'not a valid host name',
};

export function stamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return 'absent';
  }
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function family(address: string): 4 | 6 {
  return isIP(address) === 6 ? 6 : 4;
}

export function normalise(host: string): string {
  const name = host.toLowerCase();
  return name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
}

export function hostsAddresses(table: HostsTable, name: string): ResolvedAddress[] | undefined {
  const key = name.replace(/\.$/, '');
  const entry = table.get(key);
  if (entry !== undefined)
    return [
      ...entry.v4.map((address) => ({ address, family: 4 as const })),
      ...entry.v6.map((address) => ({ address, family: 6 as const })),
    ];
  // RFC 6761: localhost is loopback even when the hosts file does not say so.
  if (key === 'localhost')
    return [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ];
  return undefined;
}

export function abortReason(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');
}

export function copyError(error: DnsLookupError): DnsLookupError {
  return new DnsLookupError(
    error.hostname,
    error.code,
    error.message,
    error.cause === undefined ? undefined : { cause: error.cause },
  );
}

/**
 * Both settled, or — once one of them fulfilled — the other after at most `graceMs` (undefined if
 * it had not settled), or whatever has settled when `signal` aborts (a query on the shared
 * channel cannot be cancelled, only abandoned).
 */
export function firstWithGrace<A, B>(
  a: Promise<A>,
  b: Promise<B>,
  graceMs: number,
  signal: AbortSignal,
): Promise<[PromiseSettledResult<A> | undefined, PromiseSettledResult<B> | undefined]> {
  return new Promise((resolve) => {
    let ra: PromiseSettledResult<A> | undefined;
    let rb: PromiseSettledResult<B> | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve([ra, rb]);
    };
    signal.addEventListener('abort', finish, { once: true });
    const check = (): void => {
      if (ra !== undefined && rb !== undefined) finish();
      else if (timer === undefined && (ra?.status === 'fulfilled' || rb?.status === 'fulfilled'))
        timer = setTimeout(finish, graceMs);
    };
    a.then(
      (value) => ((ra = { status: 'fulfilled', value }), check()),
      (reason: unknown) => ((ra = { status: 'rejected', reason }), check()),
    );
    b.then(
      (value) => ((rb = { status: 'fulfilled', value }), check()),
      (reason: unknown) => ((rb = { status: 'rejected', reason }), check()),
    );
  });
}
