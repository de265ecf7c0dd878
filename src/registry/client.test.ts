import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Descriptor } from '../oci/descriptor.js';
import { parseReference } from '../reference/index.js';
import { StaticCredentials } from './auth/credentials.js';
import { RegistryClient, type RegistryClientOptions } from './client.js';
import { apiHost, isLoopbackHost, parseRetryAfter, Transport, type RequestInfo } from './transport.js';
import { rejected as caught } from '../../test/helpers/errors.js';

// Small node:http servers on 127.0.0.1:0 that answer exactly what each test needs.

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface TestServer {
  host: string;
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const clients: RegistryClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<TestServer> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const entry: Seen = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: '' };
    seen.push(entry);
    const n = seen.length;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      entry.body = Buffer.concat(chunks).toString('utf8');
      handler(req, res, n);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const result: TestServer = {
    host,
    url: `http://${host}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(result);
  return result;
}

function client(options: RegistryClientOptions = {}): RegistryClient {
  const c = new RegistryClient(options);
  clients.push(c);
  return c;
}

function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 },
    layers: [],
  }),
);
const MANIFEST_DESC: Descriptor = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: sha256(MANIFEST),
  size: MANIFEST.length,
};
const BLOB = Buffer.from('signature envelope bytes');
const BLOB_DESC: Descriptor = { mediaType: 'application/jose+json', digest: sha256(BLOB), size: BLOB.length };

function sendManifest(res: ServerResponse, bytes: Buffer = MANIFEST): void {
  res.writeHead(200, {
    'content-type': 'application/vnd.oci.image.manifest.v1+json',
    'docker-content-digest': sha256(bytes),
    'content-length': String(bytes.length),
  });
  res.end(bytes);
}

describe('transport helpers', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(' 0 ', 0)).toBe(0);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('uses plain HTTP only for loopback hosts unless told', () => {
    for (const host of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.9.9.9', '[::1]:5000', '[::1]'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['reg.io', '10.0.0.1:5000', '[2001:db8::1]:5000', 'localhost.evil.com'])
      expect(isLoopbackHost(host)).toBe(false);
    // Every spelling of a loopback host is one (the canonical reference folds them; config and CLI hosts may not be).
    for (const host of ['LOCALHOST:5000', 'LocalHost', '[0:0:0:0:0:0:0:1]:5000', '[0::1]', '[::ffff:127.0.0.1]:5000'])
      expect(isLoopbackHost(host)).toBe(true);
    const t = new Transport();
    expect(t.baseUrl('reg.io').href).toBe('https://reg.io/');
    expect(t.baseUrl('localhost:5000').href).toBe('http://localhost:5000/');
    expect(t.baseUrl('docker.io').href).toBe('https://registry-1.docker.io/');
    expect(new Transport({ plainHttp: true }).baseUrl('reg.io').protocol).toBe('http:');
    expect(new Transport({ plainHttp: (h) => h === 'reg.io:80' }).baseUrl('reg.io:80').protocol).toBe('http:');
    expect(new Transport({ plainHttp: (h) => h === 'reg.io:80' }).baseUrl('other.io').protocol).toBe('https:');
    expect(new Transport({ plainHttp: false }).baseUrl('127.0.0.1:5000').protocol).toBe('https:');
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
  });
});

describe('RegistryClient against small servers: retries and deadlines', () => {
  it('honours Retry-After when it fits in the deadline', async () => {
    const server = await serve((_req, res, n) => {
      if (n === 1) {
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
      } else sendManifest(res);
    });
    const started = performance.now();
    const result = await client({ timeoutMs: 5000 }).fetchManifest(
      { registry: server.host, repository: 'app' },
      MANIFEST_DESC,
    );
    expect(result.bytes).toEqual(new Uint8Array(MANIFEST));
    expect(server.seen).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('gives up at once when Retry-After does not fit in the deadline', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(429, { 'retry-after': '30', 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"pull rate limit"}]}');
    });
    const started = performance.now();
    const error = await caught(
      client({ timeoutMs: 2000 }).fetchManifest({ registry: server.host, repository: 'app' }, MANIFEST_DESC),
    );
    expect(error.code).toBe('ERR_REGISTRY_RATE_LIMITED');
    expect(error.message).toContain(`registry ${server.host}, repository app`);
    expect(error.message).toMatch(/Retry-After 30\.0 s does not fit/);
    expect(error.message).toContain('pull rate limit');
    expect(server.seen).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('retries a 503 with backoff and succeeds', async () => {
    const server = await serve((_req, res, n) => {
      if (n <= 2) {
        res.writeHead(503);
        res.end();
      } else sendManifest(res);
    });
    const result = await client().fetchManifest({ registry: server.host, repository: 'app' }, MANIFEST_DESC);
    expect(result.descriptor).toEqual(MANIFEST_DESC);
    expect(server.seen).toHaveLength(3);
  });

  it('reports a persistent 503 as ERR_REGISTRY_UNAVAILABLE after the retries', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(503, { 'retry-after': '0' });
      res.end();
    });
    const error = await caught(
      client({ maxRetries: 2 }).fetchManifest({ registry: server.host, repository: 'app' }, MANIFEST_DESC),
    );
    expect(error.code).toBe('ERR_REGISTRY_UNAVAILABLE');
    expect(error.message).toMatch(/still 503 after 2 retries/);
    expect(server.seen).toHaveLength(3);
  });

  it('stops a slow registry at the deadline with ERR_REGISTRY_TIMEOUT', async () => {
    const server = await serve((_req, res) => {
      setTimeout(() => sendManifest(res), 2000);
    });
    const started = performance.now();
    const error = await caught(
      client({ timeoutMs: 200 }).fetchManifest({ registry: server.host, repository: 'app' }, MANIFEST_DESC),
    );
    expect(error.code).toBe('ERR_REGISTRY_TIMEOUT');
    expect(error.message).toContain('200 ms deadline');
    expect(error.message).toContain(server.host);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('stops a body that trickles past the deadline', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/jose+json', 'content-length': String(BLOB.length) });
      res.write(BLOB.subarray(0, 4));
      setTimeout(() => res.end(BLOB.subarray(4)), 2000);
    });
    const error = await caught(
      client({ timeoutMs: 200 }).fetchBlob({ registry: server.host, repository: 'app' }, BLOB_DESC),
    );
    expect(error.code).toBe('ERR_REGISTRY_TIMEOUT');
  });

  it('cancels on the caller signal', async () => {
    const server = await serve((_req, res) => setTimeout(() => sendManifest(res), 2000));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await caught(
      client().fetchManifest({ registry: server.host, repository: 'app' }, MANIFEST_DESC, {
        signal: controller.signal,
      }),
    );
    expect(error.code).toBe('ERR_REGISTRY_TIMEOUT');
    expect(error.message).toContain('cancelled');
  });

  it('retries a connection reset once', async () => {
    const server = await serve((req, res, n) => {
      if (n === 1) req.socket.destroy();
      else sendManifest(res);
    });
    const result = await client().fetchManifest({ registry: server.host, repository: 'app' }, MANIFEST_DESC);
    expect(result.bytes.length).toBe(MANIFEST.length);
    expect(server.seen).toHaveLength(2);
  });

  it('reports connection refused as ERR_REGISTRY_UNREACHABLE naming the host', async () => {
    const server = await serve(() => undefined);
    const host = server.host;
    await server.close();
    servers.length = 0;
    const error = await caught(client().resolve(parseReference(`${host}/app:v1`)));
    expect(error.code).toBe('ERR_REGISTRY_UNREACHABLE');
    expect(error.message).toContain(`registry ${host}, repository app`);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.context.reference).toBe(`${host}/app`);
  });
});

describe('RegistryClient against small servers: caps and digests', () => {
  it('refuses an oversized manifest with ERR_SIZE_LIMIT (declared and streamed)', async () => {
    const big = Buffer.alloc(5000, 0x20);
    const server = await serve((req, res) => {
      if (req.url?.includes('declared') === true) sendManifest(res, big);
      else {
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }); // chunked: no length
        res.write(big.subarray(0, 2500));
        res.end(big.subarray(2500));
      }
    });
    const c = client({ maxManifestBytes: 4096 });
    const declared = await caught(c.fetchManifest({ registry: server.host, repository: 'declared' }, 'v1'));
    expect(declared.code).toBe('ERR_SIZE_LIMIT');
    const streamed = await caught(c.fetchManifest({ registry: server.host, repository: 'streamed' }, 'v1'));
    expect(streamed.code).toBe('ERR_SIZE_LIMIT');
    expect(streamed.message).toContain('4096-byte cap');
    // A descriptor over the cap is refused before any request.
    const before = server.seen.length;
    const early = await caught(
      c.fetchManifest({ registry: server.host, repository: 'app' }, { ...MANIFEST_DESC, size: 5000 }),
    );
    expect(early.code).toBe('ERR_SIZE_LIMIT');
    expect(server.seen.length).toBe(before);
  });

  it('refuses a blob over the cap while streaming, and by descriptor before fetching', async () => {
    const big = Buffer.alloc(10_000, 1);
    const bigDesc = { mediaType: 'application/octet-stream', digest: sha256(big), size: big.length };
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.end(big);
    });
    const c = client();
    expect((await caught(c.fetchBlob({ registry: server.host, repository: 'app' }, bigDesc, 1024))).code).toBe(
      'ERR_SIZE_LIMIT',
    );
    expect(server.seen).toHaveLength(0);
    // A registry that sends more than the descriptor says is cut off: digest mismatch.
    const lying = await caught(c.fetchBlob({ registry: server.host, repository: 'app' }, { ...BLOB_DESC, size: 100 }));
    expect(lying.code).toBe('ERR_DIGEST_MISMATCH');
  });

  it('reports wrong content as ERR_DIGEST_MISMATCH naming registry, repository and digest', async () => {
    const server = await serve((req, res) => {
      const bytes = Buffer.from(MANIFEST.toString().replace('2', '3'));
      if (req.url?.includes('/blobs/') === true) {
        res.writeHead(200);
        res.end(Buffer.from('signature envelope bytez'));
      } else sendManifest(res, bytes);
    });
    const c = client();
    const manifest = await caught(c.fetchManifest({ registry: server.host, repository: 'team/app' }, MANIFEST_DESC));
    expect(manifest.code).toBe('ERR_DIGEST_MISMATCH');
    expect(manifest.message).toContain(`registry ${server.host}, repository team/app`);
    expect(manifest.message).toContain(MANIFEST_DESC.digest);
    expect(manifest.context.digest).toBe(MANIFEST_DESC.digest);
    const blob = await caught(c.fetchBlob({ registry: server.host, repository: 'team/app' }, BLOB_DESC));
    expect(blob.code).toBe('ERR_DIGEST_MISMATCH');
    expect(blob.message).toContain(BLOB_DESC.digest);
    // By tag: the content must match the registry's Docker-Content-Digest.
    const tagged = await serve((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'docker-content-digest': MANIFEST_DESC.digest,
      });
      res.end(Buffer.from(MANIFEST.toString().replace('2', '3')));
    });
    expect((await caught(c.fetchManifest({ registry: tagged.host, repository: 'app' }, 'v1'))).code).toBe(
      'ERR_DIGEST_MISMATCH',
    );
  });

  it('streams a blob with openBlob and fails at the end on bad content', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200);
      res.end(req.url?.includes('bad') === true ? Buffer.from('signature envelope bytez') : BLOB);
    });
    const c = client();
    const chunks: Uint8Array[] = [];
    for await (const chunk of c.openBlob({ registry: server.host, repository: 'good' }, BLOB_DESC)) chunks.push(chunk);
    expect(Buffer.concat(chunks)).toEqual(BLOB);
    const error = await caught(
      (async () => {
        let seen = 0;
        for await (const chunk of c.openBlob({ registry: server.host, repository: 'bad' }, BLOB_DESC))
          seen += chunk.length;
        return seen;
      })(),
    );
    expect(error.code).toBe('ERR_DIGEST_MISMATCH');
  });
});

describe('RegistryClient against small servers: redirects', () => {
  it('follows a blob redirect to another origin without the Authorization header', async () => {
    const storage = await serve((_req, res) => {
      res.writeHead(200);
      res.end(BLOB);
    });
    const registry = await serve((req, res) => {
      if (req.headers.authorization === undefined) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' });
        res.end();
        return;
      }
      res.writeHead(307, { location: `${storage.url}/data/${BLOB_DESC.digest}?sig=1` });
      res.end();
    });
    const c = client({ credentials: new StaticCredentials({ [registry.host]: { username: 'u', password: 'p' } }) });
    const bytes = await c.fetchBlob({ registry: registry.host, repository: 'app' }, BLOB_DESC);
    expect(Buffer.from(bytes)).toEqual(BLOB);
    expect(registry.seen.at(-1)?.headers.authorization).toMatch(/^Basic /);
    expect(storage.seen).toHaveLength(1);
    expect(storage.seen[0]?.headers.authorization).toBeUndefined();
    expect(storage.seen[0]?.path).toBe(`/data/${BLOB_DESC.digest}?sig=1`);
  });

  it('does not follow a redirect for a manifest', async () => {
    const other = await serve((_req, res) => sendManifest(res));
    const registry = await serve((_req, res) => {
      res.writeHead(302, { location: `${other.url}/m` });
      res.end();
    });
    const error = await caught(client().fetchManifest({ registry: registry.host, repository: 'app' }, MANIFEST_DESC));
    expect(error.code).toBe('ERR_REGISTRY_RESPONSE');
    expect(error.message).toContain('unexpected status 302');
    expect(other.seen).toHaveLength(0);
  });

  it('refuses a redirect loop', async () => {
    const registry = await serve((req, res) => {
      res.writeHead(302, { location: req.url ?? '/' });
      res.end();
    });
    const error = await caught(client().fetchBlob({ registry: registry.host, repository: 'app' }, BLOB_DESC));
    expect(error.code).toBe('ERR_REGISTRY_RESPONSE');
    expect(error.message).toMatch(/more than 5 redirects/);
  });
});

describe('RegistryClient against small servers: status mapping and resolve', () => {
  it('maps 403 and 404 with the distribution error message', async () => {
    const server = await serve((req, res) => {
      const forbidden = req.url?.includes('secret') === true;
      res.writeHead(forbidden ? 403 : 404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          errors: [
            {
              code: forbidden ? 'DENIED' : 'MANIFEST_UNKNOWN',
              message: forbidden ? 'requested access to the resource is denied' : 'manifest unknown',
            },
          ],
        }),
      );
    });
    const c = client();
    const denied = await caught(c.fetchManifest({ registry: server.host, repository: 'secret' }, 'v1'));
    expect(denied.code).toBe('ERR_REGISTRY_DENIED');
    expect(denied.message).toContain('DENIED: requested access to the resource is denied');
    const missing = await caught(c.fetchManifest({ registry: server.host, repository: 'app' }, 'v9'));
    expect(missing.code).toBe('ERR_REGISTRY_NOT_FOUND');
    expect(missing.message).toContain('manifest v9 not found');
    expect(missing.message).toContain('MANIFEST_UNKNOWN: manifest unknown');
  });

  it('does not take the hash of an answer that is not a manifest for the digest of a tag (a proxy error page with 200)', async () => {
    for (const body of [
      'null',
      '<html><body>502 Bad Gateway</body></html>',
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{',
    ]) {
      const server = await serve((req, res) => {
        // no Docker-Content-Digest: the client must GET and hash the body itself
        res.writeHead(200, {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          'content-length': String(Buffer.byteLength(body)),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      });
      const error = await caught(client().resolve({ registry: server.host, repository: 'app', tag: 'v1' }));
      expect(error.code, body).toBe('ERR_REGISTRY_RESPONSE');
      expect(error.message).toContain('the answer for manifest v1 is not an image manifest or index');
    }
  });

  it('resolves a tag with one HEAD and falls back to GET only when the HEAD lacks the digest', async () => {
    const server = await serve((req, res) => {
      const headers: Record<string, string> = {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'content-length': String(MANIFEST.length),
      };
      if (!(req.url ?? '').includes('nodigest')) headers['docker-content-digest'] = MANIFEST_DESC.digest;
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : MANIFEST);
    });
    const requests: RequestInfo[] = [];
    const c = client({ onRequest: (info) => requests.push(info) });
    expect(await c.resolve(parseReference(`${server.host}/app:v1`))).toEqual(MANIFEST_DESC);
    expect(requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['HEAD /v2/app/manifests/v1 200']);
    expect(server.seen[0]?.headers.accept).toContain('application/vnd.oci.image.index.v1+json');
    expect(server.seen[0]?.headers.accept).toContain('application/vnd.docker.distribution.manifest.list.v2+json');
    requests.length = 0;
    expect(await c.resolve(parseReference(`${server.host}/nodigest:v1`))).toEqual(MANIFEST_DESC);
    expect(requests.map((r) => r.method)).toEqual(['HEAD', 'GET']);
  });

  it('confirms a digest: tag@digest whose tag points elsewhere is an error naming both', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'content-length': String(MANIFEST.length),
        'docker-content-digest': MANIFEST_DESC.digest,
      });
      res.end();
    });
    const c = client();
    const other = `sha256:${'e'.repeat(64)}`;
    const error = await caught(c.resolve(parseReference(`${server.host}/app:v1@${other}`)));
    expect(error.code).toBe('ERR_REF_DIGEST_MISMATCH');
    expect(error.message).toContain(`tag v1 points to ${MANIFEST_DESC.digest}, but the reference pins ${other}`);
    expect(await c.resolve(parseReference(`${server.host}/app:v1@${MANIFEST_DESC.digest}`))).toEqual(MANIFEST_DESC);
    // A digest's descriptor, once known, is not asked for again (content-addressed).
    const count = server.seen.length;
    expect(await c.resolve(parseReference(`${server.host}/app@${MANIFEST_DESC.digest}`))).toEqual(MANIFEST_DESC);
    expect(server.seen).toHaveLength(count);
    // Without the cache a digest reference is a HEAD by digest.
    expect(
      await client({ resolveCacheSize: 0 }).resolve(parseReference(`${server.host}/app@${MANIFEST_DESC.digest}`)),
    ).toEqual(MANIFEST_DESC);
    expect(server.seen.at(-1)?.path).toBe(`/v2/app/manifests/${MANIFEST_DESC.digest}`);
    // Tags are never cached.
    await c.resolve(parseReference(`${server.host}/app:v1`));
    expect(server.seen.at(-1)?.path).toBe('/v2/app/manifests/v1');
  });

  it('reports subjectProcessed from OCI-Subject on manifest push', async () => {
    const server = await serve((req, res) => {
      const headers: Record<string, string> = {
        'docker-content-digest': MANIFEST_DESC.digest,
        location: `/v2/app/manifests/${MANIFEST_DESC.digest}`,
      };
      if ((req.url ?? '').includes('withsubject')) headers['oci-subject'] = `sha256:${'1'.repeat(64)}`;
      res.writeHead(201, headers);
      res.end();
    });
    const c = client();
    const plain = await c.pushManifest(
      { registry: server.host, repository: 'app' },
      'v1',
      MANIFEST,
      MANIFEST_DESC.mediaType,
    );
    expect(plain).toEqual({ descriptor: MANIFEST_DESC, subjectProcessed: false });
    const processed = await c.pushManifest(
      { registry: server.host, repository: 'withsubject' },
      MANIFEST_DESC.digest,
      MANIFEST,
      MANIFEST_DESC.mediaType,
    );
    expect(processed.subjectProcessed).toBe(true);
    expect(server.seen[0]?.headers['content-type']).toBe(MANIFEST_DESC.mediaType);
    // Bytes that do not match a digest reference never leave the client.
    const error = await caught(
      c.pushManifest(
        { registry: server.host, repository: 'app' },
        `sha256:${'0'.repeat(64)}`,
        MANIFEST,
        MANIFEST_DESC.mediaType,
      ),
    );
    expect(error.code).toBe('ERR_DIGEST_MISMATCH');
    expect(server.seen).toHaveLength(2);
  });
});

describe('RegistryClient against small servers: auth', () => {
  async function tokenRegistry(
    options: { expiresIn?: number; field?: 'token' | 'access_token'; users?: Record<string, string> } = {},
  ) {
    const issued: string[] = [];
    const tokens = await serve((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const auth = req.headers.authorization;
      if (options.users !== undefined) {
        const [user, password] = auth === undefined ? [] : Buffer.from(auth.slice(6), 'base64').toString().split(':');
        if (user === undefined || options.users[user] !== password) {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
          return;
        }
      }
      const token = `tok-${issued.length + 1}-${url.searchParams.getAll('scope').join('+')}`;
      issued.push(token);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          [options.field ?? 'token']: token,
          ...(options.expiresIn === undefined ? {} : { expires_in: options.expiresIn }),
        }),
      );
    });
    const registry = await serve((req, res) => {
      const repo = /^\/v2\/(.+?)\/(manifests|blobs)\//.exec(req.url ?? '')?.[1] ?? '';
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !issued.includes(auth.slice(7)) || !auth.includes(`repository:${repo}:pull`)) {
        res.writeHead(401, {
          'www-authenticate': `Bearer realm="${tokens.url}/token",service="test-registry",scope="repository:${repo}:pull"`,
          'content-type': 'application/json',
        });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
      sendManifest(res);
    });
    return { tokens, registry, issued };
  }

  it('answers the Bearer challenge once, then sends cached tokens pre-emptively per repository', async () => {
    const { tokens, registry } = await tokenRegistry({ expiresIn: 300, field: 'access_token' });
    let now = 0;
    const requests: RequestInfo[] = [];
    const c = client({ now: () => now, onRequest: (i) => requests.push(i) });
    const repo = { registry: registry.host, repository: 'app' };
    await c.fetchManifest(repo, MANIFEST_DESC);
    expect(requests.map((r) => `${r.host === tokens.host ? 'token' : 'registry'} ${r.status}`)).toEqual([
      'registry 401',
      'token 200',
      'registry 200',
    ]);
    const tokenUrl = new URL(tokens.seen[0]?.path ?? '', 'http://x');
    expect(tokenUrl.searchParams.get('service')).toBe('test-registry');
    expect(tokenUrl.searchParams.getAll('scope')).toEqual(['repository:app:pull']);
    expect(tokens.seen[0]?.headers.authorization).toBeUndefined(); // anonymous: no credentials
    requests.length = 0;
    await c.fetchManifest(repo, MANIFEST_DESC);
    expect(requests).toHaveLength(1); // cached token, sent pre-emptively: no 401
    // Another repository: a new scope, but still no 401 round trip.
    requests.length = 0;
    await c.fetchManifest({ registry: registry.host, repository: 'other' }, MANIFEST_DESC);
    expect(requests.map((r) => `${r.host === tokens.host ? 'token' : 'registry'} ${r.status}`)).toEqual([
      'token 200',
      'registry 200',
    ]);
    // Expiry: 300 s minus the 10 s margin.
    now = 289_000;
    requests.length = 0;
    await c.fetchManifest(repo, MANIFEST_DESC);
    expect(requests).toHaveLength(1);
    now = 291_000;
    requests.length = 0;
    await c.fetchManifest(repo, MANIFEST_DESC);
    expect(requests.map((r) => r.host === tokens.host)).toEqual([true, false]);
    expect(tokens.seen).toHaveLength(3);
  });

  it('fetches one token for a burst of concurrent requests', async () => {
    const { tokens, registry } = await tokenRegistry();
    const c = client();
    const repo = { registry: registry.host, repository: 'app' };
    await c.fetchManifest(repo, MANIFEST_DESC); // learn the challenge
    const before = tokens.seen.length;
    await Promise.all(
      Array.from({ length: 5 }, () => c.fetchManifest({ registry: registry.host, repository: 'burst' }, MANIFEST_DESC)),
    );
    expect(tokens.seen.length - before).toBe(1);
  });

  it('sends Basic credentials to the token server and reports a refusal as ERR_REGISTRY_UNAUTHORIZED', async () => {
    const { tokens, registry } = await tokenRegistry({ users: { alice: 'wonderland' } });
    const good = client({
      credentials: new StaticCredentials({ [registry.host]: { username: 'alice', password: 'wonderland' } }),
    });
    await good.fetchManifest({ registry: registry.host, repository: 'app' }, MANIFEST_DESC);
    expect(tokens.seen[0]?.headers.authorization).toBe(`Basic ${Buffer.from('alice:wonderland').toString('base64')}`);
    const bad = client({
      credentials: new StaticCredentials({ [registry.host]: { username: 'alice', password: 'nope' } }),
    });
    const error = await caught(bad.fetchManifest({ registry: registry.host, repository: 'app' }, MANIFEST_DESC));
    expect(error.code).toBe('ERR_REGISTRY_UNAUTHORIZED');
    expect(error.message).toContain('refused the credentials of user "alice"');
    expect(error.message).toContain('bad credentials');
    expect(error.message).not.toContain('nope');
  });

  it('exchanges an identity token with the OAuth2 refresh-token grant', async () => {
    const tokens = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'from-refresh', expires_in: 60 }));
    });
    const registry = await serve((req, res) => {
      if (req.headers.authorization !== 'Bearer from-refresh') {
        res.writeHead(401, {
          'www-authenticate': `Bearer realm="${tokens.url}/oauth2/token",service="svc",scope="repository:app:pull"`,
        });
        res.end();
        return;
      }
      sendManifest(res);
    });
    const c = client({ credentials: new StaticCredentials({ [registry.host]: { identityToken: 'refresh-abc' } }) });
    await c.fetchManifest({ registry: registry.host, repository: 'app' }, MANIFEST_DESC);
    expect(tokens.seen).toHaveLength(1);
    expect(tokens.seen[0]?.method).toBe('POST');
    expect(tokens.seen[0]?.path).toBe('/oauth2/token');
    expect(tokens.seen[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(tokens.seen[0]?.body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'refresh-abc',
      client_id: 'portcullis',
      service: 'svc',
      scope: 'repository:app:pull',
    });
  });

  it('takes credentials per call (a tenant pull secret) on a shared client', async () => {
    const { tokens, registry } = await tokenRegistry({ users: { alice: 'wonderland', bob: 'builder' } });
    const shared = client();
    const repo = { registry: registry.host, repository: 'app' };
    const alice = new StaticCredentials({ [registry.host]: { username: 'alice', password: 'wonderland' } });
    const bob = new StaticCredentials({ [registry.host]: { username: 'bob', password: 'builder' } });
    await shared.fetchManifest(repo, MANIFEST_DESC, { credentials: alice });
    await shared.fetchManifest(repo, MANIFEST_DESC, { credentials: alice });
    await shared.fetchManifest(repo, MANIFEST_DESC, { credentials: bob });
    expect(
      tokens.seen.map(
        (s) =>
          Buffer.from((s.headers.authorization ?? '').slice(6), 'base64')
            .toString()
            .split(':')[0],
      ),
    ).toEqual(['alice', 'bob']);
    const none = await caught(shared.fetchManifest(repo, MANIFEST_DESC));
    expect(none.code).toBe('ERR_REGISTRY_UNAUTHORIZED');
    expect(none.message).toContain('refused anonymous access');
  });

  it('does not share tokens between credential identities', async () => {
    const { tokens, registry } = await tokenRegistry();
    let user = 'alice';
    const c = client({ credentials: { get: async () => ({ username: user, password: 'pw' }) } });
    const repo = { registry: registry.host, repository: 'app' };
    await c.fetchManifest(repo, MANIFEST_DESC);
    await c.fetchManifest(repo, MANIFEST_DESC);
    expect(tokens.seen).toHaveLength(1);
    user = 'bob';
    await c.fetchManifest(repo, MANIFEST_DESC);
    expect(tokens.seen).toHaveLength(2);
  });

  it('Basic registry: pre-emptive after the first challenge; rejected credentials → ERR_REGISTRY_UNAUTHORIZED', async () => {
    const server = await serve((req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('u:right').toString('base64')}`) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"', 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"access to the requested resource is not authorized"}]}');
        return;
      }
      sendManifest(res);
    });
    const requests: RequestInfo[] = [];
    const good = client({
      credentials: new StaticCredentials({ [server.host]: { username: 'u', password: 'right' } }),
      onRequest: (i) => requests.push(i),
    });
    await good.fetchManifest({ registry: server.host, repository: 'app' }, MANIFEST_DESC);
    await good.fetchManifest({ registry: server.host, repository: 'other' }, MANIFEST_DESC);
    expect(requests.map((r) => r.status)).toEqual([401, 200, 200]);
    const bad = client({ credentials: new StaticCredentials({ [server.host]: { username: 'u', password: 'wrong' } }) });
    const error = await caught(bad.fetchManifest({ registry: server.host, repository: 'app' }, MANIFEST_DESC));
    expect(error.code).toBe('ERR_REGISTRY_UNAUTHORIZED');
    expect(error.message).toContain(`the credentials configured for ${server.host} were rejected`);
    const anonymous = await caught(client().fetchManifest({ registry: server.host, repository: 'app' }, MANIFEST_DESC));
    expect(anonymous.code).toBe('ERR_REGISTRY_UNAUTHORIZED');
    expect(anonymous.message).toContain('no credentials are configured');
  });
});
