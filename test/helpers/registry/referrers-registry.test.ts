import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, fetch, type Dispatcher, type Response } from 'undici';
import { ReferrersRegistry } from './referrers-registry.js';
import { EMPTY, MEDIA, blob, digestOf, imageIndex, imageManifest, type Blob, type Manifest } from './oci-fixtures.js';

// Plain undici requests only: these tests prove the harness, not src/registry.

type Init = {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  redirect?: 'manual' | 'follow';
  dispatcher?: Dispatcher;
};

function client(base: string, defaults: Init = {}) {
  return (path: string, init: Init = {}): Promise<Response> => {
    const { body, dispatcher, ...rest } = { ...defaults, ...init };
    return fetch(new URL(path, base), {
      method: rest.method ?? 'GET',
      headers: { ...defaults.headers, ...init.headers },
      redirect: rest.redirect ?? 'manual',
      ...(body === undefined ? {} : { body }),
      ...(dispatcher === undefined ? {} : { dispatcher }),
    });
  };
}
type Req = ReturnType<typeof client>;

async function errorCode(res: Response): Promise<string | undefined> {
  return ((await res.json()) as { errors: { code: string }[] }).errors[0]?.code;
}

async function pushBlob(r: Req, repo: string, b: Blob): Promise<void> {
  const res = await r(`/v2/${repo}/blobs/uploads/?digest=${b.digest}`, { method: 'POST', body: b.bytes });
  expect(res.status).toBe(201);
}

async function pushManifest(r: Req, repo: string, ref: string, m: Manifest): Promise<Response> {
  return r(`/v2/${repo}/manifests/${ref}`, { method: 'PUT', body: m.bytes, headers: { 'Content-Type': m.mediaType } });
}

const layer = blob('layer bytes');
const config = blob('{"os":"linux"}');
const image = imageManifest({ config: config.descriptor(MEDIA.imageConfig), layers: [layer.descriptor(MEDIA.layer)] });

function signature(
  n: number,
  artifactType: string = MEDIA.notarySignature,
  subject: Manifest = image,
): { envelope: Blob; manifest: Manifest } {
  const envelope = blob(`envelope ${n}`);
  const manifest = imageManifest({
    artifactType,
    config: EMPTY.descriptor(MEDIA.empty),
    layers: [envelope.descriptor(MEDIA.jws)],
    subject: subject.descriptor(),
    annotations: { n: String(n) },
  });
  return { envelope, manifest };
}

/** Pushes the image and its blobs into `repo`. */
async function seed(r: Req, repo: string): Promise<void> {
  for (const b of [layer, config, EMPTY]) await pushBlob(r, repo, b);
  expect((await pushManifest(r, repo, 'v1', image)).status).toBe(201);
}

