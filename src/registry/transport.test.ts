import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serverTls, type ServerTls } from '../../test/helpers/registry/tls.js';
import { startOperation } from './operation.js';
import { discard, Transport } from './transport.js';

// Connections to registries: reused (HEAD included), HTTP/2 where offered, as many as allowed.

type Handler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

interface Started {
  readonly host: string;
  /** Connections (TCP, or TLS sessions) accepted. */
  connections: number;
  /** Requests in flight at most, and their HTTP versions. */
  maxInFlight: number;
  readonly versions: string[];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(handler: Handler, tls?: ServerTls): Promise<Started> {
  const state: Started = { host: '', connections: 0, maxInFlight: 0, versions: [] };
  let inFlight = 0;
  const wrapped: Handler = (req, res) => {
    state.versions.push(req.httpVersion);
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    res.once('close', () => inFlight--);
    handler(req, res);
  };
  const server: Server | Http2SecureServer =
    tls === undefined
      ? createServer(wrapped)
      : createSecureServer({ cert: tls.certPem, key: tls.keyPem, allowHTTP1: true }, wrapped);
  server.on(tls === undefined ? 'connection' : 'secureConnection', () => state.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => r());
      }),
  );
  (state as { host: string }).host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

const manifestAnswer: Handler = (_req, res) => {
  res.writeHead(200, {
    'content-type': 'application/vnd.oci.image.manifest.v1+json',
    'content-length': '2',
    'docker-content-digest': 'sha256:' + 'a'.repeat(64),
  });
  if (_req.method === 'HEAD') res.end();
  else res.end('{}');
};

const op = () => startOperation({ registry: 'test', what: 'test', timeoutMs: 10_000 });

async function send(t: Transport, host: string, method: 'GET' | 'HEAD', scheme = 'http'): Promise<number> {
  const response = await t.send(op(), { method, url: new URL(`${scheme}://${host}/v2/a/manifests/v1`) });
  await discard(response);
  return response.status;
}

describe('Transport connections', () => {
  it('keeps an HTTP/1.1 connection open after a HEAD, so the next request does not pay a new handshake', async () => {
    const server = await start(manifestAnswer);
    const t = new Transport({ plainHttp: true });
    cleanups.push(() => t.close());
    for (let i = 0; i < 10; i++) expect(await send(t, server.host, i % 3 === 2 ? 'GET' : 'HEAD')).toBe(200);
    // undici may open a second connection while it finishes with the first answer; never one per HEAD.
    expect(server.connections).toBeLessThanOrEqual(2);
  });

  it('opens at most maxConnectionsPerHost HTTP/1.1 connections, and uses them all under load', async () => {
    const server = await start((req, res) => setTimeout(() => manifestAnswer(req, res), 100));
    const t = new Transport({ plainHttp: true, maxConnectionsPerHost: 5 });
    cleanups.push(() => t.close());
    const statuses = await Promise.all(Array.from({ length: 12 }, () => send(t, server.host, 'GET')));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(server.connections).toBe(5);
    expect(server.maxInFlight).toBe(5);
  });

  it('speaks HTTP/2 to an HTTPS registry that offers it, many requests at once on one connection', async () => {
    const tls = serverTls('transport-h2');
    cleanups.push(() => tls.pki.cleanup());
    const server = await start((req, res) => setTimeout(() => manifestAnswer(req, res), 100), tls);
    const t = new Transport({ tls: { [server.host]: { ca: tls.caPem } }, maxConnectionsPerHost: 4 });
    cleanups.push(() => t.close());
    expect(await send(t, server.host, 'HEAD', 'https')).toBe(200); // the connection is made
    const statuses = await Promise.all(Array.from({ length: 20 }, () => send(t, server.host, 'GET', 'https')));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(server.versions.every((v) => v === '2.0')).toBe(true);
    expect(server.connections).toBe(1);
    expect(server.maxInFlight).toBe(20);
  });

  it('keeps to HTTP/1.1, one request per connection at a time, when the registry offers only that', async () => {
    const tls = serverTls('transport-h1');
    cleanups.push(() => tls.pki.cleanup());
    const server = await start((req, res) => setTimeout(() => manifestAnswer(req, res), 50), tls);
    // An HTTPS server without HTTP/2: Node's https module.
    const { createServer: createHttps } = await import('node:https');
    const h1 = createHttps({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      server.versions.push(req.httpVersion);
      setTimeout(() => manifestAnswer(req, res), 50);
    });
    let connections = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    h1.on('secureConnection', () => connections++);
    h1.on('request', (_req, res: ServerResponse) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      res.once('close', () => inFlight--);
    });
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => h1.close(() => r())));
    const host = `127.0.0.1:${(h1.address() as AddressInfo).port}`;
    const t = new Transport({ tls: { [host]: { ca: tls.caPem } }, maxConnectionsPerHost: 3 });
    cleanups.push(() => t.close());
    const statuses = await Promise.all(Array.from({ length: 9 }, () => send(t, host, 'GET', 'https')));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(server.versions.slice(-9).every((v) => v === '1.1')).toBe(true);
    expect(connections).toBe(3);
    expect(maxInFlight).toBe(3);
  });
});

