import { pbkdf2 } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TestDnsServer, type DnsAnswer, type DnsType } from '../../test/helpers/dns-server.js';
import { candidateNames, parseHosts, parseResolvConf } from './dns-config.js';
import { DnsLookupError, HostResolver, type HostResolverOptions } from './dns.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-dns-'));
let server: TestDnsServer;
let answers: (name: string, type: DnsType) => DnsAnswer;
const resolvers: HostResolver[] = [];

beforeAll(async () => {
  server = await TestDnsServer.start((name, type) => answers(name, type));
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  for (const r of resolvers.splice(0)) r.close();
  server.questions.length = 0;
});

let fileCounter = 0;
function file(content: string): string {
  const path = join(dir, `f${++fileCounter}`);
  writeFileSync(path, content);
  return path;
}

/** A resolver asking only the test server, with empty hosts and resolv.conf unless given. */
function resolver(options: Partial<HostResolverOptions> & { hosts?: string; resolvConf?: string } = {}): HostResolver {
  const { hosts, resolvConf, ...rest } = options;
  const r = new HostResolver({
    servers: [server.server],
    hostsPath: file(hosts ?? ''),
    resolvConfPath: file(resolvConf ?? ''),
    timeoutMs: 300,
    attempts: 1,
    ...rest,
  });
  resolvers.push(r);
  return r;
}

const table: Record<string, DnsAnswer> = {};
answers = (name) => table[name] ?? { rcode: 'NXDOMAIN' };

