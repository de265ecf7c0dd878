import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejected } from '../../test/helpers/errors.js';
import type { Descriptor } from '../oci/index.js';
import { BodyBudget, BodyReservation } from './body-budget.js';
import { RegistryClient } from './client.js';
import { startOperation } from './operation.js';

const MiB = 1024 * 1024;

/**
 * The bytes buffered from registries at once, across every request of a client (the webhook's
 * one client serves every review). The registry here is the attacker's: it answers at once and
 * then sends each 3 MiB blob slowly (about 0.5 s), so that many reads are buffering together,
 * as under a burst of cold reviews naming its images.
 */
describe('the process-wide budget of buffered registry bodies', () => {
  let server: Server;
  let host = '';
  // A healthy registry beside it: answers every blob at once.
  let healthyServer: Server;
  let healthyHost = '';
  const blobs = new Map<string, Buffer>();
  const descriptors: Descriptor[] = [];
  const repo = () => ({ registry: host, repository: 'budget/big' });

  beforeAll(async () => {
    for (let i = 0; i < 8; i++) {
      // 3 MiB each, under the 4 MiB cap of one envelope: each read alone is allowed.
      const bytes = Buffer.alloc(3 * MiB, i + 1);
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      blobs.set(digest, bytes);
      descriptors.push({ mediaType: 'application/octet-stream', digest, size: bytes.length });
    }
    server = createServer((req, res) => {
      const digest = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? '')?.[1];
      const bytes = digest === undefined ? undefined : blobs.get(digest);
      if (bytes === undefined) {
        res.writeHead(req.url === '/v2/' ? 200 : 404, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      const step = 128 * 1024;
      let at = 0;
      const send = (): void => {
        if (res.destroyed) return;
        if (at >= bytes.length) {
          res.end();
          return;
        }
        res.write(bytes.subarray(at, at + step));
        at += step;
        setTimeout(send, 20);
      };
      send();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    healthyServer = createServer((req, res) => {
      const digest = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? '')?.[1];
      const bytes = digest === undefined ? undefined : blobs.get(digest);
      if (bytes === undefined) res.writeHead(req.url === '/v2/' ? 200 : 404).end('{}');
      else res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    });
    await new Promise<void>((resolve) => healthyServer.listen(0, '127.0.0.1', resolve));
    healthyHost = `127.0.0.1:${(healthyServer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of [server, healthyServer]) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });

  it("a hostile registry dripping large bodies cannot make a healthy registry's reads wait or fail", async () => {
    // 8 MiB, half of it per registry (the default share): the hostile registry's slow 3 MiB blobs
    // get one at a time; the healthy registry's reads go straight through beside them.
    const budget = new BodyBudget({ maxBytes: 8 * MiB, maxWaitMs: 300 });
    expect(budget.maxBytesPerRegistry).toBe(4 * MiB);
    const client = new RegistryClient({ plainHttp: () => true, bodyBudget: budget });
    try {
      const hostile = Promise.allSettled(descriptors.map((d) => client.fetchBlob(repo(), d)));
      // Once the hostile reads queue for their registry's share (the test times out otherwise)...
      while (budget.waiting === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(budget.usedBy(host)).toBe(3 * MiB);
      const healthy = { registry: healthyHost, repository: 'budget/big' };
      for (const d of descriptors.slice(0, 3)) {
        const bytes = await client.fetchBlob(healthy, d);
        expect(bytes.length).toBe(3 * MiB);
      }
      expect(budget.usedBy(host)).toBeLessThanOrEqual(4 * MiB);
      expect(budget.highWater).toBeLessThanOrEqual(8 * MiB);
      // The hostile registry's own reads past its wait still fail as before.
      const results = await hostile;
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { code?: string }] : []));
      expect(failed.length).toBeGreaterThan(0);
      for (const error of failed) expect(error.code).toBe('ERR_DOWNLOAD_BUDGET');
      expect(budget.used).toBe(0);
      expect(budget.waiting).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('never buffers more than the budget at once; a read with no room within its wait fails with ERR_DOWNLOAD_BUDGET', async () => {
    // One registry may hold the whole budget here: this is about the budget, not the shares.
    const budget = new BodyBudget({ maxBytes: 7 * MiB, maxBytesPerRegistry: 7 * MiB, maxWaitMs: 150 });
    const client = new RegistryClient({ plainHttp: () => true, bodyBudget: budget });
    try {
      const results = await Promise.allSettled(descriptors.map((d) => client.fetchBlob(repo(), d)));
      const fetched = results.filter((r) => r.status === 'fulfilled');
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { code?: string }] : []));
      // Two 3 MiB reads fit in 7 MiB; each takes ~0.5 s, longer than the others may wait.
      expect(budget.highWater).toBeLessThanOrEqual(7 * MiB);
      expect(budget.highWater).toBeGreaterThanOrEqual(6 * MiB);
      expect(fetched.length).toBeGreaterThanOrEqual(2);
      expect(failed.length).toBeGreaterThan(0);
      for (const error of failed) expect(error.code).toBe('ERR_DOWNLOAD_BUDGET');
      expect(fetched.length + failed.length).toBe(descriptors.length);
      // Everything given back: the next read goes straight through.
      expect(budget.used).toBe(0);
      expect(budget.waiting).toBe(0);
      const again = await client.fetchBlob(repo(), descriptors[0] as Descriptor);
      expect(again.length).toBe(3 * MiB);
    } finally {
      await client.close();
    }
  });

  it('lets waiting reads in as room comes free, first come first served, within their wait', async () => {
    const budget = new BodyBudget({ maxBytes: 7 * MiB, maxBytesPerRegistry: 7 * MiB, maxWaitMs: 10_000 });
    const client = new RegistryClient({ plainHttp: () => true, bodyBudget: budget });
    try {
      const all = await Promise.all(descriptors.slice(0, 5).map((d) => client.fetchBlob(repo(), d)));
      expect(all.map((b) => b.length)).toEqual([3, 3, 3, 3, 3].map((n) => n * MiB));
      expect(budget.highWater).toBeLessThanOrEqual(7 * MiB);
      expect(budget.used).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('refuses at once a read larger than the whole budget, and gives back what a failed read held', async () => {
    const budget = new BodyBudget({ maxBytes: 2 * MiB, maxWaitMs: 10_000 });
    const client = new RegistryClient({ plainHttp: () => true, bodyBudget: budget });
    try {
      const started = Date.now();
      const error = await rejected(client.fetchBlob(repo(), descriptors[0] as Descriptor));
      expect(error.code).toBe('ERR_DOWNLOAD_BUDGET');
      expect(error.message).toContain('more than the whole budget');
      expect(Date.now() - started).toBeLessThan(5000);
      expect(budget.used).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('gives up waiting at the operation deadline', async () => {
    const budget = new BodyBudget({ maxBytes: 4 * MiB, maxWaitMs: 60_000 });
    const op = startOperation({ registry: 'r.example', what: 'manifest', timeoutMs: 100 });
    await budget.reserve(op, 3 * MiB, 'first');
    const error = await rejected(budget.reserve(op, 3 * MiB, 'second'));
    expect(error.code).toBe('ERR_DOWNLOAD_BUDGET');
    budget.release(3 * MiB, op);
    expect(budget.used).toBe(0);
  });

  it('reserves a known size exactly, and an unknown one in 64 KiB steps up to the cap', async () => {
    const budget = new BodyBudget({ maxBytes: 4 * MiB });
    const op = startOperation({ registry: 'r.example', what: 'manifest', timeoutMs: 1000 });
    const known = new BodyReservation(budget, op, 'signature', 4 * MiB);
    await known.ensure(1000, true);
    expect(budget.used).toBe(1000);
    const unknown = new BodyReservation(budget, op, 'referrers list', 100_000);
    await unknown.ensure(10);
    expect(budget.used).toBe(1000 + 64 * 1024);
    await unknown.ensure(70_000);
    expect(budget.used).toBe(1000 + 100_000);
    known.release();
    unknown.release();
    expect(budget.used).toBe(0);
  });
});

/** Shares of the budget per registry, and the order in which waiting reads are let in. */
describe('the share of the budget one registry may hold', () => {
  const op = (registry: string, timeoutMs = 10_000) => startOperation({ registry, what: 'manifest', timeoutMs });
  /** Resolves to 'granted' or the error code, recording the order of grants in `order`. */
  const track = (promise: Promise<void>, name: string, order: string[]) =>
    promise.then(
      () => {
        order.push(name);
        return 'granted';
      },
      (error: { code?: string }) => error.code,
    );
  const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

  it('is half the budget by default (room for one 4 MiB read at least), or as configured', () => {
    expect(new BodyBudget().maxBytesPerRegistry).toBe(32 * MiB);
    expect(new BodyBudget({ maxBytes: 20 * MiB }).maxBytesPerRegistry).toBe(10 * MiB);
    expect(new BodyBudget({ maxBytes: 6 * MiB }).maxBytesPerRegistry).toBe(4 * MiB);
    expect(new BodyBudget({ maxBytes: 4 * MiB }).maxBytesPerRegistry).toBe(4 * MiB);
    expect(new BodyBudget({ maxBytes: 8 * MiB, maxBytesPerRegistry: 6 * MiB }).maxBytesPerRegistry).toBe(6 * MiB);
    expect(new BodyBudget({ maxBytes: 8 * MiB, maxBytesPerRegistry: 80 * MiB }).maxBytesPerRegistry).toBe(8 * MiB);
  });

  it("a registry holding its share cannot make another registry's read wait", async () => {
    const budget = new BodyBudget({ maxBytes: 8 * MiB, maxWaitMs: 50 });
    const order: string[] = [];
    const hostile = op('evil.example');
    await budget.reserve(hostile, 4 * MiB, 'manifest');
    // More of the hostile registry's reads queue (Evil.example. is the same registry).
    const queued = [1, 2, 3].map((i) =>
      track(budget.reserve(op('Evil.example.'), 4 * MiB, 'manifest'), `evil${i}`, order),
    );
    const started = performance.now();
    await budget.reserve(op('registry.healthy'), 4 * MiB, 'manifest');
    expect(performance.now() - started).toBeLessThan(40);
    expect(budget.usedBy('registry.healthy')).toBe(4 * MiB);
    expect(budget.usedBy('evil.example')).toBe(4 * MiB);
    expect(await Promise.all(queued)).toEqual(['ERR_DOWNLOAD_BUDGET', 'ERR_DOWNLOAD_BUDGET', 'ERR_DOWNLOAD_BUDGET']);
    expect(order).toEqual([]);
  });

  it("a read held back by its own registry's share does not hold back other registries queued behind it", async () => {
    // The whole budget is full too, so every read queues; room comes free for other registries only.
    const budget = new BodyBudget({ maxBytes: 8 * MiB, maxBytesPerRegistry: 4 * MiB, maxWaitMs: 5000 });
    const order: string[] = [];
    const a = op('a.example');
    const b = op('b.example');
    await budget.reserve(a, 4 * MiB, 'manifest');
    await budget.reserve(b, 4 * MiB, 'manifest');
    const a2 = track(budget.reserve(op('a.example'), 2 * MiB, 'manifest'), 'a2', order);
    const c1 = track(budget.reserve(op('c.example'), 2 * MiB, 'manifest'), 'c1', order);
    const d1 = track(budget.reserve(op('d.example'), 2 * MiB, 'manifest'), 'd1', order);
    await tick();
    expect(order).toEqual([]);
    expect(budget.waiting).toBe(3);
    budget.release(4 * MiB, b); // room for two reads: not a.example's (still at its share), c's and d's
    await tick();
    expect(order).toEqual(['c1', 'd1']);
    budget.release(2 * MiB, op('c.example'));
    await tick();
    expect(order).toEqual(['c1', 'd1']); // a.example is still at its share
    budget.release(4 * MiB, a);
    expect(await Promise.all([a2, c1, d1])).toEqual(['granted', 'granted', 'granted']);
    expect(order).toEqual(['c1', 'd1', 'a2']);
  });

  it('lets the reads of one registry in first come, first served', async () => {
    const budget = new BodyBudget({ maxBytes: 16 * MiB, maxBytesPerRegistry: 4 * MiB, maxWaitMs: 5000 });
    const order: string[] = [];
    const first = op('a.example');
    await budget.reserve(first, 3 * MiB, 'manifest');
    const big = track(budget.reserve(op('a.example'), 2 * MiB, 'manifest'), 'big', order);
    // 1 MiB would fit beside the 3 MiB held, but the 2 MiB read came first.
    const small = track(budget.reserve(op('a.example'), 1 * MiB, 'manifest'), 'small', order);
    await tick();
    expect(order).toEqual([]);
    expect(budget.usedBy('a.example')).toBe(3 * MiB);
    budget.release(3 * MiB, first);
    expect(await Promise.all([big, small])).toEqual(['granted', 'granted']);
    expect(order).toEqual(['big', 'small']);
    expect(budget.usedBy('a.example')).toBe(3 * MiB);
  });

  it('fails with ERR_DOWNLOAD_BUDGET past the wait, at once for a read over the share, and names the share', async () => {
    const budget = new BodyBudget({ maxBytes: 12 * MiB, maxBytesPerRegistry: 6 * MiB, maxWaitMs: 50 });
    const a = op('a.example');
    await budget.reserve(a, 3 * MiB, 'manifest');
    await budget.reserve(a, 3 * MiB, 'manifest'); // 6 MiB: the configured share, over the default half of 12
    const waited = await rejected(budget.reserve(op('a.example'), 1, 'manifest'));
    expect(waited.code).toBe('ERR_DOWNLOAD_BUDGET');
    expect(waited.message).toContain('registries.maxBufferedBytesPerRegistry');
    const over = await rejected(budget.reserve(op('b.example'), 7 * MiB, 'manifest'));
    expect(over.code).toBe('ERR_DOWNLOAD_BUDGET');
    expect(over.message).toContain("more than one registry's share");
    // Other registries filling the rest of the whole budget still make a read wait, then fail.
    await budget.reserve(op('b.example'), 6 * MiB, 'manifest');
    const full = await rejected(budget.reserve(op('c.example'), 1 * MiB, 'manifest'));
    expect(full.code).toBe('ERR_DOWNLOAD_BUDGET');
    expect(budget.waiting).toBe(0);
  });
});
