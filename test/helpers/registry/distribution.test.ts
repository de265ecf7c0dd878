import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, fetch, type Dispatcher, type Response } from 'undici';
import { DistributionRegistry } from './distribution.js';
import {
  EMPTY,
  MEDIA,
  blob,
  imageIndex,
  imageManifest,
  manifest,
  referrersTag,
  type Blob,
  type Manifest,
} from './oci-fixtures.js';

// Plain undici requests only: these tests prove the harness, not src/registry.

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

interface Client {
  readonly url: string;
  headers?: Record<string, string>;
  dispatcher?: Dispatcher;
}

function req(
  c: Client,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: Uint8Array } = {},
) {
  const url = new URL(path, c.url);
  return fetch(url, {
    method: init.method ?? 'GET',
    headers: { ...c.headers, ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
    ...(c.dispatcher === undefined ? {} : { dispatcher: c.dispatcher }),
    redirect: 'manual',
  });
}

/** The two-step upload every distribution version supports: POST, then PUT ?digest= with the bytes. */
async function pushBlob(c: Client, repo: string, b: Blob): Promise<number> {
  const start = await req(c, `/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  if (start.status !== 202) return start.status;
  const location = new URL(start.headers.get('location') ?? '', c.url);
  location.searchParams.set('digest', b.digest);
  const put = await req(c, location.toString(), {
    method: 'PUT',
    body: b.bytes,
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  await put.arrayBuffer();
  return put.status;
}

function pushManifest(c: Client, repo: string, ref: string, m: Manifest) {
  return req(c, `/v2/${repo}/manifests/${ref}`, {
    method: 'PUT',
    body: m.bytes,
    headers: { 'Content-Type': m.mediaType },
  });
}

describe('DistributionRegistry (plain HTTP, no auth)', () => {
  let registry: DistributionRegistry;
  let c: Client;
  const repo = 'library/app';
  const layer = blob('image layer bytes');
  const config = blob('{"architecture":"amd64","os":"linux"}');
  const image = imageManifest({
    config: config.descriptor(MEDIA.imageConfig),
    layers: [layer.descriptor(MEDIA.layer)],
  });
  const envelope = blob('{"payload":"…","protected":"…","signature":"…"}');

  beforeAll(async () => {
    registry = await DistributionRegistry.start();
    c = { url: registry.url };
    expect(await pushBlob(c, repo, layer)).toBe(201);
    expect(await pushBlob(c, repo, config)).toBe(201);
    expect(await pushBlob(c, repo, envelope)).toBe(201);
    expect(await pushBlob(c, repo, EMPTY)).toBe(201);
    expect((await pushManifest(c, repo, 'v1', image)).status).toBe(201);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('restarts on the same port with the same storage (soak tests)', async () => {
    await registry.restart(100);
    const res = await req({ ...c, headers: { Accept: MEDIA.manifest } }, `/v2/${repo}/manifests/v1`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from(image.bytes));
  });

  it('answers GET /v2/ on 127.0.0.1', async () => {
    expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(registry.caPem).toBeUndefined();
    const res = await req(c, '/v2/');
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });

  it('accepts a notation 1.x signature manifest (empty config, artifactType, subject) and keeps its bytes', async () => {
    const sig = imageManifest({
      artifactType: MEDIA.notarySignature,
      config: EMPTY.descriptor(MEDIA.empty),
      layers: [envelope.descriptor(MEDIA.jws)],
      subject: image.descriptor(),
      annotations: { 'io.cncf.notary.x509chain.thumbprint#S256': '["abc"]' },
    });
    const put = await pushManifest(c, repo, sig.digest, sig);
    expect(put.status).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(sig.digest);
    expect(put.headers.get('oci-subject')).toBeNull(); // 2.8 knows nothing of subject
    const get = await req(c, `/v2/${repo}/manifests/${sig.digest}`, { headers: { Accept: MEDIA.manifest } });
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe(MEDIA.manifest);
    expect(new Uint8Array(await get.arrayBuffer())).toEqual(sig.bytes);
  });

  it('accepts the older notary config media type and COSE layers', async () => {
    const legacyConfig = blob('{}'); // same bytes as EMPTY; media type is what differs
    const cose = blob(new Uint8Array([0xd2, 0x84, 0x01, 0x02]));
    expect(await pushBlob(c, repo, cose)).toBe(201);
    const sig = imageManifest({
      config: legacyConfig.descriptor(MEDIA.notarySignature),
      layers: [cose.descriptor(MEDIA.cose)],
      subject: image.descriptor(),
    });
    expect((await pushManifest(c, repo, sig.digest, sig)).status).toBe(201);
  });

  it('accepts a subject that is not in the repository', async () => {
    const missing = imageManifest({
      config: EMPTY.descriptor(MEDIA.empty),
      layers: [],
      annotations: { x: 'not pushed' },
    });
    const sig = imageManifest({
      artifactType: MEDIA.notarySignature,
      config: EMPTY.descriptor(MEDIA.empty),
      layers: [envelope.descriptor(MEDIA.jws)],
      subject: missing.descriptor(),
    });
    expect((await pushManifest(c, repo, sig.digest, sig)).status).toBe(201);
  });

  it('rejects a manifest whose layer blob is missing with MANIFEST_BLOB_UNKNOWN', async () => {
    const sig = imageManifest({
      artifactType: MEDIA.notarySignature,
      config: EMPTY.descriptor(MEDIA.empty),
      layers: [blob('never pushed').descriptor(MEDIA.jws)],
      subject: image.descriptor(),
    });
    const put = await pushManifest(c, repo, sig.digest, sig);
    expect(put.status).toBe(400);
    const body = (await put.json()) as { errors: { code: string }[] };
    expect(body.errors[0]?.code).toBe('MANIFEST_BLOB_UNKNOWN');
  });

  it('has no Referrers API (404) but stores a tag-schema referrers index', async () => {
    const sig = imageManifest({
      artifactType: MEDIA.notarySignature,
      config: EMPTY.descriptor(MEDIA.empty),
      layers: [envelope.descriptor(MEDIA.jws)],
      subject: image.descriptor(),
      annotations: { n: 'tag-schema' },
    });
    expect((await pushManifest(c, repo, sig.digest, sig)).status).toBe(201);
    const referrers = await req(c, `/v2/${repo}/referrers/${image.digest}`, { headers: { Accept: MEDIA.index } });
    expect(referrers.status).toBe(404);
    expect(referrers.headers.get('content-type')).toMatch(/^text\/plain/); // router 404, not an error JSON
    await referrers.arrayBuffer();

    const index = imageIndex([
      { ...sig.descriptor(), artifactType: MEDIA.notarySignature, annotations: { n: 'tag-schema' } },
    ]);
    expect((await pushManifest(c, repo, referrersTag(image.digest), index)).status).toBe(201);
    const get = await req(c, `/v2/${repo}/manifests/${referrersTag(image.digest)}`, {
      headers: { Accept: MEDIA.index },
    });
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe(MEDIA.index);
    expect(get.headers.get('docker-content-digest')).toBe(index.digest);
    expect(new Uint8Array(await get.arrayBuffer())).toEqual(index.bytes);
  });

  it('rejects an OCI index whose children are not in the repository', async () => {
    const index = imageIndex([blob('no such manifest').descriptor(MEDIA.manifest)]);
    const put = await pushManifest(c, repo, 'dangling-index', index);
    expect(put.status).toBe(400);
    expect(((await put.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('MANIFEST_BLOB_UNKNOWN');
  });

  it('accepts layers: [] and a missing mediaType; rejects a Content-Type mismatch, artifact manifests and a wrong digest', async () => {
    const noLayers = imageManifest({
      artifactType: 'application/vnd.example',
      config: EMPTY.descriptor(MEDIA.empty),
      layers: [],
    });
    expect((await pushManifest(c, repo, 'no-layers', noLayers)).status).toBe(201);
    const noMediaType = manifest({
      schemaVersion: 2,
      config: EMPTY.descriptor(MEDIA.empty),
      layers: [envelope.descriptor(MEDIA.jws)],
    });
    expect((await pushManifest(c, repo, 'no-media-type', noMediaType)).status).toBe(201);

    const codes = async (res: Response) =>
      ((await res.json()) as { errors: { code: string }[] }).errors.map((e) => e.code);
    const mismatch = await req(c, `/v2/${repo}/manifests/mismatch`, {
      method: 'PUT',
      body: noLayers.bytes,
      headers: { 'Content-Type': MEDIA.index },
    });
    expect([mismatch.status, await codes(mismatch)]).toEqual([400, ['MANIFEST_INVALID']]);
    const artifact = manifest({
      mediaType: 'application/vnd.oci.artifact.manifest.v1+json',
      artifactType: MEDIA.notarySignature,
      blobs: [envelope.descriptor(MEDIA.jws)],
    });
    const art = await pushManifest(c, repo, 'artifact', artifact);
    expect([art.status, await codes(art)]).toEqual([400, ['MANIFEST_INVALID']]);
    const wrong = await pushManifest(c, repo, `sha256:${'0'.repeat(64)}`, noLayers);
    expect([wrong.status, await codes(wrong)]).toEqual([400, ['DIGEST_INVALID']]);
    const delTag = await req(c, `/v2/${repo}/manifests/no-layers`, { method: 'DELETE' });
    expect(delTag.status).toBe(400);
    await delTag.arrayBuffer();
  });

  it('hides OCI manifests (404 MANIFEST_UNKNOWN) from requests whose Accept lacks the OCI media type', async () => {
    const bare = await req(c, `/v2/${repo}/manifests/${image.digest}`);
    expect(bare.status).toBe(404);
    expect(((await bare.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('MANIFEST_UNKNOWN');
    const head = await req(c, `/v2/${repo}/manifests/v1`, {
      method: 'HEAD',
      headers: { Accept: `${MEDIA.manifest}, ${MEDIA.index}` },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(image.digest);
    expect(head.headers.get('content-length')).toBe(String(image.bytes.length));
  });

  it('does not implement single-request POST ?digest= uploads (202, body ignored)', async () => {
    const b = blob('monolithic attempt');
    const res = await req(c, `/v2/${repo}/blobs/uploads/?digest=${b.digest}`, { method: 'POST', body: b.bytes });
    expect(res.status).toBe(202);
    const head = await req(c, `/v2/${repo}/blobs/${b.digest}`, { method: 'HEAD' });
    expect(head.status).toBe(404);
  });

  it('mounts a blob from another repository (201) and answers 202 when it cannot', async () => {
    const mounted = await req(c, `/v2/other/app/blobs/uploads/?mount=${layer.digest}&from=${repo}`, { method: 'POST' });
    expect(mounted.status).toBe(201);
    expect(mounted.headers.get('location')).toContain(`/v2/other/app/blobs/${layer.digest}`);
    const notThere = await req(c, `/v2/other/app/blobs/uploads/?mount=${blob('nowhere').digest}&from=${repo}`, {
      method: 'POST',
    });
    expect(notThere.status).toBe(202);
  });
});

describe('DistributionRegistry (TLS)', () => {
  let registry: DistributionRegistry;
  let agent: Agent;
  beforeAll(async () => {
    registry = await DistributionRegistry.start({ tls: true });
    agent = new Agent({ connect: { ca: registry.caPem ?? '' } });
  });
  afterAll(async () => {
    await agent?.close();
    await registry?.stop();
  });

  it('serves HTTPS with a certificate from its own CA', async () => {
    expect(registry.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(registry.caPem).toContain('BEGIN CERTIFICATE');
    expect(registry.caFile).toBeDefined();
    const res = await req({ url: registry.url, dispatcher: agent }, '/v2/');
    expect(res.status).toBe(200);
    await expect(req({ url: registry.url }, '/v2/')).rejects.toThrow(); // not trusted without the CA
  });

  it('serves localhost too', async () => {
    const res = await req({ url: registry.url.replace('127.0.0.1', 'localhost'), dispatcher: agent }, '/v2/');
    expect(res.status).toBe(200);
  });
});

describe('DistributionRegistry (basic auth)', () => {
  let registry: DistributionRegistry;
  beforeAll(async () => {
    registry = await DistributionRegistry.start({ auth: 'basic', users: { alice: 'wonderland', bob: 'builder' } });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('answers 401 with a Basic challenge without credentials', async () => {
    const res = await req({ url: registry.url }, '/v2/');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="portcullis-test"/);
  });

  it('answers 200 with the right password and 401 with a wrong one', async () => {
    expect((await req({ url: registry.url, headers: { Authorization: basic('bob', 'builder') } }, '/v2/')).status).toBe(
      200,
    );
    expect((await req({ url: registry.url, headers: { Authorization: basic('bob', 'nope') } }, '/v2/')).status).toBe(
      401,
    );
  });

  it('lets an authenticated user push', async () => {
    expect(
      await pushBlob(
        { url: registry.url, headers: { Authorization: basic('alice', 'wonderland') } },
        'team/app',
        blob('x'),
      ),
    ).toBe(201);
  });
});

describe('DistributionRegistry (token auth)', () => {
  let registry: DistributionRegistry;
  beforeAll(async () => {
    registry = await DistributionRegistry.start({
      auth: 'token',
      users: { alice: 'wonderland', bob: 'builder' },
      // bob may only pull; anonymous may pull public/*.
      permissions: (user, repo) =>
        user === 'alice' ? ['pull', 'push'] : user === 'bob' || repo.startsWith('public/') ? ['pull'] : [],
    });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  async function token(
    scope: string,
    auth?: string,
  ): Promise<{ status: number; token?: string; claims?: Record<string, unknown> }> {
    const ts = registry.tokenServer!;
    const url = new URL(ts.realm);
    url.searchParams.set('service', 'portcullis-test-registry');
    url.searchParams.set('scope', scope);
    const res = await fetch(url, { headers: auth === undefined ? {} : { Authorization: auth } });
    if (res.status !== 200) return { status: res.status };
    const body = (await res.json()) as { token: string; access_token: string; expires_in: number; issued_at: string };
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBeGreaterThan(0);
    const claims = JSON.parse(Buffer.from(body.token.split('.')[1] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    return { status: 200, token: body.token, claims };
  }

  it('challenges with a Bearer realm, service and scope', async () => {
    const res = await req({ url: registry.url }, '/v2/team/app/tags/list');
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain(`Bearer realm="${registry.tokenServer!.realm}"`);
    expect(challenge).toContain('service="portcullis-test-registry"');
    expect(challenge).toContain('scope="repository:team/app:pull"');
  });

  it('accepts a token from the token server', async () => {
    const before = registry.tokenServer!.requests;
    const t = await token('repository:team/app:pull,push', basic('alice', 'wonderland'));
    expect(registry.tokenServer!.requests).toBe(before + 1);
    expect(t.claims).toMatchObject({
      sub: 'alice',
      aud: 'portcullis-test-registry',
      iss: 'portcullis-test-token-issuer',
      access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }],
    });
    const c: Client = { url: registry.url, headers: { Authorization: `Bearer ${t.token}` } };
    expect(await pushBlob(c, 'team/app', blob('pushed with a token'))).toBe(201);
    const tags = await req(c, '/v2/team/app/tags/list');
    expect(tags.status).toBe(404); // authorised; nothing tagged yet
  });

  it('a token without push cannot push', async () => {
    const t = await token('repository:team/app:pull,push', basic('bob', 'builder'));
    expect(t.claims?.access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    const res = await req(
      { url: registry.url, headers: { Authorization: `Bearer ${t.token}` } },
      '/v2/team/app/blobs/uploads/',
      { method: 'POST' },
    );
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('anonymous tokens carry only what permissions(undefined) allows', async () => {
    const priv = await token('repository:team/app:pull');
    expect(priv.claims?.access).toEqual([{ type: 'repository', name: 'team/app', actions: [] }]);
    expect(priv.claims?.sub).toBe('');
    const pub = await token('repository:public/app:pull,push');
    expect(pub.claims?.access).toEqual([{ type: 'repository', name: 'public/app', actions: ['pull'] }]);
    const res = await req(
      { url: registry.url, headers: { Authorization: `Bearer ${pub.token}` } },
      '/v2/public/app/manifests/latest',
    );
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('MANIFEST_UNKNOWN');
  });

  it('the token server refuses a wrong password and a wrong service', async () => {
    expect((await token('repository:team/app:pull', basic('alice', 'nope'))).status).toBe(401);
    expect((await token('repository:team/app:pull', basic('mallory', 'x'))).status).toBe(401);
    const res = await fetch(`${registry.tokenServer!.realm}?service=other&scope=repository:a:pull`);
    expect(res.status).toBe(400);
  });
});
