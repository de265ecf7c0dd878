import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { candidateNames, parseHosts, parseResolvConf, type ResolvConf } from './dns-config.js';
import {
  DnsLookupError,
  MISSES,
  OTHER_FAMILY_GRACE_MS,
  WORDS,
  abortReason,
  copyError,
  family,
  firstWithGrace,
  hostsAddresses,
  normalise,
  readText,
  stamp,
  type CacheEntry,
  type Flight,
  type HostResolverOptions,
  type ResolvedAddress,
  type SystemConfig,
} from './dns-support.js';
export { DnsLookupError, isDnsLookupError } from './dns-support.js';
export type { HostResolverOptions, ResolvedAddress } from './dns-support.js';

/**
 * Name resolution for registry hosts that never ties up the libuv thread pool.
 *
 * Node's default `dns.lookup` runs getaddrinfo on the thread pool (4 threads). Hosts named in a
 * pod spec are attacker-controlled: 500 containers naming 500 unresolvable hosts once queued a
 * thousand blocking lookups there, and every other review needing a lookup (and every file write)
 * waited behind them for minutes. This resolver asks DNS through c-ares
 * (`dns.promises.Resolver`), which runs on the event loop, with a timeout per attempt, and:
 *
 * - answers `/etc/hosts` names first and applies `search` and `ndots` from `/etc/resolv.conf`
 *   as the C library does (dns-config.ts), so cluster-internal registries resolve as the
 *   kubelet resolves them; both files are read synchronously (they are small and local, and a
 *   saturated thread pool must not delay them either) and re-read when they change;
 * - asks for A and AAAA records and returns both (IPv4 first);
 * - caches answers for their TTL (at most `maxTtlMs`) and failures for `negativeTtlMs`;
 * - runs one lookup per host at a time (single flight), and never queues a lookup behind
 *   others (a queue would let one review's unresolvable hosts delay every other review's);
 * - lets every caller give up with its own AbortSignal. A lookup nobody waits for any more is
 *   cancelled: up to `maxChannels` lookups each run on a c-ares channel of their own, whose
 *   queries are cancelled; beyond that they share one channel, where an abandoned query runs
 *   out its (bounded) timeout instead. `close()` cancels them all, so a process shutting down
 *   is not held by pending queries.
 *
 * `lookup` has the signature of `dns.lookup` for `net.connect`/undici's `connect.lookup`, so
 * connections use the same cache.
 */

export class HostResolver {
  readonly #o: Required<Omit<HostResolverOptions, 'servers' | 'timeoutMs' | 'attempts'>> &
    Pick<HostResolverOptions, 'servers' | 'timeoutMs' | 'attempts'>;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #flights = new Map<string, Flight>();
  readonly #idle: dns.Resolver[] = [];
  /** The channel lookups share once `maxChannels` have one of their own. */
  #shared: dns.Resolver | undefined;
  #active = 0;
  #sharedActive = 0;
  #system: SystemConfig | undefined;
  #checkedAt = -Infinity;
  #closed = false;

  constructor(options: HostResolverOptions = {}) {
    this.#o = {
      resolvConfPath: options.resolvConfPath ?? '/etc/resolv.conf',
      hostsPath: options.hostsPath ?? '/etc/hosts',
      maxTtlMs: options.maxTtlMs ?? 300_000,
      negativeTtlMs: options.negativeTtlMs ?? 5_000,
      maxEntries: options.maxEntries ?? 10_000,
      maxChannels: Math.max(0, options.maxChannels ?? 64),
      configCheckIntervalMs: options.configCheckIntervalMs ?? 5_000,
      now: options.now ?? Date.now,
      ...(options.servers === undefined ? {} : { servers: options.servers }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
    };
  }

  /** The name servers asked (configured, else resolv.conf's; empty = c-ares' own default). */
  get servers(): readonly string[] {
    return this.#o.servers ?? this.#config().conf.nameservers;
  }

