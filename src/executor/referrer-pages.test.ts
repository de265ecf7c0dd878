import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigDir, cli } from '../../test/helpers/cli.js';
import { ReferrersRegistry } from '../../test/helpers/registry/referrers-registry.js';
import { pushCraftedSignature, pushImage } from '../../test/helpers/registry/seed.js';
import { payloadFor } from '../../test/helpers/signed.js';
import type { Descriptor } from '../oci/index.js';
import { API_VERSION, buildSnapshot } from '../policyset/index.js';
import { RegistryClient, type RegistryReader } from '../registry/index.js';
import { Executor } from './executor.js';
import type { ExecutorOptions } from './options.js';
import type { ImageDecision } from './types.js';

/**
 * Referrer pages fetched only as needed: against a Referrers-API registry that pages its
 * listings two signatures at a time, the executor reads the next page only while no signature
 * has passed and the attempt limit is not reached — and decides exactly as it does when the
 * whole listing is read first.
 */

type Obj = Record<string, unknown>;
type Who = 'acme' | 'stranger' | 'junk';

const acme = new ConfigDir();
const stranger = new ConfigDir();
const keys: Record<'acme' | 'stranger', { keyPem: string; certPem: string }> = {
  acme: { keyPem: '', certPem: '' },
  stranger: { keyPem: '', certPem: '' },
};
let registry: ReferrersRegistry;
let client: RegistryClient;
let revision = 0;
let repoCounter = 0;

const store = (name: string, pem: string): Obj => ({
  apiVersion: API_VERSION,
  kind: 'ClusterTrustStore',
  metadata: { name },
  spec: { type: 'ca', certificates: pem },
});

/** One cluster policy over every namespace, trusting `trusted`'s certificate. */
function resources(trusted: 'acme' | 'stranger'): unknown[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'secured', labels: {} } },
    store('acme', keys.acme.certPem),
    store('stranger', keys.stranger.certPem),
    {
      apiVersion: API_VERSION,
      kind: 'ClusterTrustPolicy',
      metadata: { name: 'baseline' },
      spec: {
        version: '1.0',
        trustPolicies: [
          {
            name: 'signed',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: [`ca:${trusted}`],
            trustedIdentities: ['*'],
          },
        ],
      },
    },
  ];
}

function executor(extra: Partial<ExecutorOptions> = {}, trusted: 'acme' | 'stranger' = 'acme'): Executor {
  const e = new Executor({ registry: client, ...extra });
  e.setSnapshot(buildSnapshot({ resources: resources(trusted), revision: ++revision }));
  return e;
}

/** The same registry listed whole, as before pages were read one at a time (no listReferrersPage). */
function wholeLister(): RegistryReader {
  return {
    resolve: (ref, call) => client.resolve(ref, call),
    listReferrers: (repo, subject, filter, call) => client.listReferrers(repo, subject, filter, call),
    fetchManifest: (repo, target, call) => client.fetchManifest(repo, target, call),
    fetchBlob: (repo, d, max, call) => client.fetchBlob(repo, d, max, call),
  };
}

/**
 * A fresh image with signatures pushed in this order (the registry lists them so): `acme` and
 * `stranger` sign it properly, `junk` is acme's signature over another artifact's payload (fails
 * integrity under every policy).
 */
async function imageSignedBy(signers: readonly Who[]): Promise<{ ref: string; repo: string; digest: string }> {
  const repo = `app${++repoCounter}`;
  const where = { registry: registry.host, repository: repo };
  const pushed = await pushImage(client, where, 'v1', `${repo}-v1`);
  const subject: Descriptor = await client.resolve({ ...where, digest: pushed.digest });
  const other: Descriptor = { ...subject, digest: `sha256:${'0'.repeat(64)}` };
  for (const who of signers) {
    const payload = payloadFor(who === 'junk' ? other : subject);
    await pushCraftedSignature(client, where, subject, who === 'junk' ? keys.acme : keys[who], payload);
  }
  return { ref: `${registry.host}/${repo}@${pushed.digest}`, repo, digest: pushed.digest };
}

/** The referrers requests made for an image since the log was reset. */
function listings(img: { repo: string; digest: string }): { query: string; status: number }[] {
  return registry.log
    .filter((l) => l.path === `/v2/${img.repo}/referrers/${img.digest}`)
    .map((l) => ({ query: l.query, status: l.status }));
}

