import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionReview, pod } from '../../src/http/testing/reviews.js';
import { RegistryClient } from '../../src/registry/index.js';
import { TestDnsServer } from '../helpers/dns-server.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { pushLayout } from '../helpers/registry/seed.js';
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js';

/**
 * The denial of service of issue 12, against the real server (`portcullis serve` in its own
 * process): one pod names 500 distinct hosts that never resolve (the name server drops their
 * queries: the slowest failure there is). Before, their getaddrinfo calls filled Node's thread
 * pool, every other review needing a lookup waited out its deadline, and SIGTERM took minutes.
 *
 * The server runs with the per-review limits raised to 1000, so that all 500 lookups
 * really happen: this is the resolver's test, not the limit's (executor.test.ts has that one).
 * The other reviews each name a registry host of their own (o<i>.ok.test, listed in the
 * configuration as plain HTTP), so each needs a DNS lookup of its own.
 */

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
const ATTACK_HOSTS = 500;
const SAMPLES = 15;

let dns: TestDnsServer;
let registry: ReferrersRegistry;
let server: ServeProcess;
let port: string;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

beforeAll(async () => {
  registry = await ReferrersRegistry.start();
  port = registry.host.split(':')[1] as string;
  const client = new RegistryClient();
  await pushLayout(
    client,
    { registry: registry.host, repository: 'net-monitor' },
    join(EXAMPLES, 'net-monitor-layout'),
  );
  await client.close();
  dns = await TestDnsServer.start((name) => {
    if (name.endsWith('.ok.test')) return { addresses: ['127.0.0.1'], ttl: 30 };
    if (name.endsWith('.invalid')) return { drop: true };
    return { rcode: 'NXDOMAIN' };
  });
  const hosts: Record<string, { plainHttp: boolean }> = {};
  for (let i = 0; i < 3 * SAMPLES; i++) hosts[`o${i}.ok.test:${port}`] = { plainHttp: true };
  server = await startServeProcess({
    policies: join(EXAMPLES, 'policies'),
    config: {
      webhook: { timeoutSeconds: 10, marginMilliseconds: 1000, shutdownDelaySeconds: 0, shutdownTimeoutSeconds: 3 },
      verification: { revocation: 'offline' },
      registries: { hosts, maxHostsPerReview: 1000, maxImagesPerReview: 1000, maxConcurrentPerReview: 1000 },
      dns: { servers: [dns.server] },
      logging: { level: 'silent' },
    },
  });
}, 120_000);

afterAll(async () => {
  await server?.stop('SIGKILL');
  await registry?.stop();
  await dns?.stop();
});

let next = 0;
/** A review of the signed image on a registry host never looked up before. */
async function otherReview(): Promise<number> {
  const image = `o${next++}.ok.test:${port}/net-monitor:v1`;
  const r = await server.post(
    '/validate?timeout=10s',
    admissionReview(pod({ containers: [['app', image]] }, 'secured'), { namespace: 'secured', uid: `other-${next}` }),
  );
  expect(r.status).toBe(200);
  expect(r.body.response.allowed, JSON.stringify(r.body.response.status)).toBe(true);
  return r.ms;
}

function attack(uid: string): Promise<{ status: number; body: any; ms: number }> {
  const containers = Array.from({ length: ATTACK_HOSTS }, (_, i) => [`c${i}`, `h${i}.${uid}.invalid/x:1`] as const);
  return server.post(
    '/validate?timeout=10s',
    admissionReview(pod({ containers }, 'secured'), { namespace: 'secured', uid }),
  );
}

describe('one pod naming 500 unresolvable registry hosts', () => {
  it("leaves other reviews' latency within 2x of what it is without the attack", async () => {
    await otherReview(); // warm up: the verification code paths, the TLS session
    const before: number[] = [];
    for (let i = 0; i < SAMPLES; i++) before.push(await otherReview());

    const attackStarted = Date.now();
    const attacking = attack('a1');
    // Let its 500 lookups start.
    await new Promise((r) => setTimeout(r, 300));
    const during: number[] = [];
    let attackDone = false;
    void attacking.then(() => (attackDone = true));
    for (let i = 0; i < SAMPLES; i++) during.push(await otherReview());
    expect(attackDone, 'the attack must still be in progress while the others are measured').toBe(false);

    const answer = await attacking;
    // Counted once the attack is answered: on a busy machine the last lookups start after the
    // other reviews were measured.
    const queriesAsked = new Set(dns.questions.filter((q) => q.name.endsWith('.a1.invalid')).map((q) => q.name)).size;
    const attackMs = Date.now() - attackStarted;
    console.log(
      `other reviews, median ms: ${median(before).toFixed(1)} without the attack, ${median(during).toFixed(1)} during it; the attack answered in ${attackMs} ms; ${queriesAsked} hosts asked`,
    );
    expect(median(during)).toBeLessThanOrEqual(2 * median(before));
    // every one of the 500 hosts was really looked up (not refused by a limit)
    expect(queriesAsked).toBe(ATTACK_HOSTS);
    // the attack itself is denied within its deadline, naming the stage and the host
    expect(attackMs).toBeLessThan(10_000);
    expect(answer.body.response.allowed).toBe(false);
    const message = answer.body.response.status.message as string;
    console.log(message.split('\n')[0]);
    expect(message).toMatch(
      /container "c0" image "h0\.a1\.invalid\/x:1" could not be verified: .*(the DNS lookup of h0\.a1\.invalid did not finish|DNS lookup of h0\.a1\.invalid failed)/,
    );
  }, 60_000);

  it('keeps metric series bounded after it', async () => {
    const metrics = await server.get('/metrics');
    const series = metrics.text.split('\n').filter((l) => l.startsWith('portcullis_registry_requests_total{'));
    expect(series.length).toBeGreaterThan(0);
    expect(series.length).toBeLessThan(50);
  });

  it('exits within its shutdown timeout when stopped during another attack', async () => {
    const attacking = attack('a2').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    const { code, ms } = await server.stop('SIGTERM');
    await attacking;
    console.log(`exit ${String(code)} ${ms.toFixed(0)} ms after SIGTERM (shutdown delay 0 s, timeout 3 s)`);
    expect(code).toBe(0);
    // shutdownDelaySeconds 0 + shutdownTimeoutSeconds 3, plus the rest of the stop
    expect(ms).toBeLessThan(3_000 + 1_500);
  }, 30_000);
});