describe('ReferrersRegistry', () => {
  let registry: ReferrersRegistry;
  let r: Req;
  const repo = 'library/app';
  beforeAll(async () => {
    registry = await ReferrersRegistry.start({ pageSize: 2 });
    r = client(registry.url);
    await seed(r, repo);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('answers GET /v2/ with the API version header', async () => {
    expect(registry.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await r('/v2/');
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });

  it('stores a monolithic blob push and serves it with digest and length', async () => {
    const b = blob('monolithic');
    await pushBlob(r, repo, b);
    const head = await r(`/v2/${repo}/blobs/${b.digest}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(b.digest);
    expect(head.headers.get('content-length')).toBe(String(b.bytes.length));
    expect(new Uint8Array(await (await r(`/v2/${repo}/blobs/${b.digest}`)).arrayBuffer())).toEqual(b.bytes);
    const wrong = await r(`/v2/${repo}/blobs/uploads/?digest=${blob('other').digest}`, {
      method: 'POST',
      body: b.bytes,
    });
    expect([wrong.status, await errorCode(wrong)]).toEqual([400, 'DIGEST_INVALID']);
  });

  it('takes a chunked upload honouring Content-Range', async () => {
    const b = blob('0123456789');
    const start = await r(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    expect(start.status).toBe(202);
    const location = start.headers.get('location')!;
    expect(location).toMatch(new RegExp(`^/v2/${repo}/blobs/uploads/[0-9a-f-]+$`));
    const first = await r(location, {
      method: 'PATCH',
      body: b.bytes.slice(0, 4),
      headers: { 'Content-Range': '0-3', 'Content-Type': 'application/octet-stream' },
    });
    expect([first.status, first.headers.get('range')]).toEqual([202, '0-3']);
    const gap = await r(location, { method: 'PATCH', body: b.bytes.slice(5), headers: { 'Content-Range': '5-9' } });
    expect([gap.status, await errorCode(gap)]).toEqual([416, 'BLOB_UPLOAD_INVALID']);
    const second = await r(first.headers.get('location')!, {
      method: 'PATCH',
      body: b.bytes.slice(4, 8),
      headers: { 'Content-Range': '4-7' },
    });
    expect(second.headers.get('range')).toBe('0-7');
    const status = await r(location);
    expect([status.status, status.headers.get('range')]).toEqual([204, '0-7']);
    const done = await r(`${location}?digest=${b.digest}`, { method: 'PUT', body: b.bytes.slice(8) });
    expect([done.status, done.headers.get('docker-content-digest'), done.headers.get('location')]).toEqual([
      201,
      b.digest,
      `/v2/${repo}/blobs/${b.digest}`,
    ]);
    expect(new Uint8Array(await (await r(`/v2/${repo}/blobs/${b.digest}`)).arrayBuffer())).toEqual(b.bytes);

    const again = (await r(`/v2/${repo}/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
    const bad = await r(`${again}?digest=${blob('not this').digest}`, { method: 'PUT', body: b.bytes });
    expect([bad.status, await errorCode(bad)]).toEqual([400, 'DIGEST_INVALID']);
    const gone = await r(again, { method: 'PATCH', body: b.bytes });
    expect([gone.status, await errorCode(gone)]).toEqual([404, 'BLOB_UPLOAD_UNKNOWN']);
  });

  it('serves manifests with their media type, digest and length; 404 MANIFEST_UNKNOWN otherwise', async () => {
    for (const ref of ['v1', image.digest]) {
      const res = await r(`/v2/${repo}/manifests/${ref}`, { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(MEDIA.manifest);
      expect(res.headers.get('docker-content-digest')).toBe(image.digest);
      expect(res.headers.get('content-length')).toBe(String(image.bytes.length));
    }
    expect(new Uint8Array(await (await r(`/v2/${repo}/manifests/v1`)).arrayBuffer())).toEqual(image.bytes);
    const missing = await r(`/v2/${repo}/manifests/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ errors: [{ code: 'MANIFEST_UNKNOWN' }] });
    const noBlob = await r(`/v2/${repo}/blobs/${blob('absent').digest}`);
    expect([noBlob.status, await errorCode(noBlob)]).toEqual([404, 'BLOB_UNKNOWN']);
  });

  it('validates manifest pushes: digest, blobs, index children', async () => {
    const wrongRef = await pushManifest(r, repo, digestOf(new Uint8Array([1])), image);
    expect([wrongRef.status, await errorCode(wrongRef)]).toEqual([400, 'DIGEST_INVALID']);
    const { manifest: orphan } = signature(99); // its envelope blob was never pushed
    const noBlob = await pushManifest(r, repo, 'orphan', orphan);
    expect([noBlob.status, await errorCode(noBlob)]).toEqual([400, 'MANIFEST_BLOB_UNKNOWN']);
    const index = await pushManifest(r, repo, 'idx', imageIndex([orphan.descriptor()]));
    expect([index.status, await errorCode(index)]).toEqual([400, 'MANIFEST_BLOB_UNKNOWN']);
    const mismatch = await r(`/v2/${repo}/manifests/x`, {
      method: 'PUT',
      body: image.bytes,
      headers: { 'Content-Type': MEDIA.index },
    });
    expect([mismatch.status, await errorCode(mismatch)]).toEqual([400, 'MANIFEST_INVALID']);
  });

  it('records subjects, answers OCI-Subject, and pages and filters referrers', async () => {
    const subject = imageManifest({ config: EMPTY.descriptor(MEDIA.empty), layers: [], annotations: { app: 'paged' } });
    expect((await pushManifest(r, repo, 'paged', subject)).status).toBe(201);
    const pushed: Manifest[] = [];
    for (let i = 0; i < 5; i++) {
      const { envelope, manifest } = signature(
        i,
        i % 2 === 0 ? MEDIA.notarySignature : 'application/vnd.example.sbom',
        subject,
      );
      await pushBlob(r, repo, envelope);
      const put = await pushManifest(r, repo, manifest.digest, manifest);
      expect(put.status).toBe(201);
      expect(put.headers.get('oci-subject')).toBe(subject.digest);
      expect(put.headers.get('location')).toBe(`/v2/${repo}/manifests/${manifest.digest}`);
      pushed.push(manifest);
    }

    const seen: {
      digest: string;
      artifactType: string;
      annotations: Record<string, string>;
      mediaType: string;
      size: number;
    }[] = [];
    let next: string | null = `/v2/${repo}/referrers/${subject.digest}`;
    let pages = 0;
    while (next !== null) {
      const res: Response = await r(next);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(MEDIA.index);
      const body = (await res.json()) as { schemaVersion: number; mediaType: string; manifests: typeof seen };
      expect(body).toMatchObject({ schemaVersion: 2, mediaType: MEDIA.index });
      seen.push(...body.manifests);
      pages++;
      const link = res.headers.get('link');
      next = link === null ? null : /^<([^>]+)>;\s*rel="next"$/.exec(link)![1]!;
      if (next !== null) expect(next).toMatch(/\?n=2&last=sha256%3A[0-9a-f]{64}$/);
    }
    expect(pages).toBe(3);
    expect(seen.map((d) => d.digest)).toEqual(pushed.map((m) => m.digest));
    expect(seen[1]).toEqual({
      mediaType: MEDIA.manifest,
      digest: pushed[1]!.digest,
      size: pushed[1]!.bytes.length,
      artifactType: 'application/vnd.example.sbom',
      annotations: { n: '1' },
    });

    const filtered = await r(
      `/v2/${repo}/referrers/${subject.digest}?artifactType=${encodeURIComponent(MEDIA.notarySignature)}`,
    );
    expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
    const first = (await filtered.json()) as { manifests: { annotations: { n: string } }[] };
    expect(first.manifests.map((d) => d.annotations.n)).toEqual(['0', '2']);
    const link = filtered.headers.get('link')!;
    expect(link).toContain('artifactType=application%2Fvnd.cncf.notary.signature');
    const rest = (await (await r(/<([^>]+)>/.exec(link)![1]!)).json()) as {
      manifests: { annotations: { n: string } }[];
    };
    expect(rest.manifests.map((d) => d.annotations.n)).toEqual(['4']);

    // Deleting a referrer removes it from the listing.
    expect((await r(`/v2/${repo}/manifests/${pushed[0]!.digest}`, { method: 'DELETE' })).status).toBe(202);
    const after = (await (await r(`/v2/${repo}/referrers/${subject.digest}?n=10`)).json()) as { manifests: unknown[] };
    expect(after.manifests).toHaveLength(2); // pageSize caps n
  });

  it('answers an empty index for a subject without referrers', async () => {
    const res = await r(`/v2/${repo}/referrers/${digestOf(new Uint8Array([7]))}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ schemaVersion: 2, mediaType: MEDIA.index, manifests: [] });
  });

  it('mounts across repositories, which are separate namespaces', async () => {
    expect((await r(`/v2/other/app/blobs/${layer.digest}`, { method: 'HEAD' })).status).toBe(404);
    const mounted = await r(`/v2/other/app/blobs/uploads/?mount=${layer.digest}&from=${repo}`, { method: 'POST' });
    expect([mounted.status, mounted.headers.get('location')]).toEqual([201, `/v2/other/app/blobs/${layer.digest}`]);
    expect((await r(`/v2/other/app/blobs/${layer.digest}`, { method: 'HEAD' })).status).toBe(200);
    const fallback = await r(`/v2/other/app/blobs/uploads/?mount=${blob('nowhere').digest}&from=${repo}`, {
      method: 'POST',
    });
    expect(fallback.status).toBe(202);
    expect(fallback.headers.get('location')).toMatch(/^\/v2\/other\/app\/blobs\/uploads\//);
  });

  it('lists tags with n/last pagination', async () => {
    for (const tag of ['a', 'b', 'c'])
      expect(
        (await pushManifest(r, 'tagged', tag, imageManifest({ config: EMPTY.descriptor(MEDIA.empty), layers: [] })))
          .status,
      ).toBe(400);
    await pushBlob(r, 'tagged', EMPTY);
    for (const tag of ['c', 'a', 'b'])
      expect(
        (await pushManifest(r, 'tagged', tag, imageManifest({ config: EMPTY.descriptor(MEDIA.empty), layers: [] })))
          .status,
      ).toBe(201);
    const page1 = await r('/v2/tagged/tags/list?n=2');
    expect(await page1.json()).toEqual({ name: 'tagged', tags: ['a', 'b'] });
    expect(page1.headers.get('link')).toBe('</v2/tagged/tags/list?n=2&last=b>; rel="next"');
    const page2 = await r('/v2/tagged/tags/list?n=2&last=b');
    expect([await page2.json(), page2.headers.get('link')]).toEqual([{ name: 'tagged', tags: ['c'] }, null]);
    const unknown = await r('/v2/nobody/tags/list');
    expect([unknown.status, await errorCode(unknown)]).toEqual([404, 'NAME_UNKNOWN']);
  });

  describe('fault injection', () => {
    it('answers 429 with Retry-After the given number of times, then succeeds', async () => {
      registry.resetLog();
      registry.fail({
        match: (m, p) => m === 'GET' && p.includes('/manifests/'),
        status: 429,
        retryAfter: '1',
        times: 2,
      });
      for (let i = 0; i < 2; i++) {
        const res = await r(`/v2/${repo}/manifests/v1`);
        expect([res.status, res.headers.get('retry-after'), await errorCode(res)]).toEqual([
          429,
          '1',
          'TOOMANYREQUESTS',
        ]);
      }
      expect((await r(`/v2/${repo}/manifests/v1`)).status).toBe(200);
      expect(registry.log.map((e) => e.status)).toEqual([429, 429, 200]);
      expect(registry.log[0]).toEqual({ method: 'GET', path: `/v2/${repo}/manifests/v1`, query: '', status: 429 });
    });

    it('delays answers', async () => {
      registry.fail({ match: (_, p) => p === '/v2/', delayMs: 150, times: 1 });
      const t0 = performance.now();
      expect((await r('/v2/')).status).toBe(200);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    });

    it('serves wrong bytes under the real headers', async () => {
      registry.fail({
        match: (_, p) => p.endsWith(`/blobs/${layer.digest}`),
        body: new TextEncoder().encode('tampered!'),
        times: 1,
      });
      const res = await r(`/v2/${repo}/blobs/${layer.digest}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('docker-content-digest')).toBe(layer.digest);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(digestOf(bytes)).not.toBe(layer.digest);
    });

    it('redirects blob GETs to /blobdata/<digest>, which serves the blob without auth', async () => {
      registry.resetLog();
      registry.fail({ match: (m, p) => m === 'GET' && p.includes('/blobs/sha256:'), status: 307 });
      const manual = await r(`/v2/${repo}/blobs/${layer.digest}`);
      expect([manual.status, manual.headers.get('location')]).toEqual([
        307,
        `${registry.url}/blobdata/${layer.digest}`,
      ]);
      const followed = await r(`/v2/${repo}/blobs/${layer.digest}`, { redirect: 'follow' });
      expect(followed.status).toBe(200);
      expect(new Uint8Array(await followed.arrayBuffer())).toEqual(layer.bytes);
      registry.clearFaults();
      expect(registry.log.map((e) => `${e.status} ${e.path}`)).toEqual([
        `307 /v2/${repo}/blobs/${layer.digest}`,
        `307 /v2/${repo}/blobs/${layer.digest}`,
        `200 /blobdata/${layer.digest}`,
      ]);
      expect((await r(`/v2/${repo}/blobs/${layer.digest}`)).status).toBe(200);
    });
  });
});

describe('ReferrersRegistry without the Referrers API or server-side filtering', () => {
  let tagSchema: ReferrersRegistry;
  let unfiltered: ReferrersRegistry;
  beforeAll(async () => {
    [tagSchema, unfiltered] = await Promise.all([
      ReferrersRegistry.start({ referrersApi: false }),
      ReferrersRegistry.start({ applyArtifactTypeFilter: false }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([tagSchema?.stop(), unfiltered?.stop()]);
  });

  it('referrersApi: false → 404 on /referrers/ and no OCI-Subject', async () => {
    const r = client(tagSchema.url);
    await seed(r, 'app');
    const { envelope, manifest } = signature(1);
    await pushBlob(r, 'app', envelope);
    const put = await pushManifest(r, 'app', manifest.digest, manifest);
    expect([put.status, put.headers.get('oci-subject')]).toEqual([201, null]);
    const res = await r(`/v2/app/referrers/${image.digest}`);
    expect([res.status, res.headers.get('content-type'), await res.text()]).toEqual([
      404,
      'text/plain; charset=utf-8',
      '404 page not found\n',
    ]);
  });

  it('applyArtifactTypeFilter: false → every referrer and no OCI-Filters-Applied', async () => {
    const r = client(unfiltered.url);
    await seed(r, 'app');
    for (const [i, type] of [
      [1, MEDIA.notarySignature],
      [2, 'application/vnd.example.sbom'],
    ] as const) {
      const { envelope, manifest } = signature(i, type);
      await pushBlob(r, 'app', envelope);
      expect((await pushManifest(r, 'app', manifest.digest, manifest)).status).toBe(201);
    }
    const res = await r(`/v2/app/referrers/${image.digest}?artifactType=${encodeURIComponent(MEDIA.notarySignature)}`);
    expect(res.headers.get('oci-filters-applied')).toBeNull();
    const body = (await res.json()) as { manifests: { artifactType: string }[] };
    expect(body.manifests.map((d) => d.artifactType)).toEqual([MEDIA.notarySignature, 'application/vnd.example.sbom']);
  });
});

describe('ReferrersRegistry over TLS with basic auth', () => {
  let registry: ReferrersRegistry;
  let agent: Agent;
  beforeAll(async () => {
    registry = await ReferrersRegistry.start({ tls: true, basicAuth: { alice: 'wonderland' } });
    agent = new Agent({ connect: { ca: registry.caPem ?? '' } });
  });
  afterAll(async () => {
    await agent?.close();
    await registry?.stop();
  });

  it('challenges without credentials and accepts the right ones', async () => {
    expect(registry.url).toMatch(/^https:\/\//);
    expect(registry.caFile).toBeDefined();
    const r = client(registry.url, { dispatcher: agent });
    const anon = await r('/v2/');
    expect([anon.status, anon.headers.get('www-authenticate'), await errorCode(anon)]).toEqual([
      401,
      'Basic realm="portcullis-referrers-registry"',
      'UNAUTHORIZED',
    ]);
    const wrong = await r('/v2/', {
      headers: { Authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    const ok = await r('/v2/', {
      headers: { Authorization: `Basic ${Buffer.from('alice:wonderland').toString('base64')}` },
    });
    expect(ok.status).toBe(200);
    await expect(client(registry.url)('/v2/')).rejects.toThrow(); // untrusted without the CA
  });
});
