import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDnsServer } from '../../test/helpers/dns-server.js';
import { freePort } from '../../test/helpers/registry/free-port.js';
import { ReferrersRegistry } from '../../test/helpers/registry/referrers-registry.js';
import { pushImage } from '../../test/helpers/registry/seed.js';
import { isPortcullisError } from '../errors/index.js';
import { RegistryClient } from './client.js';
import { HostResolver } from './dns.js';

/**
 * The registry client with its own resolver: names are resolved through it (never getaddrinfo),
 * within each operation's deadline, and a failure names its stage and host.
 */

let dnsServer: TestDnsServer;
let registry: ReferrersRegistry;
let port: string;
let closedPort: number;
const clients: RegistryClient[] = [];

beforeAll(async () => {
  registry = await ReferrersRegistry.start();
  port = registry.host.split(':')[1] as string;
  closedPort = await freePort();
  dnsServer = await TestDnsServer.start((name) => {
    if (name.endsWith('.ok.test') || name === 'refused.test') return { addresses: ['127.0.0.1'], ttl: 30 };
    if (name.endsWith('.slow.test')) return { drop: true };
    return { rcode: 'NXDOMAIN' };
  });
  const seed = new RegistryClient();
  await pushImage(seed, { registry: registry.host, repository: 'app' }, 'v1');
  await seed.close();
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await registry?.stop();
  await dnsServer?.stop();
});

function client(options: { maxPools?: number; dnsTimeoutMs?: number } = {}): RegistryClient {
  const resolver = new HostResolver({
    servers: [dnsServer.server],
    hostsPath: '/dev/null',
    resolvConfPath: '/dev/null',
    timeoutMs: options.dnsTimeoutMs ?? 2_000,
    attempts: 1,
  });
  const c = new RegistryClient({
    resolver,
    plainHttp: true,
    ...(options.maxPools === undefined ? {} : { maxPools: options.maxPools }),
  });
  clients.push(c);
  return c;
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPortcullisError(error)) throw new Error(`expected a PortcullisError, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

describe('the registry client with its own resolver', () => {
  it('reaches a registry by a name only the test DNS server knows', async () => {
    const c = client();
    const d = await c.resolve({ registry: `reg.ok.test:${port}`, repository: 'app', tag: 'v1' });
    expect(d.digest).toMatch(/^sha256:/);
    expect(dnsServer.count('reg.ok.test')).toBe(2); // A and AAAA, once
  });

  it('names the DNS stage and host when the name does not exist', async () => {
    const f = await failure(client().resolve({ registry: 'h0.invalid:5000', repository: 'x', tag: '1' }));
    expect(f.code).toBe('ERR_REGISTRY_UNREACHABLE');
    expect(f.message).toBe(
      `registry h0.invalid:5000, repository x: resolve tag 1: DNS lookup of h0.invalid failed: no such host (NXDOMAIN) (name servers ${dnsServer.server})`,
    );
  });

  it('names the DNS stage when the lookup outlives the deadline, and gives up at the deadline', async () => {
    const started = Date.now();
    const f = await failure(
      client({ dnsTimeoutMs: 10_000 }).resolve(
        { registry: 'h1.slow.test', repository: 'x', tag: '1' },
        { timeoutMs: 300 },
      ),
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(f.code).toBe('ERR_REGISTRY_TIMEOUT');
    expect(f.message).toContain('the DNS lookup of h1.slow.test did not finish within the 300 ms deadline');
  });

  it('names the connect stage when nothing listens', async () => {
    const f = await failure(client().resolve({ registry: `refused.test:${closedPort}`, repository: 'x', tag: '1' }));
    expect(f.code).toBe('ERR_REGISTRY_UNREACHABLE');
    expect(f.message).toMatch(new RegExp(`connecting to refused\\.test:${closedPort} failed: ECONNREFUSED`));
  });

  it('names the answer stage when the registry accepts the connection but does not answer', async () => {
    registry.fail({ delayMs: 2_000, times: 1, match: (_m, path) => path.includes('/manifests/slow') });
    const c = client();
    await c.resolve({ registry: `answer.ok.test:${port}`, repository: 'app', tag: 'v1' }); // connected
    const f = await failure(
      c.resolve({ registry: `answer.ok.test:${port}`, repository: 'app', tag: 'slow' }, { timeoutMs: 300 }),
    );
    expect(f.code).toBe('ERR_REGISTRY_TIMEOUT');
    expect(f.message).toContain(
      `connected to answer.ok.test:${port}, but the registry did not answer within the 300 ms deadline`,
    );
    registry.clearFaults();
  });

  it('keeps at most maxPools connection pools, however many hosts are named', async () => {
    const c = client({ maxPools: 3 });
    for (let i = 0; i < 10; i++) await c.resolve({ registry: `p${i}.ok.test:${port}`, repository: 'app', tag: 'v1' });
    expect(c.poolCount).toBeLessThanOrEqual(3);
  });

  it('close() cancels lookups in flight at once', async () => {
    const c = client({ dnsTimeoutMs: 20_000 });
    const pending = failure(c.resolve({ registry: 'h2.slow.test', repository: 'x', tag: '1' }, { timeoutMs: 30_000 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await c.close();
    const f = await pending;
    expect(Date.now() - started).toBeLessThan(500);
    expect(f.code).toMatch(/^ERR_REGISTRY_/);
  });
});