describe('Transport pacing after 429', () => {
  it('sends nothing new to a registry before its Retry-After has passed, then serves every request', async () => {
    let refuse = true;
    const arrivals: { at: number; status: number }[] = [];
    const server = await start((req, res) => {
      const status = refuse ? 429 : 200;
      refuse = false;
      arrivals.push({ at: performance.now(), status });
      if (status === 429) {
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"TOOMANYREQUESTS"}]}');
        return;
      }
      manifestAnswer(req, res);
    });
    const t = new Transport({ plainHttp: true });
    cleanups.push(() => t.close());
    const first = send(t, server.host, 'GET');
    await new Promise((r) => setTimeout(r, 100)); // the 429 has come back
    const later = await Promise.all([send(t, server.host, 'GET'), send(t, server.host, 'HEAD')]);
    expect([await first, ...later]).toEqual([200, 200, 200]);
    const refusedAt = (arrivals[0] as { at: number }).at;
    expect(arrivals[0]?.status).toBe(429);
    // Every other request, the retry included, came a second after the 429 or later.
    expect(arrivals.slice(1).every((a) => a.at - refusedAt >= 990)).toBe(true);
    expect(arrivals).toHaveLength(4);
  });

  it('halves the requests in flight after a 429, then allows more as answers come without one', async () => {
    let arrived = 0;
    let inFlight = 0;
    let phaseTwoMax = 0;
    let phaseTwo = false;
    const server = await start((req, res) => {
      // The 20th request of the first burst is refused (Retry-After 0: no pause, only fewer at once).
      if (++arrived === 20) {
        res.writeHead(429, { 'retry-after': '0' });
        res.end();
        return;
      }
      inFlight++;
      if (phaseTwo) phaseTwoMax = Math.max(phaseTwoMax, inFlight);
      setTimeout(() => {
        inFlight--;
        manifestAnswer(req, res);
      }, 100);
    });
    const t = new Transport({ plainHttp: true, maxConnectionsPerHost: 64 });
    cleanups.push(() => t.close());
    const first = Array.from({ length: 20 }, () => send(t, server.host, 'GET'));
    // Until the 429 is back (19 still in flight: they take 100 ms); a loaded machine may take longer than 50 ms.
    for (let i = 0; i < 40 && t.throttleState(`http://${server.host}`)?.limit === undefined; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(t.throttleState(`http://${server.host}`)?.limit).toBe(10);
    phaseTwo = true;
    const second = Array.from({ length: 30 }, () => send(t, server.host, 'GET'));
    const statuses = await Promise.all([...first, ...second]);
    expect(statuses.every((s) => s === 200)).toBe(true);
    // Without pacing all 30 would be in flight at once.
    expect(phaseTwoMax).toBeGreaterThanOrEqual(10);
    expect(phaseTwoMax).toBeLessThanOrEqual(13);
  });

  it('fails a request at once when the registry asked for a pause past its deadline', async () => {
    const server = await start((_req, res) => {
      res.writeHead(429, { 'retry-after': '30' });
      res.end();
    });
    const t = new Transport({ plainHttp: true });
    cleanups.push(() => t.close());
    const response = await t.send(startOperation({ registry: 'test', what: 'test', timeoutMs: 2_000 }), {
      method: 'GET',
      url: new URL(`http://${server.host}/v2/a/manifests/v1`),
    });
    expect(response.status).toBe(429);
    expect(response.gaveUp).toMatch(/Retry-After 30.0 s does not fit/);
    await discard(response);
    // Another request is not sent in the registry's 30 s: it fails at once, saying why.
    const started = performance.now();
    const waited = t.send(startOperation({ registry: 'test', what: 'waiting', timeoutMs: 5_000 }), {
      method: 'GET',
      url: new URL(`http://${server.host}/v2/a/manifests/v2`),
    });
    await expect(waited).rejects.toMatchObject({ code: 'ERR_REGISTRY_RATE_LIMITED' });
    await expect(waited).rejects.toThrow(
      /asked to wait (29\.\d|30\.0) s more \(Retry-After\), past the 5000 ms deadline/,
    );
    expect(performance.now() - started).toBeLessThan(1000);
    expect(t.throttleState(`http://${server.host}`)?.pausedForMs).toBeGreaterThan(25_000);
  });

  it('answers a deadline that passes while waiting for a turn at a throttling registry with ERR_REGISTRY_RATE_LIMITED', async () => {
    let arrived = 0;
    const server = await start((req, res) => {
      if (++arrived === 1) {
        res.writeHead(429, { 'retry-after': '0' }); // one at a time from now on
        res.end();
        return;
      }
      setTimeout(() => manifestAnswer(req, res), 1000);
    });
    const t = new Transport({ plainHttp: true });
    cleanups.push(() => t.close());
    const slow = send(t, server.host, 'GET'); // refused, retried, then answered after 1 s
    await new Promise((r) => setTimeout(r, 100));
    const waited = t.send(startOperation({ registry: 'test', what: 'waiting', timeoutMs: 300 }), {
      method: 'GET',
      url: new URL(`http://${server.host}/v2/a/manifests/v2`),
    });
    await expect(waited).rejects.toMatchObject({ code: 'ERR_REGISTRY_RATE_LIMITED' });
    await expect(waited).rejects.toThrow(
      /throttles requests \(429 Too Many Requests\): still waiting for a turn \(1 in flight, at most 1 at once, 0 more waiting\) when the 300 ms deadline passed/,
    );
    expect(await slow).toBe(200);
  });
});