/** What a decision says, without what varies between runs (timings, request ids). */
function outcome(d: ImageDecision): unknown {
  return {
    allowed: d.allowed,
    error: d.error?.code,
    verdicts: d.verdicts.map((v) => ({
      verified: v.verified,
      code: v.code,
      failedCheck: v.failedCheck,
      message: v.message,
    })),
  };
}

const check = (e: Executor, ref: string, extra: Obj = {}): Promise<ImageDecision> =>
  e.check({ image: ref, namespace: 'secured', deadline: Date.now() + 10_000, ...extra });

beforeAll(async () => {
  for (const [dir, name] of [
    [acme, 'acme'],
    [stranger, 'stranger'],
  ] as const) {
    expect((await cli(['cert', 'generate-test', '--config-dir', dir.path, '--key-type', 'ec', name])).status).toBe(0);
    keys[name] = {
      keyPem: readFileSync(join(dir.path, `localkeys/${name}.key`), 'utf8'),
      certPem: readFileSync(join(dir.path, `localkeys/${name}.crt`), 'utf8'),
    };
  }
  registry = await ReferrersRegistry.start({ pageSize: 2 });
  client = new RegistryClient();
});
afterAll(async () => {
  await client?.close();
  await registry?.stop();
  acme.cleanup();
  stranger.cleanup();
});
beforeEach(() => registry.resetLog());

