import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigDir, cli } from '../../test/helpers/cli.js';
import { freePort } from '../../test/helpers/registry/free-port.js';
import { ReferrersRegistry } from '../../test/helpers/registry/referrers-registry.js';
import { pushCraftedSignature, pushImage } from '../../test/helpers/registry/seed.js';
import { PromMetrics } from '../metrics/index.js';
import { API_VERSION, buildSnapshot, type PolicySnapshot } from '../policyset/index.js';
import { BodyBudget, HostResolver, RegistryClient } from '../registry/index.js';
import { startOperation } from '../registry/operation.js';
import { TestDnsServer } from '../../test/helpers/dns-server.js';
import { Executor } from './executor.js';
import { observeRegistryRequests } from './metrics.js';
import type { ExecutorOptions } from './options.js';
import type { ImageCheckRequest, ImageDecision } from './types.js';

type Obj = Record<string, unknown>;

// --- policy resources --------------------------------------------------------------------------

function notary(stores: string[], opts: { level?: string; scopes?: string[]; name?: string } = {}): Obj {
  const level = opts.level ?? 'strict';
  return {
    version: '1.0',
    trustPolicies: [
      {
        name: opts.name ?? 'signed',
        registryScopes: opts.scopes ?? ['*'],
        signatureVerification: { level },
        ...(level === 'skip' ? {} : { trustStores: stores, trustedIdentities: ['*'] }),
      },
    ],
  };
}
const clusterStore = (name: string, pem: string): Obj => ({
  apiVersion: API_VERSION,
  kind: 'ClusterTrustStore',
  metadata: { name },
  spec: { type: 'ca', certificates: pem },
});
const clusterPolicy = (name: string, spec: Obj): Obj => ({
  apiVersion: API_VERSION,
  kind: 'ClusterTrustPolicy',
  metadata: { name },
  spec,
});
const nsPolicy = (ns: string, name: string, spec: Obj): Obj => ({
  apiVersion: API_VERSION,
  kind: 'TrustPolicy',
  metadata: { name, namespace: ns },
  spec,
});
const namespace = (name: string, labels: Record<string, string>): Obj => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});

/**
 * The decision when the executor has it at once (a warm walk: no promise), else 'waits' (after letting the walk
 * finish).
 */
async function atOnce(e: Executor, request: ImageCheckRequest): Promise<ImageDecision | 'waits'> {
  const decided = e.decide({ ...request, images: [request.image] });
  if (decided instanceof Promise) {
    await decided;
    return 'waits';
  }
  return decided.get(request.image) as ImageDecision;
}

let revision = 0;
const snapshotOf = (resources: unknown[]): PolicySnapshot => {
  const s = buildSnapshot({ resources, revision: ++revision });
  return s;
};

// --- shared fixtures ---------------------------------------------------------------------------

const signer = new ConfigDir();
const stranger = new ConfigDir();
let acmePem: string;
let strangerPem: string;
let registry: ReferrersRegistry;
let client: RegistryClient;
let metrics: PromMetrics;

async function sign(ref: string, who: ConfigDir = signer): Promise<void> {
  const r = await cli(['sign', '--config-dir', who.path, ref]);
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.status).toBe(0);
}

let repoCounter = 0;
/** A fresh repository with one image under tag v1; signed by `who` unless null. */
async function image(
  who: ConfigDir | null = signer,
  tag = 'v1',
): Promise<{ ref: string; repo: string; digest: string }> {
  const repo = `app${++repoCounter}`;
  const d = await pushImage(client, { registry: registry.host, repository: repo }, tag, `${repo}-${tag}`);
  const ref = `${registry.host}/${repo}:${tag}`;
  if (who !== null) await sign(ref, who);
  return { ref, repo, digest: d.digest };
}

function baseline(): unknown[] {
  return [
    namespace('secured', { enforce: 'true' }),
    namespace('open', {}),
    clusterStore('acme', acmePem),
    clusterStore('stranger', strangerPem),
    clusterPolicy('baseline', { namespaceSelector: { matchLabels: { enforce: 'true' } }, ...notary(['ca:acme']) }),
  ];
}

function executor(extra: Partial<ExecutorOptions> = {}, resources: unknown[] = baseline()): Executor {
  const e = new Executor({ registry: extra.registry ?? client, metrics, ...extra });
  e.setSnapshot(snapshotOf(resources));
  return e;
}

const req = (
  image: string,
  namespace = 'secured',
  ms = 5000,
  extra: Partial<ImageCheckRequest> = {},
): ImageCheckRequest => ({
  image,
  namespace,
  deadline: Date.now() + ms,
  ...extra,
});

beforeAll(async () => {
  expect((await cli(['cert', 'generate-test', '--config-dir', signer.path, '--key-type', 'ec', 'acme'])).status).toBe(
    0,
  );
  expect(
    (await cli(['cert', 'generate-test', '--config-dir', stranger.path, '--key-type', 'ec', 'stranger'])).status,
  ).toBe(0);
  acmePem = readFileSync(join(signer.path, 'localkeys/acme.crt'), 'utf8');
  strangerPem = readFileSync(join(stranger.path, 'localkeys/stranger.crt'), 'utf8');
  registry = await ReferrersRegistry.start();
  metrics = new PromMetrics({ processMetrics: false });
  client = new RegistryClient({ onRequest: observeRegistryRequests(metrics) });
});
afterAll(async () => {
  await client?.close();
  await registry?.stop();
  signer.cleanup();
  stranger.cleanup();
});
beforeEach(() => registry.clearFaults());

