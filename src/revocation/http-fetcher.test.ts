import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SingleFlight } from '../util/index.js';
import { ByteLruCache } from './cache.js';
import { HttpRevocationFetcher } from './http-fetcher.js';
import { ocspGetUrl } from './ocsp.js';

describe('HttpRevocationFetcher (undici) against a loopback server', () => {
  let server: Server;
  let base: string;
  const seen: { method: string; type: string | undefined; body: Buffer }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', type: req.headers['content-type'], body: Buffer.concat(chunks) });
        if (req.url === '/big') res.writeHead(200, { 'content-length': 10_000 }).end(Buffer.alloc(10_000));
        else if (req.url === '/chunked') {
          res.writeHead(200);
          for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000));
          res.end();
        } else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('late'), 1000);
        else if (req.url === '/missing') res.writeHead(404).end();
        else res.writeHead(200).end(Buffer.from('ok'));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const fetcher = new HttpRevocationFetcher();
  const init = { method: 'GET' as const, deadlineMs: 2000, maxBytes: 5000 };

  it('GETs a body and POSTs an OCSP request with its content type', async () => {
    expect(Buffer.from(await fetcher.fetch(`${base}/x`, init)).toString()).toBe('ok');
    await fetcher.fetch(`${base}/ocsp`, {
      ...init,
      method: 'POST',
      body: new Uint8Array([1, 2, 3]),
      contentType: 'application/ocsp-request',
    });
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      type: 'application/ocsp-request',
      body: Buffer.from([1, 2, 3]),
    });
  });

  it('refuses bodies over the cap, declared or streamed', async () => {
    await expect(fetcher.fetch(`${base}/big`, init)).rejects.toMatchObject({ kind: 'too-large' });
    await expect(fetcher.fetch(`${base}/chunked`, init)).rejects.toMatchObject({ kind: 'too-large' });
  });

  it('gives up at the deadline', async () => {
    const started = performance.now();
    await expect(fetcher.fetch(`${base}/slow`, { ...init, deadlineMs: 200 })).rejects.toMatchObject({
      kind: 'timeout',
    });
    expect(performance.now() - started).toBeLessThan(800);
  });

  it('reports HTTP errors, unreachable hosts and non-HTTP URLs', async () => {
    await expect(fetcher.fetch(`${base}/missing`, init)).rejects.toMatchObject({
      kind: 'http-status',
      message: 'HTTP status 404',
    });
    await expect(fetcher.fetch('http://127.0.0.1:1/x', init)).rejects.toMatchObject({ kind: 'network' });
    await expect(fetcher.fetch('ldap://example.test/cn=crl', init)).rejects.toMatchObject({ kind: 'unsupported-url' });
    await expect(fetcher.fetch('file:///etc/passwd', init)).rejects.toMatchObject({ kind: 'unsupported-url' });
  });
});

describe('ByteLruCache and SingleFlight', () => {
  it('evicts least recently used entries to stay within the byte budget, and expires by the clock', () => {
    let now = 0;
    const cache = new ByteLruCache<string>(100, () => now);
    cache.set('a', 'A', 40, 1000);
    cache.set('b', 'B', 40, 1000);
    expect(cache.get('a')).toBe('A'); // a is now more recent than b
    cache.set('c', 'C', 40, 1000);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('A');
    expect(cache.bytes).toBe(80);
    cache.set('huge', 'H', 101, 1000);
    expect(cache.get('huge')).toBeUndefined();
    now = 1000;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.bytes).toBe(40);
  });

  it('shares one run among concurrent callers and runs again afterwards', async () => {
    const flight = new SingleFlight();
    let runs = 0;
    const work = () => new Promise<number>((r) => setTimeout(() => r(++runs), 20));
    expect(await Promise.all([flight.run('k', work), flight.run('k', work), flight.run('k', work)])).toEqual([1, 1, 1]);
    expect(await flight.run('k', work)).toBe(2);
  });

  it('builds the OCSP GET URL form (RFC 6960 A.1)', () => {
    expect(ocspGetUrl('http://ocsp.test', new Uint8Array([0xfb, 0xff]))).toBe('http://ocsp.test/%2B%2F8%3D');
  });
});