  /**
   * The addresses of `host` (a name or an IP literal; `[v6]` brackets allowed). Rejects with a
   * DnsLookupError, or with the signal's abort when the caller gives up first.
   */
  resolve(host: string, signal?: AbortSignal): Promise<readonly ResolvedAddress[]> {
    const name = normalise(host);
    const literal = isIP(name);
    if (literal !== 0) return Promise.resolve([{ address: name, family: literal === 6 ? 6 : 4 }]);
    const system = this.#config();
    const fromHosts = hostsAddresses(system.hosts, name);
    if (fromHosts !== undefined) return Promise.resolve(fromHosts);
    const cached = this.#cached(name);
    if (cached !== undefined)
      return 'addresses' in cached ? Promise.resolve(cached.addresses) : Promise.reject(copyError(cached.error));
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    if (this.#closed)
      return Promise.reject(new DnsLookupError(name, 'ECANCELLED', `DNS lookup of ${name}: the resolver is closed`));
    let flight = this.#flights.get(name);
    if (flight === undefined) {
      flight = this.#start(name, system);
      this.#flights.set(name, flight);
    }
    return this.#wait(name, flight, signal);
  }

  /** `dns.lookup`'s signature, for `net.connect({ lookup })` and undici's `connect.lookup`. */
  readonly lookup: LookupFunction = (
    hostname: string,
    options: LookupOptions | number | undefined,
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const opts: LookupOptions = typeof options === 'number' ? { family: options } : (options ?? {});
    const wanted = opts.family === 'IPv4' ? 4 : opts.family === 'IPv6' ? 6 : opts.family;
    this.resolve(hostname).then(
      (addresses) => {
        const list = wanted === 4 || wanted === 6 ? addresses.filter((a) => a.family === wanted) : addresses;
        const first = list[0];
        if (first === undefined) {
          callback(
            new DnsLookupError(hostname, 'ENOTFOUND', `DNS lookup of ${hostname}: no IPv${String(wanted)} address`),
            '',
          );
          return;
        }
        if (opts.all === true)
          callback(
            null,
            list.map((a) => ({ address: a.address, family: a.family })),
          );
        else callback(null, first.address, first.family);
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, ''),
    );
  };

  /** Cancels every lookup in flight and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const flight of this.#flights.values()) flight.controller.abort();
    this.#flights.clear();
    for (const r of this.#idle.splice(0)) r.cancel();
    this.#shared?.cancel();
  }

  /**
   * Lookups in flight, on channels of their own, on the shared channel, and answers cached (for tests and diagnostics).
   */
  stats(): { inFlight: number; active: number; shared: number; cached: number } {
    return { inFlight: this.#flights.size, active: this.#active, shared: this.#sharedActive, cached: this.#cache.size };
  }

  #config(): SystemConfig {
    const now = this.#o.now();
    const current = this.#system;
    if (current !== undefined && now - this.#checkedAt < this.#o.configCheckIntervalMs) return current;
    this.#checkedAt = now;
    const hostsStamp = stamp(this.#o.hostsPath);
    const confStamp = stamp(this.#o.resolvConfPath);
    if (current !== undefined && current.hostsStamp === hostsStamp && current.confStamp === confStamp) return current;
    const next: SystemConfig = {
      hosts: parseHosts(readText(this.#o.hostsPath)),
      conf: parseResolvConf(readText(this.#o.resolvConfPath)),
      hostsStamp,
      confStamp,
    };
    if (current !== undefined && current.confStamp !== confStamp) {
      // Other name servers or search domains: what was learnt from the old ones may not hold.
      this.#cache.clear();
      for (const r of this.#idle.splice(0)) r.cancel();
      this.#shared = undefined; // its queries finish on their own
    }
    this.#system = next;
    return next;
  }

  #cached(name: string): CacheEntry | undefined {
    const entry = this.#cache.get(name);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.#o.now()) {
      this.#cache.delete(name);
      return undefined;
    }
    return entry;
  }

  #remember(name: string, entry: CacheEntry): void {
    if (entry.expires <= this.#o.now()) return;
    this.#cache.delete(name);
    if (this.#cache.size >= this.#o.maxEntries) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(name, entry);
  }

  #start(name: string, system: SystemConfig): Flight {
    const controller = new AbortController();
    const flight: Flight = {
      controller,
      waiters: 0,
      settled: false,
      promise: undefined as unknown as Promise<readonly ResolvedAddress[]>,
    };
    (flight as { promise: Promise<readonly ResolvedAddress[]> }).promise = this.#run(
      name,
      system,
      controller.signal,
    ).then(
      (addresses) => {
        flight.settled = true;
        if (this.#flights.get(name) === flight) this.#flights.delete(name);
        return addresses;
      },
      (error: unknown) => {
        flight.settled = true;
        if (this.#flights.get(name) === flight) this.#flights.delete(name);
        throw error;
      },
    );
    flight.promise.catch(() => undefined); // every waiter handles it; none left is fine too
    return flight;
  }

  async #wait(name: string, flight: Flight, signal: AbortSignal | undefined): Promise<readonly ResolvedAddress[]> {
    flight.waiters++;
    try {
      if (signal === undefined) return await flight.promise;
      return await new Promise<readonly ResolvedAddress[]>((resolve, reject) => {
        const onAbort = (): void => reject(abortReason(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        flight.promise.then(
          (a) => {
            signal.removeEventListener('abort', onAbort);
            resolve(a);
          },
          (e: unknown) => {
            signal.removeEventListener('abort', onAbort);
            reject(e);
          },
        );
      });
    } finally {
      flight.waiters--;
      if (flight.waiters === 0 && !flight.settled) {
        // Nobody waits for this lookup any more: cancel it rather than let it run out its timeouts.
        flight.controller.abort();
        if (this.#flights.get(name) === flight) this.#flights.delete(name);
      }
    }
  }

  async #run(name: string, system: SystemConfig, signal: AbortSignal): Promise<readonly ResolvedAddress[]> {
    const own = this.#active < this.#o.maxChannels;
    const resolver = own ? this.#acquire(system) : this.#sharedChannel(system);
    if (own) this.#active++;
    else this.#sharedActive++;
    // Only a channel of its own can be cancelled without cancelling other lookups.
    const cancel = (): void => {
      if (own) resolver.cancel();
    };
    signal.addEventListener('abort', cancel, { once: true });
    try {
      const addresses = await this.#search(resolver, name, system.conf, signal);
      this.#remember(name, { expires: this.#o.now() + addresses.ttlMs, addresses: addresses.list });
      return addresses.list;
    } catch (error) {
      const failure =
        error instanceof DnsLookupError
          ? error
          : new DnsLookupError(name, 'EUNKNOWN', `DNS lookup of ${name} failed: ${(error as Error).message}`, {
              cause: error,
            });
      // A cancelled lookup says nothing about the name; everything else is remembered briefly.
      if (failure.code !== 'ECANCELLED' && !signal.aborted)
        this.#remember(name, { expires: this.#o.now() + this.#o.negativeTtlMs, error: failure });
      throw failure;
    } finally {
      signal.removeEventListener('abort', cancel);
      if (own) this.#release(resolver, signal.aborted);
      else this.#sharedActive--;
    }
  }

  /** The candidates of `name` (search domains, ndots) in order; the first with an address wins. */
  async #search(
    resolver: dns.Resolver,
    name: string,
    conf: ResolvConf,
    signal: AbortSignal,
  ): Promise<{ list: ResolvedAddress[]; ttlMs: number }> {
    let failure: DnsLookupError | undefined;
    for (const candidate of candidateNames(name, conf)) {
      if (signal.aborted)
        throw new DnsLookupError(name, 'ECANCELLED', `DNS lookup of ${name}: the lookup was cancelled`);
      const answer = await this.#query(resolver, candidate, signal);
      if ('list' in answer) return answer;
      // A timeout ends the search (the servers are not answering); SERVFAIL on one candidate does not.
      if (answer.code === 'ETIMEOUT' || answer.code === 'ECANCELLED' || answer.code === 'ECONNREFUSED')
        return this.#fail(name, answer.code, answer.cause);
      if (!MISSES.has(answer.code)) failure ??= this.#error(name, answer.code, answer.cause);
    }
    throw failure ?? this.#error(name, 'ENOTFOUND');
  }

  #fail(name: string, code: string, cause?: unknown): never {
    throw this.#error(name, code, cause);
  }

  #error(name: string, code: string, cause?: unknown): DnsLookupError {
    const servers = this.servers;
    const from = servers.length === 0 ? '' : ` (name servers ${servers.join(', ')})`;
    return new DnsLookupError(
      name,
      code,
      `DNS lookup of ${name} failed: ${WORDS[code] ?? code}${from}`,
      cause === undefined ? undefined : { cause },
    );
  }

  /** A and AAAA of one name: addresses (with the smallest TTL), or why there are none. */
  async #query(
    resolver: dns.Resolver,
    name: string,
    signal: AbortSignal,
  ): Promise<{ list: ResolvedAddress[]; ttlMs: number } | { code: string; cause?: unknown }> {
    const v4 = resolver.resolve4(name, { ttl: true });
    const v6 = resolver.resolve6(name, { ttl: true });
    const settled = await firstWithGrace(v4, v6, OTHER_FAMILY_GRACE_MS, signal);
    if (signal.aborted) return { code: 'ECANCELLED' };
    const list: ResolvedAddress[] = [];
    let ttl = Infinity;
    for (const r of settled) {
      if (r === undefined || r.status !== 'fulfilled') continue;
      for (const record of r.value) {
        list.push({ address: record.address, family: family(record.address) });
        ttl = Math.min(ttl, record.ttl * 1000);
      }
    }
    if (list.length > 0) return { list, ttlMs: Math.max(0, Math.min(ttl, this.#o.maxTtlMs)) };
    // No address: the more telling of the two reasons (a timeout or server failure over "no such record").
    const reasons = settled.filter((r): r is PromiseRejectedResult => r !== undefined && r.status === 'rejected');
    const codes = reasons.map((r) => String((r.reason as { code?: unknown }).code ?? 'EUNKNOWN'));
    const code =
      codes.find((c) => !MISSES.has(c)) ?? (codes.includes('ENOTFOUND') ? 'ENOTFOUND' : (codes[0] ?? 'ENODATA'));
    return { code, cause: reasons[0]?.reason };
  }

  #acquire(system: SystemConfig): dns.Resolver {
    return this.#idle.pop() ?? this.#channel(system);
  }

  #sharedChannel(system: SystemConfig): dns.Resolver {
    this.#shared ??= this.#channel(system);
    return this.#shared;
  }

  #channel(system: SystemConfig): dns.Resolver {
    const conf = system.conf;
    const resolver = new dns.Resolver({
      timeout: this.#o.timeoutMs ?? conf.timeoutMs ?? 2000,
      tries: this.#o.attempts ?? conf.attempts ?? 2,
    });
    const servers = this.#o.servers ?? conf.nameservers;
    if (servers.length > 0) resolver.setServers([...servers]);
    return resolver;
  }

  #release(resolver: dns.Resolver, cancelled: boolean): void {
    this.#active--;
    // Keep idle channels for reuse, but no more than may be in use at once.
    if (!this.#closed && !cancelled && this.#idle.length < this.#o.maxChannels) this.#idle.push(resolver);
    else resolver.cancel();
  }
}

/** Lower case, without IPv6 brackets (a trailing dot stays: it makes the name absolute, see candidateNames). */