describe('readiness and snapshots', () => {
  it('is ready once the first snapshot arrives, and keeps the newest', () => {
    const e = new Executor({ registry: client });
    expect(e.ready()).toBe(false);
    const first = snapshotOf(baseline());
    const second = snapshotOf(baseline());
    e.setSnapshot(second);
    e.setSnapshot(first); // late, older: ignored
    expect(e.ready()).toBe(true);
    expect(e.snapshot).toBe(second);
  });

  it('without a snapshot, the failure policy decides and says why', async () => {
    const d = await new Executor({ registry: client }).check(req('x/y:1'));
    expect(d.allowed).toBe(false);
    expect(d.error).toMatchObject({ failurePolicyApplied: 'fail' });
    expect(d.error?.message).toContain('not ready');
  });
});

describe('verdicts', () => {
  it('allows a signed image, with its digest and pinned reference', async () => {
    const img = await image();
    const d = await executor().check(req(img.ref));
    expect(d).toMatchObject({
      allowed: true,
      digest: img.digest,
      pinned: `${registry.host}/${img.repo}@${img.digest}`,
    });
    expect(d.verdicts).toHaveLength(1);
    expect(d.verdicts[0]).toMatchObject({
      policy: 'ClusterTrustPolicy baseline',
      enforcementAction: 'deny',
      verified: true,
      statement: 'signed',
      failedCheck: null,
      code: null,
    });
    expect(d.error).toBeUndefined();
    expect(d.warnings).toEqual([]);
  });

  it('lists the signatures of a digest-pinned image while its manifest HEAD is in flight (three round trips in sequence, not four)', async () => {
    const img = await image();
    const pinned = `${registry.host}/${img.repo}@${img.digest}`;
    const head = `/v2/${img.repo}/manifests/${img.digest}`;
    let headPendingAtListing: boolean | undefined;
    registry.fail({ match: (method, path) => method === 'HEAD' && path === head, delayMs: 300, times: 1 });
    registry.fail({
      // Never applies (no `times` consumed): it only looks at the log when the listing arrives.
      match: (method, path) => {
        if (method === 'GET' && path === `/v2/${img.repo}/referrers/${img.digest}`)
          headPendingAtListing = registry.log.some((l) => l.method === 'HEAD' && l.path === head && l.status === 0);
        return false;
      },
    });
    registry.resetLog();
    const d = await executor().check(req(pinned));
    registry.clearFaults();
    expect(d.allowed).toBe(true);
    expect(headPendingAtListing).toBe(true);
    // Still one request per object: the verification found the listing, it did not list again.
    const listings = registry.log.filter((l) => l.path === `/v2/${img.repo}/referrers/${img.digest}`);
    expect(listings.filter((l) => l.status === 200)).toHaveLength(1);
  });

  it('resolves a digest-pinned image with one HEAD (its media type and size), cached by digest', async () => {
    const img = await image();
    const e = executor();
    const pinned = `${registry.host}/${img.repo}@${img.digest}`;
    registry.resetLog();
    const d = await e.check(req(pinned));
    expect(d.allowed).toBe(true);
    expect(registry.log.filter((l) => l.method === 'HEAD').map((l) => l.path)).toEqual([
      `/v2/${img.repo}/manifests/${img.digest}`,
    ]);
    // Warm: the verdict and the digest's descriptor are cached; decided() answers, nothing is asked.
    registry.resetLog();
    expect(await atOnce(e, req(pinned))).toMatchObject({ allowed: true, digest: img.digest });
    expect((await e.check(req(`${registry.host}/${img.repo}:v1@${img.digest}`))).allowed).toBe(true);
    expect(registry.log).toEqual([]);
  });

  // The spec's payload match is media type, digest and size: a digest-pinned reference once
  // skipped the first and the last, and this signature (right digest, an index media type,
  // size 999) verified through `repo@sha256:…` while it failed through the tag.
  it('denies a digest-pinned image whose signed payload names another media type or size', async () => {
    const img = await image(null);
    const subject = await client.resolve({ registry: registry.host, repository: img.repo, digest: img.digest });
    const payload = new TextEncoder().encode(
      JSON.stringify({
        targetArtifact: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: img.digest, size: 999 },
      }),
    );
    const key = readFileSync(join(signer.path, 'localkeys/acme.key'), 'utf8');
    await pushCraftedSignature(
      client,
      { registry: registry.host, repository: img.repo },
      subject,
      { keyPem: key, certPem: acmePem },
      payload,
    );
    for (const ref of [`${registry.host}/${img.repo}@${img.digest}`, img.ref]) {
      const d = await executor().check(req(ref));
      expect(d.allowed, ref).toBe(false);
      expect(d.verdicts[0]).toMatchObject({ failedCheck: 'integrity', code: 'ERR_PAYLOAD_MISMATCH' });
      expect(d.reason).toContain('999 bytes');
    }
  });

  it('tells a digest that does not exist ("manifest not found") from an image without a signature', async () => {
    const unsigned = await image(null);
    const missing = `sha256:${'0'.repeat(64)}`;
    const e = executor();
    const gone = await e.check(req(`${registry.host}/${unsigned.repo}@${missing}`));
    expect(gone.allowed).toBe(false);
    expect(gone.verdicts[0]?.code).toBe('ERR_REGISTRY_NOT_FOUND');
    expect(gone.reason).toContain(`manifest ${missing} not found`);
    expect(gone.reason).not.toContain('no signature');
    const d = await e.check(req(`${registry.host}/${unsigned.repo}@${unsigned.digest}`));
    expect(d.verdicts[0]?.code).toBe('ERR_NO_SIGNATURE');
  });

  it('denies an unsigned image with an actionable reason', async () => {
    const img = await image(null);
    const d = await executor().check(req(img.ref));
    expect(d.allowed).toBe(false);
    expect(d.error).toBeUndefined();
    expect(d.verdicts[0]).toMatchObject({ verified: false, code: 'ERR_NO_SIGNATURE', enforcementAction: 'deny' });
    expect(d.reason).toContain('ClusterTrustPolicy baseline statement "signed"');
    expect(d.reason).toContain('[ERR_NO_SIGNATURE]');
    expect(d.reason).toContain(img.digest);
  });

  it('denies an image signed by an untrusted signer, naming the failed check', async () => {
    const img = await image(stranger);
    const d = await executor().check(req(img.ref));
    expect(d.allowed).toBe(false);
    expect(d.verdicts[0]).toMatchObject({ verified: false, failedCheck: 'authenticity' });
    expect(d.verdicts[0]?.code).toMatch(/^ERR_/);
    expect(d.reason).toContain('authenticity failed');
  });

  it('denies an invalid reference with ERR_REF_INVALID', async () => {
    const d = await executor().check(req('Not A Reference'));
    expect(d.allowed).toBe(false);
    expect(d.reason).toContain('[ERR_REF_INVALID]');
  });

  it('a warn document never denies but leaves a verdict for the warning; dryrun only records', async () => {
    const img = await image(null);
    const resources = [
      ...baseline(),
      namespace('team', {}),
      nsPolicy('team', 'warned', { enforcementAction: 'warn', ...notary(['ca:acme']) }),
      nsPolicy('team', 'trial', { enforcementAction: 'dryrun', ...notary(['ca:acme']) }),
    ];
    const d = await executor({}, resources).check(req(img.ref, 'team'));
    expect(d.allowed).toBe(true);
    expect(d.error).toBeUndefined();
    expect(d.verdicts.map((v) => [v.policy, v.enforcementAction, v.verified, v.code])).toEqual([
      ['TrustPolicy team/trial', 'dryrun', false, 'ERR_NO_SIGNATURE'],
      ['TrustPolicy team/warned', 'warn', false, 'ERR_NO_SIGNATURE'],
    ]);
    expect(d.warnings).toEqual([]);
  });

  it('a namespace policy can restrict the cluster baseline but never loosen it', async () => {
    const acmeSigned = await image();
    const unsigned = await image(null);
    const resources = [
      ...baseline(),
      // Stricter: only the stranger's signatures are trusted in "secured".
      nsPolicy('secured', 'only-stranger', notary(['ca:stranger'])),
      // Looser: "skip" in "secured".
      nsPolicy('secured', 'anything-goes', notary([], { level: 'skip' })),
    ];
    const e = executor({}, resources);
    const stricter = await e.check(req(acmeSigned.ref));
    expect(stricter.allowed).toBe(false);
    expect(stricter.verdicts.map((v) => [v.policy, v.verified])).toEqual([
      ['ClusterTrustPolicy baseline', true],
      ['TrustPolicy secured/anything-goes', true],
      ['TrustPolicy secured/only-stranger', false],
    ]);
    expect(stricter.reason).toContain('TrustPolicy secured/only-stranger');
    expect(stricter.reason).not.toContain('baseline');

    const looser = await e.check(req(unsigned.ref));
    expect(looser.allowed).toBe(false);
    expect(looser.reason).toContain('ClusterTrustPolicy baseline');
    expect(looser.verdicts.find((v) => v.policy === 'TrustPolicy secured/anything-goes')).toMatchObject({
      verified: true,
    });
  });

  it('an invalid namespace policy blocks its namespace with its reason, without registry traffic', async () => {
    const img = await image();
    const resources = [namespace('broken', {}), nsPolicy('broken', 'typo', notary(['ca:does-not-exist']))];
    registry.resetLog();
    const d = await executor({}, resources).check(req(img.ref, 'broken'));
    expect(d.allowed).toBe(false);
    expect(d.verdicts).toHaveLength(1);
    expect(d.verdicts[0]).toMatchObject({
      policy: 'TrustPolicy broken/typo',
      enforcementAction: 'deny',
      verified: false,
      code: 'ERR_TRUSTSTORE_NOT_FOUND',
    });
    expect(d.reason).toContain('invalid');
    expect(d.reason).toContain('does-not-exist');
    expect(registry.log).toEqual([]);
  });

  it('an invalid warn policy only warns', async () => {
    const img = await image();
    const resources = [
      namespace('broken', {}),
      nsPolicy('broken', 'typo', { enforcementAction: 'warn', ...notary(['ca:nope']) }),
    ];
    const d = await executor({}, resources).check(req(img.ref, 'broken'));
    expect(d.allowed).toBe(true);
    expect(d.verdicts[0]).toMatchObject({ enforcementAction: 'warn', verified: false });
  });

  it('a namespace no policy covers is not enforced, unless deny-by-default is configured', async () => {
    const img = await image(null);
    registry.resetLog();
    expect(await executor().check(req(img.ref, 'open'))).toEqual({
      image: img.ref,
      allowed: true,
      verdicts: [],
      warnings: [],
    });
    expect(registry.log).toEqual([]);
    const d = await executor({ denyUnmatchedNamespaces: true }).check(req(img.ref, 'open'));
    expect(d.allowed).toBe(false);
    expect(d.reason).toContain('no trust policy covers namespace "open"');
    expect(d.reason).toContain('[ERR_POLICY_NOT_FOUND]');
  });

  it('a namespace no policy covers does not even read the image string: empty and invalid images are admitted', async () => {
    const e = executor();
    for (const image of ['', 'Not A Reference', ' ', 'UPPER CASE/x:1', 'a'.repeat(5000)]) {
      expect(await atOnce(e, req(image, 'open')), JSON.stringify(image.slice(0, 20))).toEqual({
        image,
        allowed: true,
        verdicts: [],
        warnings: [],
      });
      expect(await e.check(req(image, 'open'))).toEqual({ image, allowed: true, verdicts: [], warnings: [] });
      // with pull secrets too: nothing to fetch, so nothing to wait for
      expect(
        ((await atOnce(e, req(image, 'open', 5000, { pullSecretNames: ['regcred'] }))) as ImageDecision).allowed,
      ).toBe(true);
    }
    // where a policy applies, the same strings are denied, saying why
    expect((await e.check(req('', 'secured'))).reason).toBe(
      'no image is named, so nothing can be verified [ERR_REF_INVALID]',
    );
    expect((await e.check(req('Not A Reference', 'secured'))).allowed).toBe(false);
    // deny-by-default denies them as it denies every image no policy covers
    expect((await executor({ denyUnmatchedNamespaces: true }).check(req('', 'open'))).reason).toContain(
      '[ERR_POLICY_NOT_FOUND]',
    );
  });

  it('a document without a statement for the repository does not apply to the image', async () => {
    const img = await image(null);
    const resources = [
      namespace('scoped', {}),
      clusterStore('acme', acmePem),
      clusterPolicy('other-registry', notary(['ca:acme'], { scopes: ['registry.example/app'] })),
    ];
    const d = await executor({}, resources).check(req(img.ref, 'scoped'));
    expect(d).toEqual({ image: img.ref, allowed: true, verdicts: [], warnings: [] });
    const strict = await executor({ denyUnmatchedNamespaces: true }, resources).check(req(img.ref, 'scoped'));
    expect(strict.allowed).toBe(false);
    expect(strict.reason).toContain('[ERR_POLICY_NO_MATCH]');
    // …while a matching scope applies.
    const matching = [
      ...resources,
      clusterPolicy('this-registry', notary(['ca:acme'], { scopes: [`${registry.host}/${img.repo}`] })),
    ];
    const applies = await executor({}, matching).check(req(img.ref, 'scoped'));
    expect(applies.allowed).toBe(false);
    expect(applies.verdicts.map((v) => v.policy)).toEqual(['ClusterTrustPolicy this-registry']);
  });
});