describe('the configuration files, read as the C library reads them', () => {
  it('reads name servers, search domains, ndots, timeout and attempts from resolv.conf', () => {
    const conf = parseResolvConf(`# kubelet
nameserver 10.96.0.10
nameserver fe80::1%eth0
nameserver not-an-ip
domain old.example
search team-a.svc.cluster.local svc.cluster.local cluster.local.
options ndots:5 timeout:3 attempts:4 rotate
`);
    expect(conf).toEqual({
      nameservers: ['10.96.0.10', 'fe80::1'],
      search: ['team-a.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      ndots: 5,
      timeoutMs: 3000,
      attempts: 4,
    });
    expect(parseResolvConf('')).toEqual({ nameservers: [], search: [], ndots: 1 });
  });

  it('reads /etc/hosts: every name of a line, IPv4 and IPv6, case-insensitive, comments ignored', () => {
    const hosts = parseHosts(
      '127.0.0.1 localhost\n10.0.0.5  Registry.Internal reg # mirror\n::1 localhost ip6-localhost\n# 10.0.0.9 hidden\nbogus name\n',
    );
    expect(hosts.get('registry.internal')).toEqual({ v4: ['10.0.0.5'], v6: [] });
    expect(hosts.get('reg')).toEqual({ v4: ['10.0.0.5'], v6: [] });
    expect(hosts.get('localhost')).toEqual({ v4: ['127.0.0.1'], v6: ['::1'] });
    expect(hosts.has('hidden')).toBe(false);
    expect(hosts.has('name')).toBe(false);
  });

  it('tries search domains first for names with fewer than ndots dots, last otherwise, never for absolute names', () => {
    const conf = { search: ['ns.svc.cluster.local', 'svc.cluster.local'], ndots: 2 };
    expect(candidateNames('registry', conf)).toEqual([
      'registry.ns.svc.cluster.local',
      'registry.svc.cluster.local',
      'registry',
    ]);
    expect(candidateNames('registry.ns', conf)).toEqual([
      'registry.ns.ns.svc.cluster.local',
      'registry.ns.svc.cluster.local',
      'registry.ns',
    ]);
    expect(candidateNames('registry.ns.svc', conf)).toEqual([
      'registry.ns.svc',
      'registry.ns.svc.ns.svc.cluster.local',
      'registry.ns.svc.svc.cluster.local',
    ]);
    expect(candidateNames('registry.example.com.', conf)).toEqual(['registry.example.com']);
  });
});

describe('HostResolver', () => {
  it('asks for A and AAAA and returns both, IPv4 first; lookup() serves net.connect in both shapes', async () => {
    table['dual.test'] = { addresses: ['10.1.2.3', '2001:db8::7'], ttl: 60 };
    const r = resolver();
    expect(await r.resolve('dual.test')).toEqual([
      { address: '10.1.2.3', family: 4 },
      { address: '2001:db8::7', family: 6 },
    ]);
    expect(server.questions.map((q) => q.type).sort()).toEqual(['A', 'AAAA']);
    const all = await new Promise((resolve, reject) =>
      r.lookup('dual.test', { all: true }, (e, a) => (e ? reject(e) : resolve(a))),
    );
    expect(all).toEqual([
      { address: '10.1.2.3', family: 4 },
      { address: '2001:db8::7', family: 6 },
    ]);
    const six = await new Promise((resolve, reject) =>
      r.lookup('dual.test', { family: 6 }, (e, a, f) => (e ? reject(e) : resolve([a, f]))),
    );
    expect(six).toEqual(['2001:db8::7', 6]);
  });

  it('resolves an IPv6-only name', async () => {
    table['six.test'] = { addresses: ['::1'], ttl: 60 };
    expect(await resolver().resolve('six.test')).toEqual([{ address: '::1', family: 6 }]);
  });

  it('answers /etc/hosts names without asking DNS, and localhost always', async () => {
    const r = resolver({ hosts: '10.0.0.5 registry.internal\n' });
    expect(await r.resolve('Registry.Internal')).toEqual([{ address: '10.0.0.5', family: 4 }]);
    expect(await r.resolve('localhost')).toEqual([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    expect(await r.resolve('[::1]')).toEqual([{ address: '::1', family: 6 }]);
    expect(server.questions).toEqual([]);
  });

  it('applies the search domains and ndots of resolv.conf (a cluster-internal registry)', async () => {
    table['registry.team-a.svc.cluster.local'] = { addresses: ['10.96.5.5'] };
    const r = resolver({ resolvConf: 'search team-a.svc.cluster.local svc.cluster.local\noptions ndots:5\n' });
    expect(await r.resolve('registry')).toEqual([{ address: '10.96.5.5', family: 4 }]);
    table['reg.example.com'] = { addresses: ['192.0.2.8'] };
    expect(await r.resolve('reg.example.com')).toEqual([{ address: '192.0.2.8', family: 4 }]);
    // two dots < ndots 5: both search domains were asked before the name as written
    expect([...new Set(server.questions.map((q) => q.name))]).toEqual([
      'registry.team-a.svc.cluster.local',
      'reg.example.com.team-a.svc.cluster.local',
      'reg.example.com.svc.cluster.local',
      'reg.example.com',
    ]);
  });

  it('re-reads /etc/hosts when it changes', async () => {
    const hostsPath = file('10.0.0.1 moving.test\n');
    let now = 0;
    const r = resolver({ hostsPath, now: () => now, configCheckIntervalMs: 1000 });
    expect(await r.resolve('moving.test')).toEqual([{ address: '10.0.0.1', family: 4 }]);
    writeFileSync(hostsPath, '10.0.0.2 moving.test   \n');
    now = 2000;
    expect(await r.resolve('moving.test')).toEqual([{ address: '10.0.0.2', family: 4 }]);
  });

  it('caches an answer for its TTL (capped by maxTtlMs)', async () => {
    table['ttl.test'] = { addresses: ['10.0.0.3'], ttl: 30 };
    table['long.test'] = { addresses: ['10.0.0.4'], ttl: 86_400 };
    let now = 1_000_000;
    const r = resolver({ now: () => now, maxTtlMs: 60_000 });
    await r.resolve('ttl.test');
    await r.resolve('long.test');
    now += 29_000;
    await r.resolve('ttl.test');
    expect(server.count('ttl.test')).toBe(2); // A + AAAA, once
    now += 2_000;
    await r.resolve('ttl.test');
    expect(server.count('ttl.test')).toBe(4);
    now += 30_000; // long.test: 61 s, past the cap
    await r.resolve('long.test');
    expect(server.count('long.test')).toBe(4);
  });

  it('caches a failure briefly (negative TTL)', async () => {
    let now = 0;
    const r = resolver({ now: () => now, negativeTtlMs: 5_000 });
    const first = await r.resolve('nope.test').catch((e: unknown) => e);
    expect(first).toBeInstanceOf(DnsLookupError);
    expect((first as DnsLookupError).code).toBe('ENOTFOUND');
    expect((first as DnsLookupError).message).toBe(
      `DNS lookup of nope.test failed: no such host (NXDOMAIN) (name servers ${server.server})`,
    );
    await expect(r.resolve('nope.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(server.count('nope.test')).toBe(2);
    now = 6_000;
    await expect(r.resolve('nope.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(server.count('nope.test')).toBe(4);
  });

  it('runs one lookup per host however many ask at once (single flight)', async () => {
    table['busy.test'] = { addresses: ['10.0.0.6'], delayMs: 50 };
    const r = resolver();
    const all = await Promise.all(Array.from({ length: 100 }, () => r.resolve('busy.test')));
    expect(new Set(all.map((a) => a[0]?.address))).toEqual(new Set(['10.0.0.6']));
    expect(server.count('busy.test')).toBe(2);
  });

  it('fails after its own timeout when the servers never answer, naming the host and servers', async () => {
    table['silent.test'] = { drop: true };
    const r = resolver({ timeoutMs: 200, attempts: 2 });
    const started = Date.now();
    const error = (await r.resolve('silent.test').catch((e: unknown) => e)) as DnsLookupError;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.code).toBe('ETIMEOUT');
    expect(error.message).toBe(
      `DNS lookup of silent.test failed: no answer from the name servers (name servers ${server.server})`,
    );
  });

  it('lets each caller give up at its own deadline, and cancels a lookup nobody waits for', async () => {
    table['blackhole.test'] = { drop: true };
    const r = resolver({ timeoutMs: 5_000, attempts: 3 });
    const started = Date.now();
    const a = r.resolve('blackhole.test', AbortSignal.timeout(100)).catch((e: unknown) => e);
    const b = r.resolve('blackhole.test', AbortSignal.timeout(200)).catch((e: unknown) => e);
    expect(r.stats().inFlight).toBe(1);
    expect(((await a) as Error).name).toBe('TimeoutError');
    expect(r.stats().inFlight).toBe(1); // b still waits
    expect(((await b) as Error).name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(1_000);
    await vi.waitFor(() => expect(r.stats()).toMatchObject({ inFlight: 0, active: 0 }), { timeout: 200 });
    // cancelled, not merely abandoned: no retry reaches the server afterwards
    const asked = server.count('blackhole.test');
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    expect(server.count('blackhole.test')).toBe(asked);
    // and a cancelled lookup is not remembered as a failure
    table['blackhole.test'] = { addresses: ['10.0.0.9'] };
    expect(await r.resolve('blackhole.test')).toEqual([{ address: '10.0.0.9', family: 4 }]);
  }, 15_000);

  it('never queues a lookup behind others: beyond maxChannels, lookups share one channel', async () => {
    answers = (name) => (name.startsWith('q') ? { drop: true } : (table[name] ?? { rcode: 'NXDOMAIN' }));
    try {
      const r = resolver({ maxChannels: 2, timeoutMs: 400, attempts: 1 });
      const pending = Array.from({ length: 5 }, (_, i) =>
        r.resolve(`q${i}.test`, AbortSignal.timeout(200)).catch((e: unknown) => e),
      );
      await vi.waitFor(
        () =>
          expect(new Set(server.questions.map((q) => q.name))).toEqual(
            new Set(['q0.test', 'q1.test', 'q2.test', 'q3.test', 'q4.test']),
          ),
        { timeout: 100 },
      );
      expect(r.stats()).toMatchObject({ inFlight: 5, active: 2, shared: 3 });
      // a name that answers is not held up by the five silent ones
      table['fast.test'] = { addresses: ['10.0.0.11'] };
      const started = Date.now();
      expect(await r.resolve('fast.test')).toEqual([{ address: '10.0.0.11', family: 4 }]);
      expect(Date.now() - started).toBeLessThan(100);
      await Promise.all(pending);
      // the shared channel's queries run out their own timeout; the others were cancelled
      await vi.waitFor(() => expect(r.stats()).toMatchObject({ inFlight: 0, active: 0, shared: 0 }), {
        timeout: 1_000,
      });
    } finally {
      answers = (name) => table[name] ?? { rcode: 'NXDOMAIN' };
    }
  });

  it('close() cancels every lookup in flight at once', async () => {
    table['forever.test'] = { drop: true };
    const r = resolver({ timeoutMs: 10_000, attempts: 3 });
    const pending = r.resolve('forever.test').catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    r.close();
    expect(((await pending) as DnsLookupError).code).toBe('ECANCELLED');
    expect(Date.now() - started).toBeLessThan(200);
    await expect(r.resolve('other.test')).rejects.toMatchObject({ code: 'ECANCELLED' });
  });

  it('never uses the libuv thread pool: it resolves while the pool is saturated', async () => {
    table['pool.test'] = { addresses: ['10.0.0.10'] };
    const r = resolver();
    // Occupy all four threads of the pool (as a thousand getaddrinfo calls once did).
    let poolFreeAt = 0;
    const busy = Array.from(
      { length: 4 },
      () =>
        new Promise<void>((resolve) =>
          pbkdf2('x', 'y', 1_500_000, 32, 'sha256', () => ((poolFreeAt = Date.now()), resolve())),
        ),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const addresses = await r.resolve('pool.test');
    const resolvedAt = Date.now();
    await Promise.all(busy);
    expect(addresses).toEqual([{ address: '10.0.0.10', family: 4 }]);
    // answered while every pool thread was still busy
    expect(poolFreeAt - resolvedAt).toBeGreaterThan(100);
  }, 30_000);
});
