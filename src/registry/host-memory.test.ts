import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDnsServer } from '../../test/helpers/dns-server.js';
import { ReferrersRegistry } from '../../test/helpers/registry/referrers-registry.js';
import { pushImage } from '../../test/helpers/registry/seed.js';
import { RegistryClient } from './client.js';
import { HostResolver } from './dns.js';

/**
 * Pod specs name the registry hosts, and with a wildcard DNS record every pod can name new ones:
 * what the client remembers per host (its auth challenge, with a realm of the registry's
 * choosing; whether it has the Referrers API) must be bounded like its connection pools, least
 * recently used out, or a stream of pods naming fresh hosts grows the webhook without limit.
 */

let dnsServer: TestDnsServer;
let authRegistry: ReferrersRegistry;
let tagSchemaRegistry: ReferrersRegistry;
let subject: string;
const clients: RegistryClient[] = [];
const USER = { username: 'puller', password: 's3cret' };

beforeAll(async () => {
  authRegistry = await ReferrersRegistry.start({ basicAuth: { [USER.username]: USER.password } });
  tagSchemaRegistry = await ReferrersRegistry.start({ referrersApi: false });
  dnsServer = await TestDnsServer.start((name) =>
    name.endsWith('.ok.test') ? { addresses: ['127.0.0.1'], ttl: 30 } : { rcode: 'NXDOMAIN' },
  );
  const seed = new RegistryClient({ credentials: { get: async () => USER } });
  await pushImage(seed, { registry: authRegistry.host, repository: 'app' }, 'v1');
  subject = (await pushImage(seed, { registry: tagSchemaRegistry.host, repository: 'app' }, 'v1')).digest;
  await seed.close();
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await authRegistry?.stop();
  await tagSchemaRegistry?.stop();
  await dnsServer?.stop();
});

function client(): RegistryClient {
  const resolver = new HostResolver({
    servers: [dnsServer.server],
    hostsPath: '/dev/null',
    resolvConfPath: '/dev/null',
    attempts: 1,
  });
  const c = new RegistryClient({ resolver, plainHttp: true, maxPools: 3, credentials: { get: async () => USER } });
  clients.push(c);
  return c;
}

const port = (r: ReferrersRegistry): string => r.host.split(':')[1] as string;

describe('what the registry client remembers per host', () => {
  it('keeps the auth challenges of at most maxPools hosts', async () => {
    const c = client();
    const at = (i: number) => ({ registry: `a${i}.ok.test:${port(authRegistry)}`, repository: 'app', tag: 'v1' });
    authRegistry.resetLog();
    for (let i = 0; i < 10; i++) await c.resolve(at(i));
    const challenged = () => authRegistry.log.filter((e) => e.status === 401).length;
    expect(challenged()).toBe(10); // once per host, then credentials are sent at once
    await c.resolve(at(9)); // remembered: no challenge
    expect(challenged()).toBe(10);
    await c.resolve(at(0)); // forgotten long ago: challenged again
    expect(challenged()).toBe(11);
  });

  it('keeps whether the Referrers API exists for at most maxPools hosts', async () => {
    const c = client();
    const repo = (i: number) => ({ registry: `t${i}.ok.test:${port(tagSchemaRegistry)}`, repository: 'app' });
    tagSchemaRegistry.resetLog();
    for (let i = 0; i < 10; i++) await c.listReferrers(repo(i), { digest: subject });
    const probes = () => tagSchemaRegistry.log.filter((e) => e.path.includes('/referrers/')).length;
    expect(probes()).toBe(10); // 404 once per host, then the tag schema at once
    await c.listReferrers(repo(9), { digest: subject });
    expect(probes()).toBe(10);
    await c.listReferrers(repo(0), { digest: subject });
    expect(probes()).toBe(11);
  });
});
