import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXT, Pki, type Issued } from '../../test/helpers/pki.js';
import { NoopMetrics } from '../metrics/index.js';
import { buildApp } from './app.js';
import { ensureDevCertificate } from './dev-cert.js';
import { type RunningServer, type ServerOptions, startServer } from './server.js';
import { FakeVerifier, verifiedDecision } from './testing/fake-verifier.js';
import { admissionReview, pod } from './testing/reviews.js';

const SERVER_LEAF = EXT.serverLeaf;
const CLIENT_LEAF = EXT.clientLeaf;

let pki: Pki;
let ca: Issued;
let clientCa: Issued;
let dir: string;
beforeAll(() => {
  pki = new Pki();
  ca = pki.issue({ subject: '/O=Portcullis Test/CN=Serving CA', key: 'ec-256', extensions: EXT.root });
  clientCa = pki.issue({ subject: '/O=Portcullis Test/CN=Client CA', key: 'ec-256', extensions: EXT.root });
});
afterAll(() => pki.cleanup());

const running: RunningServer[] = [];
const agents: Agent[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
  await Promise.all(running.splice(0).map((s) => s.stop()));
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function serving(cn: string): Issued {
  return pki.issue({ subject: `/O=Portcullis Test/CN=${cn}`, key: 'ec-256', issuer: ca, extensions: SERVER_LEAF });
}

/** Writes cert and key atomically (write + rename), as a Secret volume update does. */
function install(leaf: Issued): { certFile: string; keyFile: string } {
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  writeFileSync(`${certFile}.tmp`, leaf.certPem);
  writeFileSync(`${keyFile}.tmp`, leaf.keyPem);
  renameSync(`${keyFile}.tmp`, keyFile);
  renameSync(`${certFile}.tmp`, certFile);
  return { certFile, keyFile };
}

async function start(
  verifier: FakeVerifier,
  tls: ServerOptions['tls'],
  extra: Partial<ServerOptions> = {},
): Promise<RunningServer> {
  const app = buildApp({ verifier, metrics: new NoopMetrics() });
  const s = await startServer(app, {
    port: 0,
    host: '127.0.0.1',
    tls,
    reloadDebounceMs: 50,
    reloadPollMs: 0,
    ...extra,
  });
  running.push(s);
  return s;
}

function agent(connectOptions: ConnectionOptions): Agent {
  const a = new Agent({ connect: connectOptions as never, keepAliveTimeout: 30_000 });
  agents.push(a);
  return a;
}

/** The serial number of the certificate a fresh TLS connection is served. */
function servedSerial(port: number, caPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: caPem, servername: 'localhost' }, () => {
      const serialNumber = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serialNumber);
    });
    socket.on('error', reject);
  });
}

function serialOf(issued: Issued): string {
  return new X509Certificate(issued.certPem).serialNumber;
}

async function validate(s: RunningServer, dispatcher: Agent) {
  const res = await request(`${s.url}/validate?timeout=10s`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(admissionReview(pod({ containers: [['a', 'r.example/a:1']] }), { uid: 'https-1' })),
  });
  return { status: res.statusCode, connection: res.headers['connection'], body: (await res.body.json()) as any };
}

