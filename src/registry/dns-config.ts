import { isIP } from 'node:net';

/**
 * What the C library's resolver reads, read the same way: `/etc/hosts` (static names, consulted
 * before DNS, as nsswitch's default `files dns`) and `/etc/resolv.conf` (name servers, search
 * domains, `ndots`). A pod's kubelet-written resolv.conf is what makes `registry.internal` or
 * `registry.ns.svc` resolve inside a cluster, so the webhook must apply it as getaddrinfo does.
 */

export interface ResolvConf {
  /** `nameserver` lines, in order (at most 3, as glibc uses). */
  readonly nameservers: readonly string[];
  /** `search` domains (the last `search` or `domain` line wins, as in glibc). */
  readonly search: readonly string[];
  /** `options ndots:N`: names with fewer dots are tried with the search domains first. Default 1, at most 15. */
  readonly ndots: number;
  /** `options timeout:N` in ms (per query attempt), when set. */
  readonly timeoutMs?: number;
  /** `options attempts:N`, when set. */
  readonly attempts?: number;
}

export interface HostsEntry {
  readonly v4: readonly string[];
  readonly v6: readonly string[];
}

/** Name (lower case) → its addresses, in file order. */
export type HostsTable = ReadonlyMap<string, HostsEntry>;

const MAX_NAMESERVERS = 3;
const MAX_NDOTS = 15;

function stripComment(line: string): string {
  const hash = line.search(/[#;]/);
  return (hash === -1 ? line : line.slice(0, hash)).trim();
}

export function parseResolvConf(text: string): ResolvConf {
  const nameservers: string[] = [];
  let search: string[] = [];
  let ndots = 1;
  let timeoutMs: number | undefined;
  let attempts: number | undefined;
  for (const raw of text.split('\n')) {
    const line = stripComment(raw);
    if (line === '') continue;
    const [keyword, ...args] = line.split(/\s+/);
    if (keyword === 'nameserver' && args[0] !== undefined) {
      // glibc reads IPv6 scope ids (fe80::1%eth0); c-ares takes the address without them.
      const address = args[0].split('%')[0] as string;
      if (isIP(address) !== 0 && nameservers.length < MAX_NAMESERVERS) nameservers.push(address);
    } else if (keyword === 'search') {
      search = args.map((d) => d.replace(/\.$/, '')).filter((d) => d !== '');
    } else if (keyword === 'domain' && args[0] !== undefined) {
      search = [args[0].replace(/\.$/, '')].filter((d) => d !== '');
    } else if (keyword === 'options') {
      for (const option of args) {
        const [name, value] = option.split(':');
        const n = value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
        if (n === undefined) continue;
        if (name === 'ndots') ndots = Math.min(n, MAX_NDOTS);
        else if (name === 'timeout' && n > 0) timeoutMs = Math.min(n, 30) * 1000;
        else if (name === 'attempts' && n > 0) attempts = Math.min(n, 5);
      }
    }
  }
  return {
    nameservers,
    search,
    ndots,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(attempts === undefined ? {} : { attempts }),
  };
}

export function parseHosts(text: string): HostsTable {
  const table = new Map<string, { v4: string[]; v6: string[] }>();
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const line = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    if (line === '') continue;
    const [address, ...names] = line.split(/\s+/);
    if (address === undefined) continue;
    const plain = address.split('%')[0] as string;
    const family = isIP(plain);
    if (family === 0) continue;
    for (const name of names) {
      const key = name.toLowerCase().replace(/\.$/, '');
      let entry = table.get(key);
      if (entry === undefined) table.set(key, (entry = { v4: [], v6: [] }));
      const list = family === 4 ? entry.v4 : entry.v6;
      if (!list.includes(plain)) list.push(plain);
    }
  }
  return table;
}

/**
 * The names to ask DNS for, in order, as glibc's res_search: a name ending in a dot is absolute;
 * a name with at least `ndots` dots is tried as written first and then with each search domain;
 * a shorter one with each search domain first and as written last.
 */
export function candidateNames(host: string, conf: Pick<ResolvConf, 'search' | 'ndots'>): string[] {
  if (host.endsWith('.')) return [host.slice(0, -1)];
  const dots = host.split('.').length - 1;
  const searched = conf.search.map((domain) => `${host}.${domain}`);
  return dots >= conf.ndots ? [host, ...searched] : [...searched, host];
}