/**
 * Docker Hub's names and the implicit `library/`, folded as the container runtime folds them:
 * every spelling of docker.io/library/nginx is decided by the statement scoped to it, never by
 * the `*` skip fallback. A stand-in registry answers (this suite has no Docker Hub) and records
 * what was asked, so the test also shows that one canonical name keys the registry calls.
 */
describe('canonical references (Docker Hub)', () => {
  const digest = `sha256:${'1'.repeat(64)}`;
  const asked: string[] = [];
  const hub = {
    resolve: async (ref: { registry: string; repository: string; tag?: string; digest?: string }) => {
      asked.push(`${ref.registry}/${ref.repository}`);
      return { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: ref.digest ?? digest, size: 517 };
    },
    listReferrers: async (repo: { registry: string; repository: string }) => {
      asked.push(`${repo.registry}/${repo.repository}`);
      return [];
    },
  } as unknown as RegistryClient;
  const resources = (): unknown[] => [
    namespace('secured', { enforce: 'true' }),
    clusterStore('acme', acmePem),
    clusterPolicy('scoped', {
      namespaceSelector: { matchLabels: { enforce: 'true' } },
      version: '1.0',
      trustPolicies: [
        {
          name: 'ours',
          registryScopes: ['docker.io/nginx'],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:acme'],
          trustedIdentities: ['*'],
        },
        { name: 'others', registryScopes: ['*'], signatureVerification: { level: 'skip' } },
      ],
    }),
  ];

  it.each([
    'nginx',
    'nginx:latest',
    'library/nginx',
    'docker.io/nginx',
    'docker.io/library/nginx',
    'index.docker.io/nginx',
    'index.docker.io/library/nginx:latest',
    'registry-1.docker.io/library/nginx',
    'DOCKER.IO/library/nginx',
    'Index.Docker.IO/library/nginx',
    `nginx@${digest}`,
  ])('%s is decided by the statement scoped to docker.io/library/nginx', async (written) => {
    asked.length = 0;
    const d = await executor({ registry: hub }, resources()).check(req(written));
    expect(d.allowed).toBe(false);
    expect(d.verdicts[0]).toMatchObject({ statement: 'ours', code: 'ERR_NO_SIGNATURE' });
    expect(d.canonical).toMatch(/^docker\.io\/library\/nginx[:@]/);
    expect(new Set(asked)).toEqual(new Set(['docker.io/library/nginx']));
  });

  it.each(['registry-1.docker.io/nginx', 'DOCKER.IO/nginx'])(
    '%s, which the runtime may read as docker.io/nginx, is refused without a registry request',
    async (written) => {
      asked.length = 0;
      const d = await executor({ registry: hub }, resources()).check(req(written));
      expect(d.allowed).toBe(false);
      expect(d.reason).toContain('[ERR_REF_AMBIGUOUS]');
      expect(d.reason).toContain('docker.io/library/nginx');
      expect(asked).toEqual([]);
    },
  );

  it('a skip statement still admits other repositories (the fallback is real)', async () => {
    expect((await executor({ registry: hub }, resources()).check(req('docker.io/library/busybox'))).allowed).toBe(true);
  });
});

