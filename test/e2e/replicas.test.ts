import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyDocuments } from '../../bench/realistic/bench-serve.js';
import { startFarRegistry, type FarRegistry } from '../../bench/realistic/far-registry.js';
import { benchSigner, seedImages, type SeededImage } from '../../bench/realistic/seed.js';
import { admissionReview, pod } from '../../src/http/testing/reviews.js';
import { serverTls, type ServerTls } from '../helpers/registry/tls.js';
import { RoundRobinProxy } from '../helpers/round-robin-proxy.js';
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js';

/**
 * Several replicas (docs/scaling.md): two `portcullis serve` processes behind one address (a
 * round-robin TCP proxy, as a Service spreads connections over a Deployment's pods), with
 * Debian's docker-registry behind a recording proxy. Each replica caches on its own, so a new
 * image costs each registry object at most one fetch per replica: two here, never more.
 */
describe('two replicas behind one address', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-replicas-'));
  let registry: FarRegistry;
  let tls: ServerTls;
  let images: SeededImage[];
  let servers: ServeProcess[] = [];
  let proxy: RoundRobinProxy;

  beforeAll(async () => {
    const signer = await benchSigner('replicas');
    registry = await startFarRegistry({}); // no emulated latency: only the recording
    images = await seedImages({
      registry: registry.direct,
      count: 2,
      signatures: 1,
      repository: (i) => `replicas/app-${i}`,
      prefix: 'replicas',
      signer,
    });
    writeFileSync(join(dir, 'policies.yaml'), policyDocuments(signer.certPem));
    tls = serverTls('portcullis-replicas');
    const replica = (): Promise<ServeProcess> =>
      startServeProcess({
        policies: dir,
        tls: { certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.caFile },
        config: {
          webhook: { shutdownDelaySeconds: 0, shutdownTimeoutSeconds: 5 },
          verification: { revocation: 'offline' },
          logging: { level: 'warn' },
          registries: { hosts: { [registry.host]: { caFile: registry.caFile } } },
        },
      });
    servers = await Promise.all([replica(), replica()]);
    proxy = await RoundRobinProxy.start(servers.map((s) => Number(new URL(s.url).port)));
  }, 120_000);

  afterAll(async () => {
    await proxy?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    await registry?.stop();
    tls?.pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One review through the shared address, on a connection of its own (the proxy picks the replica per connection). */
  async function review(image: string): Promise<boolean> {
    const agent = new Agent({ connect: { ca: tls.caPem, servername: 'localhost' } });
    try {
      const res = await request(`https://127.0.0.1:${proxy.port}/validate?timeout=10s`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(admissionReview(pod({ containers: [['app', image]] }, 'bench'), { namespace: 'bench' })),
      });
      expect(res.statusCode).toBe(200);
      const body = (await res.body.json()) as { response?: { allowed?: boolean } };
      return body.response?.allowed === true;
    } finally {
      await agent.close();
    }
  }

  /** Decisions a replica has made, from its own /metrics. */
  async function decisions(server: ServeProcess): Promise<number> {
    const text = (await server.get('/metrics')).text;
    return text
      .split('\n')
      .filter((l) => l.startsWith('portcullis_admission_decisions_total{'))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  }

  it('both replicas answer, and a burst for a new image costs each object at most one fetch per replica', async () => {
    const image = `${registry.host}/${(images[0] as SeededImage).pinned}`;
    registry.proxy.resetLog();
    const answers = await Promise.all(Array.from({ length: 20 }, () => review(image)));
    expect(answers.every((allowed) => allowed)).toBe(true);
    expect(proxy.connections).toEqual([10, 10]);
    expect(await decisions(servers[0] as ServeProcess)).toBe(10);
    expect(await decisions(servers[1] as ServeProcess)).toBe(10);

    // Every object the image needs (its manifest, the signature listing, the signature's manifest
    // and envelope) was asked for once by each replica: twice in all, never more.
    const counts = new Map<string, number>();
    for (const entry of registry.proxy.log) {
      if (!entry.path.startsWith('/v2/replicas/')) continue; // the version check and token requests are not objects
      const key = `${entry.method} ${entry.path}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBeGreaterThanOrEqual(4);
    for (const [key, count] of counts) expect(count, key).toBe(2);
  });

  it('a replica that has verified an image answers it again without the registry; the other fetches it once', async () => {
    const image = `${registry.host}/${(images[1] as SeededImage).tagged}`;
    registry.proxy.resetLog();
    expect(await review(image)).toBe(true); // replica 0 (the proxy's turn): fetched
    const first = registry.proxy.log.filter((e) => e.path.startsWith('/v2/replicas/')).length;
    expect(first).toBeGreaterThanOrEqual(4);
    expect(await review(image)).toBe(true); // replica 1: fetched again, once
    expect(await review(image)).toBe(true); // replica 0 again: from its cache
    expect(await review(image)).toBe(true); // replica 1 again: from its cache
    const all = registry.proxy.log.filter((e) => e.path.startsWith('/v2/replicas/')).length;
    expect(all).toBe(2 * first);
  });
});
