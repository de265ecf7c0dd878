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
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('never buffers more than the budget at once; a read with no room within its wait fails with ERR_DOWNLOAD_BUDGET', async () => {
    const budget = new BodyBudget({ maxBytes: 7 * MiB, maxWaitMs: 150 });
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
    const budget = new BodyBudget({ maxBytes: 7 * MiB, maxWaitMs: 10_000 });
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
    budget.release(3 * MiB);
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