describe('caches and single flight', () => {
  it('a second check is served from the caches: no registry request', async () => {
    const img = await image();
    const e = executor();
    expect((await e.check(req(img.ref))).allowed).toBe(true);
    registry.resetLog();
    const again = await e.check(req(img.ref));
    expect(again.allowed).toBe(true);
    expect(again.digest).toBe(img.digest);
    expect(registry.log).toEqual([]);
    const text = await metrics.render();
    expect(text).toMatch(/cache_lookups_total\{cache="tag",result="hit"\} [1-9]/);
    expect(text).toMatch(/cache_lookups_total\{cache="verdict",result="hit"\} [1-9]/);
    expect(text).toMatch(/verification_results_total\{check="authenticity",status="passed"\} [1-9]/);
    expect(text).toMatch(/registry_requests_total\{host="127\.0\.0\.1:\d+",status="200"\} [1-9]/);
  });

  it('one walk answers a cached verdict without waiting: the same decision as the walk that waited, counted once', async () => {
    const img = await image();
    const m = new PromMetrics({ processMetrics: false });
    const e = executor({ metrics: m });
    const hits = (text: string, cache: string, result = 'hit'): number =>
      Number(new RegExp(`cache_lookups_total\\{cache="${cache}",result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    expect(await atOnce(e, req(img.ref))).toBe('waits'); // nothing cached yet: the walk waits for the registry
    // and it looked each cache up once: one miss each, no hit
    const cold = await m.render();
    expect([
      hits(cold, 'tag', 'miss'),
      hits(cold, 'verdict', 'miss'),
      hits(cold, 'tag'),
      hits(cold, 'verdict'),
    ]).toEqual([1, 1, 0, 0]);
    const first = await e.check(req(img.ref));
    const before = await m.render();
    registry.resetLog();
    const fast = await atOnce(e, req(img.ref));
    expect(fast).toEqual(first);
    expect(registry.log).toEqual([]);
    const after = await m.render();
    expect(hits(after, 'tag') - hits(before, 'tag')).toBe(1);
    expect(hits(after, 'verdict') - hits(before, 'verdict')).toBe(1);
    // Immediate decisions (invalid reference, namespace without policies) need no wait either.
    expect(await atOnce(e, req('Not A Reference'))).toEqual(await e.check(req('Not A Reference')));
    expect(await atOnce(e, req(img.ref, 'open'))).toEqual({
      image: img.ref,
      allowed: true,
      verdicts: [],
      warnings: [],
    });
    // Pull secrets to resolve: only check() can answer.
    expect(await atOnce(e, req(img.ref, 'secured', 5000, { pullSecretNames: ['regcred'] }))).toBe('waits');
  });

  it('a burst of 200 concurrent checks of a new image costs one request per registry object', async () => {
    const img = await image();
    const e = executor();
    registry.resetLog();
    const decisions = await Promise.all(Array.from({ length: 200 }, () => e.check(req(img.ref, 'secured', 20_000))));
    expect(decisions.every((d) => d.allowed)).toBe(true);
    const requests = registry.log.map((l) => `${l.method} ${l.path.replace(/sha256:[0-9a-f]{64}/g, 'D')}`).sort();
    expect(requests).toEqual([
      'GET /v2/' + img.repo + '/blobs/D',
      'GET /v2/' + img.repo + '/manifests/D',
      'GET /v2/' + img.repo + '/referrers/D',
      'HEAD /v2/' + img.repo + '/manifests/v1',
    ]);
  });

  it('negative verdicts are kept for the short TTL only (injected clock)', async () => {
    let now = Date.now();
    const img = await image(null);
    const e = executor({ now: () => now });
    const check = (): Promise<ImageDecision> => e.check({ image: img.ref, namespace: 'secured', deadline: now + 5000 });
    expect((await check()).allowed).toBe(false);
    await sign(img.ref);
    registry.resetLog();
    now += 10_000;
    expect((await check()).verdicts[0]?.code).toBe('ERR_NO_SIGNATURE'); // cached
    expect(registry.log).toEqual([]);
    now += 25_000; // past the 30 s negative TTL (and the empty referrer list's)
    const fixed = await check();
    expect(fixed.allowed).toBe(true);
  });

  it('bytes a registry served that do not match their digest deny once but are not remembered as a verdict', async () => {
    const img = await image();
    const e = executor();
    registry.fail({
      match: (method, path) => method === 'GET' && /\/manifests\/sha256:/.test(path),
      body: Buffer.from('{"not":"the manifest"}'),
      times: 1,
    });
    const first = await e.check(req(img.ref));
    expect(first.allowed).toBe(false);
    expect(first.reason).toContain('ERR_DIGEST_MISMATCH');
    expect((await e.check(req(img.ref))).allowed).toBe(true);
  });

  it('a dry run does not write negative verdicts (nor an empty referrer list)', async () => {
    const img = await image(null);
    const e = executor();
    expect((await e.check(req(img.ref, 'secured', 5000, { dryRun: true }))).allowed).toBe(false);
    await sign(img.ref);
    expect((await e.check(req(img.ref))).allowed).toBe(true);
  });

  // The window in which a moved tag is still judged by its old digest is the tag TTL; 0 closes it.
  it('with a tag TTL of 0 a re-pointed tag is resolved again by the very next check', async () => {
    const now = Date.now();
    const first = await image();
    const e = executor({ now: () => now, tagCacheTtlMs: 0 });
    const check = (): Promise<ImageDecision> =>
      e.check({ image: first.ref, namespace: 'secured', deadline: now + 5000 });
    expect((await check()).digest).toBe(first.digest);
    expect(await atOnce(e, { image: first.ref, namespace: 'secured', deadline: now + 5000 })).toBe('waits');
    const second = await pushImage(client, { registry: registry.host, repository: first.repo }, 'v1', 'moved content');
    const after = await check();
    expect(after.digest).toBe(second.digest);
    expect(after.allowed).toBe(false); // the new digest has no signature: its own verdict, not the old one
    expect(after.verdicts[0]?.code).toBe('ERR_NO_SIGNATURE');
  });

  it('a re-pointed tag is picked up after the tag TTL', async () => {
    let now = Date.now();
    const first = await image();
    const e = executor({ now: () => now });
    const check = (): Promise<ImageDecision> =>
      e.check({ image: first.ref, namespace: 'secured', deadline: now + 5000 });
    expect((await check()).digest).toBe(first.digest);
    const second = await pushImage(client, { registry: registry.host, repository: first.repo }, 'v1', 'second content');
    await sign(first.ref);
    expect((await check()).digest).toBe(first.digest); // within the 30 s tag TTL
    // The warm path hands out one immutable decision while tag and verdicts stay the same.
    const warm = (await atOnce(e, { image: first.ref, namespace: 'secured', deadline: now + 5000 })) as ImageDecision;
    expect(warm.digest).toBe(first.digest);
    expect(await atOnce(e, { image: first.ref, namespace: 'secured', deadline: now + 5000 })).toBe(warm);
    now += 31_000;
    expect(await atOnce(e, { image: first.ref, namespace: 'secured', deadline: now + 5000 })).toBe('waits'); // tag expired: check() must run
    const after = await check();
    expect(after.digest).toBe(second.digest);
    expect(after.allowed).toBe(true);
    const rewarmed = (await atOnce(e, {
      image: first.ref,
      namespace: 'secured',
      deadline: now + 5000,
    })) as ImageDecision;
    expect(rewarmed).not.toBe(warm);
    expect(rewarmed.digest).toBe(second.digest);
  });
});

describe('deadlines and the failure policy', () => {
  it('an unreachable registry is denied fast under "fail", saying so', async () => {
    const port = await freePort();
    const e = executor();
    const started = Date.now();
    const d = await e.check(req(`127.0.0.1:${port}/app:v1`, 'secured', 3000));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(d.allowed).toBe(false);
    expect(d.error).toMatchObject({ code: 'ERR_REGISTRY_UNREACHABLE', failurePolicyApplied: 'fail' });
    expect(d.error?.message).toContain(`127.0.0.1:${port}`);
    expect(d.reason).toContain('the failure policy "fail" denied the image');
  });

  it('a deadline that is (nearly) over is decided at once, but a cached verdict still answers', async () => {
    const img = await image();
    const e = executor();
    const late = await e.check(req(img.ref, 'secured', 30));
    expect(late.allowed).toBe(false);
    expect(late.error).toMatchObject({ code: 'ERR_DEADLINE_EXCEEDED', failurePolicyApplied: 'fail' });
    expect(late.error?.message).toContain('deadline');
    expect((await e.check(req(img.ref))).allowed).toBe(true);
    expect((await e.check(req(img.ref, 'secured', 10))).allowed).toBe(true);
  });

  it('a deadline message names the stage and host that were slow (here: DNS)', async () => {
    const dns = await TestDnsServer.start(() => ({ drop: true }));
    const resolver = new HostResolver({
      servers: [dns.server],
      hostsPath: '/dev/null',
      resolvConfPath: '/dev/null',
      timeoutMs: 5_000,
      attempts: 1,
    });
    const slowDns = new RegistryClient({ resolver, plainHttp: true });
    try {
      const started = Date.now();
      const d = await executor({ registry: slowDns }).check(req('slow.example:5000/app:v1', 'secured', 600));
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(d.error?.code).toBe('ERR_REGISTRY_TIMEOUT');
      expect(d.error?.message).toContain('the DNS lookup of slow.example did not finish within the');
    } finally {
      await slowDns.close();
      await dns.stop();
    }
  });

  it('under "ignore" an unreachable registry is allowed, with the error', async () => {
    const port = await freePort();
    const d = await executor({ failurePolicy: 'ignore' }).check(req(`127.0.0.1:${port}/app:v1`));
    expect(d.allowed).toBe(true);
    expect(d.error).toMatchObject({ code: 'ERR_REGISTRY_UNREACHABLE', failurePolicyApplied: 'ignore' });
  });

  it('an image whose registry answers do not fit in the download budget is denied, even under "ignore", and not cached', async () => {
    // Memory pressure (registries.maxBufferedBytes reached) must never admit; nor is it a verdict to keep.
    const { ref } = await image();
    const budget = new BodyBudget({ maxBytes: 8 * 1024 * 1024, maxWaitMs: 20 });
    const limited = new RegistryClient({ plainHttp: true, bodyBudget: budget });
    try {
      const e = executor({ failurePolicy: 'ignore', registry: limited });
      // Other reviews hold the whole budget (each registry half of it: its share).
      const held = ['elsewhere', 'further'].map((registry) =>
        startOperation({ registry, what: 'held', timeoutMs: 5000 }),
      );
      for (const op of held) await budget.reserve(op, budget.maxBytesPerRegistry, 'held');
      const d = await e.check(req(ref));
      expect(d.allowed).toBe(false);
      expect(d.error).toBeUndefined();
      expect(d.verdicts[0]?.code).toBe('ERR_DOWNLOAD_BUDGET');
      expect(d.reason).toContain('[ERR_DOWNLOAD_BUDGET]');
      // Room again: the same executor verifies it, nothing of the denial kept.
      for (const op of held) budget.release(budget.maxBytesPerRegistry, op);
      expect((await e.check(req(ref))).allowed).toBe(true);
    } finally {
      await limited.close();
    }
  });

  it('a definitive rejection is not overridden by the failure policy', async () => {
    const port = await freePort();
    const resources = [...baseline(), nsPolicy('secured', 'typo', notary(['ca:missing']))];
    const d = await executor({ failurePolicy: 'ignore' }, resources).check(req(`127.0.0.1:${port}/app:v1`));
    expect(d.allowed).toBe(false);
    expect(d.error).toBeUndefined();
    expect(d.reason).toContain('TrustPolicy secured/typo');
  });

  it('a slow registry is decided within the deadline plus a small slack', async () => {
    const img = await image();
    registry.fail({ delayMs: 3000 });
    const e = executor();
    const started = Date.now();
    const d = await e.check(req(img.ref, 'secured', 500));
    const took = Date.now() - started;
    expect(took).toBeLessThan(700);
    expect(d.allowed).toBe(false);
    expect(['ERR_REGISTRY_TIMEOUT', 'ERR_DEADLINE_EXCEEDED']).toContain(d.error?.code);
    expect(d.error?.failurePolicyApplied).toBe('fail');
    registry.clearFaults();
    // The timeout was not cached: the next check succeeds.
    const next = await e.check(req(img.ref));
    expect(next.error).toBeUndefined();
    expect(next.allowed).toBe(true);
  });

  it('honours 429 Retry-After within the deadline', async () => {
    const img = await image();
    registry.fail({ match: (method) => method === 'HEAD', status: 429, retryAfter: '1', times: 1 });
    registry.resetLog();
    const started = Date.now();
    const d = await executor().check(req(img.ref, 'secured', 5000));
    expect(d.allowed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(registry.log.filter((l) => l.method === 'HEAD').map((l) => l.status)).toEqual([429, 200]);
    expect(await metrics.render()).toMatch(
      new RegExp(`registry_requests_total\\{host="${registry.host.replace(/\./g, '\\.')}",status="429"\\} [1-9]`),
    );
  });

  it('a Retry-After beyond the deadline fails fast under the failure policy', async () => {
    const img = await image();
    registry.fail({ match: (method) => method === 'HEAD', status: 429, retryAfter: '30', times: 1 });
    const started = Date.now();
    // A client of its own: the registry's 30 s pause holds for every request of the client that heard it.
    const own = new RegistryClient();
    const d = await executor({ registry: own }).check(req(img.ref, 'secured', 2000));
    await own.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(d.allowed).toBe(false);
    expect(d.error?.failurePolicyApplied).toBe('fail');
    expect(d.error?.message).toContain('Retry-After');
  });

  it('queued registry calls give up at their deadline (per-registry limit)', async () => {
    const img = await image();
    const other = await image();
    registry.fail({ delayMs: 1500, times: 1 });
    const e = executor({ maxConcurrentPerRegistry: 1 });
    const started = Date.now();
    const [slow, queued] = await Promise.all([
      e.check(req(img.ref, 'secured', 5000)),
      e.check(req(other.ref, 'secured', 400)),
    ]);
    expect(slow.allowed).toBe(true);
    expect(queued.allowed).toBe(false);
    expect(queued.error?.code).toBe('ERR_DEADLINE_EXCEEDED');
    expect(queued.error?.message).toContain('queued');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });
});

describe("each review's share of the registries", () => {
  const review = (): object => ({});

  it('denies the images of a review past its registry limit, with a code naming the limit, without contacting them', async () => {
    const img = await image();
    const port = registry.host.split(':')[1] as string;
    const closed = await freePort();
    const e = executor({ reviewLimits: { maxHosts: 2 }, failurePolicy: 'ignore' });
    const r = review();
    expect((await e.check(req(img.ref, 'secured', 5000, { review: r }))).allowed).toBe(true);
    expect((await e.check(req(`localhost:${port}/${img.repo}:v1`, 'secured', 5000, { review: r }))).allowed).toBe(true);
    const started = Date.now();
    const third = await e.check(req(`127.0.0.1:${closed}/x:1`, 'secured', 5000, { review: r }));
    expect(Date.now() - started).toBeLessThan(100);
    // a denial, not an undecided image: the failure policy "ignore" does not let it through
    expect(third.allowed).toBe(false);
    expect(third.error).toBeUndefined();
    expect(third.verdicts[0]?.code).toBe('ERR_REVIEW_TOO_MANY_REGISTRIES');
    expect(third.reason).toContain(
      `this review would make Portcullis contact more than 2 registries (registries.maxHostsPerReview); 127.0.0.1:${closed} was not contacted`,
    );
    // a host already counted stays usable, and another review has its own share
    expect((await e.check(req(`localhost:${port}/${img.repo}:v1`, 'secured', 5000, { review: r }))).allowed).toBe(true);
    expect((await e.check(req(`127.0.0.1:${closed}/x:1`, 'secured', 5000, { review: review() }))).error?.code).toBe(
      'ERR_REGISTRY_UNREACHABLE',
    );
  });

  it('counts only images the review makes it fetch (what is cached is free), and denies past the image limit', async () => {
    const [a, b, c] = [await image(), await image(), await image()];
    const e = executor({ reviewLimits: { maxImages: 1 } });
    expect((await e.check(req(a.ref))).allowed).toBe(true); // cached outside any review
    const r = review();
    expect((await e.check(req(a.ref, 'secured', 5000, { review: r }))).allowed).toBe(true);
    expect((await e.check(req(b.ref, 'secured', 5000, { review: r }))).allowed).toBe(true);
    const third = await e.check(req(c.ref, 'secured', 5000, { review: r }));
    expect(third.allowed).toBe(false);
    expect(third.reason).toContain(
      'this review would make Portcullis fetch more than 1 images (registries.maxImagesPerReview)',
    );
    expect(third.reason).toContain('[ERR_REVIEW_TOO_MANY_IMAGES]');
  });

  it("one review's exhausted share never denies another review's image that joined its shared work", async () => {
    const [first, shared] = [await image(), await image()];
    const e = executor({ reviewLimits: { maxImages: 1 } });
    const full = review();
    expect((await e.check(req(first.ref, 'secured', 5000, { review: full }))).allowed).toBe(true);
    const [denied, allowed] = await Promise.all([
      e.check(req(shared.ref, 'secured', 5000, { review: full })), // starts the shared resolution, fails on its share
      e.check(req(shared.ref, 'secured', 5000, { review: review() })), // joins it, then runs its own
    ]);
    expect(denied.verdicts[0]?.code).toBe('ERR_REVIEW_TOO_MANY_IMAGES');
    expect(allowed.allowed).toBe(true);
  });

  it("caps one review's registry requests in flight; what waits past the deadline says it waited for its review", async () => {
    const [slowImg, other] = [await image(), await image()];
    registry.fail({ delayMs: 1500, times: 1 });
    const e = executor({ reviewLimits: { maxConcurrent: 1 }, maxConcurrentPerRegistry: 32 });
    const r = review();
    const [slow, queued, outside] = await Promise.all([
      e.check(req(slowImg.ref, 'secured', 5000, { review: r })),
      e.check(req(other.ref, 'secured', 400, { review: r })),
      e.check(req(other.ref, 'secured', 5000, { review: review() })),
    ]);
    expect(slow.allowed).toBe(true);
    expect(outside.allowed).toBe(true); // another review is not held back by this one's cap
    expect(queued.error?.code).toBe('ERR_DEADLINE_EXCEEDED');
    expect(queued.error?.message).toMatch(
      /still queued behind 1 registry requests of this review in flight \(registries\.maxConcurrentPerReview is 1\)/,
    );
  });
});

describe('explain: the same walk, with every check kept', () => {
  it('verifies afresh (a cached verdict does not answer) and keeps the verification; the decision is the same', async () => {
    const good = await image();
    const bad = await image(stranger);
    const e = executor();
    const first = await e.check(req(good.ref));
    expect(first.verdicts[0]?.verification).toBeUndefined(); // reviews never carry (nor cache) the detail
    const explained = await e.check(req(good.ref, 'secured', 5000, { explain: true }));
    expect(explained.allowed).toBe(first.allowed);
    const verification = explained.verdicts[0]?.verification;
    expect(verification?.verified).toBe(true);
    expect(verification?.signatures[0]?.checks.map((c) => [c.check, c.status])).toContainEqual([
      'authenticity',
      'passed',
    ]);
    const denied = await e.check(req(bad.ref, 'secured', 5000, { explain: true }));
    expect(denied.allowed).toBe(false);
    expect(denied.verdicts[0]?.verification?.signatures[0]?.failure?.check).toBe('authenticity');
    // The webhook's next review is still answered from the caches, without the detail.
    expect((await e.check(req(good.ref))).verdicts[0]?.verification).toBeUndefined();
  });
});