describe('startServer', () => {
  it('serves the app over HTTPS with a certificate from the test PKI', async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
    const s = await start(new FakeVerifier(), install(serving('server-1')));
    const { status, body } = await validate(s, agent({ ca: ca.certPem }));
    expect(status).toBe(200);
    expect(body.response).toEqual({ uid: 'https-1', allowed: true });
  });

  it('serves with a generated development certificate, and reuses it on the next start', async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-dev-'));
    const dev = await ensureDevCertificate(join(dir, 'certs'));
    expect(dev.created).toBe(true);
    const s = await start(new FakeVerifier(), { certFile: dev.certFile, keyFile: dev.keyFile });
    for (const host of ['127.0.0.1', 'localhost']) {
      const res = await request(`https://${host}:${s.port}/healthz`, { dispatcher: agent({ ca: dev.caPem }) });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    const again = await ensureDevCertificate(join(dir, 'certs'));
    expect(again.created).toBe(false);
    expect(again.caPem).toBe(dev.caPem);
  });

  it('refuses clients below TLS 1.3 by default', async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
    const s = await start(new FakeVerifier(), install(serving('server-1')));
    await expect(
      request(`${s.url}/healthz`, { dispatcher: agent({ ca: ca.certPem, maxVersion: 'TLSv1.2' }) }),
    ).rejects.toThrow();
  });

  it('fails to start, naming the reason, when the key does not match the certificate', async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
    const a = serving('a');
    const b = serving('b');
    writeFileSync(join(dir, 'c.pem'), a.certPem);
    writeFileSync(join(dir, 'k.pem'), b.keyPem);
    const app = buildApp({ verifier: new FakeVerifier(), metrics: new NoopMetrics() });
    await expect(
      startServer(app, {
        port: 0,
        host: '127.0.0.1',
        tls: { certFile: join(dir, 'c.pem'), keyFile: join(dir, 'k.pem') },
      }),
    ).rejects.toThrow(/key values mismatch/);
    await app.close();
  });

  describe('certificate reload', () => {
    it('serves a replaced certificate to new connections while an open keep-alive connection keeps working', async () => {
      dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
      const first = serving('first');
      const s = await start(new FakeVerifier(), install(first));
      const ports: (number | undefined)[] = [];
      s.server.on('request', (req: IncomingMessage) => ports.push(req.socket.remotePort));
      const keepAlive = agent({ ca: ca.certPem });
      expect((await validate(s, keepAlive)).status).toBe(200);
      expect(await servedSerial(s.port, ca.certPem)).toBe(serialOf(first));

      const second = serving('second');
      install(second);
      const deadline = Date.now() + 5_000;
      while ((await servedSerial(s.port, ca.certPem)) !== serialOf(second)) {
        if (Date.now() > deadline) throw new Error('the new certificate was not picked up');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await validate(s, keepAlive)).status).toBe(200);
      expect(ports).toHaveLength(2);
      expect(ports[1]).toBe(ports[0]); // the same connection, opened before the reload
    });

    it('keeps the current certificate when the new files do not load', async () => {
      dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
      const first = serving('first');
      const s = await start(new FakeVerifier(), install(first), { watchTls: false });
      writeFileSync(join(dir, 'tls.key'), serving('other').keyPem); // a key for another certificate
      expect(await s.reload()).toBe(false);
      writeFileSync(join(dir, 'tls.crt'), 'not a certificate');
      expect(await s.reload()).toBe(false);
      expect(await servedSerial(s.port, ca.certPem)).toBe(serialOf(first));
      const third = serving('third');
      install(third);
      expect(await s.reload()).toBe(true);
      expect(await servedSerial(s.port, ca.certPem)).toBe(serialOf(third));
    });
  });

  describe('client certificates', () => {
    it('answers 401 to a client without a certificate from the client CA and serves one with it', async () => {
      dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
      const files = install(serving('server'));
      const clientCaFile = join(dir, 'client-ca.crt');
      writeFileSync(clientCaFile, clientCa.certPem);
      const s = await start(new FakeVerifier(), { ...files, clientCaFile });

      const anonymous = await validate(s, agent({ ca: ca.certPem }));
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ code: 'ERR_CLIENT_CERT_REQUIRED' });
      const stranger = pki.issue({ subject: '/CN=stranger', key: 'ec-256', issuer: ca, extensions: CLIENT_LEAF });
      const strange = await validate(s, agent({ ca: ca.certPem, cert: stranger.certPem, key: stranger.keyPem }));
      expect(strange.status).toBe(401);
      expect((strange.body as unknown as { message: string }).message).toMatch(
        /client certificate issued by the configured client CA is required \(.+\)/,
      );
      const metrics = await request(`${s.url}/metrics`, { dispatcher: agent({ ca: ca.certPem }) });
      expect(metrics.statusCode).toBe(401);
      await metrics.body.dump();

      const gatekeeper = pki.issue({
        subject: '/CN=gatekeeper-webhook',
        key: 'ec-256',
        issuer: clientCa,
        extensions: CLIENT_LEAF,
      });
      const { status, body } = await validate(
        s,
        agent({ ca: ca.certPem, cert: gatekeeper.certPem, key: gatekeeper.keyPem }),
      );
      expect(status).toBe(200);
      expect(body.response.allowed).toBe(true);
    });

    it('serves the probes without a client certificate, so the kubelet can ask whether policies are loaded', async () => {
      dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
      const files = install(serving('server'));
      const clientCaFile = join(dir, 'client-ca.crt');
      writeFileSync(clientCaFile, clientCa.certPem);
      const verifier = new FakeVerifier(undefined, false);
      const s = await start(verifier, { ...files, clientCaFile });
      const probe = async (path: string): Promise<number> => {
        const res = await request(`${s.url}${path}`, { dispatcher: agent({ ca: ca.certPem }) });
        await res.body.dump();
        return res.statusCode;
      };
      expect(await probe('/healthz')).toBe(200);
      expect(await probe('/readyz')).toBe(503);
      verifier.setReady(true);
      expect(await probe('/readyz')).toBe(200);
    });
  });

  describe('graceful shutdown', () => {
    it('drains an in-flight request, then refuses new connections', async () => {
      dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
      const slow = new FakeVerifier(async (r) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        return verifiedDecision(r.image);
      });
      const s = await start(slow, install(serving('server')));
      const dispatcher = agent({ ca: ca.certPem });
      const inFlight = validate(s, dispatcher);
      while (slow.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
      const started = Date.now();
      const stopped = s.stop();
      const { status, body } = await inFlight;
      expect(status).toBe(200);
      expect(body.response.uid).toBe('https-1');
      await stopped;
      expect(Date.now() - started).toBeLessThan(5_000);
      await expect(request(`${s.url}/healthz`, { dispatcher: agent({ ca: ca.certPem }) })).rejects.toThrow(
        /ECONNREFUSED|connect/,
      );
    });

    it('answers /readyz with 503 during the shutdown delay while it still serves reviews, then stops accepting', async () => {
      dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
      const s = await start(new FakeVerifier(), install(serving('server')), { shutdownDelayMs: 400 });
      const before = await request(`${s.url}/readyz`, { dispatcher: agent({ ca: ca.certPem }) });
      expect(before.statusCode).toBe(200);
      await before.body.dump();
      const started = Date.now();
      const stopped = s.stop();
      const ready = await request(`${s.url}/readyz`, { dispatcher: agent({ ca: ca.certPem }) });
      expect(ready.statusCode).toBe(503);
      expect(await ready.body.json()).toEqual({ ready: false, message: 'shutting down' });
      // A new connection during the delay is still accepted and answered: the endpoint may not be gone yet.
      const { status, body } = await validate(s, agent({ ca: ca.certPem }));
      expect(status).toBe(200);
      expect(body.response.allowed).toBe(true);
      await stopped;
      expect(Date.now() - started).toBeGreaterThanOrEqual(390);
      await expect(request(`${s.url}/healthz`, { dispatcher: agent({ ca: ca.certPem }) })).rejects.toThrow(
        /ECONNREFUSED|connect/,
      );
    });

    it('from stop() on, every answer closes its connection, so a client never reuses one into the closing server', async () => {
      // Go's HTTP client (the API server's) does not retry a POST on a kept-alive connection the
      // server closed under it ("connection reset by peer": the review is lost). Told
      // `Connection: close` with the answer, it opens a new connection, which the Service sends to
      // a pod that is not shutting down (test/e2e/node: a rolling restart under load).
      dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
      const s = await start(new FakeVerifier(), install(serving('server')), { shutdownDelayMs: 400 });
      const dispatcher = agent({ ca: ca.certPem });
      const before = await validate(s, dispatcher);
      expect(before.connection).not.toBe('close');
      const stopped = s.stop();
      const during = await validate(s, dispatcher);
      expect(during.status).toBe(200);
      expect(during.connection).toBe('close');
      await stopped;
    });

    it('closes connections still busy after the shutdown timeout', async () => {
      dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
      const stuck = new FakeVerifier(() => new Promise(() => {}));
      const s = await start(stuck, install(serving('server')), { shutdownTimeoutMs: 200 });
      const inFlight = validate(s, agent({ ca: ca.certPem })).catch((e: unknown) => e);
      while (stuck.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
      const started = Date.now();
      await s.stop();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await inFlight).toBeInstanceOf(Error);
    });
  });
});
