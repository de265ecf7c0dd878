import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Pool } from 'undici';
import { ChaosProxy } from './chaos-proxy.js';
import { serverTls, type ServerTls } from './tls.js';
import { TokenBucket } from './token-bucket.js';

// The benchmark's registry far away: each emulated property is checked from the client's side.
// Only lower bounds on time are asserted (a busy machine only makes things slower), except where
// a property is the absence of a delay, which is checked against a delay several times larger.

let upstream: Server;
let upstreamHost: string;
const seenHosts: string[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    seenHosts.push(req.headers.host ?? '');
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(100_000, 1));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'docker-content-digest': 'sha256:abc' });
    res.end(req.method === 'HEAD' ? undefined : `you asked for ${req.url}`);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upstreamHost = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => upstream.close(r));
});

async function timed(client: Client | Pool, path: string, method: 'GET' | 'HEAD' = 'GET') {
  const t0 = performance.now();
  const res = await client.request({ path, method, reset: false });
  const body = await res.body.text();
  return { ms: performance.now() - t0, status: res.statusCode, headers: res.headers, body };
}

describe('ChaosProxy network emulation', () => {
  it('adds the round-trip time to every request and passes the answer through', async () => {
    const proxy = await ChaosProxy.start(upstreamHost, { network: { rttMs: 120 }, record: true });
    const client = new Client(`http://${proxy.host}`);
    try {
      const r = await timed(client, '/v2/a/manifests/v1');
      expect(r.status).toBe(200);
      expect(r.body).toBe('you asked for /v2/a/manifests/v1');
      expect(r.headers['docker-content-digest']).toBe('sha256:abc');
      expect(r.ms).toBeGreaterThanOrEqual(115);
      expect(proxy.log).toHaveLength(1);
      expect(proxy.log[0]).toMatchObject({ method: 'GET', path: '/v2/a/manifests/v1', status: 200, connection: 1 });
      expect((proxy.log[0]?.end ?? 0) - (proxy.log[0]?.start ?? 0)).toBeGreaterThanOrEqual(115);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });

  it('makes the first request of a connection wait for the handshake, and only the first', async () => {
    const proxy = await ChaosProxy.start(upstreamHost, { network: { rttMs: 20, handshakeMs: 400 }, record: true });
    const client = new Client(`http://${proxy.host}`);
    try {
      const first = await timed(client, '/one');
      const second = await timed(client, '/two');
      expect(first.ms).toBeGreaterThanOrEqual(415);
      expect(second.ms).toBeGreaterThanOrEqual(15);
      expect(second.ms).toBeLessThan(first.ms - 200);
      expect(proxy.connections).toBe(1);
      const other = new Client(`http://${proxy.host}`);
      const third = await timed(other, '/three');
      await other.close();
      expect(third.ms).toBeGreaterThanOrEqual(415);
      expect(proxy.connections).toBe(2);
      expect(proxy.log.map((e) => e.connection)).toEqual([1, 1, 2]);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });

  it('answers 429 with Retry-After past the request rate, and serves again once tokens come back', async () => {
    const proxy = await ChaosProxy.start(upstreamHost, {
      network: { requestsPerSecond: 5, retryAfterSeconds: 2 },
      record: true,
    });
    const pool = new Pool(`http://${proxy.host}`, { connections: 8 });
    try {
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => timed(pool, `/r${i}`)));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
      const refused = answers.find((a) => a.status === 429);
      expect(refused?.headers['retry-after']).toBe('2');
      expect(refused?.body).toContain('TOOMANYREQUESTS');
      expect(proxy.counts.throttled).toBe(3);
      await new Promise((r) => setTimeout(r, 450)); // two tokens back at 5/s
      expect((await timed(pool, '/again')).status).toBe(200);
    } finally {
      await pool.close();
      await proxy.stop();
    }
  });

  it('sends answers at the bandwidth of their connection, one after another', async () => {
    const proxy = await ChaosProxy.start(upstreamHost, { network: { bytesPerSecond: 1_000_000 } });
    const client = new Client(`http://${proxy.host}`, { pipelining: 2 });
    try {
      const t0 = performance.now();
      const [a, b] = await Promise.all([timed(client, '/big'), timed(client, '/big')]);
      expect(a.body.length).toBe(100_000);
      expect(b.body.length).toBe(100_000);
      // 200 kB at 1 MB/s on one connection: 200 ms at least.
      expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
      expect(Math.min(a.ms, b.ms)).toBeGreaterThanOrEqual(95);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });

  it('speaks HTTP/2 over TLS when the client offers it, forwarding to the registry over HTTP/1.1', async () => {
    const tls: ServerTls = serverTls('chaos-proxy');
    const proxy = await ChaosProxy.start(upstreamHost, {
      tls: { certPem: tls.certPem, keyPem: tls.keyPem },
      network: { rttMs: 10 },
      record: true,
    });
    const h2 = new Client(`https://${proxy.host}`, { allowH2: true, connect: { ca: tls.caPem } });
    const h1 = new Client(`https://${proxy.host}`, { connect: { ca: tls.caPem } });
    try {
      seenHosts.length = 0;
      const a = await timed(h2, '/v2/x/blobs/sha256:1');
      const head = await timed(h2, '/v2/x/manifests/v1', 'HEAD');
      const b = await timed(h1, '/v2/y/tags/list');
      expect(a.body).toBe('you asked for /v2/x/blobs/sha256:1');
      expect(head.status).toBe(200);
      expect(b.body).toBe('you asked for /v2/y/tags/list');
      expect(proxy.log.map((e) => e.http2)).toEqual([true, true, false]);
      // One HTTP/2 connection for both of its requests; the registry saw the proxy's host.
      expect(proxy.log.map((e) => e.connection)).toEqual([1, 1, 2]);
      expect(seenHosts).toEqual([proxy.host, proxy.host, proxy.host]);
    } finally {
      await h2.close();
      await h1.close();
      await proxy.stop();
      tls.pki.cleanup();
    }
  });
});

describe('TokenBucket', () => {
  it('allows the burst at once, then the rate', () => {
    const bucket = new TokenBucket(10, 3);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
    expect(bucket.take(50)).toBe(false); // half a token
    expect(bucket.take(100)).toBe(true); // one token after 100 ms at 10/s
    expect(bucket.take(100)).toBe(false);
    expect([bucket.take(10_000), bucket.take(10_000), bucket.take(10_000), bucket.take(10_000)]).toEqual([
      true,
      true,
      true,
      false,
    ]); // never more than the size saved up
  });
});