describe('referrer pages, fetched only as needed', () => {
  it('reads only the first page when a signature on it passes', async () => {
    const img = await imageSignedBy(['acme', 'junk', 'stranger', 'junk', 'stranger']);
    registry.resetLog();
    const d = await check(executor(), img.ref);
    expect(d.allowed).toBe(true);
    expect(listings(img)).toHaveLength(1);
    expect(listings(img)[0]?.query).not.toContain('last=');
    // Read whole, the same answer costs all three pages.
    registry.resetLog();
    expect(outcome(await check(executor({ registry: wholeLister() }), img.ref))).toEqual(outcome(d));
    expect(listings(img)).toHaveLength(3);
  });

  it('reads every page when the signature that passes is on the last', async () => {
    const img = await imageSignedBy(['junk', 'stranger', 'junk', 'stranger', 'acme']);
    registry.resetLog();
    const d = await check(executor(), img.ref);
    expect(d.allowed).toBe(true);
    expect(listings(img).map((l) => l.status)).toEqual([200, 200, 200]);
    expect(outcome(await check(executor({ registry: wholeLister() }), img.ref))).toEqual(outcome(d));
  });

  it('rejects as the whole listing does when no signature passes, having read every page', async () => {
    const img = await imageSignedBy(['junk', 'stranger', 'stranger', 'junk', 'stranger']);
    registry.resetLog();
    const d = await check(executor(), img.ref);
    expect(d.allowed).toBe(false);
    expect(d.verdicts[0]?.code).toBe('ERR_CHAIN_UNTRUSTED');
    expect(listings(img)).toHaveLength(3);
    expect(outcome(await check(executor({ registry: wholeLister() }), img.ref))).toEqual(outcome(d));
  });

  it('counts the attempt limit across pages: stops at the page holding the candidate past it', async () => {
    const img = await imageSignedBy(['stranger', 'junk', 'stranger', 'junk', 'acme']);
    registry.resetLog();
    // Three failures, and a fourth candidate exists (on page 2): the limit, with page 3 unread.
    const d = await check(executor({ maxSignatureAttempts: 3 }), img.ref);
    expect(d.verdicts[0]?.code).toBe('ERR_SIGNATURE_LIMIT');
    expect(listings(img)).toHaveLength(2);
    expect(outcome(await check(executor({ maxSignatureAttempts: 3, registry: wholeLister() }), img.ref))).toEqual(
      outcome(d),
    );
    // Four failures, the candidates of two pages: the fifth (page 3) must be seen to exist before
    // the limit can be reported.
    registry.resetLog();
    const four = await check(executor({ maxSignatureAttempts: 4 }), img.ref);
    expect(four.verdicts[0]?.code).toBe('ERR_SIGNATURE_LIMIT');
    expect(listings(img)).toHaveLength(3);
    expect(outcome(await check(executor({ maxSignatureAttempts: 4, registry: wholeLister() }), img.ref))).toEqual(
      outcome(four),
    );
  });

  it('reports the last failure, not the limit, when the listing ends exactly at the limit', async () => {
    const img = await imageSignedBy(['stranger', 'junk', 'stranger', 'junk']);
    registry.resetLog();
    const d = await check(executor({ maxSignatureAttempts: 4 }), img.ref);
    expect(d.verdicts[0]?.code).toBe('ERR_CHAIN_UNTRUSTED');
    expect(listings(img)).toHaveLength(2);
    expect(outcome(await check(executor({ maxSignatureAttempts: 4, registry: wholeLister() }), img.ref))).toEqual(
      outcome(d),
    );
  });

  it('answers dry runs and explanations as the whole listing does', async () => {
    const img = await imageSignedBy(['junk', 'stranger', 'acme']);
    for (const extra of [{ dryRun: true }, { explain: true }]) {
      registry.resetLog();
      const d = await check(executor(), img.ref, extra);
      expect(d.allowed).toBe(true);
      expect(listings(img)).toHaveLength(2);
      expect(outcome(await check(executor({ registry: wholeLister() }), img.ref, extra))).toEqual(outcome(d));
    }
  });

  it('caches a listing as far as read, and continues it (never takes it for the whole) when a later verification needs more', async () => {
    const img = await imageSignedBy(['acme', 'junk', 'junk', 'stranger']);
    const e = executor();
    registry.resetLog();
    expect((await check(e, img.ref)).allowed).toBe(true);
    expect(listings(img)).toHaveLength(1);
    // A new policy generation trusting the signer on page 2: the cached first page is read again
    // without a request, and only page 2 is fetched, from where the first verification stopped.
    e.setSnapshot(buildSnapshot({ resources: resources('stranger'), revision: ++revision }));
    registry.resetLog();
    expect((await check(e, img.ref)).allowed).toBe(true);
    expect(listings(img)).toHaveLength(1);
    expect(listings(img)[0]?.query).toContain('last=');
    // Now whole and cached: another generation lists nothing.
    e.setSnapshot(buildSnapshot({ resources: resources('stranger'), revision: ++revision }));
    registry.resetLog();
    expect((await check(e, img.ref)).allowed).toBe(true);
    expect(listings(img)).toEqual([]);
  });

  it('stays bounded by the page cap: a listing that goes on past it fails closed, as when read whole', async () => {
    const img = await imageSignedBy(['junk', 'stranger', 'junk', 'stranger', 'junk']);
    const capped = new RegistryClient({ maxReferrerPages: 2 });
    try {
      registry.resetLog();
      const d = await check(executor({ registry: capped }), img.ref);
      expect(d.allowed).toBe(false);
      expect(d.verdicts[0]?.code).toBe('ERR_REGISTRY_RESPONSE');
      expect(d.verdicts[0]?.message).toContain('more than 2 pages');
      expect(listings(img)).toHaveLength(2);
      // Read whole through the same capped client: the same verdict.
      expect(
        outcome(
          await check(
            executor({ registry: { ...wholeLister(), listReferrers: capped.listReferrers.bind(capped) } }),
            img.ref,
          ),
        ),
      ).toEqual(outcome(d));
      // Whoever the cap would stop, a signature that passes before it is enough.
      const early = await imageSignedBy(['junk', 'acme', 'junk', 'stranger', 'junk']);
      expect((await check(executor({ registry: capped }), early.ref)).allowed).toBe(true);
    } finally {
      await capped.close();
    }
  });

  it('portcullis verify reads only the pages it needs too', async () => {
    const verifier = new ConfigDir().storeBytes('ca', 'acme', 'acme.crt', keys.acme.certPem).policy({
      version: '1.0',
      trustPolicies: [
        {
          name: 'signed',
          registryScopes: ['*'],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:acme'],
          trustedIdentities: ['*'],
        },
      ],
    });
    try {
      for (const [order, pages] of [
        [['acme', 'junk', 'stranger', 'junk', 'stranger'], 1],
        [['junk', 'stranger', 'junk', 'stranger', 'acme'], 3],
      ] as const) {
        const img = await imageSignedBy(order);
        registry.resetLog();
        const r = await cli(['verify', '--config-dir', verifier.path, img.ref]);
        expect(r.status, r.stderr).toBe(0);
        expect(listings(img)).toHaveLength(pages);
      }
    } finally {
      verifier.cleanup();
    }
  });
});
